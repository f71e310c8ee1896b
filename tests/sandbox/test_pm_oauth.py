"""The PM emulator's OAuth2 token endpoint and the bearer-token check on the API."""

import base64
import datetime
import hashlib

import pytest
from django.conf import settings
from django.utils import timezone

from sandbox.pm.models import AccessToken

from .test_pm_support import PM, TOKEN_URL

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

CREDENTIALS = {
    "client_id": settings.SANDBOX_PM_CLIENT_ID,
    "client_secret": settings.SANDBOX_PM_CLIENT_SECRET,
}


def _token(client, **form):
    return client.post(TOKEN_URL, {"grant_type": "client_credentials", **CREDENTIALS, **form})


def test_it_issues_a_token_for_client_credentials_in_the_body(client):
    response = _token(client)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "api_endpoint",
    }
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.SANDBOX_PM_TOKEN_TTL_SECONDS
    assert body["api_endpoint"] == "http://testserver/sandbox/pm/api/"
    assert response["Cache-Control"] == "no-store"
    assert PM(body["access_token"]).get("participants").status_code == 200


def test_it_issues_a_token_for_client_credentials_in_http_basic(client):
    pair = f"{CREDENTIALS['client_id']}:{CREDENTIALS['client_secret']}".encode()

    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {base64.b64encode(pair).decode()}"},
    )

    assert response.status_code == 200
    assert PM(response.json()["access_token"]).get("participants").status_code == 200


def test_it_stores_only_digests_of_the_tokens(client):
    body = _token(client).json()

    stored = AccessToken.objects.get()
    assert stored.access_digest == hashlib.sha256(body["access_token"].encode()).hexdigest()
    assert body["access_token"] not in {stored.access_digest, stored.refresh_digest}


def test_it_refuses_a_wrong_client_secret(client):
    response = _token(client, client_secret="guess")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "made-up"}, "invalid_grant"),
    ],
)
def test_it_answers_an_oauth_error_for_a_bad_grant(client, form, error):
    response = client.post(TOKEN_URL, {**CREDENTIALS, **form})

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_it_answers_only_post_on_the_token_endpoint(client):
    assert client.get(TOKEN_URL).status_code == 405


def test_it_answers_401_to_a_request_without_a_token():
    response = PM(token="").get("participants")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_answers_401_to_an_unknown_token():
    assert PM(token="not-a-real-token").get("participants").status_code == 401


def test_it_answers_401_once_the_token_has_expired(client):
    pm = PM(_token(client).json()["access_token"])
    assert pm.get("participants").status_code == 200

    AccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = pm.get("participants")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_a_new_token_expires_after_the_configured_lifetime(client):
    before = timezone.now()

    _token(client)

    lifetime = AccessToken.objects.get().expires_at - before
    assert abs(lifetime.total_seconds() - settings.SANDBOX_PM_TOKEN_TTL_SECONDS) < 5


def test_it_refreshes_an_expired_token_and_rotates_both_tokens(client):
    first = _token(client).json()
    AccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    refreshed = client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], **CREDENTIALS},
    )
    reused = client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], **CREDENTIALS},
    )

    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["access_token"] != first["access_token"]
    assert PM(second["access_token"]).get("participants").status_code == 200
    assert PM(first["access_token"]).get("participants").status_code == 401
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_a_refresh_needs_the_client_credentials_too(client):
    first = _token(client).json()

    response = client.post(
        TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
