"""The API answers 429 past its rate, in the API's error body with Retry-After, for
signed-in users (per user) and callers without valid credentials (per address)."""

import pytest
from django.core.cache import cache

from config.api import router
from config.throttles import API_THROTTLES

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


@pytest.fixture
def rates(settings):
    """rates(anon, user): throttle at these, from an empty count."""

    def set_rates(anon: str, user: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user},
        }
        cache.clear()

    yield set_rates
    cache.clear()


def throttled(response) -> dict:
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert (error["code"], error["fields"]) == ("throttled", {})
    return error


def test_a_signed_in_user_gets_429_past_the_user_rate(rates, api_with):
    rates(anon="100/minute", user="3/minute")
    client = api_with("contacts.view_contact")

    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    throttled(client.get(URL))


def test_each_user_has_a_count_of_their_own(rates, api_with):
    rates(anon="100/minute", user="2/minute")
    first, second = api_with("contacts.view_contact"), api_with("contacts.view_contact")
    for _ in range(2):
        first.get(URL)

    assert first.get(URL).status_code == 429
    assert second.get(URL).status_code == 200


def test_a_caller_with_no_credentials_gets_429_past_the_anonymous_rate(rates, api):
    rates(anon="2/minute", user="100/minute")

    assert [api.get(URL).status_code for _ in range(2)] == [401, 401]
    throttled(api.get(URL))


def test_guessing_tokens_is_throttled_like_an_anonymous_caller(rates, api):
    rates(anon="2/minute", user="100/minute")
    answers = []
    for guess in range(3):
        api.credentials(HTTP_AUTHORIZATION=f"Token {guess:040x}")
        answers.append(api.get(URL).status_code)

    assert answers == [401, 401, 429]


def test_a_signed_in_user_refused_again_and_again_is_throttled_too(rates, api_with):
    rates(anon="100/minute", user="2/minute")
    client = api_with()  # no permission at all

    assert [client.get(URL).status_code for _ in range(3)] == [403, 403, 429]


def test_every_endpoint_of_the_api_is_throttled():
    for prefix, viewset, _ in router.registry:
        assert list(viewset.throttle_classes) == API_THROTTLES, prefix
