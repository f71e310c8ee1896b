"""Malformed input is a 4xx in the API's error body, never a 500: bodies nested too
deeply, too large or with too many fields, numbers past 64 bits, tokens that are not
text, bad page numbers and filter values."""

import pytest
from django.conf import settings
from django.db import connections

from config.exceptions import api_exception_handler
from tests.factories import ContactFactory, MatterFactory

from .test_errors import error_of

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000
PAST_64_BITS = 2**64


@pytest.fixture
def admin_api(api, admin_user):
    api.force_login(admin_user)
    return api


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/contacts/"),
        ("post", "/api/v1/matters/"),
        ("patch", "/api/v1/contacts/{contact}/"),
        ("put", "/api/v1/contacts/{contact}/"),
        ("post", "/api/v1/time-entries/send-for-billing/"),
    ],
)
def test_a_100000_deep_json_body_is_a_400_parse_error(admin_api, method, url):
    contact = ContactFactory()

    response = getattr(admin_api, method)(
        url.format(contact=contact.pk), DEEP, content_type="application/json"
    )

    error = error_of(response, 400)
    assert error["code"] == "parse_error"
    assert error["message"] == "JSON parse error - the body is nested too deeply."


def test_a_body_over_the_size_limit_is_413_in_the_error_shape(admin_api):
    body = '{"last_name": "' + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'

    response = admin_api.post("/api/v1/contacts/", body, content_type="application/json")

    assert error_of(response, 413)["code"] == "request_too_large"


def test_a_form_with_too_many_fields_is_a_400_in_the_error_shape(admin_api):
    body = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = admin_api.post(
        "/api/v1/contacts/", body, content_type="application/x-www-form-urlencoded"
    )

    assert error_of(response, 400)["code"] == "bad_request"


def test_an_id_past_64_bits_in_a_filter_is_a_400_naming_the_parameter(admin_api):
    response = admin_api.get("/api/v1/sync-events/", {"link": PAST_64_BITS})

    error = error_of(response, 400)
    assert list(error["fields"]) == ["link"]


@pytest.mark.skipif(
    connections["default"].vendor != "sqlite",
    reason="only SQLite can't bind a number past 64 bits (PostgreSQL compares it)",
)
def test_a_number_past_64_bits_in_a_body_is_a_400_not_a_500(admin_api):
    response = admin_api.post(
        "/api/v1/time-entries/send-for-billing/", {"ids": [PAST_64_BITS]}, format="json"
    )

    assert error_of(response, 400)["code"] == "invalid"


def test_a_number_the_database_cannot_hold_is_a_400_in_the_error_shape():
    response = api_exception_handler(
        OverflowError("Python int too large to convert to SQLite INTEGER"), {}
    )

    assert response.status_code == 400
    assert response.data["error"]["message"] == "A number in the request is out of range."


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/contacts/{big}/",
        "/api/v1/contacts/1.5/",
        "/api/v1/contacts/abc/resync/",
        "/api/v1/matters/{big}/balance/",
        "/api/v1/links/{big}/",
        "/api/v1/sync-events/abc/",
    ],
)
def test_an_id_that_is_not_one_is_404(admin_api, path):
    method = admin_api.post if path.endswith("resync/") else admin_api.get

    response = method(path.format(big=PAST_64_BITS))

    assert error_of(response, 404)["code"] == "not_found"


@pytest.mark.parametrize("page", ["abc", "0", "-1", str(PAST_64_BITS), "1e3", "\x00"])
def test_a_page_that_is_not_a_page_is_404(admin_api, page):
    ContactFactory()

    assert error_of(admin_api.get("/api/v1/contacts/", {"page": page}), 404)["code"] == (
        "not_found"
    )


@pytest.mark.parametrize("page_size", ["abc", "-5", "0", str(PAST_64_BITS)])
def test_a_page_size_that_is_not_one_falls_back_to_the_default(admin_api, page_size):
    assert admin_api.get("/api/v1/contacts/", {"page_size": page_size}).status_code == 200


@pytest.mark.parametrize(
    ("url", "name", "value"),
    [
        ("/api/v1/contacts/", "link_status", "\x00"),
        ("/api/v1/contacts/", "error_code", "\x00"),
        ("/api/v1/contacts/", "search", "\x00"),
        ("/api/v1/contacts/", "error_code", "x" * 65),
        ("/api/v1/matters/", "system", "mars"),
        ("/api/v1/links/", "record_type", "invoice"),
        ("/api/v1/sync-events/", "link", "-3"),
        ("/api/v1/sync-events/", "outcome", "lost"),
        ("/api/v1/matters/{matter}/balance/", "refresh", "perhaps"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_parameter(admin_api, url, name, value):
    response = admin_api.get(url.format(matter=MatterFactory().pk), {name: value})

    assert list(error_of(response, 400)["fields"]) == [name]


@pytest.mark.parametrize(
    "header", ["Token \xe9\xe9\xe9", "Token a b", "Token", "Token " + "f" * 5000]
)
def test_a_malformed_token_is_401(api, header):
    response = api.get("/api/v1/contacts/", HTTP_AUTHORIZATION=header)

    assert error_of(response, 401)["code"] == "authentication_failed"
