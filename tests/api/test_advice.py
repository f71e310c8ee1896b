"""`link.advice`: what to do about a record's error, by its code (sync/advice.py), in every
record's link block."""

import re
from pathlib import Path

import pytest

from sync.advice import ADVICE, DEFAULT, advice_for, link_problem
from sync.models import LinkStatus
from tests.factories import (
    ContactLinkFactory,
    MatterLinkFactory,
    SyncEventFactory,
    TimeEntryLinkFactory,
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize(
    ("factory", "url", "perm"),
    [
        (ContactLinkFactory, "/api/v1/contacts/", "contacts.view_contact"),
        (MatterLinkFactory, "/api/v1/matters/", "matters.view_matter"),
        (TimeEntryLinkFactory, "/api/v1/time-entries/", "timekeeping.view_timeentry"),
    ],
)
def test_every_record_s_link_carries_the_advice_for_its_code(api_with, factory, url, perm):
    factory(status=LinkStatus.ERROR, error_code="already_assigned", message="clash")
    factory(status=LinkStatus.SYNCED)

    rows = api_with(perm).get(url).json()["results"]

    advice = {row["link"]["status"]: row["link"]["advice"] for row in rows}
    assert advice == {"error": ADVICE["already_assigned"].what_to_do, "synced": ""}


def test_an_unknown_code_gets_the_default_advice_and_a_yellow_link_its_own(api_with):
    red = ContactLinkFactory(status=LinkStatus.ERROR, error_code="something_new")
    yellow = ContactLinkFactory(status=LinkStatus.UNKNOWN, error_code="unreachable")
    client = api_with("contacts.view_contact")

    red_advice = client.get(f"/api/v1/contacts/{red.contact_id}/").json()["link"]["advice"]
    yellow_advice = client.get(f"/api/v1/contacts/{yellow.contact_id}/").json()["link"]["advice"]

    assert red_advice == DEFAULT.what_to_do
    assert yellow_advice == ADVICE["unreachable"].what_to_do


def test_the_schema_documents_the_advice(api_with):
    schema = api_with("contacts.view_contact").get("/api/schema/?format=json").json()
    properties = schema["components"]["schemas"]["LinkState"]["properties"]
    assert properties["advice"]["type"] == "string"


def test_every_code_the_hub_writes_has_advice_of_its_own():
    """The codes the engine and services write (`code=` in sync/ and timekeeping/, and
    LA's and PM's codes they pass on) are in the table; none falls to the default."""
    written = set()
    for folder in ("sync", "timekeeping"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts or path.name == "advice.py":
                continue
            written |= set(re.findall(r'\bcode="([a-z_]+)"', path.read_text()))
    # Codes written as the connection's state (sync/services/connection.py `code=state`).
    written |= {"not_connected", "refresh_failing", "needs_reauthorisation", "missing_scope"}
    # LA's own (sandbox/la/errors.py, services.py) and PM's (sandbox/pm/errors.py).
    written |= {"already_assigned", "invalid", "required", "does_not_exist", "not_found"}
    written |= {"locked", "1300", "A01", "A02", "P01", "TR03"}
    # Codes that are not link errors: OAuth answers and a token-answer check.
    written -= {"oauth_error", "token_answer_incomplete"}
    missing = sorted(code for code in written if advice_for(code) is DEFAULT)
    assert missing == []


@pytest.mark.parametrize(
    ("record_type", "system", "field", "expected"),
    [
        ("contact", "la", "contact_number", "reference"),
        ("contact", "la", "main_address.post_code", "physical_post_code"),
        ("contact", "pm", "importExternalReference", "reference"),
        ("contact", "pm", "physicalCountry", "physical_country"),
        ("matter", "la", "file_number", "file_reference"),
        ("matter", "pm", "fileReference", "file_reference"),
        ("matter", "pm", "reference", "file_reference"),
        ("matter", "la", "assigned_fee_earner", "assigned_to"),
    ],
)
def test_the_field_a_refusal_names_is_the_hub_field_to_fix(record_type, system, field, expected):
    factory = ContactLinkFactory if record_type == "contact" else MatterLinkFactory
    link = factory(status=LinkStatus.ERROR, error_code="invalid", error_system=system)
    SyncEventFactory(
        link=link, outcome="error", details={"field": field, "system": system, "code": "invalid"}
    )

    assert link_problem(link).field == expected


def test_without_a_field_in_the_refusal_the_advice_names_the_number_field():
    contact = ContactLinkFactory(status=LinkStatus.ERROR, error_code="already_assigned")
    matter = MatterLinkFactory(status=LinkStatus.ERROR, error_code="already_assigned")
    blocked = ContactLinkFactory(status=LinkStatus.ERROR, error_code="invalid_reference")

    assert link_problem(contact).field == "reference"
    assert link_problem(matter).field == "file_reference"
    assert link_problem(blocked).field == "reference"
    assert link_problem(ContactLinkFactory(status=LinkStatus.SYNCED)) is None
