"""Onboarding end to end, over real HTTP against the sandbox seeded with --overlap: a
firm's two systems holding the same people are connected, matched, decided and taken
live with no duplicate and nothing lost."""

from io import StringIO

import pytest
from django.core.management import call_command

from sandbox.la import models as la
from sandbox.pm import models as pm
from sync.models import AmbiguousMatch, Link, LinkStatus, SyncSwitch
from sync.services.connection import sandbox_connect
from sync.services.onboarding import ambiguous_match_decide, existing_records_link
from sync.services.switch import sync_go_live
from tests.sync.helpers import sync_everything
from tests.sync.test_onboarding_switch import record_writes

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def held_by(email: str) -> tuple[int, int]:
    """How many records with this email PM and LA hold."""
    return (
        pm.Participant.objects.filter(email__iexact=email).count(),
        la.Contact.objects.filter(email__iexact=email).count(),
    )


def test_the_sandbox_seeded_with_overlap_onboards_without_duplicates(pm_not_connected, calls):
    call_command("sandbox_seed", "--overlap", "10", "--users", "2", stdout=StringIO())
    emails = list(
        pm.Participant.objects.filter(email__endswith="@overlap.example").values_list(
            "email", flat=True
        )
    ) + list(
        la.Contact.objects.filter(email__endswith="@overlap.example").values_list(
            "email", flat=True
        )
    )
    before = {email.lower(): held_by(email) for email in emails}
    files_before = la.File.objects.count()

    sandbox_connect(user_email=pm.User.objects.order_by("pk").first().email)
    sync_everything()

    assert SyncSwitch.objects.get().state == SyncSwitch.State.PAUSED
    assert record_writes(calls) == []

    report = existing_records_link(dry_run=False)

    assert report.contacts.matched_by_rule()["contact number"] == 2
    assert report.contacts.matched_by_rule()["email and name"] == 2
    assert report.matters.matched_by_rule()["file number"] == 2
    assert len(report.contacts.ambiguous) == 2
    assert record_writes(calls) == []
    paired = Link.objects.filter(pm_id__isnull=False, la_id__isnull=False)
    assert paired.filter(record_type="contact").count() == 4
    assert paired.filter(record_type="matter").count() == 2

    decided, undecided = AmbiguousMatch.objects.order_by("pk")
    pm_twin = decided.candidates["pm"][0]["id"]
    la_twin, la_other = (party["id"] for party in decided.candidates["la"])
    ambiguous_match_decide(match_id=decided.pk, twin_pm_id=pm_twin, twin_la_id=la_twin)
    sync_go_live()
    sync_everything()  # and a poll after: nothing new is copied

    after = {email: held_by(email) for email in before}
    undecided_email = undecided.candidates["pm"][0]["email"].lower()
    decided_email = decided.candidates["pm"][0]["email"].lower()
    for email, (in_pm, in_la) in before.items():
        if email == undecided_email:
            assert after[email] == (1, 2), email  # still only on each side, held
        elif email == decided_email:
            assert after[email] == (2, 2), email  # the LA record decided different: copied
        elif (in_pm, in_la) == (1, 1):
            assert after[email] == (1, 1), email  # matched twins: no duplicate
        else:
            assert after[email] == (1, 1), email  # one-sided: created once on the other side
    assert la.File.objects.count() == files_before + 2  # the two PM-only clients' matters
    firm_users = pm.User.objects.values_list("email", flat=True)
    assert not la.Contact.objects.filter(email__in=list(firm_users)).exists()
    held = Link.objects.filter(needs_decision=True)
    assert held.count() == 3  # the undecided case: one PM record, two LA records
    assert set(held.values_list("status", "error_code")) == {(LinkStatus.PENDING, "needs_decision")}
    assert not Link.objects.filter(status=LinkStatus.ERROR).exists()
    assert str(la_other) in [
        str(link.la_id) for link in Link.objects.filter(status=LinkStatus.SYNCED)
    ]
