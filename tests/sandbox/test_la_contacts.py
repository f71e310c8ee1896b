import datetime

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sandbox.la import services
from sandbox.la.models import Contact

from .test_la_support import LA, make_contact

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture
def la():
    return LA()


# Authentication -------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", ["", "Bearer wrong-token", "Basic sandbox-la-token"])
def test_it_answers_401_without_the_api_token(authorization):
    response = LA(authorization=authorization).get("contacts")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.json()["error"]["field"] is None
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_accepts_the_token_scheme_as_well_as_bearer(settings):
    response = LA(authorization=f"Token {settings.SANDBOX_LA_API_TOKEN}").get("contacts")

    assert response.status_code == 200


# Numbering ------------------------------------------------------------------------------


def test_it_numbers_clients_vendors_and_others_from_separate_sequences(la):
    numbers = [
        la.post("contacts", {"kind": kind, "last_name": "Ng"}).json()["contact_number"]
        for kind in ["client", "vendor", "client", "other", "vendor", "other", "client"]
    ]

    assert numbers == ["1", "V~1", "2", "O~1", "V~2", "O~2", "3"]


def test_it_skips_numbers_already_taken_by_hand(la):
    la.post("contacts", {"last_name": "Hand", "contact_number": "2"})
    la.post("contacts", {"last_name": "Hand", "contact_number": "3"})
    la.post("contacts", {"kind": "vendor", "last_name": "Hand", "contact_number": "V~1"})

    clients = [la.post("contacts", {"last_name": "Auto"}).json()["contact_number"] for _ in "ab"]
    vendor = la.post("contacts", {"kind": "vendor", "last_name": "Auto"}).json()

    assert clients == ["1", "4"]
    assert vendor["contact_number"] == "V~2"


def test_it_keeps_a_number_given_by_hand(la):
    response = la.post("contacts", {"contact_number": "SMITH-01", "last_name": "Smith"})

    assert response.status_code == 201
    assert response.json()["contact_number"] == "SMITH-01"


@pytest.mark.parametrize("number", ["10*1", "10 1", "A\t1"])
def test_it_refuses_a_contact_number_with_a_star_or_a_space(la, number):
    response = la.post("contacts", {"contact_number": number, "last_name": "Smith"})

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "contact_number"
    assert response.json()["error"]["code"] == "invalid"
    assert not Contact.objects.exists()


# Clashes --------------------------------------------------------------------------------


def test_it_answers_409_naming_the_contact_that_holds_the_number(la):
    holder = make_contact(contact_number="1001", first_name="Jane", last_name="Smith")

    response = la.post("contacts", {"contact_number": "1001", "last_name": "Jones"})

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "already_assigned",
            "message": "contact number 1001 is already assigned to Smith, Jane",
            "field": "contact_number",
            "value": "1001",
            "conflict": {"id": holder.pk, "name": "Smith, Jane", "contact_number": "1001"},
        }
    }
    assert Contact.objects.count() == 1


def test_it_answers_409_naming_the_contact_that_holds_the_pm_contact_id(la):
    holder = make_contact(pm_contact_id="56", is_company=True, company_name="Acme Ltd")

    response = la.post("contacts", {"pm_contact_id": 56, "last_name": "Again"})

    error = response.json()["error"]
    assert response.status_code == 409
    assert error["field"] == "pm_contact_id"
    assert error["value"] == "56"
    assert error["conflict"] == {
        "id": holder.pk,
        "name": "Acme Ltd",
        "contact_number": holder.contact_number,
    }
    assert "Acme Ltd" in error["message"]


def test_it_refuses_a_change_to_a_number_another_contact_holds(la):
    make_contact(contact_number="7")
    contact = make_contact()

    response = la.patch(f"contacts/{contact.pk}", {"contact_number": "7"})

    assert response.status_code == 409
    assert response.json()["error"]["field"] == "contact_number"


def test_it_refuses_a_person_without_a_name(la):
    response = la.post("contacts", {"email": "nobody@example.com"})

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "last_name"


def test_it_names_a_nested_address_field_in_a_validation_error(la):
    body = {"last_name": "Smith", "main_address": {"post_code": "x" * 21}}

    response = la.post("contacts", body)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "main_address.post_code"


# Reading and changing -------------------------------------------------------------------


def test_it_stores_the_mapped_fields_and_answers_them_back(la):
    body = {
        "kind": "client",
        "title": "Dr",
        "first_name": "Jane",
        "middle_name": "Q",
        "last_name": "Smith",
        "suffix": "Jr",
        "alias": "JJ",
        "email": "jane@example.com",
        "main_address": {"line1": "1 Queen St", "city": "Auckland", "post_code": "1010"},
        "additional_address": {"line1": "PO Box 5", "country": "New Zealand"},
        "phone_work": "09 555 0101",
        "phone_mobile": "021 555 0101",
        "phone_fax": "09 555 0102",
        "pm_contact_id": "56",
        "gl_account": "4100",
    }

    created = la.post("contacts", body).json()
    fetched = la.get(f"contacts/{created['id']}").json()

    assert fetched == created
    assert fetched["display_name"] == "Smith, Jane"
    assert fetched["main_address"] == {
        "line1": "1 Queen St",
        "line2": "",
        "city": "Auckland",
        "state": "",
        "post_code": "1010",
        "country": "",
    }
    assert fetched["additional_address"]["country"] == "New Zealand"
    assert fetched["pm_contact_id"] == "56"
    assert fetched["is_1099"] is False


def test_it_changes_only_the_fields_sent(la):
    contact = make_contact(main_city="Auckland", email="a@example.com")

    response = la.patch(f"contacts/{contact.pk}", {"main_address": {"line1": "2 High St"}})

    assert response.status_code == 200
    assert response.json()["main_address"]["line1"] == "2 High St"
    assert response.json()["main_address"]["city"] == "Auckland"
    assert response.json()["email"] == "a@example.com"


def test_it_answers_404_in_the_error_shape_for_an_unknown_contact(la):
    response = la.get("contacts/999")

    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "no contact has id 999",
        "field": None,
    }


def test_it_filters_contacts_by_pm_contact_id_number_and_email(la):
    wanted = make_contact(pm_contact_id="56", email="Jane@Example.com", contact_number="C9")
    make_contact(pm_contact_id="57", email="other@example.com")

    for params in [
        {"pm_contact_id": "56"},
        {"contact_number": "C9"},
        {"email": "jane@example.COM"},
    ]:
        results = la.get("contacts", **params).json()["results"]
        assert [result["id"] for result in results] == [wanted.pk]


def test_it_pages_past_200_with_page_size_capped_at_200(la):
    Contact.objects.bulk_create(
        Contact(contact_number=str(number), last_name=f"Person {number}")
        for number in range(1, 251)
    )

    first = la.get("contacts", page_size=500).json()
    second = la.get("contacts", page_size=500, page=2).json()

    assert first["count"] == 250
    assert len(first["results"]) == 200
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert len(second["results"]) == 50
    assert second["next"] is None
    assert second["results"][-1]["contact_number"] == "250"


def test_it_lists_only_contacts_modified_at_or_after_modified_since(la):
    old, boundary, new = (make_contact(last_name=name) for name in ["Old", "Boundary", "New"])
    moment = timezone.now().replace(microsecond=0)
    Contact.objects.filter(pk=old.pk).update(modified_at=moment - datetime.timedelta(seconds=1))
    Contact.objects.filter(pk=boundary.pk).update(modified_at=moment)
    Contact.objects.filter(pk=new.pk).update(modified_at=moment + datetime.timedelta(hours=1))

    with_offset = la.get("contacts", modified_since=moment.isoformat()).json()["results"]
    zulu = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    with_z = la.get("contacts", modified_since=zulu).json()["results"]

    assert [contact["id"] for contact in with_offset] == [boundary.pk, new.pk]
    assert [contact["id"] for contact in with_z] == [boundary.pk, new.pk]


def test_it_reads_an_unencoded_plus_in_modified_since_as_the_offset(la):
    make_contact()
    response = la.http.get("/sandbox/la/api/v1/contacts?modified_since=2000-01-01T00:00:00+00:00")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_it_answers_400_naming_modified_since_when_it_is_not_a_date(la):
    response = la.get("contacts", modified_since="yesterday")

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "modified_since"


def test_the_contact_list_costs_the_same_queries_for_3_and_30_contacts(la):
    def queries_for(count: int) -> int:
        Contact.objects.all().delete()
        Contact.objects.bulk_create(
            Contact(contact_number=str(number), last_name="X") for number in range(count)
        )
        with CaptureQueriesContext(connections["sandbox"]) as captured:
            assert len(la.get("contacts").json()["results"]) == count
        return len(captured)

    assert queries_for(3) == queries_for(30)


def test_the_unique_constraint_still_names_the_holder_when_the_check_is_raced(la, monkeypatch):
    holder = make_contact(contact_number="1001")
    # As if the holder committed between this request's check and its insert.
    monkeypatch.setattr(services, "contact_check", lambda **kwargs: None)

    response = la.post("contacts", {"contact_number": "1001", "last_name": "Jones"})

    assert response.status_code == 409
    assert response.json()["error"]["conflict"]["id"] == holder.pk
    assert Contact.objects.count() == 1


def test_it_answers_400_for_a_body_that_is_not_json(la):
    response = la.http.post(
        "/sandbox/la/api/v1/contacts", "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_an_auto_number_taken_by_hand_in_a_race_is_replaced_by_the_next_one(la, monkeypatch):
    make_contact(contact_number="1")
    # As if "1" was committed by hand just after LA looked for a free number.
    monkeypatch.setattr(services, "_contact_number_taken", lambda number: False)

    response = la.post("contacts", {"last_name": "Jones"})

    assert response.status_code == 201
    assert response.json()["contact_number"] == "2"


def test_a_blank_contact_number_in_a_change_keeps_the_number(la):
    contact = make_contact(contact_number="25")

    response = la.patch(f"contacts/{contact.pk}", {"contact_number": "", "first_name": "Janet"})

    assert response.status_code == 200
    assert response.json()["contact_number"] == "25"
    assert response.json()["first_name"] == "Janet"
