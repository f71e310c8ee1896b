"""`manage.py link_existing`: linking what PM and LA already both hold, over real HTTP
against the sandbox (ARCHITECTURE §2 "Linking")."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from contacts.models import Contact
from matters.models import Matter
from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.fields import CONTACT_FIELDS
from sync.management.commands.link_existing import ProgressBar
from sync.models import Link, LinkStatus
from sync.services import link_sync, links_collected
from sync.services.onboarding import LINKED_MESSAGE, existing_records_link, hub_values_merge
from timekeeping.models import Timekeeper

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def pm_person(first_name: str, last_name: str, **fields) -> pm.Participant:
    return pm_services.participant_create(first_name=first_name, last_name=last_name, **fields)


def la_person(first_name: str, last_name: str, **fields) -> la.Contact:
    return la_services.contact_create(
        data={"first_name": first_name, "last_name": last_name, **fields}
    )


def pm_matter(name: str, *, client: pm.Participant, **fields) -> pm.Action:
    return pm_services.action_create(
        name=name,
        action_type_id=pm.ActionType.objects.get_or_create(name="Conveyancing")[0].pk,
        primary_participant_ids=[client.pk],
        **fields,
    )


def la_file(description: str, *, contact: la.Contact, **fields) -> la.File:
    return la_services.file_create(data={"contact": contact, "description": description, **fields})


def link_existing(*, dry_run: bool = False):
    """Run onboarding and answer (report, ids of the links whose sync it queued)."""
    with links_collected() as queued:
        report = existing_records_link(dry_run=dry_run)
    return report, list(queued)


def command(*args: str) -> str:
    out = StringIO()
    with links_collected():
        call_command("link_existing", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def printed_counts(printed: str, section: str) -> dict[str, int]:
    """The rows of one section of the printed report ("Contacts", "Matters") by label."""
    lines = iter(printed.splitlines())
    next(line for line in lines if line.startswith(section + ":"))
    rows = {}
    for line in lines:
        if not line.startswith("  "):
            break
        label, rest = line.strip().split(":", 1)
        rows[label] = int(rest.split()[0])
    return rows


def link_of(record) -> Link | None:
    record_type = "contact" if isinstance(record, pm.Participant) else "matter"
    return Link.objects.filter(record_type=record_type, pm_id=str(record.pk)).first()


def hub_state() -> tuple[int, ...]:
    return (
        Link.objects.count(),
        Contact.objects.count(),
        Matter.objects.count(),
        Timekeeper.objects.count(),
    )


@pytest.fixture
def client_pair(systems):
    """A client both systems hold, LA knowing its PM id."""
    participant = pm_person("Cli", "Ent", email="client@example.com")
    return participant, la_person("Cli", "Ent", pm_contact_id=str(participant.pk))


def test_contacts_holding_each_other_s_id_are_linked_by_foreign_id(systems):
    jane = pm_person("Jane", "Doe")
    jane_in_la = la_person("Janet", "Doe-Smith", pm_contact_id=str(jane.pk))
    li = pm_person("Li", "Wei", import_external_reference="W-1")
    li_in_la = la_person("Li", "Wei", pm_contact_id=str(li.pk))

    report, queued = link_existing()

    assert report.contacts.matched_by_rule()["foreign id"] == 2
    jane_link, li_link = link_of(jane), link_of(li)
    assert (jane_link.la_id, li_link.la_id) == (str(jane_in_la.pk), str(li_in_la.pk))
    assert jane_link.status == LinkStatus.PENDING and jane_link.message == LINKED_MESSAGE
    assert sorted(queued) == sorted([jane_link.pk, li_link.pk])
    # The hub takes PM's values; each snapshot holds what its own system has now.
    assert jane_link.contact.first_name == "Jane"
    assert jane_link.pm_snapshot["first_name"] == "Jane"
    assert jane_link.la_snapshot["first_name"] == "Janet"


def test_a_pm_reference_equal_to_an_la_contact_number_links_the_pair(systems):
    ann = pm_person("Ann", "Lee", import_external_reference="C-100", email="ann@example.com")
    ann_in_la = la_person("Anne", "Leigh", contact_number="C-100", email="other@example.com")

    report, _ = link_existing()

    assert report.contacts.matched_by_rule() == {
        "foreign id": 0,
        "contact number": 1,
        "email and name": 0,
    }
    assert link_of(ann).la_id == str(ann_in_la.pk)


def test_email_and_name_link_a_pair_ignoring_case_and_spacing_but_need_both(systems):
    jane = pm_person("Jane", "Doe", email="Jane.Doe@Example.com")
    jane_in_la = la_person(" jane", "DOE ", email="jane.doe@example.com")
    acme = pm_services.participant_create(
        is_company=True, company_name="Acme  Ltd", email="office@acme.test"
    )
    acme_in_la = la_services.contact_create(
        data={"is_company": True, "company_name": "ACME Ltd", "email": "OFFICE@acme.test"}
    )
    bob = pm_person("Bob", "Ray", email="bob@example.com")
    la_person("Robert", "Ray", email="bob@example.com")
    pm_person("No", "Email")
    la_person("No", "Email")

    report, _ = link_existing()

    assert report.contacts.matched_by_rule()["email and name"] == 2
    assert link_of(jane).la_id == str(jane_in_la.pk)
    assert link_of(acme).la_id == str(acme_in_la.pk)
    assert link_of(bob) is None
    assert (report.contacts.only_in_pm, report.contacts.only_in_la) == (2, 2)


def test_a_stored_foreign_id_wins_over_a_contact_number(systems):
    numbered = pm_person("Num", "Bered", import_external_reference="25")
    stored = pm_person("Sto", "Red")
    in_la = la_person("Sto", "Red", contact_number="25", pm_contact_id=str(stored.pk))

    report, _ = link_existing()

    assert link_of(stored).la_id == str(in_la.pk)
    assert link_of(numbered) is None
    assert report.contacts.matched_by_rule()["contact number"] == 0
    assert report.contacts.only_in_pm == 1


def test_ambiguous_matches_are_listed_with_both_sides_and_nothing_is_guessed(systems):
    jane = pm_person("Jane", "Doe", email="jane@example.com")
    first = la_person("Jane", "Doe", email="jane@example.com", contact_number="J-1")
    second = la_person("Jane", "Doe", email="jane@example.com", contact_number="J-2")
    # Two PM contacts claim one contact number; a weaker rule must not pick one of them.
    twin_a = pm_person("Tom", "Twin", import_external_reference="7", email="tom@example.com")
    twin_b = pm_person("Tim", "Twin", import_external_reference="7")
    la_person("Tom", "Twin", contact_number="7")
    la_person("Tom", "Twin", email="tom@example.com")

    report, queued = link_existing()

    # Nothing is linked or queued; each ambiguous record is held for a person's decision
    # (docs/decisions.md 64: they used to be left for the sync to copy).
    assert queued == []
    assert not Link.objects.filter(pm_id__isnull=False, la_id__isnull=False).exists()
    assert Link.objects.count() == 6
    assert set(Link.objects.values_list("needs_decision", "status", "error_code")) == {
        (True, LinkStatus.PENDING, "needs_decision")
    }
    cases = {case.rule: case for case in report.contacts.ambiguous}
    assert [p.id for p in cases["email and name"].pm] == [str(jane.pk)]
    assert [p.id for p in cases["email and name"].la] == [str(first.pk), str(second.pk)]
    assert [p.id for p in cases["contact number"].pm] == [str(twin_a.pk), str(twin_b.pk)]
    assert (report.contacts.only_in_pm, report.contacts.only_in_la) == (0, 1)

    printed = command("--dry-run")
    assert f'PM {jane.pk} "Doe, Jane" <jane@example.com> matches 2 by email and name:' in printed
    assert f'LA {first.pk} "Doe, Jane" no. J-1 <jane@example.com>' in printed
    assert f'LA {second.pk} "Doe, Jane" no. J-2 <jane@example.com>' in printed
    assert f'PM {twin_b.pk} "Twin, Tim" no. 7' in printed


def test_a_matter_filed_in_la_with_its_pm_id_is_linked_by_foreign_id(client_pair):
    client, client_in_la = client_pair
    action = pm_matter("Purchase of 222 Beach Rd", client=client)
    file = la_file("Beach Rd purchase", contact=client_in_la, pm_matter_id=str(action.pk))

    report, _ = link_existing()

    assert report.matters.matched_by_rule() == {"foreign id": 1, "file number": 0}
    link = link_of(action)
    assert link.la_id == str(file.pk) and link.status == LinkStatus.PENDING
    matter = link.matter
    assert matter.name == "Purchase of 222 Beach Rd"
    assert matter.file_reference == file.file_number  # LA gives the numbers
    assert matter.open_date == file.open_date  # set in LA, only LA knows it
    assert matter.client == link_of(client).contact


def test_a_file_reference_equal_to_an_la_file_number_links_the_matter(client_pair):
    client, client_in_la = client_pair
    action = pm_matter("Sale of 9 Elm St", client=client, reference="000777")
    file = la_file("Sale of 9 Elm St", contact=client_in_la, file_number="000777")

    report, _ = link_existing()

    assert report.matters.matched_by_rule() == {"foreign id": 0, "file number": 1}
    assert link_of(action).la_id == str(file.pk)


def test_a_matter_whose_clients_are_not_linked_to_each_other_waits(systems):
    client = pm_person("Pat", "Kim")
    stranger_in_la = la_person("Someone", "Else")
    action = pm_matter("Estate of Kim", client=client, reference="000900")
    file = la_file("Estate of Kim", contact=stranger_in_la, file_number="000900")

    report, _ = link_existing()

    assert link_of(action) is None
    [held] = report.matters.held
    assert (held.pair.pm.id, held.pair.la.id) == (str(action.pk), str(file.pk))
    assert f'client PM {client.pk} "Kim, Pat" is not linked to an LA contact' in held.reason
    assert (report.matters.only_in_pm, report.matters.only_in_la) == (0, 0)
    assert "Matters waiting for their client" in command()


def test_a_dry_run_reports_what_it_would_link_and_writes_nothing(client_pair):
    client, client_in_la = client_pair
    pm_services.user_create(first_name="Sam", last_name="Law", email="sam@law.test")
    pm_person("Jane", "Doe", email="jane@example.com")
    la_person("Jane", "Doe", email="jane@example.com")
    pm_matter("Lease", client=client, reference="000123")
    la_file("Lease", contact=client_in_la, file_number="000123")
    before = hub_state()

    report, queued = link_existing(dry_run=True)

    assert hub_state() == before == (0, 0, 0, 0)
    assert queued == []
    assert report.contacts.matched_by_rule() == {
        "foreign id": 1,
        "contact number": 0,
        "email and name": 1,
    }
    # The matter's client would be linked first, so the matter would be linked too.
    assert report.matters.matched_by_rule()["file number"] == 1
    # Sam, and the integration user who connected the hub (tests/sync/conftest.py).
    assert report.contacts.firm_users_skipped == 2


def test_a_second_run_links_nothing_new(client_pair):
    client, client_in_la = client_pair
    pm_matter("Lease", client=client, reference="000123")
    la_file("Lease", contact=client_in_la, file_number="000123")
    first, _ = link_existing()
    links = Link.objects.count()

    second, queued = link_existing()

    assert len(first.contacts.linked) == len(first.matters.linked) == 1
    assert second.contacts.matches == second.matters.matches == [] and queued == []
    assert (second.contacts.already_linked, second.matters.already_linked) == (1, 1)
    assert Link.objects.count() == links == 2


def test_records_in_one_system_only_are_counted_and_firm_users_are_skipped(systems):
    pm_services.user_create(first_name="Sam", last_name="Law", email="sam@law.test")
    la_person("Sam", "Law", email="sam@law.test")  # LA's contact, not the PM user
    pm_only = pm_person("Only", "Pm")
    la_only = la_person("Only", "La")
    pm_matter("PM matter", client=pm_only)
    la_file("LA matter", contact=la_only)

    report, _ = link_existing()

    contacts, matters = report.contacts, report.matters
    assert (contacts.read_pm, contacts.firm_users_skipped) == (1, 2)  # Sam, the integration user
    assert (contacts.only_in_pm, contacts.only_in_la) == (1, 2)
    assert (matters.only_in_pm, matters.only_in_la) == (1, 1)
    assert not Link.objects.exists()


def test_the_command_prints_the_report_and_writes_it_as_json(client_pair, tmp_path):
    client, _ = client_pair
    pm_person("Only", "Pm")
    path = tmp_path / "report.json"

    dry = command("--dry-run", "--json", str(path))
    printed = command()

    assert dry.startswith("Dry run: nothing was linked and nothing was written.")
    assert "\nContacts: 2 in PM, 1 in LA\n" in dry
    assert printed_counts(dry, "Contacts") == {
        "matched by foreign id": 1,
        "matched by contact number": 0,
        "matched by email and name": 0,
        "already linked": 0,
        "ambiguous": 0,
        "only in PM": 1,
        "only in LA": 0,
        "firm users in PM": 1,  # the integration user who connected the hub
    }
    only_in_pm = next(line for line in dry.splitlines() if line.startswith("  only in PM:"))
    assert only_in_pm.endswith(" 1  (the regular sync creates them in LA)")
    assert "Would link" not in dry
    data = json.loads(path.read_text())
    assert data["dry_run"] is True
    assert data["contacts"]["matched"]["foreign id"] == 1
    assert data["contacts"]["only_in_pm"] == 1
    assert data["contacts"]["matches"][0]["pm"]["id"] == str(client.pk)
    assert printed_counts(printed, "Contacts")["linked now"] == 1
    link = link_of(client)
    assert (
        f'Linked these contacts (1):\n  PM {client.pk} "Ent, Cli" <client@example.com> <-> '
        f'LA {link.la_id} "Ent, Cli" no. 1 (by foreign id)\n'
    ) in printed


def test_linked_records_are_synced_by_one_pass_without_duplicates(systems):
    # A vendor in LA with a phone PM lacks; PM has the address LA lacks.
    vendor = pm_person(
        "Val", "Vendor", email="val@vendor.test", physical_address_line1="1 Queen St"
    )
    vendor_in_la = la_person(
        "Val", "Vendor", email="val@vendor.test", kind="vendor", phone_work="09 555 0101"
    )
    action = pm_matter("Supply contract", client=vendor, reference="000555")
    file = la_file("Supply contract", contact=vendor_in_la, file_number="000555")
    pm_counts = (pm.Participant.objects.count(), pm.Action.objects.count())
    la_counts = (la.Contact.objects.count(), la.File.objects.count())

    with links_collected() as queued:
        call_command("link_existing", stdout=StringIO(), stderr=StringIO())
    for link_id in queued:
        link_sync(link_id=link_id)

    contact_link, matter_link = link_of(vendor), link_of(action)
    assert contact_link.status == matter_link.status == LinkStatus.SYNCED
    assert (pm.Participant.objects.count(), pm.Action.objects.count()) == pm_counts
    assert (la.Contact.objects.count(), la.File.objects.count()) == la_counts
    vendor.refresh_from_db()
    vendor_in_la.refresh_from_db()
    file.refresh_from_db()
    assert vendor.import_external_reference == vendor_in_la.contact_number == "V~1"
    assert vendor_in_la.kind == "vendor"
    assert vendor_in_la.pm_contact_id == str(vendor.pk)
    assert file.pm_matter_id == str(action.pk)
    # Each side's data fills the other's gaps; nothing either held is blanked.
    assert vendor_in_la.main_line1 == "1 Queen St"
    assert (vendor.phone1_label, vendor.phone1_number) == ("Business", "09 555 0101")


def test_the_hub_takes_each_field_from_its_owner_and_fills_gaps_from_the_other_side():
    in_pm = {
        "reference": "",
        "first_name": "Jane",
        "email": "",
        "physical_line1": "",
        "physical_city": "",
        "physical_county": "Kings",
        "mailing_line1": "PO Box 1",
        "mailing_city": "",
    }
    in_la = {
        "reference": "25",
        "kind": "vendor",
        "first_name": "Janet",
        "email": "jane@example.com",
        "physical_line1": "1 Queen St",
        "physical_city": "Auckland",
        "mailing_line1": "",
        "mailing_city": "Wellington",
    }

    values = hub_values_merge(fields=CONTACT_FIELDS, pm=in_pm, la=in_la)

    assert (values["reference"], values["kind"]) == ("25", "vendor")  # LA's numbers
    assert (values["first_name"], values["email"]) == ("Jane", "jane@example.com")
    # An address comes whole from one side; a PM-only county does not make PM hold one.
    assert (values["physical_line1"], values["physical_city"]) == ("1 Queen St", "Auckland")
    assert values["physical_county"] == "Kings"
    assert (values["mailing_line1"], values["mailing_city"]) == ("PO Box 1", "")


def test_the_command_draws_a_progress_bar_on_stderr_only_when_asked(client_pair):
    quiet, bar = StringIO(), StringIO()

    call_command("link_existing", "--dry-run", stdout=StringIO(), stderr=quiet)
    call_command("link_existing", "--dry-run", "--progress", stdout=StringIO(), stderr=bar)

    assert quiet.getvalue() == ""
    drawn = bar.getvalue()
    # The client and the integration user's participant (tests/sync/conftest.py).
    assert f"\r[{'#' * ProgressBar.WIDTH}] 2/2 PM contacts read\n" in drawn
    assert "1/1 LA contacts read" in drawn


def test_the_progress_bar_redraws_at_most_ten_times_a_second():
    now = [0.0]
    stream = StringIO()
    bar = ProgressBar(stream, clock=lambda: now[0])

    for done in range(1, 1001):
        now[0] = done / 1000  # a thousand records in one second
        bar("PM contacts read", done, 1000)
    bar.close()

    lines = stream.getvalue().split("\r")[1:]
    assert len(lines) <= 13
    assert lines[0].startswith("[") and lines[0].endswith("] 1/1000 PM contacts read")
    assert lines[-1] == f"[{'#' * ProgressBar.WIDTH}] 1000/1000 PM contacts read\n"
