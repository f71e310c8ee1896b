"""The PM client against a faked Actionstep REST API (HTTP faked at the `requests` seam)."""

import json
import time
from urllib.parse import parse_qs

import pytest
import requests
import responses
from responses import matchers

from sync.connectors.actionstep.client import MEDIA_TYPE, PAGE_SIZE, ActionstepClient, records
from sync.connectors.base import ConnectorError, ErrorKind

API = "https://pm.example.test/api/rest/"
TOKEN_URL = "https://pm.example.test/oauth/token"
PARTICIPANTS = API + "participants"


@pytest.fixture
def http():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def client():
    return ActionstepClient(
        base_url=API,
        token_url=TOKEN_URL,
        client_id="hub",
        client_secret="hub-secret",
        timeout=2.0,
        requests_per_minute=6000,
    )


def token(access: str, refresh: str = "", expires_in: int = 300) -> dict:
    body = {"access_token": access, "token_type": "bearer", "expires_in": expires_in}
    if refresh:
        body["refresh_token"] = refresh
    return body


def grants(http) -> list[dict]:
    """The form bodies sent to the token endpoint, in order, as flat dicts."""
    sent = [call.request for call in http.calls if call.request.url == TOKEN_URL]
    return [{k: v[0] for k, v in parse_qs(request.body).items()} for request in sent]


def bearers(http, url_start: str = API) -> list[str]:
    return [
        call.request.headers.get("Authorization")
        for call in http.calls
        if call.request.url.startswith(url_start)
    ]


def participant(record_id: int, **fields) -> dict:
    return {"id": record_id, "firstName": "Jane", "lastName": "Smith", **fields}


class TestTokens:
    def test_it_fetches_a_token_with_client_credentials_before_the_first_call(self, http, client):
        http.post(TOKEN_URL, json=token("A1", "R1"))
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7)})

        client.get("participants", "7")

        assert grants(http) == [
            {"grant_type": "client_credentials", "client_id": "hub", "client_secret": "hub-secret"}
        ]
        assert bearers(http) == ["Bearer A1"]

    def test_it_reuses_the_token_while_it_is_valid(self, http, client):
        http.post(TOKEN_URL, json=token("A1", "R1"))
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7)})

        client.get("participants", "7")
        client.get("participants", "7")

        assert len(grants(http)) == 1
        assert bearers(http) == ["Bearer A1", "Bearer A1"]

    def test_it_uses_the_refresh_grant_once_the_access_token_has_expired(self, http, client):
        http.post(TOKEN_URL, json=token("A1", "R1"))
        http.post(TOKEN_URL, json=token("A2", "R2"))
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7)})

        client.get("participants", "7")
        client.expires_at = time.monotonic() - 1
        client.get("participants", "7")

        assert [g["grant_type"] for g in grants(http)] == ["client_credentials", "refresh_token"]
        assert grants(http)[1]["refresh_token"] == "R1"
        assert bearers(http) == ["Bearer A1", "Bearer A2"]
        assert client.refresh_token == "R2"

    def test_it_refreshes_a_little_before_a_short_lived_token_runs_out(self, http, client):
        http.post(TOKEN_URL, json=token("A1", "R1", expires_in=5))
        http.post(TOKEN_URL, json=token("A2", "R2"))
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7)})

        client.get("participants", "7")
        client.get("participants", "7")

        assert [g["grant_type"] for g in grants(http)] == ["client_credentials", "refresh_token"]
        assert bearers(http) == ["Bearer A1", "Bearer A2"]

    def test_it_keeps_the_refresh_token_when_the_refresh_answer_brings_no_new_one(
        self, http, client
    ):
        http.post(TOKEN_URL, json=token("A1", "R1"))
        http.post(TOKEN_URL, json=token("A2"))

        client.authenticate()
        client.expires_at = 0.0
        client.authenticate()

        assert (client.access_token, client.refresh_token) == ("A2", "R1")

    def test_it_refreshes_the_token_and_retries_once_on_401(self, http, client):
        http.post(TOKEN_URL, json=token("A1", "R1"))
        http.post(TOKEN_URL, json=token("A2", "R2"))
        http.get(PARTICIPANTS + "/7", status=401, json={"error": {"code": "invalid_token"}})
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7)})

        found = client.get("participants", "7")

        assert found["id"] == 7
        assert [g["grant_type"] for g in grants(http)] == ["client_credentials", "refresh_token"]
        assert bearers(http) == ["Bearer A1", "Bearer A2"]

    def test_a_second_401_after_the_refresh_is_an_auth_error(self, http, client):
        http.post(TOKEN_URL, json=token("A1", "R1"))
        http.post(TOKEN_URL, json=token("A2", "R2"))
        http.get(
            PARTICIPANTS + "/7",
            status=401,
            json={"error": {"code": "invalid_token", "message": "The access token is expired."}},
        )

        with pytest.raises(ConnectorError) as caught:
            client.get("participants", "7")

        assert caught.value.kind == ErrorKind.AUTH
        assert caught.value.status == 401
        assert not caught.value.permanent
        assert len(bearers(http)) == 2  # the call and exactly one retry

    def test_it_falls_back_to_client_credentials_when_the_refresh_grant_is_refused(
        self, http, client
    ):
        http.post(TOKEN_URL, json=token("A1", "R1"))
        http.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
        http.post(TOKEN_URL, json=token("A3", "R3"))
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7)})

        client.authenticate()
        client.expires_at = 0.0
        client.get("participants", "7")

        assert [g["grant_type"] for g in grants(http)] == [
            "client_credentials",
            "refresh_token",
            "client_credentials",
        ]
        assert bearers(http) == ["Bearer A3"]
        assert client.refresh_token == "R3"

    def test_refused_client_credentials_are_an_auth_error(self, http, client):
        http.post(TOKEN_URL, status=401, json={"error": "invalid_client"})

        with pytest.raises(ConnectorError) as caught:
            client.get("participants", "7")

        assert caught.value.kind == ErrorKind.AUTH
        assert caught.value.code == "credentials_refused"

    def test_an_unreachable_token_endpoint_is_not_tried_again_with_another_grant(
        self, http, client
    ):
        http.post(TOKEN_URL, json=token("A1", "R1"))
        http.post(TOKEN_URL, body=requests.ConnectionError("Connection refused"))

        client.authenticate()
        client.expires_at = 0.0
        with pytest.raises(ConnectorError) as caught:
            client.authenticate()

        assert caught.value.kind == ErrorKind.UNREACHABLE
        assert [g["grant_type"] for g in grants(http)] == ["client_credentials", "refresh_token"]
        assert client.refresh_token == "R1"

    def test_a_token_answer_without_an_access_token_is_an_auth_error(self, http, client):
        http.post(TOKEN_URL, json={"token_type": "bearer"})

        with pytest.raises(ConnectorError) as caught:
            client.authenticate()

        assert caught.value.kind == ErrorKind.AUTH
        assert caught.value.code == "no_access_token"


class TestRecords:
    def test_it_turns_a_one_object_answer_into_a_list(self):
        assert records({"participants": {"id": 7}}, "participants") == [{"id": 7}]

    def test_it_keeps_a_list_answer_as_it_is(self):
        body = {"participants": [{"id": 7}, {"id": 8}]}

        assert records(body, "participants") == [{"id": 7}, {"id": 8}]

    def test_it_answers_an_empty_list_for_an_empty_body_or_another_resource(self):
        assert records(None, "participants") == []
        assert records({"actions": [{"id": 1}]}, "participants") == []


class TestReading:
    @pytest.fixture(autouse=True)
    def signed_in(self, http):
        http.post(TOKEN_URL, json=token("A1", "R1"))

    def test_list_all_follows_next_page_across_pages(self, http, client):
        page_2 = f"{PARTICIPANTS}?modifiedTimestamp_gt=2025-01-01&pageSize={PAGE_SIZE}&page=2"
        http.get(
            PARTICIPANTS,
            match=[
                matchers.query_param_matcher(
                    {"modifiedTimestamp_gt": "2025-01-01", "pageSize": str(PAGE_SIZE), "page": "1"}
                )
            ],
            json={
                "participants": [participant(1), participant(2)],
                "meta": {"paging": {"participants": {"page": 1, "nextPage": page_2}}},
            },
        )
        http.get(
            PARTICIPANTS,
            match=[
                matchers.query_param_matcher(
                    {"modifiedTimestamp_gt": "2025-01-01", "pageSize": str(PAGE_SIZE), "page": "2"}
                )
            ],
            json={
                "participants": participant(3),
                "meta": {"paging": {"participants": {"page": 2, "nextPage": None}}},
            },
        )

        found = list(client.list_all("participants", modifiedTimestamp_gt="2025-01-01"))

        assert [record["id"] for record in found] == [1, 2, 3]
        assert len(bearers(http)) == 2

    def test_get_answers_the_one_record_of_an_object_answer(self, http, client):
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7), "linked": {}})

        assert client.get("participants", "7") == participant(7)

    def test_find_sends_the_filters_and_answers_a_list(self, http, client):
        http.get(
            PARTICIPANTS,
            match=[matchers.query_param_matcher({"importExternalReference": "LA:5"})],
            json={"participants": participant(7)},
        )

        assert client.find("participants", importExternalReference="LA:5") == [participant(7)]

    def test_it_asks_for_the_actionstep_media_type(self, http, client):
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7)})

        client.get("participants", "7")

        assert http.calls[-1].request.headers["Accept"] == MEDIA_TYPE


class TestWriting:
    @pytest.fixture(autouse=True)
    def signed_in(self, http):
        http.post(TOKEN_URL, json=token("A1", "R1"))

    def test_create_wraps_the_record_in_its_resource_with_the_media_type_and_token(
        self, http, client
    ):
        http.post(PARTICIPANTS, json={"participants": participant(9, email="j@example.com")})

        created = client.create("participants", {"firstName": "Jane", "email": "j@example.com"})

        request = http.calls[-1].request
        assert json.loads(request.body) == {
            "participants": {"firstName": "Jane", "email": "j@example.com"}
        }
        assert request.headers["Content-Type"] == MEDIA_TYPE
        assert request.headers["Authorization"] == "Bearer A1"
        assert created["id"] == 9

    def test_update_wraps_the_changes_in_their_resource(self, http, client):
        http.put(PARTICIPANTS + "/9", json={"participants": participant(9, lastName="Jones")})

        updated = client.update("participants", "9", {"lastName": "Jones"})

        request = http.calls[-1].request
        assert json.loads(request.body) == {"participants": {"lastName": "Jones"}}
        assert request.headers["Content-Type"] == MEDIA_TYPE
        assert updated["lastName"] == "Jones"

    def test_action_create_posts_to_actioncreate_and_answers_its_record(self, http, client):
        http.post(
            API + "actioncreate",
            json={
                "actioncreate": {"id": 40, "actionName": "Sale", "links": {"action": 40}},
                "actions": {"id": 40, "name": "Sale"},
            },
        )

        created = client.action_create({"actionName": "Sale", "links": {"actionType": 1}})

        assert json.loads(http.calls[-1].request.body) == {
            "actioncreate": {"actionName": "Sale", "links": {"actionType": 1}}
        }
        assert created["links"]["action"] == 40

    def test_a_422_is_a_permanent_error_with_the_property_and_the_message(self, http, client):
        http.post(
            PARTICIPANTS,
            status=422,
            content_type=MEDIA_TYPE,
            json={
                "error": {
                    "code": "invalid",
                    "message": "isCompany: Expected 'T' or 'F'.; firstNam: Unknown property.",
                    "field": "isCompany",
                    "fields": {
                        "isCompany": ["Expected 'T' or 'F'."],
                        "firstNam": ["Unknown property."],
                    },
                }
            },
        )

        with pytest.raises(ConnectorError) as caught:
            client.create("participants", {"isCompany": "yes", "firstNam": "Jane"})

        error = caught.value
        assert error.permanent
        assert (error.status, error.code, error.field) == (422, "invalid", "isCompany")
        assert error.message == "isCompany: Expected 'T' or 'F'.; firstNam: Unknown property."
        assert error.details["fields"]["firstNam"] == ["Unknown property."]

    def test_a_422_about_no_one_property_has_no_field_and_a_plain_message(self, http, client):
        http.post(
            PARTICIPANTS,
            status=422,
            json={
                "error": {
                    "code": "invalid",
                    "message": "__all__: A person needs a first or last name.",
                    "field": "__all__",
                    "fields": {"__all__": ["A person needs a first or last name."]},
                }
            },
        )

        with pytest.raises(ConnectorError) as caught:
            client.create("participants", {"email": "j@example.com"})

        assert caught.value.permanent
        assert caught.value.field is None
        assert caught.value.message == "A person needs a first or last name."
