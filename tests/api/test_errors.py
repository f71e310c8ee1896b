"""Every 4xx the API answers has one body: {"error": {"code", "message", "fields"}}."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions

from config.exceptions import api_exception_handler, error_fields
from config.security.models import ApiToken
from contacts.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_a_validation_error_names_the_first_field_and_lists_every_field(api_with):
    response = api_with("contacts.add_contact").post(
        URL, {"reference": "A B", "email": "not-an-email", "kind": "robot"}, format="json"
    )

    error = error_of(response, 400)
    assert error["code"] == "invalid"
    assert error["message"] == "reference: A reference may not contain '*' or spaces."
    assert set(error["fields"]) == {"reference", "email", "kind"}
    assert error["fields"]["email"] == ["Enter a valid email address."]


def test_an_unknown_record_is_404(api_with):
    error = error_of(api_with("contacts.view_contact").get(f"{URL}999999/"), 404)

    assert error["code"] == "not_found"
    assert error["fields"] == {}


def test_an_id_that_is_not_a_number_is_404(api_with):
    assert error_of(api_with("contacts.view_contact").get(f"{URL}abc/"), 404)["code"] == (
        "not_found"
    )


def test_a_page_past_the_end_is_404(api_with):
    ContactFactory()

    error = error_of(api_with("contacts.view_contact").get(URL, {"page": 9}), 404)

    assert error["code"] == "not_found"


def test_an_unknown_api_url_is_404_in_the_same_shape(api_with):
    error = error_of(api_with("contacts.view_contact").get("/api/v1/invoices/"), 404)

    assert error["code"] == "not_found"


def test_a_url_without_its_trailing_slash_still_redirects(api_with):
    response = api_with("contacts.view_contact").get("/api/v1/contacts")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/contacts/"


def test_a_method_an_endpoint_does_not_offer_is_405(admin_user, api):
    contact = ContactFactory()
    api.force_login(admin_user)

    error = error_of(api.delete(f"{URL}{contact.pk}/"), 405)

    assert error["code"] == "method_not_allowed"
    assert error["message"] == 'Method "DELETE" not allowed.'
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_a_missing_permission_is_403(api_with):
    error = error_of(api_with().get(URL), 403)

    assert error["code"] == "permission_denied"


def test_an_anonymous_caller_is_401_and_told_how_to_authenticate(api):
    response = api.get(URL)

    error = error_of(response, 401)
    assert error["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert error_of(api.get(URL), 401)["code"] == "authentication_failed"


def test_a_valid_token_reads_like_a_session(user_with, api):
    ContactFactory()
    _, key = ApiToken.objects.create(user=user_with("contacts.view_contact"))
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert api.get(URL).json()["count"] == 1


def test_a_body_in_an_unsupported_media_type_is_415(api_with):
    response = api_with("contacts.add_contact").post(
        URL, "last_name=Doe", content_type="text/plain"
    )

    assert error_of(response, 415)["code"] == "unsupported_media_type"


def test_malformed_json_is_a_400_parse_error(api_with):
    response = api_with("contacts.add_contact").post(
        URL, '{"last_name": ', content_type="application/json"
    )

    error = error_of(response, 400)
    assert error["code"] == "parse_error"
    assert error["message"].startswith("JSON parse error")


def test_throttling_answers_429_with_retry_after():
    response = api_exception_handler(exceptions.Throttled(wait=7), {})

    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert response.data["error"]["code"] == "throttled"
    assert response.data["error"]["fields"] == {}


def test_djangos_own_404_and_403_get_the_same_shape():
    not_found = api_exception_handler(Http404("No Contact matches the given query."), {})
    denied = api_exception_handler(PermissionDenied(), {})

    assert not_found.status_code == 404
    assert not_found.data["error"]["message"] == "No Contact matches the given query."
    assert denied.status_code == 403
    assert denied.data["error"]["code"] == "permission_denied"


def test_an_error_the_handler_does_not_know_is_left_to_django():
    assert api_exception_handler(ValueError("boom"), {}) is None


def test_nested_and_non_field_errors_are_flattened_with_dotted_names():
    detail = {
        "address": {"post_code": ["Too long."]},
        "lines": [{}, {"hours": ["Must be positive."]}],
        "non_field_errors": ["Pick one."],
    }

    assert error_fields(detail) == {
        "address.post_code": ["Too long."],
        "lines.1.hours": ["Must be positive."],
        "non_field_errors": ["Pick one."],
    }
    assert error_fields(["Whole request is wrong."]) == {
        "non_field_errors": ["Whole request is wrong."]
    }


def test_a_non_field_validation_error_keeps_its_own_message():
    response = api_exception_handler(exceptions.ValidationError("Choose a matter."), {})

    assert response.data == {
        "error": {
            "code": "invalid",
            "message": "Choose a matter.",
            "fields": {"non_field_errors": ["Choose a matter."]},
        }
    }


def test_lists_are_paged_50_at_a_time_by_default(api_with):
    Contact.objects.bulk_create(Contact(last_name=f"Doe {n:03}") for n in range(51))

    body = api_with("contacts.view_contact").get(URL).json()

    assert body["count"] == 51
    assert len(body["results"]) == 50
    assert body["next"].endswith("?page=2")


def test_page_size_can_be_chosen_up_to_200(api_with):
    Contact.objects.bulk_create(Contact(last_name=f"Doe {n:03}") for n in range(201))
    client = api_with("contacts.view_contact")

    assert len(client.get(URL, {"page_size": 3}).json()["results"]) == 3
    assert len(client.get(URL, {"page_size": 500}).json()["results"]) == 200
