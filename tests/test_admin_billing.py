"""The send-for-billing action: a confirmation page first, and only for those allowed."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import MatterFactory, TimeEntryFactory, TimekeeperFactory
from timekeeping.models import TimeEntry

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:timekeeping_timeentry_changelist")


def choose(client, entries, **extra):
    return client.post(
        CHANGELIST,
        {"action": "send_for_billing", ACTION_CHECKBOX_NAME: [e.pk for e in entries], **extra},
    )


def test_the_confirmation_page_groups_by_timekeeper_and_matter_before_sending(admin_client):
    ann, bob = TimekeeperFactory(name="Ann"), TimekeeperFactory(name="Bob")
    matter = MatterFactory(file_reference="000123")
    entries = [
        TimeEntryFactory(
            timekeeper=ann, matter=matter, billable_hours=Decimal("1.00"), amount=Decimal("300")
        ),
        TimeEntryFactory(
            timekeeper=ann, matter=matter, billable_hours=Decimal("0.50"), amount=Decimal("150")
        ),
        TimeEntryFactory(
            timekeeper=bob, matter=matter, billable_hours=Decimal("2.00"), amount=Decimal("600")
        ),
        TimeEntryFactory(timekeeper=bob, billing_status=TimeEntry.BillingStatus.SENT),
    ]

    response = choose(admin_client, entries)

    assert response.status_code == 200
    summary = response.context["summary"]
    assert [
        (g["timekeeper__name"], g["entries"], g["hours"], g["amount"]) for g in summary["groups"]
    ] == [
        ("Ann", 2, Decimal("1.50"), Decimal("450.00")),
        ("Bob", 1, Decimal("2.00"), Decimal("600.00")),
    ]
    assert summary["totals"]["entries"] == 3
    assert summary["already_sent"] == 1
    page = response.content.decode()
    assert "000123" in page and "Send 3 entries for billing" in page
    assert TimeEntry.objects.filter(billing_status="queued").count() == 0


def test_the_filters_narrow_the_batch(admin_client):
    ann, bob = TimekeeperFactory(name="Ann"), TimekeeperFactory(name="Bob")
    entries = [TimeEntryFactory(timekeeper=ann), TimeEntryFactory(timekeeper=bob)]

    response = choose(admin_client, entries, apply_filters="1", timekeeper=bob.pk)

    assert [g["timekeeper__name"] for g in response.context["summary"]["groups"]] == ["Bob"]


def test_a_bad_filter_is_shown_on_its_field_and_nothing_is_sent(admin_client):
    entries = [TimeEntryFactory()]

    response = choose(admin_client, entries, confirm="1", matter="NO-SUCH")

    assert response.status_code == 200
    assert "No matter has the file reference" in response.content.decode()
    assert TimeEntry.objects.get().billing_status == TimeEntry.BillingStatus.UNSENT


def test_without_the_permission_the_action_is_not_offered(client, django_user_model):
    user = django_user_model.objects.create_user(username="clerk", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_timeentry", "change_timeentry"])
    )
    client.force_login(user)
    entries = [TimeEntryFactory()]

    page = client.get(CHANGELIST).content.decode()
    response = choose(client, entries, confirm="1")

    assert "send_for_billing" not in page
    assert TimeEntry.objects.get().billing_status == TimeEntry.BillingStatus.UNSENT
    assert response.status_code in (200, 302)


def test_the_summary_shows_hours_and_money_to_two_places_on_every_database(admin_client):
    entries = [
        TimeEntryFactory(billable_hours=Decimal("1.50"), amount=Decimal("450.00")),
        TimeEntryFactory(billable_hours=Decimal("2.50"), amount=Decimal("750.00")),
    ]

    totals = choose(admin_client, entries).context["summary"]["totals"]

    assert (str(totals["hours"]), str(totals["amount"])) == ("4.00", "1200.00")


@pytest.mark.parametrize(
    ("codenames", "status"),
    [
        (["send_time_for_billing"], 200),
        (["view_billingbatch"], 200),
        (["change_billingbatch", "delete_billingbatch"], 403),
    ],
)
def test_a_billing_batch_page_is_for_those_who_send_or_view_batches(
    client, django_user_model, codenames, status
):
    from timekeeping.services import billing_batch_create

    user = django_user_model.objects.create_user(username="clerk", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    batch = billing_batch_create(entries=TimeEntry.objects.none())

    page = client.get(reverse("admin:timekeeping_billingbatch_change", args=[batch.pk]))

    assert page.status_code == status
    if status == 200:
        assert 'name="_save"' not in page.content.decode()  # never a form to change


def test_only_a_sender_may_resend_or_cancel_a_batch(client, django_user_model):
    from timekeeping.services import billing_batch_create

    user = django_user_model.objects.create_user(username="viewer", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename="view_billingbatch"))
    client.force_login(user)
    batch = billing_batch_create(entries=TimeEntry.objects.none())

    for action in ("resend", "cancel"):
        url = reverse(f"admin:timekeeping_billingbatch_{action}", args=[batch.pk])
        assert client.post(url).status_code == 403
    assert client.post(
        reverse("admin:timekeeping_billingbatch_resend", args=["not-a-batch"])
    ).status_code in (403, 404)
