"""The PM client against a faked Actionstep REST API (HTTP faked at the `requests` seam).

The answers here are the shapes real Actionstep gives (docs/actionstep-fidelity.md): the
REST base from the token's `api_endpoint`, one record as an object, 204 for nothing,
ids in `links` as strings, `errors` bodies, and refused rules as a 500 with a code.
"""

import datetime
import json

import pytest
import responses
from responses import matchers

from sync.connectors.actionstep.client import (
    MEDIA_TYPE,
    PAGE_SIZE,
    ActionstepClient,
    linked,
    records,
)
from sync.connectors.actionstep.oauth import Credentials
from sync.connectors.base import ConnectorError, ErrorKind

ENDPOINT = "https://ap-southeast-2.actionstep.example/api/"
API = ENDPOINT + "rest/"
PARTICIPANTS = API + "participants"


class FakeTokens:
    """The hub's token source, reduced to what the client asks of it."""

    def __init__(self, *tokens: str):
        self.tokens = list(tokens) or ["A1"]
        self.asked: list[str | None] = []
        self.scope_messages: list[str] = []
        self.rejected = 0

    def credentials(self, *, refused=None):
        self.asked.append(refused)
        if refused is not None and refused in self.tokens[:-1]:
            self.tokens.remove(refused)
        return Credentials(
            access_token=self.tokens[0],
            api_endpoint=ENDPOINT,
            expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
        )

    def scope_missing(self, message):
        self.scope_messages.append(message)
        return ConnectorError(message=message, kind=ErrorKind.CONNECTION, system="pm")

    def token_rejected(self):
        self.rejected += 1
        return ConnectorError(message="rejected", kind=ErrorKind.CONNECTION, system="pm")


@pytest.fixture
def http():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def tokens():
    return FakeTokens("A1", "A2")


@pytest.fixture
def client(tokens):
    return ActionstepClient(tokens=tokens, timeout=2.0, requests_per_minute=6000)


def participant(record_id: int, **fields) -> dict:
    return {"id": record_id, "firstName": "Jane", "lastName": "Smith", **fields}


def errors_body(*entries) -> dict:
    return {"errors": list(entries)}


class TestTokens:
    def test_it_calls_the_rest_base_of_the_tokens_api_endpoint_with_the_bearer(self, http, client):
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7)})

        client.get("participants", "7")

        request = http.calls[0].request
        assert request.url == PARTICIPANTS + "/7"
        assert request.headers["Authorization"] == "Bearer A1"
        assert request.headers["Accept"] == MEDIA_TYPE

    def test_a_401_asks_the_source_again_naming_the_refused_token_and_retries_once(
        self, http, client, tokens
    ):
        http.get(PARTICIPANTS + "/7", status=401)
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7)})

        assert client.get("participants", "7") == participant(7)
        assert tokens.asked == [None, "A1"]
        assert [c.request.headers["Authorization"] for c in http.calls] == [
            "Bearer A1",
            "Bearer A2",
        ]

    def test_a_second_401_with_a_fresh_token_tells_the_source_the_grant_is_gone(
        self, http, client, tokens
    ):
        http.get(PARTICIPANTS + "/7", status=401)
        http.get(PARTICIPANTS + "/7", status=401)

        with pytest.raises(ConnectorError) as caught:
            client.get("participants", "7")

        assert caught.value.kind == ErrorKind.CONNECTION
        assert tokens.rejected == 1
        assert len(http.calls) == 2

    def test_a_403_is_a_missing_scope_of_the_connection_not_a_records_fault(
        self, http, client, tokens
    ):
        http.get(
            PARTICIPANTS + "/7",
            status=403,
            json=errors_body({"status": "403", "code": "insufficient_scope", "title": "No."}),
        )

        with pytest.raises(ConnectorError) as caught:
            client.get("participants", "7")

        assert caught.value.kind == ErrorKind.CONNECTION
        assert tokens.scope_messages == ["No."]


class TestRecords:
    def test_it_turns_a_one_object_answer_into_a_list(self):
        assert records({"participants": {"id": 7}}, "participants") == [{"id": 7}]

    def test_it_keeps_a_list_answer_as_it_is(self):
        body = {"participants": [{"id": 7}, {"id": 8}]}

        assert records(body, "participants") == [{"id": 7}, {"id": 8}]

    def test_it_answers_an_empty_list_for_no_body_or_another_resource(self):
        assert records(None, "participants") == []
        assert records({"actions": [{"id": 1}]}, "participants") == []

    def test_linked_records_are_found_by_their_id_as_a_string(self):
        body = {"users": {"id": 3}, "linked": {"participants": [{"id": 12, "firstName": "Ann"}]}}

        assert linked(body, "participants") == {"12": {"id": 12, "firstName": "Ann"}}
        assert linked({"users": []}, "participants") == {}


class TestReading:
    def test_list_all_follows_next_page_across_pages(self, http, client):
        stamp = "2025-01-31T09:00:00"
        page_2 = f"{PARTICIPANTS}?modifiedTimestamp_gteq={stamp}&pageSize={PAGE_SIZE}&page=2"
        first = {"modifiedTimestamp_gteq": stamp, "pageSize": str(PAGE_SIZE), "page": "1"}
        http.get(
            PARTICIPANTS,
            match=[matchers.query_param_matcher(first)],
            json={
                "participants": [participant(1), participant(2)],
                "meta": {"paging": {"participants": {"page": 1, "nextPage": page_2}}},
            },
        )
        http.get(
            PARTICIPANTS,
            match=[matchers.query_param_matcher({**first, "page": "2"})],
            json={
                "participants": participant(3),
                "meta": {"paging": {"participants": {"page": 2, "nextPage": None}}},
            },
        )

        found = list(client.list_all("participants", modifiedTimestamp_gteq=stamp))

        assert [record["id"] for record in found] == [1, 2, 3]

    def test_an_empty_collection_answered_204_is_no_records(self, http, client):
        http.get(PARTICIPANTS, status=204)

        assert list(client.list_all("participants", email="nobody@example.test")) == []
        assert client.find("participants", email="nobody@example.test") == []

    def test_it_does_not_follow_a_paging_link_to_another_host(self, http, client):
        http.get(
            PARTICIPANTS,
            json={
                "participants": [participant(1), participant(2)],
                "meta": {
                    "paging": {"participants": {"nextPage": "https://evil.example/steal?page=2"}}
                },
            },
        )

        with pytest.raises(ConnectorError) as caught:
            list(client.list_all("participants"))

        assert caught.value.code == "foreign_link"
        assert len(http.calls) == 1

    def test_get_answers_the_one_record_of_an_object_answer(self, http, client):
        http.get(PARTICIPANTS + "/7", json={"participants": participant(7), "linked": {}})

        assert client.get("participants", "7") == participant(7)

    def test_get_answers_none_when_pm_has_no_such_record(self, http, client):
        http.get(PARTICIPANTS + "/7", status=404, json=errors_body({"status": "404"}))
        http.get(PARTICIPANTS + "/8", status=204)

        assert client.get("participants", "7") is None
        assert client.get("participants", "8") is None

    def test_find_sends_the_filters_and_answers_a_list(self, http, client):
        http.get(
            PARTICIPANTS,
            match=[matchers.query_param_matcher({"importExternalReference": "C-1001"})],
            json={"participants": participant(7)},
        )

        assert client.find("participants", importExternalReference="C-1001") == [participant(7)]

    def test_the_client_participant_type_is_looked_up_by_name_once(self, http, client):
        http.get(
            API + "participanttypes",
            match=[matchers.query_param_matcher({"name": "Client"})],
            json={"participanttypes": {"id": 27, "name": "Client"}},
        )

        assert client.participant_type_id("Client") == "27"
        assert client.participant_type_id("Client") == "27"
        assert len(http.calls) == 1


class TestWriting:
    def test_create_wraps_the_record_in_its_resource_with_the_media_type(self, http, client):
        http.post(PARTICIPANTS, json={"participants": participant(9, email="j@example.com")})

        created = client.create("participants", {"displayName": "Smith, Jane"})

        request = http.calls[-1].request
        assert json.loads(request.body) == {"participants": {"displayName": "Smith, Jane"}}
        assert request.headers["Content-Type"] == MEDIA_TYPE
        assert created["id"] == 9

    def test_update_wraps_the_changes_and_uses_the_method_asked_for(self, http, client):
        http.patch(API + "actions/9", json={"actions": {"id": 9, "name": "Sale"}})

        updated = client.update("actions", "9", {"name": "Sale"}, method="PATCH")

        assert json.loads(http.calls[-1].request.body) == {"actions": {"name": "Sale"}}
        assert updated["name"] == "Sale"

    @pytest.mark.parametrize(
        "answer",
        [
            {"actioncreate": {"id": 40, "actionName": "Sale", "links": {"action": "40"}}},
            {"actioncreate": [{"id": 40, "actionName": "Sale"}]},
            {"actions": {"id": 40, "name": "Sale"}},
        ],
    )
    def test_action_create_finds_the_new_id_in_any_plausible_answer(self, http, client, answer):
        http.post(API + "actioncreate", json=answer)

        created = client.action_create({"actionName": "Sale", "links": {"actionType": "1"}})

        assert json.loads(http.calls[-1].request.body) == {
            "actioncreate": {"actionName": "Sale", "links": {"actionType": "1"}}
        }
        assert created == "40"

    def test_a_client_is_added_to_a_matter_as_an_action_participant(self, http, client):
        http.get(
            API + "participanttypes", json={"participanttypes": [{"id": 27, "name": "Client"}]}
        )
        http.post(API + "actionparticipants", json={"actionparticipants": {"id": "40--27--7"}})

        client.action_client_add("40", "7")

        assert json.loads(http.calls[-1].request.body) == {
            "actionparticipants": {
                "links": {"action": "40", "participantType": "27", "participant": "7"}
            }
        }


class TestErrors:
    def test_a_500_with_an_actionstep_code_is_a_refusal_with_pms_message(self, http, client):
        http.post(
            PARTICIPANTS,
            status=500,
            json=errors_body(
                {
                    "status": "500",
                    "code": "P01",
                    "title": "Invalid isCompany",
                    "detail": 'The "isCompany" must be either "T" or "F".',
                    "source": {"pointer": "/participants/isCompany"},
                }
            ),
        )

        with pytest.raises(ConnectorError) as caught:
            client.create("participants", {"isCompany": "yes"})

        error = caught.value
        assert error.kind == ErrorKind.REFUSED
        assert (error.status, error.code, error.field) == (500, "P01", "isCompany")
        assert error.message == 'The "isCompany" must be either "T" or "F".'

    def test_a_5xx_without_a_code_stays_transient(self, http, client):
        http.get(PARTICIPANTS + "/7", status=500, body="Internal Server Error")
        http.get(PARTICIPANTS + "/8", status=503, json=errors_body({"code": "unavailable"}))

        for record_id in ("7", "8"):
            with pytest.raises(ConnectorError) as caught:
                client.get("participants", record_id)
            assert caught.value.kind == ErrorKind.TRANSIENT

    def test_a_429_is_transient_with_its_retry_after(self, http, client):
        http.get(PARTICIPANTS + "/7", status=429, headers={"Retry-After": "12"})

        with pytest.raises(ConnectorError) as caught:
            client.get("participants", "7")

        assert caught.value.kind == ErrorKind.TRANSIENT
        assert caught.value.retry_after == 12

    def test_a_400_is_permanent_and_joins_every_errors_detail(self, http, client):
        http.post(
            PARTICIPANTS,
            status=400,
            json=errors_body(
                {"code": "1100", "detail": "Unknown property firstNam.", "source": {}},
                {"code": "1100", "title": "Bad JSON nearby."},
            ),
        )

        with pytest.raises(ConnectorError) as caught:
            client.create("participants", {"firstNam": "Jane"})

        assert caught.value.permanent
        assert caught.value.message == "Unknown property firstNam.; Bad JSON nearby."

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"errors": {"code": "A01", "detail": "Invalid status."}}, "Invalid status."),
            ({"error": {"code": "invalid", "message": "Bad name."}}, "Bad name."),
            ({"error": "invalid_request", "error_description": "No."}, "No."),
        ],
    )
    def test_it_reads_the_other_error_shapes_seen_in_the_wild(self, http, client, body, message):
        http.post(PARTICIPANTS, status=422, json=body)

        with pytest.raises(ConnectorError) as caught:
            client.create("participants", {})

        assert caught.value.permanent
        assert caught.value.message == message
