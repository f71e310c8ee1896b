"""How `JsonHttpClient` classifies failures (ARCHITECTURE §4, rule 5)."""

import datetime
import email.utils

import pytest
import requests
import responses

from sync.connectors.base import ConnectorError, ErrorKind, JsonHttpClient

API = "https://system.example.test/api/"
URL = API + "things"


class ThingsClient(JsonHttpClient):
    system = "la"


@pytest.fixture
def http():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def client():
    return ThingsClient(base_url=API, timeout=2.0, requests_per_minute=6000)


def failure_of(client) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        client.parse(client.send("GET", "things"))
    return caught.value


@pytest.mark.parametrize(
    "raised",
    [requests.ReadTimeout("read timed out"), requests.ConnectTimeout("connect timed out")],
)
def test_a_timeout_is_unreachable(http, client, raised):
    http.get(URL, body=raised)

    error = failure_of(client)

    assert error.kind == ErrorKind.UNREACHABLE
    assert error.message == "Legal Accounting did not answer in time."


def test_a_refused_connection_is_unreachable(http, client):
    http.get(URL, body=requests.ConnectionError("[Errno 111] Connection refused"))

    error = failure_of(client)

    assert error.kind == ErrorKind.UNREACHABLE
    assert "Connection refused" in error.message


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_transient(http, client, status):
    http.get(URL, status=status, json={"error": {"code": "unavailable", "message": "down"}})

    error = failure_of(client)

    assert error.kind == ErrorKind.TRANSIENT
    assert error.status == status


def test_a_429_is_transient_and_keeps_retry_after(http, client):
    http.get(URL, status=429, headers={"Retry-After": "7"})

    error = failure_of(client)

    assert error.kind == ErrorKind.TRANSIENT
    assert error.retry_after == 7
    assert error.code == "rate_limited"


def test_a_429_without_retry_after_has_none(http, client):
    http.get(URL, status=429)

    assert failure_of(client).retry_after is None


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_an_auth_error(http, client, status):
    http.get(URL, status=status)

    error = failure_of(client)

    assert error.kind == ErrorKind.AUTH
    assert error.status == status


@pytest.mark.parametrize("status", [400, 404, 405, 409, 422])
def test_any_other_4xx_is_permanent(http, client, status):
    http.get(URL, status=status)

    error = failure_of(client)

    assert error.kind == ErrorKind.PERMANENT
    assert error.code == f"http_{status}"


def test_a_200_whose_body_is_not_json_is_transient(http, client):
    http.get(URL, body="<html>proxy error</html>", content_type="text/html")

    error = failure_of(client)

    assert error.kind == ErrorKind.TRANSIENT
    assert error.status == 200


def test_a_204_answers_none(http, client):
    http.get(URL, status=204)

    assert client.parse(client.send("GET", "things")) is None


@pytest.mark.parametrize(
    ("kind", "permanent"),
    [
        (ErrorKind.PERMANENT, True),
        (ErrorKind.TRANSIENT, False),
        (ErrorKind.UNREACHABLE, False),
        (ErrorKind.AUTH, False),
    ],
)
def test_only_a_permanent_error_says_permanent(kind, permanent):
    error = ConnectorError(message="x", kind=kind, system="pm")

    assert error.permanent is permanent


def test_every_call_has_the_client_s_timeout(http, client):
    seen = {}

    def answer(request):
        seen["timeout"] = request.req_kwargs["timeout"]
        return 200, {}, "{}"

    http.add_callback(responses.GET, URL, callback=answer)

    client.send("GET", "things")

    assert seen["timeout"] == 2.0


def test_a_429_with_an_http_date_retry_after_waits_until_that_time(http, client):
    later = email.utils.format_datetime(
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=90), usegmt=True
    )
    http.get(URL, status=429, headers={"Retry-After": later})

    assert 80 <= failure_of(client).retry_after <= 90


def test_a_retry_after_that_is_neither_seconds_nor_a_date_is_ignored(http, client):
    http.get(URL, status=429, headers={"Retry-After": "soon"})

    assert failure_of(client).retry_after is None
