"""Matters PM → LA with number write-back, over real HTTP (ARCHITECTURE §2 "Matters")."""

import datetime

import pytest

from matters.models import Matter
from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import services as pm_services
from sync.models import Link, LinkStatus
from sync.services import link_sync
from tests.sync.helpers import pm_matter, sync_everything

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_a_matter_created_in_pm_is_filed_in_la_and_gets_its_number_back(lawyer):
    user, fee_earner = lawyer
    action = pm_matter(assigned=user)

    sync_everything()

    file = la.File.objects.get(pm_matter_id=str(action.pk))
    assert file.description == "Purchase of 222 Beach Rd"
    assert file.file_number == "000001"
    assert file.assigned_fee_earner_id == file.responsible_fee_earner_id == fee_earner.pk
    action.refresh_from_db()
    assert action.reference == "000001"
    matter = Matter.objects.get(link__pm_id=str(action.pk))
    assert matter.file_reference == "000001"
    assert matter.link.status == LinkStatus.SYNCED
    # The client went first: it is linked, and it is the file's contact.
    client_link = Link.objects.get(record_type="contact", contact=matter.client)
    assert client_link.status == LinkStatus.SYNCED
    assert file.contact_id == int(client_link.la_id)


def test_a_matter_is_numbered_per_client_when_la_says_so(lawyer):
    settings_row = la.LASettings.load()
    settings_row.file_numbering = la.LASettings.FileNumbering.PER_CLIENT
    settings_row.save()
    client = pm_services.participant_create(
        first_name="Per", last_name="Client", import_external_reference="25"
    )

    first = pm_matter("First", client=client)
    second = pm_matter("Second", client=client)
    sync_everything()

    first.refresh_from_db()
    second.refresh_from_db()
    assert {first.reference, second.reference} == {"25-001", "25-002"}


def test_a_matter_syncs_its_client_first_when_only_the_matter_is_synced(lawyer):
    action = pm_matter()
    from sync.connectors import pm_client
    from sync.services.changes import pm_record_seen

    link = pm_record_seen("actions", pm_client().get("actions", str(action.pk)), firm_people=set())
    link_sync(link_id=link.pk)

    link.refresh_from_db()
    assert link.status == LinkStatus.SYNCED
    client_link = Link.objects.get(record_type="contact", contact=link.matter.client)
    assert client_link.la_id and client_link.status == LinkStatus.SYNCED


def test_a_hand_entered_file_reference_that_la_holds_is_red_and_nothing_is_created(lawyer):
    taken = pm_matter("Taken")
    sync_everything()
    taken.refresh_from_db()
    files_before = la.File.objects.count()

    clash = pm_matter("Clash", reference=taken.reference)
    sync_everything()

    link = Link.objects.get(record_type="matter", pm_id=str(clash.pk))
    assert link.status == LinkStatus.ERROR
    assert taken.reference in link.message
    assert la.File.objects.count() == files_before


def test_a_matter_whose_client_is_red_is_red_with_the_client_s_reason(lawyer):
    la_services.contact_create(
        data={"first_name": "Ann", "last_name": "Holder", "contact_number": "1001"}
    )
    client = pm_services.participant_create(
        first_name="Bob", last_name="Clash", import_external_reference="1001"
    )
    action = pm_matter(client=client)

    sync_everything()

    link = Link.objects.get(record_type="matter", pm_id=str(action.pk))
    assert link.status == LinkStatus.ERROR
    assert link.error_code == "client_not_linked"
    assert link.message.startswith("client contact not linked: ")
    assert "1001" in link.message
    assert not la.File.objects.filter(pm_matter_id=str(action.pk)).exists()


def test_open_date_and_responsible_are_set_in_la_only_on_creation(lawyer):
    user, fee_earner = lawyer
    other_user = pm_services.user_create(
        first_name="Oth", last_name="Er", email="oth@example-law.test"
    )
    other_earner = la_services.fee_earner_create(name="Oth Er", email="oth@example-law.test")
    action = pm_matter(assigned=user)
    sync_everything()
    link = Link.objects.get(record_type="matter", pm_id=str(action.pk))
    file = la.File.objects.get(pk=link.la_id)
    opened = file.open_date

    # LA's later change to the open date does not come back...
    la_services.file_update(file=file, data={"open_date": datetime.date(2020, 1, 1)})
    # ...and PM's new assignee changes LA's Assigned but not Responsible or Lead.
    action.refresh_from_db()
    pm_services.action_update(action, assigned_to=other_user)
    sync_everything()
    link_sync(link_id=link.pk)

    file.refresh_from_db()
    assert file.assigned_fee_earner_id == other_earner.pk
    assert file.responsible_fee_earner_id == file.lead_fee_earner_id == fee_earner.pk
    assert Matter.objects.get(pk=link.matter_id).open_date == opened


def test_a_matter_name_changed_in_la_reaches_pm(lawyer):
    action = pm_matter()
    sync_everything()
    link = Link.objects.get(record_type="matter", pm_id=str(action.pk))
    la_services.file_update(
        file=la.File.objects.get(pk=link.la_id), data={"description": "Renamed"}
    )

    link_sync(link_id=link.pk)

    action.refresh_from_db()
    assert action.name == "Renamed"
    assert Matter.objects.get(pk=link.matter_id).name == "Renamed"
