"""What a record costs in requests to PM and LA, against the sandbox over real HTTP: the
figure a firm's request budget divides (docs/performance.md).

A record a poll took in was read with its page and searched for in LA with its page, so
its first sync makes only the writes: the create in LA and LA's number written back to
PM. A delivery's record was read by the delivery; LA is searched for it on its own.
"""

from datetime import timedelta

import pytest
from django.db.models import F

from sandbox.la import models as la
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.models import Link, LinkStatus, RecordType, WebhookReceipt
from sync.services import link_sync, links_collected
from sync.services.changes import poll_all, webhook_receipt_process
from sync.services.timekeepers import timekeepers_refresh
from tests.sync.helpers import pm_matter

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def first_sync(record_type: str) -> list[int]:
    """Poll, then sync every link of `record_type` the poll queued; answers them."""
    with links_collected() as queued:
        poll_all()
    wanted = set(Link.objects.filter(record_type=record_type).values_list("pk", flat=True))
    return [link_id for link_id in dict.fromkeys(queued) if link_id in wanted]


def sync_counting(link_ids: list[int], calls: list) -> list[tuple[str, str, str]]:
    calls.clear()
    for link_id in link_ids:
        assert link_sync(link_id=link_id) is True
    return list(calls)


def writes_only(made: list[tuple[str, str, str]]) -> bool:
    return all(method != "GET" for _, method, _ in made)


def test_a_contact_a_poll_took_in_costs_two_requests(systems, calls):
    for number in range(12):
        pm_services.participant_create(first_name="Pat", last_name=f"Client {number}")

    calls.clear()
    link_ids = first_sync(RecordType.CONTACT)
    polled = list(calls)
    made = sync_counting(link_ids, calls)

    assert len(link_ids) == 12
    # One LA search for the whole page, whatever its size.
    searches = [call for call in polled if call[0] == "la" and call[2].endswith("/contacts")]
    assert len(searches) == 2  # the poll of LA's contacts, and the search by PM ids
    assert len(made) == 2 * 12
    assert writes_only(made)
    assert (
        Link.objects.filter(record_type=RecordType.CONTACT, status=LinkStatus.SYNCED).count() == 12
    )
    assert la.Contact.objects.count() == 12


def test_a_matter_a_poll_took_in_costs_two_requests(lawyer, calls):
    user, _ = lawyer
    for number in range(5):
        pm_matter(f"Matter {number}", assigned=user)
    contact_ids = first_sync(RecordType.CONTACT)
    for link_id in contact_ids:
        link_sync(link_id=link_id)
    matter_ids = list(
        Link.objects.filter(record_type=RecordType.MATTER).values_list("pk", flat=True)
    )

    made = sync_counting(matter_ids, calls)

    assert len(matter_ids) == 5
    assert len(made) == 2 * 5  # the file created in LA, its number written to PM
    assert writes_only(made)
    assert la.File.objects.count() == 5


def test_a_create_whose_answer_was_lost_is_found_not_repeated(systems, calls, monkeypatch):
    pm_services.participant_create(first_name="Lost", last_name="Answer")
    (link_id,) = first_sync(RecordType.CONTACT)
    from sync.connectors.legal_accounting.client import LegalAccountingClient

    created = LegalAccountingClient.contact_create

    def create_then_lose_the_answer(client, payload, *, idempotency_key):
        created(client, payload, idempotency_key=idempotency_key)
        raise ConnectionResetError("the answer never came")

    monkeypatch.setattr(LegalAccountingClient, "contact_create", create_then_lose_the_answer)
    with pytest.raises(ConnectionResetError):
        link_sync(link_id=link_id)
    monkeypatch.setattr(LegalAccountingClient, "contact_create", created)
    Link.objects.filter(pk=link_id).update(lease_token=None, lease_expires_at=None)

    made = sync_counting([link_id], calls)

    assert la.Contact.objects.count() == 1  # found by its PM id, not created again
    assert ("la", "GET", "/sandbox/la/api/v1/contacts") in made
    assert Link.objects.get(pk=link_id).status == LinkStatus.SYNCED


def delivered_edit(participant, calls, *, later_second: bool) -> list[tuple[str, str]]:
    """Edit a synced PM contact, take in the delivery, sync; answers the sync's calls."""
    participant.refresh_from_db()  # it holds LA's number as its Reference now
    pm_services.participant_update(participant, last_name="After")
    if later_second:  # PM stamps modifications to the second
        pm.Participant.objects.filter(pk=participant.pk).update(
            modified_at=F("modified_at") + timedelta(seconds=2)
        )
    receipt = WebhookReceipt.objects.create(
        system="pm", event="ParticipantUpdated", payload={"ids": [participant.pk]}
    )
    with links_collected() as queued:
        webhook_receipt_process(receipt_id=receipt.pk)
    return [call[:2] for call in sync_counting(list(dict.fromkeys(queued)), calls)]


@pytest.fixture
def synced_contact(systems, calls):
    participant = pm_services.participant_create(first_name="Ann", last_name="Before")
    (link_id,) = first_sync(RecordType.CONTACT)
    link_sync(link_id=link_id)
    timekeepers_refresh()
    calls.clear()
    return participant


def test_a_delivered_change_is_read_once(synced_contact, calls):
    made = delivered_edit(synced_contact, calls, later_second=True)

    # The delivery read the participant; its sync uses that copy, reads LA's and writes.
    assert made == [("la", "GET"), ("la", "PATCH")]
    assert la.Contact.objects.get().last_name == "After"


def test_a_change_in_the_second_of_the_hubs_own_write_is_read_again(synced_contact, calls):
    made = delivered_edit(synced_contact, calls, later_second=False)

    # Its stamp can't tell it from what the last sync wrote: the sync reads PM itself.
    assert made == [("pm", "GET"), ("la", "GET"), ("la", "PATCH")]
    assert la.Contact.objects.get().last_name == "After"


def test_a_late_read_of_a_record_never_undoes_a_newer_sync(systems):
    """A poll reads a page; before it takes the page in, a delivery of a newer edit is
    synced. The page's older copy must not be what the next sync believes PM holds."""
    participant = pm_services.participant_create(first_name="Ann", last_name="First")
    (link_id,) = first_sync(RecordType.CONTACT)
    link_sync(link_id=link_id)
    timekeepers_refresh()
    from sync.connectors import pm_client
    from sync.services.changes import contacts_seen
    from sync.services.timekeepers import pm_user_participants

    page = list(pm_client().list_all("participants"))  # the poll reads "First"...
    participant.refresh_from_db()
    pm_services.participant_update(participant, last_name="Second")
    receipt = WebhookReceipt.objects.create(
        system="pm", event="ParticipantUpdated", payload={"ids": [participant.pk]}
    )
    with links_collected() as queued:
        webhook_receipt_process(receipt_id=receipt.pk)
    for queued_id in dict.fromkeys(queued):
        link_sync(link_id=queued_id)  # ...the delivery of "Second" is synced...
    assert la.Contact.objects.get().last_name == "Second"

    with links_collected() as queued:
        contacts_seen("pm", page, firm_people=pm_user_participants())  # ...then the page
    for queued_id in dict.fromkeys(queued):
        link_sync(link_id=queued_id)

    assert la.Contact.objects.get().last_name == "Second"
    participant.refresh_from_db()
    assert participant.last_name == "Second"
