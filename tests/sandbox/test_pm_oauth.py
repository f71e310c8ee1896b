"""The PM emulator's OAuth2: the authorization-code flow through the consent page, the
token endpoint's grants, and the bearer-token and scope checks on the API."""

import base64
import datetime
import hashlib
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from sandbox.pm import api, services
from sandbox.pm.models import AccessToken, AuthorizationCode, Grant, RefreshToken

from .test_pm_support import (
    AUTHORIZE_URL,
    PM,
    TOKEN_URL,
    errors_of,
    make_action,
    make_participant,
    make_token,
    make_user,
)

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

REDIRECT_URI = "http://127.0.0.1:9000/callback?from=tests"
CREDENTIALS = {
    "client_id": settings.SANDBOX_PM_CLIENT_ID,
    "client_secret": settings.SANDBOX_PM_CLIENT_SECRET,
}
VERIFIER = "a-verifier-of-at-least-forty-three-characters-0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=")


@pytest.fixture
def lawyer():
    return make_user(first_name="Ann", last_name="Lawyer")


def authorize_url(**overrides) -> str:
    query = {
        "response_type": "code",
        "client_id": settings.SANDBOX_PM_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "participants actions",
        "state": "xyz-123",
        **overrides,
    }
    return f"{AUTHORIZE_URL}?{urlencode({k: v for k, v in query.items() if v is not None})}"


def redirected_to(response) -> tuple[str, dict]:
    """The redirect's address without its query, and its query parameters."""
    assert response.status_code == 302, response.content
    parts = urlsplit(response["Location"])
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return f"{parts.scheme}://{parts.netloc}{parts.path}", query


def consent(client, user=None, decision="allow", **overrides):
    """POST the consent form as a browser would after the GET."""
    url = authorize_url(**overrides)
    data = {"decision": decision}
    if user is not None:
        data["user"] = str(user.pk)
    return client.post(url, data)


def code_for(client, user, **overrides) -> str:
    return redirected_to(consent(client, user, **overrides))[1]["code"]


def exchange(client, code: str, /, **form):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        **CREDENTIALS,
        **form,
    }
    return client.post(TOKEN_URL, {k: v for k, v in data.items() if v is not None})


def refresh(client, refresh_token: str, **form):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **CREDENTIALS, **form}
    return client.post(TOKEN_URL, data)


# The consent page --------------------------------------------------------------------


def test_the_consent_page_shows_the_client_the_scopes_and_the_active_users(client, lawyer):
    make_user(first_name="Gone", last_name="Away", is_active=False)

    response = client.get(authorize_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert settings.SANDBOX_PM_CLIENT_ID in page
    assert "<code>participants</code>" in page and "<code>actions</code>" in page
    assert f'<option value="{lawyer.pk}" data-email="ann.lawyer@example-law.test">' in page
    assert "gone.away@example-law.test" not in page
    assert 'name="decision" value="allow"' in page and 'name="decision" value="deny"' in page
    assert "csrfmiddlewaretoken" in page


def test_the_consent_page_says_so_when_nobody_can_sign_in(client):
    page = client.get(authorize_url()).content.decode()

    assert "There are no active users" in page
    assert 'value="allow"' not in page


def test_allowing_redirects_with_a_code_and_the_state_and_records_a_grant(client, lawyer):
    response = consent(client, lawyer)

    address, query = redirected_to(response)
    assert address == "http://127.0.0.1:9000/callback"
    assert set(query) == {"from", "code", "state"}
    assert (query["from"], query["state"]) == ("tests", "xyz-123")
    grant = Grant.objects.get()
    assert (grant.user_id, grant.client_id, grant.scopes) == (
        lawyer.pk,
        settings.SANDBOX_PM_CLIENT_ID,
        "participants actions",
    )
    stored = AuthorizationCode.objects.get()
    assert stored.digest == hashlib.sha256(query["code"].encode()).hexdigest()
    lifetime = stored.expires_at - timezone.now()
    assert datetime.timedelta(minutes=9) < lifetime <= datetime.timedelta(minutes=10)


def test_a_redirect_leaves_out_a_state_that_was_not_sent(client, lawyer):
    _, query = redirected_to(consent(client, lawyer, state=None))

    assert "state" not in query and "code" in query


def test_denying_redirects_with_access_denied_and_no_grant(client, lawyer):
    _, query = redirected_to(consent(client, lawyer, decision="deny"))

    assert query == {"from": "tests", "error": "access_denied", "state": "xyz-123"}
    assert not Grant.objects.exists()


def test_it_refuses_to_sign_in_an_inactive_or_unknown_user(client):
    inactive = make_user(first_name="Gone", last_name="Away", is_active=False)

    as_inactive = consent(client, inactive)
    as_nobody = consent(client)

    assert (as_inactive.status_code, as_nobody.status_code) == (400, 400)
    assert not Grant.objects.exists()


def test_the_consent_form_is_protected_against_cross_site_requests(lawyer):
    browser = Client(enforce_csrf_checks=True)
    browser.get(authorize_url())

    forged = browser.post(authorize_url(), {"decision": "allow", "user": str(lawyer.pk)})

    assert forged.status_code == 403
    assert not Grant.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "someone-else"},
        {"redirect_uri": "https://evil.example.com/callback"},
        {"redirect_uri": "not a url"},
        {"redirect_uri": None},
    ],
)
def test_a_bad_client_or_redirect_host_gets_an_error_page_and_no_redirect(
    client, lawyer, overrides
):
    shown = client.get(authorize_url(**overrides))
    posted = consent(client, lawyer, **overrides)

    assert (shown.status_code, posted.status_code) == (400, 400)
    assert "cannot be trusted" in shown.content.decode()
    assert not shown.has_header("Location")
    assert not Grant.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": None}, "invalid_scope"),
        ({"scope": ""}, "invalid_scope"),
        ({"scope": "participants billing"}, "invalid_scope"),
        (
            {"code_challenge": CHALLENGE.decode(), "code_challenge_method": "plain"},
            "invalid_request",
        ),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_other_errors_redirect_with_the_error_and_the_state(client, overrides, error):
    _, query = redirected_to(client.get(authorize_url(**overrides)))

    assert query["error"] == error
    assert query["state"] == "xyz-123"
    assert query["error_description"]


def test_a_scope_the_client_was_not_pre_granted_is_invalid(client, settings):
    settings.SANDBOX_PM_CLIENT_SCOPES = ["participants", "actions"]

    granted = client.get(authorize_url(scope="participants"))
    _, refused = redirected_to(client.get(authorize_url(scope="participants timeentries")))
    _, all_refused = redirected_to(client.get(authorize_url(scope="all")))

    assert granted.status_code == 200
    assert refused["error"] == all_refused["error"] == "invalid_scope"


# The token endpoint: authorization_code ----------------------------------------------


def test_it_trades_a_code_for_the_six_fields_of_actionsteps_token_answer(client, lawyer):
    response = exchange(client, code_for(client, lawyer))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "api_endpoint",
        "orgkey",
    }
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.SANDBOX_PM_ACCESS_TOKEN_SECONDS == 300
    assert body["api_endpoint"] == "http://testserver/sandbox/pm/api/"
    assert body["orgkey"] == settings.SANDBOX_PM_ORGKEY
    assert response["Cache-Control"] == "no-store"
    assert PM(body["access_token"]).get("participants").status_code == 200


def test_api_endpoint_plus_rest_reaches_the_resources(client, lawyer):
    body = exchange(client, code_for(client, lawyer, scope="all")).json()

    response = PM(body["access_token"]).http.get(f"{body['api_endpoint']}rest/users/current")

    assert response.json()["users"]["id"] == lawyer.pk


def test_it_takes_the_client_credentials_in_http_basic_too(client, lawyer):
    code = code_for(client, lawyer)
    pair = f"{CREDENTIALS['client_id']}:{CREDENTIALS['client_secret']}".encode()

    response = client.post(
        TOKEN_URL,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        headers={"Authorization": f"Basic {base64.b64encode(pair).decode()}"},
    )

    assert response.status_code == 200


def test_a_code_is_single_use(client, lawyer):
    code = code_for(client, lawyer)

    first, second = exchange(client, code), exchange(client, code)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_a_code_expires_after_ten_minutes(client, lawyer):
    code = code_for(client, lawyer)
    AuthorizationCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = exchange(client, code)

    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_a_code_needs_the_same_redirect_uri_and_is_spent_by_a_wrong_one(client, lawyer):
    code = code_for(client, lawyer)

    wrong = exchange(client, code, redirect_uri="http://127.0.0.1:9000/callback")
    right = exchange(client, code)

    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert right.status_code == 400


def test_pkce_a_code_with_a_challenge_needs_the_right_verifier(client, lawyer):
    pkce = {"code_challenge": CHALLENGE.decode(), "code_challenge_method": "S256"}
    right = exchange(client, code_for(client, lawyer, **pkce), code_verifier=VERIFIER)
    wrong = exchange(client, code_for(client, lawyer, **pkce), code_verifier=VERIFIER[::-1])
    missing = exchange(client, code_for(client, lawyer, **pkce))

    assert right.status_code == 200
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_grant")


def test_pkce_is_never_required(client, lawyer):
    response = exchange(client, code_for(client, lawyer), code_verifier=VERIFIER)

    assert response.status_code == 200


def test_it_stores_only_digests_of_codes_and_tokens(client, lawyer):
    body = exchange(client, code_for(client, lawyer)).json()

    access, refresh_token = AccessToken.objects.get(), RefreshToken.objects.get()
    assert access.digest == hashlib.sha256(body["access_token"].encode()).hexdigest()
    assert refresh_token.digest == hashlib.sha256(body["refresh_token"].encode()).hexdigest()
    assert access.scopes == refresh_token.scopes == "participants actions"


def test_tokens_live_as_long_as_the_settings_say(client, lawyer):
    before = timezone.now()

    exchange(client, code_for(client, lawyer))

    access = (AccessToken.objects.get().expires_at - before).total_seconds()
    refresh_days = (RefreshToken.objects.get().expires_at - before).total_seconds() / 86400
    assert abs(access - settings.SANDBOX_PM_ACCESS_TOKEN_SECONDS) < 5
    assert abs(refresh_days - settings.SANDBOX_PM_REFRESH_TOKEN_DAYS) < 0.01


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
        ({"grant_type": None}, "invalid_request"),
        ({"code": None}, "invalid_request"),
        ({"redirect_uri": None}, "invalid_request"),
        ({"code": "made-up"}, "invalid_grant"),
    ],
)
def test_it_answers_an_oauth_error_for_a_bad_grant(client, form, error):
    response = exchange(client, "some-code", **form)

    assert response.status_code == 400
    assert response.json() == {
        "error": error,
        "error_description": response.json()["error_description"],
    }
    assert response["Cache-Control"] == "no-store"


def test_it_refuses_a_wrong_client_secret_with_401_and_basic(client, lawyer):
    code = code_for(client, lawyer)

    response = exchange(client, code, client_secret="guess")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not AccessToken.objects.exists()


def test_it_answers_only_post_on_the_token_endpoint(client):
    assert client.get(TOKEN_URL).status_code == 405


def test_the_old_token_path_and_grant_are_gone(client):
    response = client.post(
        "/sandbox/pm/oauth/token", {"grant_type": "client_credentials", **CREDENTIALS}
    )

    assert response.status_code == 404


# The token endpoint: refresh_token ---------------------------------------------------


def test_every_refresh_rotates_and_the_old_refresh_token_is_spent(client, lawyer):
    first = exchange(client, code_for(client, lawyer)).json()

    refreshed = refresh(client, first["refresh_token"])
    reused = refresh(client, first["refresh_token"])

    assert refreshed.status_code == 200
    second = refreshed.json()
    assert set(second) == set(first)
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert refreshed["Cache-Control"] == "no-store"
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    assert refresh(client, second["refresh_token"]).status_code == 200
    assert Grant.objects.count() == 1


def test_the_old_access_token_stays_valid_until_it_expires(client, lawyer):
    first = exchange(client, code_for(client, lawyer, scope="users")).json()

    second = refresh(client, first["refresh_token"]).json()

    assert PM(first["access_token"]).get("users/current").status_code == 200
    assert PM(second["access_token"]).get("users/current").status_code == 200


def test_a_refreshed_token_keeps_the_grants_user_and_scopes(client, lawyer):
    first = exchange(client, code_for(client, lawyer, scope="users")).json()

    second = refresh(client, first["refresh_token"]).json()

    pm = PM(second["access_token"])
    assert pm.get("users/current").json()["users"]["id"] == lawyer.pk
    assert pm.get("participants").status_code == 403


def test_a_refresh_needs_the_client_credentials_too(client, lawyer):
    first = exchange(client, code_for(client, lawyer)).json()

    response = client.post(
        TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_an_expired_refresh_token_is_an_invalid_grant(client, lawyer):
    first = exchange(client, code_for(client, lawyer)).json()
    RefreshToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = refresh(client, first["refresh_token"])

    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


# Revoking a grant --------------------------------------------------------------------


def test_a_revoked_grant_answers_401_and_its_refresh_token_is_an_invalid_grant(client, lawyer):
    tokens = exchange(client, code_for(client, lawyer)).json()

    services.grant_revoke(Grant.objects.get())

    assert PM(tokens["access_token"]).get("participants").status_code == 401
    response = refresh(client, tokens["refresh_token"])
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_a_revoked_grants_unused_code_is_an_invalid_grant(client, lawyer):
    code = code_for(client, lawyer)

    services.grant_revoke(Grant.objects.get())

    assert exchange(client, code).json()["error"] == "invalid_grant"


# The bearer check and scopes ---------------------------------------------------------


def test_it_answers_401_to_a_request_without_a_token():
    response = PM(token="").get("participants")

    assert response.status_code == 401
    assert errors_of(response)[0]["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_answers_401_to_an_unknown_token():
    assert PM(token="not-a-real-token").get("participants").status_code == 401


def test_it_answers_401_once_the_token_has_expired():
    pm = PM()
    assert pm.get("users/current").status_code == 200

    AccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = pm.get("users/current")

    assert response.status_code == 401
    assert errors_of(response)[0]["code"] == "invalid_token"


def test_a_token_without_the_resources_scope_gets_403_insufficient_scope():
    pm = PM(scopes=["participants"])
    make_participant()

    allowed = pm.get("participants")
    refused = pm.get("actions")
    create = pm.post("actioncreate", {"actioncreate": {"actionName": "X"}})

    assert allowed.status_code == 200
    assert refused.status_code == 403
    [error] = errors_of(refused)
    assert (error["status"], error["code"]) == ("403", "insufficient_scope")
    assert 'scope="actions"' in refused["WWW-Authenticate"]
    assert create.status_code == 403


def test_each_resource_needs_its_own_scope_and_all_covers_them_all():
    only_actions = PM(scopes=["actions"])
    everything = PM(token=make_token(scopes=["all"]))
    make_action()

    for resource in ["actions", "participants", "timeentries", "users", "resthooks"]:
        assert everything.get(resource).status_code in (200, 204), resource
        expected = 200 if resource == "actions" else 403
        assert only_actions.get(resource).status_code == expected, resource


def test_linked_records_of_a_resource_outside_the_tokens_scopes_are_left_out():
    action = make_action()
    pm = PM(scopes=["actions"])

    body = pm.get(f"actions/{action.pk}", {"include": "primaryParticipants,actionType"}).json()

    assert body["linked"] == {}
    assert body["actions"]["links"]["primaryParticipants"]


def test_every_endpoint_needs_a_scope_the_authorize_page_knows():
    assert {*api.ENDPOINTS, "actioncreate", "all"} == services.SCOPES
