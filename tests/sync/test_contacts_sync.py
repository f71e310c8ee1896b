"""Contacts both ways, over real HTTP against the sandbox (ARCHITECTURE §2 "Contacts")."""

import pytest

from contacts.models import Contact
from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.models import Link, LinkStatus, SyncEvent
from sync.services import link_sync
from tests.sync.helpers import sync_everything

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_a_contact_created_in_pm_is_created_in_la_and_gets_its_number_back(systems):
    participant = pm_services.participant_create(
        first_name="Jane", last_name="Doe", email="jane@example.com"
    )

    sync_everything()

    la_contact = la.Contact.objects.get(pm_contact_id=str(participant.pk))
    assert (la_contact.first_name, la_contact.last_name) == ("Jane", "Doe")
    assert la_contact.contact_number
    participant.refresh_from_db()
    assert participant.import_external_reference == la_contact.contact_number
    link = Link.objects.get(pm_id=str(participant.pk))
    assert link.status == LinkStatus.SYNCED
    assert link.la_id == str(la_contact.pk)
    assert link.contact.reference == la_contact.contact_number


def linked_pair(**fields):
    """A contact made in PM and synced, answered as (participant, la contact, link)."""
    participant = pm_services.participant_create(
        first_name=fields.pop("first_name", "Jane"),
        last_name=fields.pop("last_name", "Doe"),
        **fields,
    )
    sync_everything()
    link = Link.objects.get(record_type="contact", pm_id=str(participant.pk))
    participant.refresh_from_db()
    return participant, la.Contact.objects.get(pk=link.la_id), link


def test_a_contact_created_in_la_is_created_in_pm_carrying_its_contact_number(systems):
    la_contact = la_services.contact_create(
        data={"first_name": "Li", "last_name": "Wei", "email": "li@example.com", "kind": "client"}
    )

    sync_everything()

    participant = pm.Participant.objects.get(import_external_reference=la_contact.contact_number)
    assert (participant.first_name, participant.last_name) == ("Li", "Wei")
    assert participant.display_name == "Wei, Li"
    la_contact.refresh_from_db()
    assert la_contact.pm_contact_id == str(participant.pk)
    link = Link.objects.get(la_id=str(la_contact.pk))
    assert (link.status, link.pm_id) == (LinkStatus.SYNCED, str(participant.pk))


def test_a_reference_entered_by_hand_becomes_the_la_contact_number(systems):
    _, la_contact, link = linked_pair(import_external_reference="C-7001")
    assert la_contact.contact_number == "C-7001"
    assert link.status == LinkStatus.SYNCED


def test_a_clashing_reference_turns_red_with_la_s_message_and_creates_nothing(systems):
    holder = la_services.contact_create(
        data={"first_name": "Ann", "last_name": "Holder", "contact_number": "1001"}
    )
    sync_everything()  # the holder itself is linked into PM
    contacts_before = la.Contact.objects.count()

    participant = pm_services.participant_create(
        first_name="Bob", last_name="Clash", import_external_reference="1001"
    )
    sync_everything()

    link = Link.objects.get(record_type="contact", pm_id=str(participant.pk))
    assert link.status == LinkStatus.ERROR
    assert "1001" in link.message and "Holder" in link.message
    assert link.next_retry_at is None
    assert la.Contact.objects.count() == contacts_before
    assert la.Contact.objects.get(contact_number="1001").pk == holder.pk
    event = link.events.first()
    assert event.outcome == SyncEvent.Outcome.ERROR and "1001" in event.message


def test_a_fixed_reference_turns_the_red_link_green_on_resync(systems):
    la_services.contact_create(
        data={"first_name": "Ann", "last_name": "Holder", "contact_number": "1001"}
    )
    participant = pm_services.participant_create(
        first_name="Bob", last_name="Clash", import_external_reference="1001"
    )
    sync_everything()
    link = Link.objects.get(record_type="contact", pm_id=str(participant.pk))
    assert link.status == LinkStatus.ERROR

    contact = link.contact
    contact.reference = "1002"
    contact.save()
    link_sync(link_id=link.pk)

    link.refresh_from_db()
    assert link.status == LinkStatus.SYNCED
    assert la.Contact.objects.get(pk=link.la_id).contact_number == "1002"
    participant.refresh_from_db()
    assert participant.import_external_reference == "1002"


@pytest.mark.parametrize("reference", ["AB*1", "AB 1"])
def test_a_reference_with_a_star_or_space_is_refused_before_any_call(systems, reference):
    from sync.connectors import la_client, pm_client

    contact = Contact.objects.create(first_name="Zed", last_name="Star", reference=reference)
    link = Link.objects.create(record_type="contact", contact=contact)
    pm_before, la_before = pm_client().requests_made, la_client().requests_made

    link_sync(link_id=link.pk)

    link.refresh_from_db()
    assert link.status == LinkStatus.ERROR
    assert link.error_code == "invalid_reference"
    assert "may not contain" in link.message
    assert (pm_client().requests_made, la_client().requests_made) == (pm_before, la_before)


def test_an_edit_in_pm_reaches_la_and_is_not_written_back_to_pm(systems):
    from sync.connectors import pm_client

    participant, la_contact, _ = linked_pair()
    pm_services.participant_update(participant, email="jane.doe@example.com", physical_city="Perth")
    puts_before = pm_client().calls["PUT"]

    sync_everything()

    la_contact.refresh_from_db()
    assert (la_contact.email, la_contact.main_city) == ("jane.doe@example.com", "Perth")
    assert pm_client().calls["PUT"] == puts_before
    # LA's own change notice of that write is an echo: nothing goes back to PM.
    sync_everything()
    assert pm_client().calls["PUT"] == puts_before


def test_an_edit_in_la_reaches_pm_and_is_not_written_back_to_la(systems):
    from sync.connectors import la_client

    participant, la_contact, link = linked_pair()
    la_services.contact_update(contact=la_contact, data={"phone_mobile": "0400 111 222"})
    patches_before = la_client().calls["PATCH"]

    sync_everything()
    sync_everything()

    participant.refresh_from_db()
    assert participant.phone1_label == "Mobile"
    assert participant.phone1_number == "0400 111 222"
    assert Contact.objects.get(pk=link.contact_id).phone_mobile == "0400 111 222"
    assert la_client().calls["PATCH"] == patches_before


def test_a_person_s_pm_edit_made_while_the_hub_writes_to_pm_still_reaches_la(systems, monkeypatch):
    """PM answers an update with the whole record, including a field a person changed
    after the hub read it: that field must not be taken as synced."""
    from sync.connectors.base import JsonHttpClient

    participant, la_contact, _ = linked_pair()
    la_services.contact_update(contact=la_contact, data={"phone_mobile": "0400 111 222"})
    send = JsonHttpClient.send
    edited = []

    def a_person_edits_first(client, method, path, **kwargs):
        if client.system == "pm" and method == "PUT" and not edited:
            edited.append(path)  # between the hub's read and its write
            pm_services.participant_update(participant, middle_name="Pm10")
        return send(client, method, path, **kwargs)

    monkeypatch.setattr(JsonHttpClient, "send", a_person_edits_first)

    sync_everything()
    monkeypatch.setattr(JsonHttpClient, "send", send)
    sync_everything()  # the poll (or the resthook) brings the person's edit

    la_contact.refresh_from_db()
    participant.refresh_from_db()
    assert edited
    assert participant.phone1_number == "0400 111 222"
    assert la_contact.middle_name == "Pm10"
    assert participant.middle_name == "Pm10"


def test_edits_on_both_sides_merge_field_by_field(systems):
    participant, la_contact, link = linked_pair()
    pm_services.participant_update(participant, first_name="Janet")
    la_services.contact_update(contact=la_contact, data={"email": "janet@example.com"})

    link_sync(link_id=link.pk)

    participant.refresh_from_db()
    la_contact.refresh_from_db()
    assert (participant.first_name, participant.email) == ("Janet", "janet@example.com")
    assert (la_contact.first_name, la_contact.email) == ("Janet", "janet@example.com")


def test_a_field_changed_differently_on_both_sides_follows_the_owner_and_is_recorded(systems):
    participant, la_contact, link = linked_pair()
    pm_services.participant_update(participant, last_name="Smith")
    la_services.contact_update(contact=la_contact, data={"last_name": "Jones"})

    link_sync(link_id=link.pk)

    participant.refresh_from_db()
    la_contact.refresh_from_db()
    assert participant.last_name == la_contact.last_name == "Smith"
    conflict = link.events.get(outcome=SyncEvent.Outcome.CONFLICT)
    assert "last_name" in conflict.message and "'Jones'" in conflict.message


def test_closing_a_contact_does_not_sync(systems):
    from sync.connectors import la_client

    _, _, link = linked_pair()
    contact = link.contact
    contact.is_closed = True
    contact.save()
    writes_before = la_client().calls["PATCH"] + la_client().calls["POST"]

    link_sync(link_id=link.pk)

    assert la_client().calls["PATCH"] + la_client().calls["POST"] == writes_before
    link.refresh_from_db()
    assert link.status == LinkStatus.SYNCED


def test_la_only_billing_details_never_reach_pm(systems):
    participant, la_contact, _ = linked_pair()
    la_services.contact_update(contact=la_contact, data={"gl_account": "4-1000", "is_1099": True})

    sync_everything()

    participant.refresh_from_db()
    assert "4-1000" not in str(pm.Participant.objects.filter(pk=participant.pk).values().first())


def test_an_la_country_name_reaches_pm_as_its_iso_code_without_rewrites(systems):
    from sync.connectors import pm_client

    la_contact = la_services.contact_create(
        data={
            "first_name": "Kiri",
            "last_name": "Te",
            "main_city": "Auckland",
            "main_country": "New Zealand",
        }
    )
    sync_everything()
    participant = pm.Participant.objects.get(import_external_reference=la_contact.contact_number)
    puts = pm_client().calls["PUT"]

    sync_everything()
    link_sync(link_id=Link.objects.get(la_id=str(la_contact.pk)).pk)

    assert participant.physical_country == "NZ"
    assert Link.objects.get(la_id=str(la_contact.pk)).contact.physical_country == "New Zealand"
    assert pm_client().calls["PUT"] == puts
