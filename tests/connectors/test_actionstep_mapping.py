"""Hub values ↔ PM participants and actions, read both ways from one table."""

import pytest

from sync.connectors.actionstep.mapping import (
    ACTION,
    PARTICIPANT,
    action_from_pm,
    action_to_pm,
    participant_from_pm,
    participant_to_pm,
)
from sync.connectors.base import dig

# A participant as Actionstep renders one (null for unset, flags "T"/"F"); the contact
# Reference is in `importExternalReference` (PM_CONTACT_REFERENCE_FIELD's default).
PM_PARTICIPANT = {
    "id": 56,
    "displayName": "Smith, Jane",
    "importExternalReference": "25",
    "isCompany": "F",
    "companyName": None,
    "salutation": "Dr",
    "firstName": "Jane",
    "middleName": "Q",
    "lastName": "Smith",
    "suffix": "Jr",
    "preferredName": "JJ",
    "email": "jane@example.com",
    "physicalAddressLine1": "1 Queen St",
    "physicalAddressLine2": "Level 2",
    "physicalCity": "Auckland",
    "physicalStateProvince": "Auckland",
    "physicalPostCode": "1010",
    "physicalCounty": "Waitemata",
    "mailingAddressLine1": "PO Box 5",
    "mailingAddressLine2": None,
    "mailingCity": "Wellington",
    "mailingStateProvince": None,
    "mailingPostCode": "6011",
    "mailingCounty": "Lambton",
    "phone1Label": "Business",
    "phone1Number": "09 555 0101",
    "phone2Label": "Mobile",
    "phone2Number": "021 555 0102",
    "phone3Label": "Mobile",
    "phone3Number": "022 555 0103",
    "phone4Label": "TXT",
    "phone4Number": "027 555 0104",
    "fax": "09 555 0199",
    "modifiedTimestamp": "2025-03-03T09:15:02+13:00",
    "links": {"physicalCountry": "NZ", "mailingCountry": "AU"},
}

HUB_CONTACT = {
    "reference": "25",
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
    "physical_county": "Waitemata",
    "physical_country": "New Zealand",
    "mailing_line1": "PO Box 5",
    "mailing_line2": "",
    "mailing_city": "Wellington",
    "mailing_state": "",
    "mailing_post_code": "6011",
    "mailing_county": "Lambton",
    "mailing_country": "Australia",
    "phone_business": "09 555 0101",
    "phone_mobile": "021 555 0102",
    "phone_home": "",
    "phone_other": "",
    "phone_fax": "09 555 0199",
}


class TestParticipantFromPm:
    def test_it_reads_every_mapped_property(self):
        assert participant_from_pm(PM_PARTICIPANT) == HUB_CONTACT

    @pytest.mark.parametrize(("flag", "expected"), [("T", True), ("F", False), (None, False)])
    def test_it_reads_the_company_flag(self, flag, expected):
        assert participant_from_pm({"isCompany": flag})["is_company"] is expected

    def test_the_first_mobile_slot_maps_and_a_second_is_ignored(self):
        values = participant_from_pm(PM_PARTICIPANT)

        assert values["phone_mobile"] == "021 555 0102"
        assert "022 555 0103" not in values.values()

    def test_a_txt_slot_is_not_mapped(self):
        assert "027 555 0104" not in participant_from_pm(PM_PARTICIPANT).values()

    def test_labels_are_read_whatever_their_case(self):
        values = participant_from_pm({"phone3Label": "home", "phone3Number": "09 1"})

        assert values["phone_home"] == "09 1"


class TestParticipantReference:
    def test_the_reference_is_read_from_and_written_to_the_configured_property(self, settings):
        settings.PM_CONTACT_REFERENCE_FIELD = "occupation"

        assert (
            participant_from_pm({"occupation": "C-7", "importExternalReference": "x"})["reference"]
            == "C-7"
        )
        assert participant_to_pm({"reference": "C-8"}) == {"occupation": "C-8"}

    def test_by_default_it_is_the_import_reference(self):
        assert participant_to_pm({"reference": "1001"}) == {"importExternalReference": "1001"}


class TestDisplayName:
    def test_a_created_person_is_sent_with_actionsteps_last_comma_first(self):
        payload = participant_to_pm(
            {"first_name": "Jane", "last_name": "Smith", "is_company": False}, creating=True
        )

        assert payload["displayName"] == "Smith, Jane"

    def test_a_created_company_is_sent_with_its_company_name(self):
        payload = participant_to_pm(
            {"company_name": "Acme Ltd", "is_company": True, "last_name": "X"}, creating=True
        )

        assert payload["displayName"] == "Acme Ltd"

    def test_an_update_never_sends_the_display_name(self):
        assert "displayName" not in participant_to_pm({"first_name": "Jo", "last_name": "Li"})


def test_a_user_is_a_timekeeper_by_its_email_address_and_its_participants_name():
    from sync.connectors.actionstep.mapping import user_from_pm

    user = {
        "id": 4,
        "emailAddress": " Ann@Firm.Example ",
        "isActive": "T",
        "links": {"participant": "12"},
    }
    participants = {"12": {"id": 12, "firstName": "Ann", "lastName": "Lawyer"}}

    assert user_from_pm(user, participants) == {
        "email": "ann@firm.example",
        "name": "Ann Lawyer",
        "pm_user_id": "12",
        "active": True,
    }
    assert user_from_pm({**user, "isActive": "F"}, {})["active"] is False
    assert user_from_pm({**user, "isActive": "F"}, {})["name"] == "ann@firm.example"


class TestParticipantToPm:
    def test_it_writes_flags_as_t_and_f(self):
        assert participant_to_pm({"is_company": True}) == {"isCompany": "T"}
        assert participant_to_pm({"is_company": False}) == {"isCompany": "F"}

    def test_it_writes_only_the_fields_it_is_given(self):
        assert participant_to_pm({"email": "new@example.com"}) == {"email": "new@example.com"}

    def test_it_writes_countries_as_links_and_county_as_a_property(self):
        payload = participant_to_pm(
            {"physical_country": "New Zealand", "mailing_county": "Lambton"}
        )

        assert payload == {"links": {"physicalCountry": "NZ"}, "mailingCounty": "Lambton"}

    def test_it_sends_a_country_it_does_not_know_as_written_for_pm_to_judge(self):
        assert participant_to_pm({"physical_country": "Atlantis"}) == {
            "links": {"physicalCountry": "Atlantis"}
        }

    def test_it_writes_fax_to_its_own_property(self):
        assert participant_to_pm({"phone_fax": "09 555 0199"}) == {"fax": "09 555 0199"}

    def test_a_phone_reuses_the_slot_that_holds_its_label(self):
        payload = participant_to_pm({"phone_mobile": "021 000"}, current=PM_PARTICIPANT)

        assert payload == {"phone2Label": "Mobile", "phone2Number": "021 000"}

    def test_a_phone_without_a_labelled_slot_takes_the_first_empty_slot(self):
        current = {
            "phone1Label": "Business",
            "phone1Number": "09 1",
            "phone2Label": None,
            "phone2Number": None,
        }

        payload = participant_to_pm({"phone_home": "09 2"}, current=current)

        assert payload == {"phone2Label": "Home", "phone2Number": "09 2"}

    def test_new_phones_fill_the_empty_slots_in_order(self):
        payload = participant_to_pm({"phone_business": "09 1", "phone_other": "09 4"})

        assert payload == {
            "phone1Label": "Business",
            "phone1Number": "09 1",
            "phone2Label": "Other",
            "phone2Number": "09 4",
        }

    def test_an_empty_phone_never_claims_a_slot(self):
        payload = participant_to_pm({"phone_home": "", "phone_other": ""}, current={})

        assert payload == {}

    def test_an_empty_phone_clears_the_slot_that_holds_its_label(self):
        payload = participant_to_pm({"phone_business": ""}, current=PM_PARTICIPANT)

        assert payload == {"phone1Label": "Business", "phone1Number": ""}

    def test_an_empty_phone_clears_its_slot_whatever_the_label_case(self):
        current = {"phone2Label": "mobile", "phone2Number": "021 555"}

        payload = participant_to_pm({"phone_mobile": ""}, current=current)

        assert payload == {"phone2Label": "Mobile", "phone2Number": ""}

    def test_a_phone_is_dropped_when_every_slot_is_taken(self):
        current = {f"phone{n}Label": "TXT" for n in range(1, 5)}

        assert participant_to_pm({"phone_home": "09 2"}, current=current) == {}


class TestParticipantRoundTrips:
    def test_pm_to_hub_to_pm_keeps_every_mapped_property(self):
        payload = participant_to_pm(participant_from_pm(PM_PARTICIPANT), current=PM_PARTICIPANT)

        for _hub_name, pm_path in PARTICIPANT:
            expected = dig(PM_PARTICIPANT, pm_path)
            assert dig(payload, pm_path) == ("" if expected is None else expected), pm_path
        for slot in (1, 2):
            for part in ("Label", "Number"):
                key = f"phone{slot}{part}"
                assert payload[key] == PM_PARTICIPANT[key]

    def test_pm_to_hub_to_pm_leaves_unmapped_slots_alone(self):
        payload = participant_to_pm(participant_from_pm(PM_PARTICIPANT), current=PM_PARTICIPANT)

        assert not {"phone3Number", "phone4Number", "phone3Label", "phone4Label"} & set(payload)

    def test_hub_to_pm_to_hub_keeps_every_field(self):
        values = {**HUB_CONTACT, "is_company": True, "phone_home": "09 3", "phone_other": "09 4"}

        assert participant_from_pm(participant_to_pm(values)) == values


# Ids inside links are strings in real answers (dbc-tech/actionstep samples/action.json).
PM_ACTION = {
    "id": 113,
    "name": "Purchase of 222 Beach Rd",
    "reference": "AB8383/GD",
    "status": "Active",
    "links": {"assignedTo": "39", "actionType": "6", "primaryParticipants": ["56", "60"]},
}


class TestActions:
    def test_it_reads_an_action(self):
        assert action_from_pm(PM_ACTION) == {
            "name": "Purchase of 222 Beach Rd",
            "file_reference": "AB8383/GD",
            "status": "active",
            "assigned_to": "39",
            "client": "56",
        }

    @pytest.mark.parametrize(
        ("pm_status", "hub_status"),
        [("Active", "active"), ("Inactive", "inactive"), ("Closed", "closed"), (None, "active")],
    )
    def test_it_maps_the_status(self, pm_status, hub_status):
        assert action_from_pm({**PM_ACTION, "status": pm_status})["status"] == hub_status

    @pytest.mark.parametrize(
        ("hub_status", "pm_status"),
        [("active", "Active"), ("inactive", "Inactive"), ("closed", "Closed")],
    )
    def test_it_writes_the_status(self, hub_status, pm_status):
        assert action_to_pm({"status": hub_status}) == {"status": pm_status}

    def test_the_first_primary_participant_is_the_client(self):
        assert action_from_pm(PM_ACTION)["client"] == "56"

    def test_a_single_primary_participant_is_the_client(self):
        action = {**PM_ACTION, "links": {"primaryParticipants": "60"}}

        assert action_from_pm(action)["client"] == "60"

    def test_an_action_without_participants_has_no_client(self):
        values = action_from_pm({"id": 1, "name": None, "reference": None})

        assert (values["client"], values["name"], values["file_reference"]) == (None, "", "")

    def test_it_writes_the_assignee_as_a_link(self):
        assert action_to_pm({"assigned_to": "39", "name": "Sale"}) == {
            "name": "Sale",
            "links": {"assignedTo": "39"},
        }

    def test_pm_to_hub_to_pm_keeps_every_mapped_property(self):
        payload = action_to_pm(action_from_pm(PM_ACTION))

        for _hub_name, pm_path in ACTION:
            assert dig(payload, pm_path) == dig(PM_ACTION, pm_path), pm_path

    def test_hub_to_pm_to_hub_keeps_every_mapped_field(self):
        values = {
            "name": "Sale",
            "file_reference": "000123",
            "status": "closed",
            "assigned_to": "4",
        }

        back = action_from_pm(action_to_pm(values))

        assert {name: back[name] for name in values} == values


def test_a_pm_time_entry_becomes_decimal_hours_a_date_and_hub_behaviour():
    from decimal import Decimal

    from sync.connectors.actionstep.mapping import time_entry_from_pm

    values = time_entry_from_pm(
        {
            "id": 9,
            "timestampDate": "2026-03-02T00:00:00+13:00",
            "description": None,
            "actualHours": 1.5,
            "billableHours": 1.25,
            "rateUnitPrice": 300,
            "billableAmount": 375.0,
            "billingBehavior": "No charge",
            "links": {"action": "113", "owner": "39"},
        }
    )

    assert values["date"].isoformat() == "2026-03-02"
    assert (values["actual_hours"], values["billable_hours"]) == (Decimal("1.5"), Decimal("1.25"))
    assert (values["rate"], values["amount"]) == (Decimal("300"), Decimal("375.0"))
    assert values["billing_behaviour"] == "no_charge"
    assert (values["action"], values["owner"], values["description"]) == ("113", "39", "")


def test_a_template_action_is_inactive_and_inactive_goes_back_as_inactive():
    from sync.connectors.actionstep.mapping import action_from_pm, action_to_pm

    assert action_from_pm({"id": 1, "status": "Template", "links": {}})["status"] == "inactive"
    assert action_to_pm({"status": "inactive"}) == {"status": "Inactive"}


def test_countries_are_codes_in_pm_and_names_in_the_hub():
    values = participant_from_pm(
        {"id": 1, "links": {"physicalCountry": "NZ", "mailingCountry": "XK"}}
    )

    assert values["physical_country"] == "New Zealand"
    assert values["mailing_country"] == "XK"
    assert participant_to_pm({"mailing_country": "usa"}) == {"links": {"mailingCountry": "US"}}
