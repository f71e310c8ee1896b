"""The sync switch: a hub connected to systems that already hold records
starts paused and writes nothing to either; going live syncs what waited. Over real
HTTP against the sandbox."""

import pytest

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.links import PAUSED_MESSAGE
from sync.models import Link, LinkStatus, SyncSwitch
from sync.services import link_sync
from sync.services.connection import sandbox_connect
from sync.services.runner import runners_ensure
from sync.services.switch import sync_go_live, sync_live, sync_pause
from tests.sync.conftest import INTEGRATION_USER_EMAIL
from tests.sync.helpers import sync_everything

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Registering for deliveries is not a record write.
HOOKS = ("/resthooks", "/webhooks")


def record_writes(calls) -> list[tuple[str, str, str]]:
    return [call for call in calls if call[1] in WRITES and not call[2].rstrip("/").endswith(HOOKS)]


def integration_user():
    return pm_services.user_create(
        first_name="Integration", last_name="User", email=INTEGRATION_USER_EMAIL
    )


def test_a_hub_connected_to_empty_systems_starts_live(systems):
    assert SyncSwitch.objects.get().state == SyncSwitch.State.LIVE
    assert sync_live()


def test_a_hub_connected_to_systems_holding_records_starts_paused_and_writes_nothing(
    pm_not_connected, calls
):
    integration_user()
    pm_services.participant_create(first_name="Ann", last_name="Lee", email="ann@example.com")
    la_services.contact_create(data={"first_name": "Bo", "last_name": "Ray"})

    sandbox_connect(user_email=INTEGRATION_USER_EMAIL)
    sync_everything()
    for link in Link.objects.all():
        link_sync(link_id=link.pk)

    assert SyncSwitch.objects.get().state == SyncSwitch.State.PAUSED
    assert not sync_live()
    assert record_writes(calls) == []
    assert pm.Participant.objects.count() == 2  # Ann and the integration user
    assert la.Contact.objects.count() == 1
    # What the poll saw is recorded, waiting and saying why.
    links = list(Link.objects.filter(record_type="contact"))
    assert len(links) == 2
    assert {link.status for link in links} == {LinkStatus.PENDING}
    assert {link.message for link in links} == {PAUSED_MESSAGE}
    assert runners_ensure() == 0


def test_going_live_syncs_what_waited_exactly_once(pm_not_connected):
    integration_user()
    pm_services.participant_create(first_name="Ann", last_name="Lee", email="ann@example.com")
    la_services.contact_create(data={"first_name": "Bo", "last_name": "Ray"})
    sandbox_connect(user_email=INTEGRATION_USER_EMAIL)
    sync_everything()

    sync_go_live()  # the runners run inline (Q_CLUSTER sync) once it commits

    assert sync_live()
    assert set(Link.objects.values_list("status", flat=True)) == {LinkStatus.SYNCED}
    assert la.Contact.objects.filter(last_name="Lee").count() == 1
    assert pm.Participant.objects.filter(last_name="Ray").count() == 1

    sync_pause()
    assert not sync_live()
    assert SyncSwitch.objects.get().state == SyncSwitch.State.PAUSED


def test_sending_for_billing_while_paused_is_refused_with_a_reason_and_sends_nothing(
    firm, django_user_model
):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    from tests.sync.helpers import hub_entry_after_sync
    from timekeeping.models import BillingBatch

    entry = hub_entry_after_sync(firm)
    user = django_user_model.objects.create_user(username="biller")
    user.user_permissions.add(*Permission.objects.filter(codename="send_time_for_billing"))
    api = APIClient()
    api.force_authenticate(user)
    sync_pause()

    response = api.post(
        "/api/v1/time-entries/send-for-billing/", {"matter": entry.matter_id}, format="json"
    )

    assert response.status_code == 409
    assert "paused for onboarding" in response.json()["detail"]
    assert not BillingBatch.objects.exists()
    assert la.TimeEntry.objects.count() == 0
    entry.refresh_from_db()
    assert entry.billing_status == "unsent"


def test_balances_are_not_written_into_pm_while_paused(firm):
    from matters.models import Matter, MatterBalance
    from sync.services.balances_in_pm import matter_balance_write_to_pm

    matter = Matter.objects.get(link__pm_id=str(firm["action"].pk))
    balance = MatterBalance.objects.create(
        matter=matter, currency="USD", as_of="2026-01-01T00:00:00Z"
    )
    sync_pause()

    assert matter_balance_write_to_pm(balance=balance) == "sync paused"
    assert not pm.DataCollectionRecord.objects.exists()


def test_deliveries_that_arrive_while_paused_are_all_applied_after_going_live(systems):
    from io import StringIO

    from django.core.management import call_command

    from sync.models import WebhookReceipt

    known = pm_services.participant_create(first_name="Kay", last_name="Known")
    sync_everything()
    known_in_la = la.Contact.objects.get(pm_contact_id=str(known.pk))
    call_command("register_webhooks", stdout=StringIO())
    sync_pause()

    # Each of these reaches the hub as a delivery from the sandbox, over HTTP.
    new_in_pm = pm_services.participant_create(first_name="Neu", last_name="Hooked")
    pm_services.participant_update(known, first_name="Kate")
    new_in_la = la_services.contact_create(data={"first_name": "Ella", "last_name": "Hooked"})

    events = set(WebhookReceipt.objects.values_list("event", flat=True))
    assert {"ParticipantCreated", "ParticipantUpdated", "contact.created"} <= events
    assert not WebhookReceipt.objects.filter(processed_at__isnull=True).exists()
    assert not la.Contact.objects.filter(last_name="Hooked").exclude(pk=new_in_la.pk).exists()
    assert pm.Participant.objects.filter(last_name="Hooked").count() == 1
    known_in_la.refresh_from_db()
    assert known_in_la.first_name == "Kay"
    waiting = Link.objects.filter(status=LinkStatus.PENDING)
    assert waiting.count() == 3

    sync_go_live()

    assert set(Link.objects.values_list("status", flat=True)) == {LinkStatus.SYNCED}
    assert la.Contact.objects.filter(pm_contact_id=str(new_in_pm.pk)).count() == 1
    assert pm.Participant.objects.filter(first_name="Ella", last_name="Hooked").count() == 1
    known_in_la.refresh_from_db()
    assert known_in_la.first_name == "Kate"


@pytest.mark.parametrize("args, state", [((), "live"), (("--onboarding",), "paused")])
def test_connecting_the_seeded_sandbox_goes_live_unless_onboarding(pm_not_connected, args, state):
    from io import StringIO

    from django.core.management import call_command

    integration_user()
    pm_services.participant_create(first_name="Ann", last_name="Lee")

    call_command("pm_connect_sandbox", *args, stdout=StringIO())

    assert SyncSwitch.objects.get().state == state
