"""Hub values ↔ LA contacts and files, read both ways from one table."""

from sync.connectors.base import dig
from sync.connectors.legal_accounting.mapping import CONTACT, FILE, from_la, to_la

# A contact as docs/legal-accounting-api.md shows one.
LA_CONTACT = {
    "id": 7,
    "display_name": "Smith, Jane",
    "contact_number": "25",
    "kind": "client",
    "is_company": False,
    "company_name": "",
    "title": "Dr",
    "first_name": "Jane",
    "middle_name": "Q",
    "last_name": "Smith",
    "suffix": "Jr",
    "alias": "JJ",
    "email": "jane@example.com",
    "main_address": {
        "line1": "1 Queen St",
        "line2": "Level 2",
        "city": "Auckland",
        "state": "Auckland",
        "post_code": "1010",
        "country": "New Zealand",
    },
    "additional_address": {
        "line1": "PO Box 5",
        "line2": "",
        "city": "Wellington",
        "state": "",
        "post_code": "6011",
        "country": "Australia",
    },
    "phone_work": "09 555 0101",
    "phone_mobile": "021 555 0102",
    "phone_home": "09 555 0103",
    "phone_other": "09 555 0104",
    "phone_fax": "09 555 0199",
    "pm_contact_id": "56",
    "gl_account": "4-1000",
    "is_1099": False,
}

HUB_CONTACT = {
    "reference": "25",
    "kind": "client",
    "is_company": False,
    "company_name": "",
    "title": "Dr",
    "first_name": "Jane",
    "middle_name": "Q",
    "last_name": "Smith",
    "suffix": "Jr",
    "alias": "JJ",
    "email": "jane@example.com",
    "physical_line1": "1 Queen St",
    "physical_line2": "Level 2",
    "physical_city": "Auckland",
    "physical_state": "Auckland",
    "physical_post_code": "1010",
    "physical_country": "New Zealand",
    "mailing_line1": "PO Box 5",
    "mailing_line2": "",
    "mailing_city": "Wellington",
    "mailing_state": "",
    "mailing_post_code": "6011",
    "mailing_country": "Australia",
    "phone_business": "09 555 0101",
    "phone_mobile": "021 555 0102",
    "phone_home": "09 555 0103",
    "phone_other": "09 555 0104",
    "phone_fax": "09 555 0199",
}

LA_FILE = {
    "id": 12,
    "file_number": "25-001",
    "description": "Purchase of 222 Beach Rd",
    "contact": 7,
    "pm_matter_id": "113",
    "assigned_fee_earner": 3,
    "responsible_fee_earner": 3,
    "lead_fee_earner": 3,
    "open_date": "2025-03-03",
    "status": "open",
}


def test_it_reads_a_contact_with_its_nested_addresses():
    assert from_la(CONTACT, LA_CONTACT) == HUB_CONTACT


def test_it_leaves_billing_defaults_and_the_pm_id_out():
    assert not {"gl_account", "is_1099", "pm_contact_id"} & set(from_la(CONTACT, LA_CONTACT))


def test_it_writes_the_main_and_additional_addresses_nested():
    payload = to_la(CONTACT, {"physical_city": "Auckland", "mailing_post_code": "6011"})

    assert payload == {
        "main_address": {"city": "Auckland"},
        "additional_address": {"post_code": "6011"},
    }


def test_it_writes_the_business_phone_as_work_and_the_reference_as_contact_number():
    payload = to_la(CONTACT, {"phone_business": "09 1", "reference": "V~3"})

    assert payload == {"phone_work": "09 1", "contact_number": "V~3"}


def test_missing_values_read_as_blank_text_and_not_a_company():
    values = from_la(CONTACT, {"id": 7, "main_address": None})

    assert values["is_company"] is False
    assert values["physical_city"] == ""
    assert values["reference"] == ""


def test_la_to_hub_to_la_keeps_every_mapped_contact_field():
    payload = to_la(CONTACT, from_la(CONTACT, LA_CONTACT))

    for _hub_name, la_path in CONTACT:
        assert dig(payload, la_path) == dig(LA_CONTACT, la_path), la_path


def test_hub_to_la_to_hub_keeps_every_contact_field():
    values = {**HUB_CONTACT, "is_company": True, "company_name": "Smith Ltd", "kind": "vendor"}

    assert from_la(CONTACT, to_la(CONTACT, values)) == values


def test_it_reads_a_file_with_la_ids_for_its_relations():
    assert from_la(FILE, LA_FILE) == {
        "name": "Purchase of 222 Beach Rd",
        "file_reference": "25-001",
        "client": 7,
        "assigned_to": 3,
        "open_date": "2025-03-03",
    }


def test_a_file_without_relations_reads_them_as_none():
    values = from_la(FILE, {"id": 12, "description": "Sale"})

    assert (values["client"], values["assigned_to"], values["open_date"]) == (None, None, None)
    assert values["file_reference"] == ""


def test_la_to_hub_to_la_keeps_every_mapped_file_field():
    payload = to_la(FILE, from_la(FILE, LA_FILE))

    for _hub_name, la_path in FILE:
        assert payload[la_path] == LA_FILE[la_path], la_path


def test_hub_to_la_to_hub_keeps_every_file_field():
    values = {
        "name": "Sale",
        "file_reference": "000123",
        "client": 9,
        "assigned_to": 4,
        "open_date": "2026-01-05",
    }

    assert from_la(FILE, to_la(FILE, values)) == values


def test_an_la_time_entry_maps_hours_money_and_billed_state():
    from decimal import Decimal

    from sync.connectors.legal_accounting.mapping import time_entry_from_la

    values = time_entry_from_la(
        {
            "id": 4,
            "date": "2026-03-02",
            "description": "Call",
            "hours": "0.50",
            "rate": "300.00",
            "amount": "150.00",
            "billing_behaviour": "bill",
            "status": "billed",
        }
    )

    assert values["billable_hours"] == Decimal("0.50")
    assert values["amount"] == Decimal("150.00")
    assert values["billed"] is True
    assert values["date"].isoformat() == "2026-03-02"
