"""Onboarding a firm whose systems hold data, over real HTTP against the
sandbox: connecting leaves the hub paused with no writes; matching links every
unambiguous twin and holds the ambiguous; an admin's decisions are applied; going live
creates every one-sided record exactly once and leaves an undecided one on its side."""

import pytest

from sandbox.la import models as la
from sandbox.pm import models as pm
from sync.models import AmbiguousMatch, Link, LinkStatus, SyncSwitch
from sync.services import link_sync
from sync.services.connection import sandbox_connect
from sync.services.onboarding import (
    DecisionRefused,
    ambiguous_match_decide,
    existing_records_link,
)
from sync.services.switch import sync_go_live
from tests.sync.conftest import INTEGRATION_USER_EMAIL
from tests.sync.helpers import sync_everything
from tests.sync.test_onboarding import (
    command,
    la_file,
    la_person,
    pm_matter,
    pm_person,
    printed_counts,
)
from tests.sync.test_onboarding_switch import integration_user, record_writes

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def pm_named(last_name: str) -> int:
    return pm.Participant.objects.filter(last_name=last_name).count()


def la_named(last_name: str) -> int:
    return la.Contact.objects.filter(last_name=last_name).count()


@pytest.fixture
def firm_with_data(pm_not_connected):
    """Both systems as a firm that used them side by side holds them."""
    integration_user()
    ann = pm_person("Ann", "Lee", import_external_reference="C-100")
    ann_in_la = la_person("Ann", "Lee", contact_number="C-100")
    bob = pm_person("Bob", "Ray", email="bob@example.com")
    bob_in_la = la_person("Bob", "Ray", email="bob@example.com")
    jane = pm_person("Jane", "Doe", email="jane@example.com")
    jane_1 = la_person("Jane", "Doe", email="jane@example.com", contact_number="J-1")
    jane_2 = la_person("Jane", "Doe", email="jane@example.com", contact_number="J-2")
    tom = pm_person("Tom", "Twin", import_external_reference="7")
    tim = pm_person("Tim", "Twin", import_external_reference="7")
    tom_in_la = la_person("Tom", "Twin", contact_number="7")
    pia = pm_person("Pia", "Only")
    lou = la_person("Lou", "Lonely")
    sale = pm_matter("Sale of 9 Elm St", client=ann, reference="000777")
    sale_in_la = la_file("Elm St sale", contact=ann_in_la, file_number="000777")
    pias = pm_matter("Pia's lease", client=pia)
    return locals()


def test_a_firm_with_data_is_matched_decided_and_goes_live_without_duplicates(
    firm_with_data, calls
):
    f = firm_with_data
    sandbox_connect(user_email=INTEGRATION_USER_EMAIL)
    sync_everything()  # the first poll takes everything in, as pending links

    assert SyncSwitch.objects.get().state == SyncSwitch.State.PAUSED
    report = existing_records_link(dry_run=False)

    assert record_writes(calls) == []
    assert report.contacts.matched_by_rule() == {
        "foreign id": 0,
        "contact number": 1,
        "email and name": 1,
    }
    assert report.matters.matched_by_rule() == {"foreign id": 0, "file number": 1}
    assert len(report.contacts.ambiguous) == 2
    for pm_record, la_record in (
        (f["ann"], f["ann_in_la"]),
        (f["bob"], f["bob_in_la"]),
        (f["sale"], f["sale_in_la"]),
    ):
        record_type = "matter" if isinstance(pm_record, pm.Action) else "contact"
        link = Link.objects.get(record_type=record_type, pm_id=str(pm_record.pk))
        assert link.la_id == str(la_record.pk)
    # The links the poll made for the LA side of each pair are gone, not left to copy.
    assert not Link.objects.filter(la_id=str(f["bob_in_la"].pk), pm_id__isnull=True).exists()
    held = Link.objects.filter(needs_decision=True)
    assert held.count() == 6  # Jane and her two LA candidates, Tom, Tim and LA's Tom
    assert set(held.values_list("status", "error_code")) == {(LinkStatus.PENDING, "needs_decision")}
    jane_link = Link.objects.get(record_type="contact", pm_id=str(f["jane"].pk))
    assert f'LA {f["jane_1"].pk} "Doe, Jane" no. J-1' in jane_link.message
    assert link_sync(link_id=jane_link.pk) is False  # paused: and the reason stays
    assert Link.objects.get(pk=jane_link.pk).message == jane_link.message

    jane_case = AmbiguousMatch.objects.get(rule="email and name")
    ambiguous_match_decide(
        match_id=jane_case.pk, twin_pm_id=str(f["jane"].pk), twin_la_id=str(f["jane_1"].pk)
    )
    with pytest.raises(DecisionRefused):
        ambiguous_match_decide(match_id=jane_case.pk)
    assert record_writes(calls) == []  # still paused

    sync_go_live()
    sync_everything()  # a poll after going live finds nothing new to copy

    assert pm_named("Lee") == la_named("Lee") == 1
    assert pm_named("Ray") == la_named("Ray") == 1
    assert la_named("Doe") == 2  # J-1, and J-2 decided a different record ...
    assert pm_named("Doe") == 2  # ... created once in PM
    assert la_named("Only") == 1 and pm_named("Lonely") == 1  # one-sided: created once
    assert la.File.objects.filter(file_number="000777").count() == 1
    assert la.File.objects.filter(description="Pia's lease").count() == 1
    # Undecided: still only on their own side, still waiting, amber.
    assert pm_named("Twin") == 2 and la_named("Twin") == 1
    tom_link = Link.objects.get(record_type="contact", pm_id=str(f["tom"].pk))
    assert tom_link.la_id is None and tom_link.needs_decision
    assert (tom_link.status, tom_link.error_code) == (LinkStatus.PENDING, "needs_decision")
    assert Link.objects.get(pk=jane_link.pk).status == LinkStatus.SYNCED
    assert Link.objects.get(record_type="contact", pm_id=str(f["ann"].pk)).status == (
        LinkStatus.SYNCED
    )


def test_link_existing_honours_a_decision_made_on_the_page(firm_with_data):
    f = firm_with_data
    sandbox_connect(user_email=INTEGRATION_USER_EMAIL)
    existing_records_link(dry_run=False)
    twins = AmbiguousMatch.objects.get(rule="contact number")
    ambiguous_match_decide(match_id=twins.pk)  # different records, all three

    again = existing_records_link(dry_run=True)

    assert [case.rule for case in again.contacts.ambiguous] == ["email and name"]
    assert again.contacts.decided == 3
    assert not Link.objects.filter(pm_id=str(f["tom"].pk), needs_decision=True).exists()
    printed = command("--dry-run")  # the command-line twin reads the same decisions
    assert printed_counts(printed, "Contacts")["decided by an admin"] == 3
    assert printed_counts(printed, "Contacts")["ambiguous"] == 1


def test_a_twin_must_be_one_of_the_candidates(firm_with_data):
    f = firm_with_data
    sandbox_connect(user_email=INTEGRATION_USER_EMAIL)
    existing_records_link(dry_run=False)
    case = AmbiguousMatch.objects.get(rule="email and name")

    with pytest.raises(DecisionRefused):
        ambiguous_match_decide(
            match_id=case.pk, twin_pm_id=str(f["jane"].pk), twin_la_id=str(f["lou"].pk)
        )
    assert AmbiguousMatch.objects.get(pk=case.pk).decision == "undecided"


def test_the_matching_job_runs_in_the_background_and_keeps_its_report(firm_with_data):
    from sync.models import MatchingRun
    from sync.services.matching import go_live_preview, matching_run_start

    sandbox_connect(user_email=INTEGRATION_USER_EMAIL)
    sync_everything()

    run = matching_run_start()  # the task runs when this commits (tasks run inline here)

    run.refresh_from_db()
    assert run.state == MatchingRun.State.DONE, run.error
    assert run.report["contacts"]["matched"]["contact number"] == 1
    assert run.report["matters"]["matched"]["file number"] == 1
    assert len(run.report["contacts"]["ambiguous"]) == 2
    assert run.step == "done" and run.finished_at is not None
    preview = go_live_preview()
    # Pia in LA and her matter; Lou in PM; nothing ambiguous among them.
    assert preview.create_in_la == {"contacts": 1, "matters": 1}
    assert preview.create_in_pm == {"contacts": 1}
    assert preview.held == 6


def test_time_entries_are_matched_by_their_pm_id(firm):
    from tests.sync.helpers import hub_entry, record_time, send

    sent = record_time(firm, "1.00")
    record_time(firm, "2.00")
    sync_everything()
    send(hub_entry(sent))

    report = existing_records_link(dry_run=True)

    assert report.time_entries.as_dict() == {"in_la": 1, "only_in_pm": 1, "only_in_la": 0}
    assert la.TimeEntry.objects.filter(external_id=str(sent.pk)).count() == 1


def test_a_matter_whose_client_awaits_a_decision_is_held_and_linked_by_matching_again(
    firm_with_data,
):
    f = firm_with_data
    deal = pm_matter("Jane's purchase", client=f["jane"], reference="000888")
    la_file("Doe purchase", contact=f["jane_1"], file_number="000888")
    sandbox_connect(user_email=INTEGRATION_USER_EMAIL)
    existing_records_link(dry_run=False)
    deal_link = Link.objects.get(record_type="matter", pm_id=str(deal.pk))
    assert deal_link.needs_decision and deal_link.la_id is None
    assert "its client waits for one" in deal_link.message

    jane_case = AmbiguousMatch.objects.get(rule="email and name")
    ambiguous_match_decide(
        match_id=jane_case.pk, twin_pm_id=str(f["jane"].pk), twin_la_id=str(f["jane_1"].pk)
    )
    sync_go_live()

    assert la.File.objects.filter(file_number="000888").count() == 1  # not created again
    assert Link.objects.get(pk=deal_link.pk).needs_decision

    existing_records_link(dry_run=False)  # "Match again"

    deal_link.refresh_from_db()
    assert not deal_link.needs_decision
    assert deal_link.la_id == str(la.File.objects.get(file_number="000888").pk)
    assert deal_link.status == LinkStatus.SYNCED
    assert la.File.objects.filter(file_number="000888").count() == 1
