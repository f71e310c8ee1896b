"""sandbox/pm/consent.py against a live server: the consent page clicked from code."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.conf import settings

from sandbox.pm.consent import TOOL_REDIRECT_URI, ConsentError, approve, tool_token
from sandbox.pm.models import Grant

from .test_pm_support import AUTHORIZE_URL, make_user

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def _authorize_url(live_server, **overrides) -> str:
    query = {
        "response_type": "code",
        "client_id": settings.SANDBOX_PM_CLIENT_ID,
        "redirect_uri": "http://localhost/hub-callback",
        "scope": "all",
        "state": "s-1",
        **overrides,
    }
    return f"{live_server.url}{AUTHORIZE_URL}?{urlencode(query)}"


def _query(location: str) -> dict:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def test_approve_signs_in_as_the_first_user_and_returns_the_redirect_with_a_code(live_server):
    first = make_user(first_name="Ann", last_name="Aardvark")
    make_user(first_name="Zed", last_name="Zebra")

    location = approve(_authorize_url(live_server))

    assert location.startswith("http://localhost/hub-callback?")
    query = _query(location)
    assert query["state"] == "s-1" and query["code"]
    assert Grant.objects.get().user_id == first.pk


def test_approve_signs_in_as_the_user_with_the_given_email(live_server):
    make_user(first_name="Ann", last_name="Aardvark")
    zed = make_user(first_name="Zed", last_name="Zebra")

    approve(_authorize_url(live_server), user_email="zed.zebra@example-law.test")

    assert Grant.objects.get().user_id == zed.pk


def test_approve_can_deny(live_server):
    make_user()

    location = approve(_authorize_url(live_server), decision="deny")

    assert _query(location) == {"error": "access_denied", "state": "s-1"}
    assert not Grant.objects.exists()


def test_approve_returns_an_error_redirect_the_page_makes(live_server):
    make_user()

    location = approve(_authorize_url(live_server, scope="billing"))

    assert _query(location)["error"] == "invalid_scope"


def test_approve_raises_for_a_page_that_cannot_redirect_or_has_nobody_to_sign_in(live_server):
    with pytest.raises(ConsentError, match="400"):
        approve(_authorize_url(live_server, client_id="someone-else"))
    with pytest.raises(ConsentError, match="no active user"):
        approve(_authorize_url(live_server))
    make_user()
    with pytest.raises(ConsentError, match=r"nobody@example\.com"):
        approve(_authorize_url(live_server), user_email="nobody@example.com")


def test_approve_keeps_the_callers_session(live_server):
    make_user()
    session = requests.Session()

    approve(_authorize_url(live_server), session=session)

    assert "csrftoken" in session.cookies


def test_tool_token_runs_the_whole_flow_and_the_token_works(live_server):
    user = make_user()

    token = tool_token(live_server.url)

    assert set(token) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "api_endpoint",
        "orgkey",
    }
    assert token["api_endpoint"] == f"{live_server.url}/sandbox/pm/api/"
    answer = requests.get(
        f"{token['api_endpoint']}rest/users/current",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert answer.json()["users"]["id"] == user.pk
    assert TOOL_REDIRECT_URI == "http://127.0.0.1/sandbox-tool-callback"


def test_tool_token_asks_for_the_scope_it_is_given(live_server):
    make_user()

    token = tool_token(live_server.url, scope="users")

    assert Grant.objects.get().scopes == "users"
    answer = requests.get(
        f"{token['api_endpoint']}rest/participants",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert answer.status_code == 403


def test_tool_token_raises_for_wrong_client_credentials(live_server):
    make_user()

    with pytest.raises(ConsentError, match="401"):
        tool_token(live_server.url, client_secret="guess")
