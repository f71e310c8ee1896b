"""What a contact costs the hub's database, against the sandbox over real HTTP.

The budget (docs/performance.md): a page of new contacts from a poll is taken in with
the same few queries whatever its size, and a first sync that creates the contact in LA
and writes LA's number back costs eight — take the lease, load the link with its
contact, note that a create in LA may now have been made (the poll's search of LA for
the page is spent), store LA's id with what the create left there, store what the hub
wrote to PM (so the writes' echoes are known as ours), save the number on the hub
contact, the history row, and the outcome written together with letting go of the
lease. A matter adds one: its timekeeper.
"""

import pytest

from sandbox.la import models as la
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.connectors import pm_client
from sync.models import Link, LinkStatus, RecordType, SyncEvent
from sync.services import link_sync, links_collected
from sync.services.changes import contacts_seen, poll_all
from tests.sync.helpers import pm_matter

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def new_pm_contacts(count: int, start: int) -> list[dict]:
    made = [
        pm_services.participant_create(first_name=f"Pat{start + n}", last_name="Budget")
        for n in range(count)
    ]
    ids = {str(participant.pk) for participant in made}
    return [raw for raw in pm_client().list_all("participants") if str(raw["id"]) in ids]


def queries_to_take_in(raws, django_assert_max_num_queries) -> tuple[int, list[int]]:
    with links_collected() as queued, django_assert_max_num_queries(1000) as captured:
        contacts_seen("pm", raws, firm_people=set())
    return len(captured.captured_queries), queued


def test_a_page_of_new_contacts_is_taken_in_with_the_same_queries_at_3_and_at_30(
    systems, django_assert_max_num_queries
):
    at_three, queued_three = queries_to_take_in(
        new_pm_contacts(3, 0), django_assert_max_num_queries
    )
    at_thirty, queued_thirty = queries_to_take_in(
        new_pm_contacts(30, 100), django_assert_max_num_queries
    )

    # Read the page's links; BEGIN, insert the contacts, insert the links, COMMIT (on
    # PostgreSQL BEGIN and COMMIT are not counted as queries); mark them searched in LA.
    assert at_three == at_thirty <= 6
    assert len(queued_three) == 3 and len(queued_thirty) == 30
    links = Link.objects.filter(record_type=RecordType.CONTACT)
    assert links.count() == 33
    assert set(links.values_list("status", flat=True)) == {LinkStatus.PENDING}
    assert set(links.values_list("message", flat=True)) == {"New in PM; sync queued."}


def test_the_first_sync_of_a_pm_contact_into_la_costs_eight_queries(
    systems, django_assert_num_queries, django_assert_max_num_queries
):
    (raw,) = new_pm_contacts(1, 0)
    _, (link_id,) = queries_to_take_in([raw], django_assert_max_num_queries)

    with django_assert_num_queries(8):
        assert link_sync(link_id=link_id) is True

    link = Link.objects.select_related("contact").get(pk=link_id)
    la_contact = la.Contact.objects.get(pk=link.la_id)
    assert link.status == LinkStatus.SYNCED
    assert (link.lease_token, link.lease_expires_at) == (None, None)
    assert link.contact.reference == la_contact.contact_number != ""
    assert (
        pm.Participant.objects.get(pk=raw["id"]).import_external_reference
        == la_contact.contact_number
    )
    assert SyncEvent.objects.filter(link=link, outcome=SyncEvent.Outcome.SUCCESS).count() == 1


def test_a_page_seen_again_unchanged_queues_nothing(systems, django_assert_max_num_queries):
    raws = new_pm_contacts(5, 0)
    _, queued = queries_to_take_in(raws, django_assert_max_num_queries)

    queries, queued_again = queries_to_take_in(raws, django_assert_max_num_queries)

    assert len(queued) == 5
    assert queued_again == []
    assert queries == 1  # the links of the page, read together


def test_the_first_sync_of_a_pm_matter_into_la_costs_nine_queries(
    lawyer, django_assert_num_queries
):
    user, fee_earner = lawyer
    action = pm_matter(assigned=user)
    with links_collected() as queued:
        poll_all()
    client_link = Link.objects.get(record_type=RecordType.CONTACT)
    link_sync(link_id=client_link.pk)
    matter_link = Link.objects.get(record_type=RecordType.MATTER)
    assert matter_link.pk in queued

    # The eight of a contact, and one to read the timekeeper it is assigned to.
    with django_assert_num_queries(9):
        assert link_sync(link_id=matter_link.pk) is True

    matter_link.refresh_from_db()
    la_file = la.File.objects.get(pk=matter_link.la_id)
    action.refresh_from_db()
    assert matter_link.status == LinkStatus.SYNCED
    assert action.reference == la_file.file_number == matter_link.matter.file_reference != ""
    assert la_file.responsible_fee_earner_id == fee_earner.pk
