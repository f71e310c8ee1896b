"""A page of contacts from a poll: new ones together, the rest one by one
(sync/services/contacts.py `contacts_ingest`)."""

import pytest

from contacts.models import Contact
from sync.models import Link, LinkStatus, RecordType
from sync.services.contacts import contacts_ingest
from sync.services.engine import Remote, Seen
from tests.factories import ContactLinkFactory

pytestmark = pytest.mark.django_db


def la_contact(la_id: str, last_name: str, **raw) -> Remote:
    return Remote(
        id=la_id,
        raw={"id": la_id, **raw},
        values={"first_name": "Kim", "last_name": last_name, "reference": ""},
    )


def test_a_mixed_page_is_sorted_into_new_changed_unchanged_and_twins():
    unchanged = ContactLinkFactory(
        la_id="10", la_snapshot={"first_name": "Kim", "last_name": "Same", "reference": ""}
    )
    changed = ContactLinkFactory(
        la_id="11", la_snapshot={"first_name": "Kim", "last_name": "Before", "reference": ""}
    )
    # We created LA contact 12 from PM contact 700, and its answer was lost: LA's copy
    # carries the PM id, so it is linked, not taken in as a second contact.
    twin = ContactLinkFactory(pm_id="700", la_id=None)
    page = [
        la_contact("10", "Same"),
        la_contact("11", "After"),
        la_contact("12", "Twin", pm_contact_id="700"),
        la_contact("13", "New"),
        la_contact("14", "Newer"),
    ]
    contacts_before = Contact.objects.count()

    results = contacts_ingest(system="la", remotes=page)

    seen = {link.la_id: outcome for link, outcome in results}
    assert seen == {
        "10": Seen.UNCHANGED,
        "11": Seen.CHANGED,
        "12": Seen.CHANGED,
        "13": Seen.NEW,
        "14": Seen.NEW,
    }
    assert [link.pk for link, _ in results[:3]] == [unchanged.pk, changed.pk, twin.pk]
    twin.refresh_from_db()
    assert twin.la_id == "12"
    assert Contact.objects.count() == contacts_before + 2
    new = Link.objects.filter(record_type=RecordType.CONTACT, la_id__in=["13", "14"])
    assert {(link.status, link.message, link.contact.last_name) for link in new} == {
        (LinkStatus.PENDING, "New in LA; sync queued.", "New"),
        (LinkStatus.PENDING, "New in LA; sync queued.", "Newer"),
    }
    assert new.get(la_id="13").la_snapshot["last_name"] == "New"


def test_a_page_another_worker_partly_took_meanwhile_goes_one_by_one(monkeypatch):
    """Another worker committed LA contact 21 just after we read the page's links: our
    insert clashes, and the page goes one by one without a second contact 21."""
    theirs = Contact.objects.create(first_name="Kim", last_name="Theirs")
    Link.objects.create(record_type=RecordType.CONTACT, contact=theirs, la_id="21")
    real_filter = Link.objects.filter
    reads = []

    def read_before_their_commit(*args, **kwargs):
        reads.append(kwargs)
        found = real_filter(*args, **kwargs)
        return found.exclude(la_id="21") if len(reads) == 1 else found

    monkeypatch.setattr(Link.objects, "filter", read_before_their_commit)

    results = contacts_ingest(
        system="la", remotes=[la_contact("20", "Mine"), la_contact("21", "Theirs")]
    )

    assert [(link.la_id, outcome) for link, outcome in results] == [
        ("20", Seen.NEW),
        ("21", Seen.CHANGED),
    ]
    assert results[1][0].contact_id == theirs.pk
    assert Link.objects.filter(la_id="21").count() == 1
    assert Contact.objects.filter(last_name="Mine").count() == 1
    assert Contact.objects.filter(last_name="Theirs").count() == 1
