"""The field mapping page lists every shared field of sync/fields.py with the wire names
the connectors' mapping.py hold, read from them (nothing written twice)."""

import re
from html import unescape

import pytest
from django.urls import reverse

from sync.connectors.actionstep import mapping as pm_mapping
from sync.connectors.legal_accounting import mapping as la_mapping
from sync.fields import CONTACT_FIELDS, LA, MATTER_FIELDS, PM

pytestmark = pytest.mark.django_db

PAGE = reverse("admin:sync_mapping")


def page_rows(client) -> dict[tuple[str, str], list[str]]:
    """(record type, hub field) → the cells of its row."""
    body = client.get(PAGE).content.decode()
    rows = {}
    for attributes, cells in re.findall(
        r'<tr class="mapping-row[^"]*"([^>]*)>(.*?)</tr>', body, re.S
    ):
        record_type = re.search(r'data-record-type="([^"]+)"', attributes).group(1)
        hub_field = re.search(r'data-hub-field="([^"]+)"', attributes).group(1)
        texts = [
            unescape(re.sub(r"<[^>]+>", " ", cell)).split()
            for cell in re.findall(r"<td>(.*?)</td>", cells, re.S)
        ]
        rows[(record_type, hub_field)] = [" ".join(words) for words in texts]
    return rows


def test_the_page_lists_every_shared_field_with_its_pm_and_la_names(admin_client):
    rows = page_rows(admin_client)

    shared = {("contact", f.name) for f in CONTACT_FIELDS} | {
        ("matter", f.name.removesuffix("_id")) for f in MATTER_FIELDS
    }
    synced = {key for key, cells in rows.items() if cells[-1] == "yes"}
    assert synced == shared
    pm_names = dict(pm_mapping.PARTICIPANT)
    la_names = dict(la_mapping.CONTACT)
    for field in CONTACT_FIELDS:
        _, pm_cell, la_cell, direction, owner, create_only, _ = rows[("contact", field.name)]
        assert direction.startswith(("PM ⇄ hub", "hub ⇄ LA"))
        assert create_only == "—"
        if PM in field.systems and field.name in pm_names:
            assert pm_cell == pm_names[field.name]
        if PM not in field.systems:
            assert pm_cell == "—"
        assert la_cell == (la_names[field.name] if LA in field.systems else "—")
        assert owner == field.owner.upper()
    assert rows[("contact", "reference")][1] == pm_mapping.reference_field()
    assert rows[("contact", "phone_mobile")][1].startswith("phone1-4Number")


def test_each_matter_field_shows_direction_owner_and_creation_rules(admin_client):
    rows = page_rows(admin_client)

    name = rows[("matter", "name")]
    number = rows[("matter", "file_reference")]
    client = rows[("matter", "client")]
    opened = rows[("matter", "open_date")]
    status = rows[("matter", "status")]
    assert name[1:6] == ["name", "description", "PM ⇄ hub ⇄ LA", "PM", "—"]
    assert number[1:5] == ["reference", "file_number", "PM ⇄ hub ⇄ LA", "LA"]
    assert client[4:6] == ["PM", "PM"] and "only when the record is created" in client[3]
    assert opened[2] == "open_date" and opened[3].startswith("hub → LA") and opened[5] == "LA"
    assert status[2] == "—" and "LA has no such field" in status[3]


def test_fields_that_never_sync_are_listed_as_such(admin_client):
    rows = page_rows(admin_client)

    closed = rows[("contact", "is_closed")]
    assert closed[-1] == "not synced: closing a contact does not sync"
    assert closed[1] == closed[2] == "—"


def test_the_page_needs_a_staff_login(client):
    assert client.get(PAGE).status_code == 302
