"""Signing in to Actionstep (authlib underneath), against a faked token endpoint."""

from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from sync.connectors.actionstep.oauth import SCOPES, ActionstepOAuth, TokenGrant, rest_base
from sync.connectors.base import ConnectorError, ErrorKind

AUTHORIZE = "https://go.actionstep.example/api/oauth/authorize"
TOKEN = "https://api.actionstep.example/api/oauth/token"
REDIRECT = "https://hub.example/admin/sync/pmconnection/callback/"
ANSWER = {
    "access_token": "A1",
    "token_type": "bearer",
    "expires_in": 3600,
    "refresh_token": "R1",
    "api_endpoint": "https://ap-southeast-2.actionstep.example/api/",
    "orgkey": "firm",
}


@pytest.fixture
def http():
    with responses.RequestsMock() as mock:
        yield mock


def oauth(*, pkce=False) -> ActionstepOAuth:
    return ActionstepOAuth(
        authorize_url=AUTHORIZE,
        token_url=TOKEN,
        client_id="hub",
        client_secret="hub-secret",
        redirect_uri=REDIRECT,
        timeout=2,
        pkce=pkce,
    )


def form(http) -> dict:
    return {k: v[0] for k, v in parse_qs(http.calls[-1].request.body).items()}


def test_the_authorization_url_asks_for_a_code_with_state_scopes_and_redirect():
    url = oauth().authorization_url(state="s-1")

    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZE
    assert query == {
        "response_type": "code",
        "client_id": "hub",
        "redirect_uri": REDIRECT,
        "scope": " ".join(SCOPES),
        "state": "s-1",
    }


def test_with_pkce_it_sends_an_s256_challenge_and_the_verifier_with_the_code(http):
    url = oauth(pkce=True).authorization_url(state="s-1", code_verifier="v" * 64)
    http.post(TOKEN, json=ANSWER)

    oauth(pkce=True).token_from_code(code="C1", code_verifier="v" * 64)

    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0]
    assert form(http)["code_verifier"] == "v" * 64


def test_the_code_is_exchanged_with_the_client_credentials_in_the_body(http):
    http.post(TOKEN, json=ANSWER)

    grant = oauth().token_from_code(code="C1")

    assert form(http) == {
        "grant_type": "authorization_code",
        "code": "C1",
        "redirect_uri": REDIRECT,
        "client_id": "hub",
        "client_secret": "hub-secret",
    }
    assert grant == TokenGrant(
        access_token="A1",
        refresh_token="R1",
        expires_in=3600,
        api_endpoint=ANSWER["api_endpoint"],
        orgkey="firm",
    )


def test_a_refresh_sends_the_refresh_token_and_takes_the_new_one(http):
    http.post(TOKEN, json={**ANSWER, "access_token": "A2", "refresh_token": "R2"})

    grant = oauth().token_refreshed(refresh_token="R1")

    sent = form(http)
    assert (sent["grant_type"], sent["refresh_token"]) == ("refresh_token", "R1")
    assert (grant.access_token, grant.refresh_token) == ("A2", "R2")


def test_an_expires_in_sent_as_a_string_is_read_as_seconds(http):
    http.post(TOKEN, json={**ANSWER, "expires_in": "28800"})

    assert oauth().token_from_code(code="C1").expires_in == 28800


def test_a_refused_grant_is_an_auth_error_naming_the_oauth_error(http):
    http.post(
        TOKEN,
        status=400,
        json={"error": "invalid_grant", "error_description": "The refresh token is used."},
    )

    with pytest.raises(ConnectorError) as caught:
        oauth().token_refreshed(refresh_token="R1")

    assert caught.value.kind == ErrorKind.AUTH
    assert caught.value.code == "invalid_grant"
    assert "The refresh token is used." in caught.value.message


def test_a_token_endpoint_that_fails_is_transient(http):
    http.post(TOKEN, status=503, body="down")

    with pytest.raises(ConnectorError) as caught:
        oauth().token_refreshed(refresh_token="R1")

    assert caught.value.kind == ErrorKind.TRANSIENT


def test_an_answer_without_the_api_endpoint_is_refused(http):
    http.post(TOKEN, json={**ANSWER, "api_endpoint": None})

    with pytest.raises(ConnectorError) as caught:
        oauth().token_from_code(code="C1")

    assert caught.value.code == "token_answer_incomplete"


@pytest.mark.parametrize(
    ("endpoint", "base"),
    [
        (
            "https://ap-southeast-2.actionstep.com/api/",
            "https://ap-southeast-2.actionstep.com/api/rest/",
        ),
        (
            "https://ap-southeast-2.actionstep.com/api",
            "https://ap-southeast-2.actionstep.com/api/rest/",
        ),
        ("https://us-west-2.actionstep.com/api/rest", "https://us-west-2.actionstep.com/api/rest/"),
    ],
)
def test_the_rest_base_is_the_api_endpoint_with_rest(endpoint, base):
    assert rest_base(endpoint) == base
