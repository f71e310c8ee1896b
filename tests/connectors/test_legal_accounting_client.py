"""The LA client against a faked Legal Accounting API (docs/legal-accounting-api.md)."""

import json

import pytest
import responses
from responses import matchers

from sync.connectors.base import ConnectorError, ErrorKind
from sync.connectors.legal_accounting.client import PAGE_SIZE, LegalAccountingClient

API = "https://la.example.test/api/v1/"


@pytest.fixture
def http():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def client():
    return LegalAccountingClient(
        base_url=API, token="la-token", timeout=2.0, requests_per_minute=6000
    )


def page(results: list[dict], next_url: str | None = None) -> dict:
    return {"count": len(results), "next": next_url, "previous": None, "results": results}


def test_it_sends_the_api_token_as_a_bearer_token(http, client):
    http.get(API + "contacts/7", json={"id": 7, "contact_number": "25"})

    contact = client.contact_get("7")

    request = http.calls[0].request
    assert request.headers["Authorization"] == "Bearer la-token"
    assert request.headers["Accept"] == "application/json"
    assert contact["contact_number"] == "25"


def test_list_all_follows_next_across_pages(http, client):
    second = API + "contacts?modified_since=2025-03-01&page_size=200&page=2"
    http.get(
        API + "contacts",
        match=[
            matchers.query_param_matcher(
                {"modified_since": "2025-03-01", "page_size": str(PAGE_SIZE)}
            )
        ],
        json=page([{"id": 1}, {"id": 2}], next_url=second),
    )
    http.get(
        API + "contacts",
        match=[
            matchers.query_param_matcher(
                {"modified_since": "2025-03-01", "page_size": str(PAGE_SIZE), "page": "2"}
            )
        ],
        json=page([{"id": 3}]),
    )

    found = list(client.list_all("contacts", modified_since="2025-03-01"))

    assert [record["id"] for record in found] == [1, 2, 3]
    assert len(http.calls) == 2


def test_find_one_answers_the_first_result(http, client):
    http.get(
        API + "contacts",
        match=[matchers.query_param_matcher({"pm_contact_id": "56"})],
        json=page([{"id": 7, "pm_contact_id": "56"}]),
    )

    assert client.contact_find_by_pm_id("56") == {"id": 7, "pm_contact_id": "56"}


def test_find_one_answers_none_when_nothing_matches(http, client):
    http.get(API + "files", json=page([]))

    assert client.file_find_by_pm_id("113") is None


def test_a_create_carries_the_idempotency_key_and_the_json_body(http, client):
    http.post(API + "contacts", status=201, json={"id": 7, "contact_number": "1"})

    created = client.contact_create({"first_name": "Jane"}, idempotency_key="hub-contact-1-ab")

    request = http.calls[0].request
    assert request.headers["Idempotency-Key"] == "hub-contact-1-ab"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"first_name": "Jane"}
    assert created["id"] == 7


def test_a_post_without_a_key_sends_no_idempotency_header(http, client):
    http.post(API + "webhooks", status=201, json={"id": 1})

    client.webhook_register("https://hub.example.test/webhooks/la", ["contact.created"])

    assert "Idempotency-Key" not in http.calls[0].request.headers


def test_a_409_clash_is_a_permanent_error_with_la_s_message(http, client):
    conflict = {"id": 3, "name": "Smith, Jane", "contact_number": "1001"}
    http.post(
        API + "contacts",
        status=409,
        json={
            "error": {
                "code": "already_assigned",
                "message": "contact number 1001 is already assigned to Smith, Jane",
                "field": "contact_number",
                "value": "1001",
                "conflict": conflict,
            }
        },
    )

    with pytest.raises(ConnectorError) as caught:
        client.contact_create({"contact_number": "1001"}, idempotency_key="k1")

    error = caught.value
    assert error.permanent
    assert error.message == "contact number 1001 is already assigned to Smith, Jane"
    assert (error.status, error.code, error.field) == (409, "already_assigned", "contact_number")
    assert error.details["conflict"] == conflict
    assert error.system == "la"


def test_a_422_is_a_permanent_error_naming_the_field(http, client):
    http.patch(
        API + "contacts/7",
        status=422,
        json={
            "error": {
                "code": "invalid",
                "message": "contact number may not contain '*' or whitespace",
                "field": "contact_number",
                "value": "A*1",
            }
        },
    )

    with pytest.raises(ConnectorError) as caught:
        client.contact_update("7", {"contact_number": "A*1"})

    assert caught.value.kind == ErrorKind.PERMANENT
    assert caught.value.field == "contact_number"
    assert "may not contain" in caught.value.message


def test_time_entries_create_answers_one_result_per_item(http, client):
    results = [
        {"index": 0, "status": "created", "id": 40, "error": None},
        {"index": 1, "status": "exists", "id": 17, "error": None},
        {
            "index": 2,
            "status": "error",
            "id": None,
            "error": {"code": "does_not_exist", "message": "no file has id 999", "field": "file"},
        },
    ]
    http.post(API + "time-entries/batch", json={"results": results})
    entries = [{"external_id": "pm-1"}, {"external_id": "pm-2"}, {"external_id": "pm-3"}]

    answered = client.time_entries_create(entries, idempotency_key="batch-1")

    request = http.calls[0].request
    assert json.loads(request.body) == {"entries": entries}
    assert request.headers["Idempotency-Key"] == "batch-1"
    assert [item["status"] for item in answered] == ["created", "exists", "error"]
    assert answered[2]["error"]["field"] == "file"
