import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contacts.models import Contact
from sync.models import Link, LinkStatus, RecordType
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    MatterFactory,
    MatterLinkFactory,
    TimekeeperFactory,
)

pytestmark = pytest.mark.django_db


def assert_rejected(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Link.objects.create(**fields)


def test_it_rejects_a_second_link_for_the_same_contact():
    link = ContactLinkFactory()
    assert_rejected(record_type=RecordType.CONTACT, contact=link.contact)


def test_it_rejects_a_pm_id_already_linked_for_the_same_record_type():
    link = ContactLinkFactory(pm_id="77")
    assert_rejected(record_type=RecordType.CONTACT, contact=ContactFactory(), pm_id=link.pm_id)


def test_it_rejects_an_la_id_already_linked_for_the_same_record_type():
    link = ContactLinkFactory(la_id="L-9")
    assert_rejected(record_type=RecordType.CONTACT, contact=ContactFactory(), la_id=link.la_id)


def test_it_allows_the_same_foreign_id_on_different_record_types():
    contact_link = ContactLinkFactory(pm_id="12", la_id="34")
    matter_link = MatterLinkFactory(pm_id="12", la_id="34")
    assert contact_link.pm_id == matter_link.pm_id


def test_it_allows_many_links_without_foreign_ids():
    first = Link.objects.create(record_type=RecordType.CONTACT, contact=ContactFactory())
    second = Link.objects.create(record_type=RecordType.CONTACT, contact=ContactFactory())
    assert first.pm_id is None and second.pm_id is None


def test_it_rejects_a_link_whose_record_does_not_match_its_type():
    assert_rejected(record_type=RecordType.MATTER, contact=ContactFactory())


def test_it_rejects_a_link_pointing_at_two_records():
    matter = MatterFactory()
    assert_rejected(record_type=RecordType.CONTACT, contact=matter.client, matter=matter)


def test_it_rejects_a_link_pointing_at_nothing():
    assert_rejected(record_type=RecordType.CONTACT)


def test_it_rejects_an_unknown_link_status():
    assert_rejected(record_type=RecordType.CONTACT, contact=ContactFactory(), status="green")


def test_the_link_indicator_has_exactly_five_states():
    assert LinkStatus.values == ["synced", "unsynced", "pending", "unknown", "error"]


def test_it_rejects_a_timekeeper_email_that_differs_only_in_case():
    TimekeeperFactory(email="Jane.Doe@example-law.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        TimekeeperFactory(email="jane.doe@EXAMPLE-LAW.test")


@pytest.mark.parametrize("reference", ["AB*1", "AB 1", "AB\t1"])
def test_it_rejects_a_contact_reference_with_a_star_or_spaces(reference):
    contact = Contact(first_name="Jane", last_name="Doe", reference=reference)
    with pytest.raises(ValidationError) as error:
        contact.full_clean()
    assert "reference" in error.value.message_dict


def test_it_accepts_a_vendor_style_reference():
    Contact(first_name="Jane", last_name="Doe", reference="V~123").full_clean()


def test_a_link_reaches_its_record():
    link = MatterLinkFactory()
    assert link.record == link.matter
