"""Every hub admin answers, shows the Link Indicator, and keeps its query count flat."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.security.models import ApiToken
from sync.admin import link_badge
from sync.models import Link, LinkStatus
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    MatterBalanceFactory,
    MatterFactory,
    MatterLinkFactory,
    SyncEventFactory,
    TimeEntryFactory,
    TimeEntryLinkFactory,
    TimekeeperFactory,
)
from timekeeping.models import BillingBatch

pytestmark = pytest.mark.django_db


def make_batch(**kwargs):
    return BillingBatch.objects.create(entry_count=3)


def make_digest(**kwargs):
    from django.utils import timezone

    from sync.alerts.models import AlertDigest

    count = AlertDigest.objects.count()
    return AlertDigest.objects.create(
        since=timezone.now() - timezone.timedelta(minutes=count + 1),
        covered_until=timezone.now(),
        new_errors=1,
        total_errors=1,
        subject=f"digest {count}",
    )


def make_api_token(**kwargs):
    user = get_user_model().objects.create_user(username=f"api-{uuid.uuid4().hex[:12]}")
    token, _ = ApiToken.objects.create(user=user)
    return token


# (admin url name, factory that makes one row, can add in admin)
ADMINS = [
    ("contacts_contact", ContactLinkFactory, True, lambda link: link.contact),
    ("contacts_contact", ContactFactory, True, None),
    ("matters_matter", MatterLinkFactory, True, lambda link: link.matter),
    ("matters_matterbalance", MatterBalanceFactory, False, None),
    ("timekeeping_timekeeper", TimekeeperFactory, True, None),
    ("timekeeping_timeentry", TimeEntryLinkFactory, True, lambda link: link.time_entry),
    ("timekeeping_billingbatch", make_batch, False, None),
    ("sync_link", ContactLinkFactory, False, None),
    ("sync_syncevent", SyncEventFactory, False, None),
    ("security_apitoken", make_api_token, True, None),
    ("sync_alerts_alertdigest", make_digest, False, None),
]


def changelist_queries(admin_client, url_name: str) -> int:
    url = reverse(f"admin:{url_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(("url_name", "factory", "can_add", "record_of"), ADMINS)
def test_each_changelist_and_change_page_answers(
    admin_client, url_name, factory, can_add, record_of
):
    made = factory()
    record = record_of(made) if record_of else made
    assert admin_client.get(reverse(f"admin:{url_name}_changelist")).status_code == 200
    change = admin_client.get(reverse(f"admin:{url_name}_change", args=[record.pk]))
    assert change.status_code == 200
    add = admin_client.get(reverse(f"admin:{url_name}_add"))
    assert add.status_code == (200 if can_add else 403)


@pytest.mark.parametrize(("url_name", "factory", "can_add", "record_of"), ADMINS)
def test_each_changelist_costs_the_same_queries_at_3_and_30_rows(
    admin_client, url_name, factory, can_add, record_of
):
    for _ in range(3):
        factory()
    at_three = changelist_queries(admin_client, url_name)
    for _ in range(27):
        factory()
    assert changelist_queries(admin_client, url_name) == at_three


@pytest.mark.parametrize(
    ("status", "colour"),
    [
        (LinkStatus.SYNCED, "#2e7d32"),
        (LinkStatus.UNSYNCED, "#9e9e9e"),
        (LinkStatus.PENDING, "#81d4fa"),
        (LinkStatus.UNKNOWN, "#fdd835"),
        (LinkStatus.ERROR, "#c62828"),
    ],
)
def test_each_state_renders_its_colour_and_label(status, colour):
    link = ContactLinkFactory.build(status=status, message="")
    badge = link_badge(link)
    assert f"background:{colour}" in badge
    assert f">{status.label}</span>" in badge


def test_the_badge_hover_text_is_the_message_escaped():
    link = ContactLinkFactory.build(
        status=LinkStatus.ERROR, message='contact number "1001" <b>already</b> assigned'
    )
    badge = link_badge(link)
    assert 'title="contact number &quot;1001&quot; &lt;b&gt;already&lt;/b&gt; assigned"' in badge
    assert "<b>" not in badge


def test_a_record_without_a_link_shows_unsynced():
    assert "link-badge--unsynced" in link_badge(None)


def test_the_contact_list_shows_the_red_badge_with_its_reason(admin_client):
    ContactLinkFactory(
        status=LinkStatus.ERROR, message="contact number 1001 already assigned to Doe, Jane"
    )
    page = admin_client.get(reverse("admin:contacts_contact_changelist")).content.decode()
    assert "link-badge--error" in page
    assert 'title="contact number 1001 already assigned to Doe, Jane"' in page


def test_the_contact_list_filters_by_link_state_counting_unlinked_as_unsynced(admin_client):
    red = ContactLinkFactory(status=LinkStatus.ERROR).contact
    green = ContactLinkFactory(status=LinkStatus.SYNCED).contact
    unlinked = ContactFactory()
    url = reverse("admin:contacts_contact_changelist")

    errors = admin_client.get(url, {"link_status": "error"}).context["cl"].result_list
    unsynced = admin_client.get(url, {"link_status": "unsynced"}).context["cl"].result_list

    assert list(errors) == [red]
    assert list(unsynced) == [unlinked]
    assert green not in unsynced


def test_the_contact_search_finds_by_name_reference_and_email(admin_client):
    jane = ContactFactory(first_name="Jane", last_name="Quartermain", reference="C-77")
    ContactFactory(first_name="John", last_name="Other", email="john@example.com")
    url = reverse("admin:contacts_contact_changelist")
    for term in ["Quartermain", "C-77", jane.email]:
        found = admin_client.get(url, {"q": term}).context["cl"].result_list
        assert list(found) == [jane], term


def test_the_change_page_shows_the_history_escaped(admin_client):
    event = SyncEventFactory(message="<script>alert(1)</script> rejected")
    contact = event.link.contact
    page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk]))
    body = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; rejected" in body
    assert "<script>alert(1)</script>" not in body


def test_the_matter_and_time_entry_pages_show_their_link_details(admin_client):
    matter_link = MatterLinkFactory(pm_id="113", la_id="F-9")
    entry = TimeEntryFactory(matter=matter_link.matter)
    matter_page = admin_client.get(
        reverse("admin:matters_matter_change", args=[matter_link.matter.pk])
    )
    entry_page = admin_client.get(reverse("admin:timekeeping_timeentry_change", args=[entry.pk]))
    assert "F-9" in matter_page.content.decode()
    assert "Not linked yet." in entry_page.content.decode()


def test_the_matter_list_shows_client_and_file_reference(admin_client):
    matter = MatterFactory(file_reference="000123")
    page = admin_client.get(reverse("admin:matters_matter_changelist")).content.decode()
    assert "000123" in page
    assert matter.client.display_name in page


def staff_with(django_user_model, *codenames):
    from django.contrib.auth.models import Permission

    username = "staff-" + "-".join(codenames)
    user = django_user_model.objects.create_user(username=username, password="pw", is_staff=True)
    for codename in codenames:
        app_label, name = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=name)
        )
    return user


def test_the_resync_now_button_shows_only_with_the_resync_permission(client, django_user_model):
    link = ContactLinkFactory(status=LinkStatus.ERROR)
    url = reverse("admin:contacts_contact_change", args=[link.contact.pk])
    client.force_login(staff_with(django_user_model, "contacts.change_contact"))
    assert "Resync now" not in client.get(url).content.decode()

    client.force_login(staff_with(django_user_model, "contacts.change_contact", "sync.resync_link"))
    assert "Resync now" in client.get(url).content.decode()


def test_resync_now_queues_the_record_and_turns_it_pending(
    admin_client, django_capture_on_commit_callbacks
):
    link = ContactLinkFactory(status=LinkStatus.ERROR, attempts=4, message="clash")
    url = reverse("admin:contacts_contact_resync", args=[link.contact.pk])

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(url)

    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.status, link.attempts, link.message) == (
        LinkStatus.PENDING,
        0,
        "Resync requested.",
    )
    assert len(callbacks) == 1


def test_resync_now_refuses_a_get_and_a_user_without_the_permission(client, django_user_model):
    link = ContactLinkFactory(status=LinkStatus.ERROR)
    url = reverse("admin:contacts_contact_resync", args=[link.contact.pk])
    client.force_login(staff_with(django_user_model, "contacts.change_contact"))
    assert client.post(url).status_code == 403
    link.refresh_from_db()
    assert link.status == LinkStatus.ERROR


def test_the_resync_action_queues_every_selected_matter(
    admin_client, django_capture_on_commit_callbacks
):
    links = [MatterLinkFactory(status=LinkStatus.ERROR) for _ in range(3)]
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(
            reverse("admin:matters_matter_changelist"),
            {"action": "resync_selected", "_selected_action": [link.matter.pk for link in links]},
        )
    assert len(callbacks) == 3
    statuses = Link.objects.filter(pk__in=[link.pk for link in links]).values_list("status")
    assert set(statuses) == {(LinkStatus.PENDING,)}


def test_the_resync_action_is_hidden_without_the_permission(client, django_user_model):
    MatterLinkFactory()
    client.force_login(staff_with(django_user_model, "matters.view_matter"))
    page = client.get(reverse("admin:matters_matter_changelist")).content.decode()
    assert "resync_selected" not in page


def test_a_contact_saved_in_the_admin_is_queued_for_sync(
    admin_client, django_capture_on_commit_callbacks
):
    contact = ContactFactory(first_name="Old")
    data = {
        field: getattr(contact, field)
        for field in ["reference", "kind", "first_name", "last_name", "email"]
    }
    data["first_name"] = "New"
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            reverse("admin:contacts_contact_change", args=[contact.pk]), data
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    link = Link.objects.get(contact=contact)
    assert link.status == LinkStatus.PENDING
    assert len(callbacks) == 1
