from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from sandbox.la import models as la
from sandbox.pm import models as pm

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


def seed(*args: str) -> str:
    out = StringIO()
    call_command("sandbox_seed", *args, stdout=out)
    return out.getvalue()


def test_it_fills_both_systems_with_timekeepers_known_in_both():
    seed("--size", "30")

    assert pm.Participant.objects.filter(user__isnull=True).count() == 30
    assert pm.Action.objects.count() == 20
    assert pm.TimeEntry.objects.count() == 60
    emails = {user.email for user in pm.User.objects.all()}
    assert len(emails) == 5
    assert emails == {earner.email for earner in la.FeeEarner.objects.all()}


def test_some_pm_references_clash_with_numbers_la_already_uses():
    output = seed("--size", "20")

    clashing = pm.Participant.objects.exclude(import_external_reference="").values_list(
        "import_external_reference", flat=True
    )
    assert len(clashing) == 3
    assert la.Contact.objects.filter(contact_number__in=clashing).count() == 3
    assert "Clashing references" in output


def test_reset_empties_both_systems_first():
    seed("--size", "10")
    seed("--size", "10", "--reset")

    assert pm.Participant.objects.filter(user__isnull=True).count() == 10
    assert la.FeeEarner.objects.count() == 5


def test_after_a_reset_the_participant_types_are_back_and_matters_have_clients():
    seed("--size", "10", "--reset")

    names = set(pm.ParticipantType.objects.values_list("name", flat=True))
    assert {"Staff", "Client", "Other side"} <= names
    clients = pm.ActionParticipant.objects.filter(participant_type__name="Client")
    assert clients.values("action").distinct().count() == pm.Action.objects.count()


def test_the_same_seed_gives_the_same_data():
    seed("--size", "10", "--seed", "7")
    first = list(pm.Participant.objects.order_by("pk").values_list("last_name", flat=True))
    seed("--size", "10", "--seed", "7", "--reset")
    second = list(pm.Participant.objects.order_by("pk").values_list("last_name", flat=True))
    assert first == second


def test_overlap_seeds_the_same_people_in_both_systems_in_five_kinds():
    output = seed("--overlap", "5", "--users", "2")

    people = pm.Participant.objects.filter(user__isnull=True)
    assert people.count() == 4  # numbered, named, near miss, PM only
    assert la.Contact.objects.count() == 5  # numbered, named, two near misses, LA only
    numbered = people.exclude(import_external_reference="").get()
    assert la.Contact.objects.filter(
        contact_number=numbered.import_external_reference, email=numbered.email
    ).exists()
    action = pm.Action.objects.get(reference__startswith="OV-")
    assert la.File.objects.filter(file_number=action.reference).count() == 1
    near_miss = la.Contact.objects.values("email").annotate(n=Count("pk")).filter(n=2)
    assert near_miss.count() == 1
    assert pm.Action.objects.count() == 2  # the numbered client's, and the PM-only one's
    assert {u.email for u in pm.User.objects.all()} == {e.email for e in la.FeeEarner.objects.all()}
    assert "1 near misses (ambiguous)" in output
