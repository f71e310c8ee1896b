"""Alerts: one email digest per interval to the integration admins when links turn red,
and nothing while nothing turns red (Django's mail outbox)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from sync.alerts.models import AlertDigest
from sync.alerts.services import SETTLE, alert_digest_send
from sync.alerts.tasks import alert_digest_task
from sync.models import Link, LinkStatus
from tests.factories import ContactLinkFactory, MatterLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(django_user_model, settings):
    settings.ALERT_DIGEST_MINUTES = 15
    settings.HUB_BASE_URL = "https://hub.example-law.test"
    group, _ = Group.objects.get_or_create(name=settings.ALERT_GROUP)
    people = [
        django_user_model.objects.create_user(username=name, email=f"{name}@example-law.test")
        for name in ("ana", "ben")
    ]
    group.user_set.add(*people)
    # Not in the group, or in it without an address or no longer active: no mail.
    django_user_model.objects.create_user(username="cat", email="cat@example-law.test")
    group.user_set.add(django_user_model.objects.create_user(username="dan", email=""))
    group.user_set.add(
        django_user_model.objects.create_user(
            username="eve", email="eve@example-law.test", is_active=False
        )
    )
    return people


def turned_red(count: int, *, ago: timedelta = timedelta(minutes=1), factory=ContactLinkFactory):
    links = [
        factory(
            status=LinkStatus.ERROR,
            error_code="already_assigned",
            error_system="la",
            message=f"contact number {1000 + n} is already assigned",
        )
        for n in range(count)
    ]
    Link.objects.filter(pk__in=[link.pk for link in links]).update(
        status_changed_at=timezone.now() - ago
    )
    return links


def test_a_burst_of_fifty_new_errors_is_one_digest_to_the_group(admins):
    turned_red(48)
    turned_red(2, factory=MatterLinkFactory)

    digest = alert_digest_send()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["ana@example-law.test", "ben@example-law.test"]
    assert message.subject == "[PM ⇄ LA hub] 50 links turned red (50 in error)"
    body = message.body
    assert (
        "Contacts: 48  https://hub.example-law.test/admin/contacts/contact/?link_status=error"
        in body
    )
    assert (
        "Matters: 2  https://hub.example-law.test/admin/matters/matter/?link_status=error" in body
    )
    assert "50 x Number already used in LA (already_assigned)" in body
    assert f"https://hub.example-law.test{reverse('admin:sync_health')}" in body
    assert body.count("/change/") == 10  # the newest ten, each with its page
    assert (digest.new_errors, digest.total_errors) == (50, 50)


def test_no_digest_again_until_something_turns_red(admins):
    turned_red(50)
    alert_digest_send()
    later = timezone.now() + timedelta(minutes=20)

    assert alert_digest_send(now=later) is None  # nothing new: nothing sent
    assert alert_digest_send(now=later + timedelta(hours=3)) is None
    assert len(mail.outbox) == 1

    fresh = turned_red(1, ago=timedelta(0))
    Link.objects.filter(pk=fresh[0].pk).update(status_changed_at=later + timedelta(hours=3))
    digest = alert_digest_send(now=later + timedelta(hours=3) + SETTLE * 2)

    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "[PM ⇄ LA hub] 1 link turned red (51 in error)"
    assert digest.new_errors == 1


def test_at_most_one_digest_per_interval(admins):
    turned_red(3)
    alert_digest_send()
    turned_red(2, ago=timedelta(seconds=0))
    soon = timezone.now() + timedelta(minutes=5)
    Link.objects.filter(status_changed_at__gt=timezone.now() - timedelta(seconds=5)).update(
        status_changed_at=soon - timedelta(minutes=1)
    )

    assert alert_digest_send(now=soon) is None  # within 15 minutes of the last one
    assert alert_digest_send(now=soon + timedelta(minutes=11)).new_errors == 2
    assert len(mail.outbox) == 2


def test_nothing_is_sent_when_nothing_is_red_or_it_turned_green_again(admins):
    assert alert_digest_send() is None
    link = turned_red(1)[0]
    Link.objects.filter(pk=link.pk).update(status=LinkStatus.SYNCED)

    assert alert_digest_task() == "nothing new"
    assert mail.outbox == []
    assert not AlertDigest.objects.exists()


def test_an_error_of_the_last_seconds_waits_for_the_next_digest(admins):
    turned_red(1)
    just_now = turned_red(1, ago=timedelta(seconds=1))[0]
    alert_digest_send()
    assert AlertDigest.objects.get().new_errors == 1

    digest = alert_digest_send(now=timezone.now() + timedelta(minutes=16))

    assert digest.new_errors == 1
    assert just_now.contact.display_name in mail.outbox[1].body


def test_two_workers_sending_the_same_window_send_one_mail(admins):
    turned_red(2)
    first = alert_digest_send()
    # A second worker read the same last digest (none) and reaches the claim after the
    # first: the window is taken.
    AlertDigest.objects.filter(pk=first.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    AlertDigest.objects.create(
        since=first.covered_until,
        covered_until=timezone.now(),
        new_errors=0,
        total_errors=0,
        subject="claimed",
    )

    assert alert_digest_send(now=timezone.now() + timedelta(hours=2)) is None
    assert len(mail.outbox) == 1


def test_the_digest_admin_is_read_only_history(admin_client, admins):
    turned_red(1)
    digest = alert_digest_send()

    changelist = admin_client.get(reverse("admin:sync_alerts_alertdigest_changelist"))
    change = admin_client.get(reverse("admin:sync_alerts_alertdigest_change", args=[digest.pk]))

    assert changelist.status_code == change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert admin_client.get(reverse("admin:sync_alerts_alertdigest_add")).status_code == 403
