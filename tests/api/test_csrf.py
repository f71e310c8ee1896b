"""A browser's session cookie can't be used to write through the API from another site:
a session-authenticated write needs the CSRF token; a token-authenticated one does not."""

import pytest
from rest_framework.test import APIClient

from config.security.models import ApiToken
from contacts.models import Contact

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


def test_a_session_write_without_the_csrf_token_is_403(admin_user):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(admin_user)

    response = browser.post(URL, {"last_name": "Forged"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in response.json()["error"]["message"]
    assert not Contact.objects.exists()


def test_a_token_write_needs_no_csrf_token(admin_user, django_capture_on_commit_callbacks):
    _, key = ApiToken.objects.create(user=admin_user)
    tool = APIClient(enforce_csrf_checks=True)
    tool.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    with django_capture_on_commit_callbacks():
        response = tool.post(URL, {"last_name": "Doe"}, format="json")

    assert response.status_code == 201, response.content
