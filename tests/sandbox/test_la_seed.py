import random

import pytest
import responses
from django.db import connections
from django.test.utils import CaptureQueriesContext

from sandbox.la import services
from sandbox.la.models import Contact, FeeEarner
from sandbox.la.seed import seed_la

from .test_la_support import LA, make_contact

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

FEE_EARNERS = [("Ann Lawyer", "ann@firm.example"), ("Bob Clerk", "bob@firm.example")]


def test_it_seeds_thousands_of_numbered_la_only_contacts_in_bulk():
    """In a few bulk queries, not one per contact (measured in queries, not seconds: a
    time limit failed on a loaded machine)."""
    with CaptureQueriesContext(connections["sandbox"]) as queries:
        result = seed_la(contacts=3000, fee_earners=FEE_EARNERS, rng=random.Random(1))

    assert len(queries) < 3000 / 15  # batches of rows, not a query per contact
    numbers = result["contact_numbers"]
    assert len(numbers) == len(set(numbers)) == Contact.objects.count() == 3000
    assert set(numbers) == set(Contact.objects.values_list("contact_number", flat=True))
    assert not Contact.objects.filter(pm_contact_id__isnull=False).exists()
    kinds = {kind: Contact.objects.filter(kind=kind).count() for kind in Contact.Kind.values}
    assert kinds["client"] > kinds["vendor"] > 0
    assert kinds["other"] > 0
    assert Contact.objects.filter(kind="vendor").first().contact_number.startswith("V~")


def test_it_creates_the_fee_earners_and_keeps_existing_ones_on_a_second_run():
    first = seed_la(contacts=3, fee_earners=FEE_EARNERS, rng=random.Random(1))
    second = seed_la(contacts=3, fee_earners=FEE_EARNERS, rng=random.Random(2))

    assert first["fee_earner_ids"] == second["fee_earner_ids"]
    assert list(FeeEarner.objects.values_list("email", flat=True)) == [
        "ann@firm.example",
        "bob@firm.example",
    ]
    assert Contact.objects.count() == 6


def test_seeded_numbers_continue_the_sequences_and_skip_hand_numbers():
    make_contact(contact_number="2")

    result = seed_la(contacts=40, fee_earners=[], rng=random.Random(3))
    after = services.contact_create(data={"last_name": "After"})

    clients = [number for number in result["contact_numbers"] if "~" not in number]
    assert "2" not in clients
    assert clients[:2] == ["1", "3"]
    assert int(after.contact_number) == max(int(number) for number in clients) + 1


def test_the_same_rng_seed_makes_the_same_contacts():
    def names(seed: int) -> list[tuple[str, str, str]]:
        Contact.objects.all().delete()
        seed_la(contacts=20, fee_earners=[], rng=random.Random(seed))
        return list(Contact.objects.values_list("first_name", "last_name", "company_name"))

    assert names(7) == names(7)
    assert names(7) != names(8)


def test_seeding_sends_no_webhooks(django_capture_on_commit_callbacks):
    services.webhook_create(url="https://hub.example/la", events=["contact.created"])

    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
        django_capture_on_commit_callbacks(using="sandbox", execute=True) as callbacks,
    ):
        mock.add(responses.POST, "https://hub.example/la", status=200)
        seed_la(contacts=10, fee_earners=FEE_EARNERS, rng=random.Random(1))

    assert callbacks == []
    assert len(mock.calls) == 0


def test_seeded_contacts_are_listed_by_the_api():
    result = seed_la(contacts=5, fee_earners=[], rng=random.Random(1))

    listed = LA().get("contacts").json()["results"]

    assert [contact["contact_number"] for contact in listed] == result["contact_numbers"]
    assert all(contact["display_name"] for contact in listed)
