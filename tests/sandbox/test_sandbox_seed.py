from io import StringIO

import pytest
from django.core.management import call_command

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
