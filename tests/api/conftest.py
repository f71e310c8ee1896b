"""API test fixtures: clients signed in with exactly the permissions a test names."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from config.security.models import ApiToken


@pytest.fixture
def user_with(django_user_model):
    """user_with("contacts.view_contact", ...): a user holding just those permissions."""
    made = 0

    def make(*perms: str):
        nonlocal made
        made += 1
        user = django_user_model.objects.create_user(username=f"user{made}", password="pw")
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return user

    return make


@pytest.fixture
def api():
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def api_with(user_with):
    """api_with("contacts.view_contact"): a client signed in (session) with those perms."""

    def make(*perms: str) -> APIClient:
        client = APIClient()
        client.force_login(user_with(*perms))
        return client

    return make


@pytest.fixture
def token_api_with(user_with):
    """Like api_with, but authenticating with an API token instead of a session."""

    def make(*perms: str) -> APIClient:
        client = APIClient()
        _, key = ApiToken.objects.create(user=user_with(*perms))
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


def queries_for(client: APIClient, url: str) -> int:
    """How many queries one GET of `url` costs (it must answer 200)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


def ids(response) -> set[int]:
    """The ids of the records a list answered with (it must answer 200)."""
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}
