"""Fault injection (sandbox/faults.py), met through the PM emulator's endpoints, and its
control endpoint /sandbox/faults/<system>/."""

import time

import pytest
from django.conf import settings

from sandbox.faults import fault_config
from sandbox.models import FaultConfig
from sandbox.pm.models import Participant

from .test_pm_support import PM, TOKEN_URL, errors_of

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

CONTROL = "/sandbox/faults/pm/"


@pytest.fixture
def pm():
    return PM()


def configure(**values) -> FaultConfig:
    config = fault_config("pm")
    for name, value in values.items():
        setattr(config, name, value)
    config.save()
    return config


def test_it_answers_503_at_an_error_rate_of_one(pm):
    configure(error_rate=1.0)

    response = pm.get("participants")

    assert response.status_code == 503
    [error] = errors_of(response)
    assert (error["status"], error["code"]) == ("503", "unavailable")
    assert response["Content-Type"] == "application/vnd.api+json"


def test_it_answers_429_with_retry_after(pm):
    configure(rate_limit_rate=1.0, retry_after_seconds=7)

    response = pm.get("participants")

    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert errors_of(response)[0]["code"] == "rate_limited"


def test_a_hung_request_answers_504_after_hang_seconds_and_writes_nothing(pm):
    configure(hang_rate=1.0, hang_seconds=0.05)

    started = time.monotonic()
    response = pm.post("participants", {"participants": {"displayName": "Bond"}})

    assert time.monotonic() - started >= 0.05
    assert response.status_code == 504
    assert errors_of(response)[0]["code"] == "timeout"
    assert not Participant.objects.filter(display_name="Bond").exists()


def test_commit_then_drop_keeps_the_write_though_the_answer_is_504(pm):
    configure(drop_rate=1.0, hang_seconds=0.05)

    response = pm.post(
        "participants", {"participants": {"displayName": "Bond", "lastName": "Bond"}}
    )

    assert response.status_code == 504
    assert errors_of(response)[0]["code"] == "dropped"
    assert Participant.objects.filter(last_name="Bond").count() == 1


def test_commit_then_drop_spares_reads_and_refused_writes(pm):
    configure(drop_rate=1.0, hang_seconds=0.05)

    read = pm.get("participants")
    refused = pm.post("participants", {"participants": {"lastName": "Bond"}})

    assert read.status_code == 200
    assert refused.status_code == 500


def test_latency_is_added_to_every_request(pm):
    configure(latency_ms=50)

    started = time.monotonic()
    response = pm.get("participants")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.05


def test_the_token_endpoint_meets_the_faults_too(client):
    configure(error_rate=1.0)

    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "refresh_token",
            "refresh_token": "any",
            "client_id": settings.SANDBOX_PM_CLIENT_ID,
            "client_secret": settings.SANDBOX_PM_CLIENT_SECRET,
        },
    )

    assert response.status_code == 503


def test_la_faults_keep_las_own_error_shape(client):
    config = fault_config("la")
    config.error_rate = 1.0
    config.save()

    response = client.get("/sandbox/la/api/v1/contacts")

    assert response.status_code == 503
    assert response.json() == {
        "error": {"code": "unavailable", "message": "Injected fault: service unavailable."}
    }


def test_no_configuration_means_no_faults(pm):
    FaultConfig.objects.all().delete()

    assert pm.get("participants").status_code == 200


def _statuses(pm, count: int = 24) -> list[int]:
    return [pm.get("participants").status_code for _ in range(count)]


def test_the_same_seed_gives_the_same_fault_sequence(admin_client, pm):
    faults = {"seed": 42, "error_rate": 0.3, "rate_limit_rate": 0.3}
    admin_client.patch(CONTROL, faults, content_type="application/json")
    first = _statuses(pm)

    admin_client.patch(CONTROL, faults, content_type="application/json")
    again = _statuses(pm)
    admin_client.patch(CONTROL, {**faults, "seed": 43}, content_type="application/json")
    other = _statuses(pm)

    assert set(first) == {200, 429, 503}
    assert again == first
    assert other != first


def test_staff_read_and_change_the_faults_through_the_control_endpoint(admin_client):
    changed = admin_client.patch(
        CONTROL, {"error_rate": 0.25, "hang_seconds": 0.5}, content_type="application/json"
    )
    read = admin_client.get(CONTROL)

    assert changed.status_code == 200
    assert read.status_code == 200
    assert read.json()["system"] == "pm"
    assert read.json()["error_rate"] == 0.25
    assert FaultConfig.objects.get(system="pm").hang_seconds == 0.5


def test_the_control_endpoint_refuses_rates_outside_zero_to_one(admin_client):
    response = admin_client.patch(CONTROL, {"drop_rate": 1.5}, content_type="application/json")

    assert response.status_code == 400
    assert fault_config("pm").drop_rate == 0.0


def test_the_control_endpoint_is_for_staff_only(client, django_user_model):
    member = django_user_model.objects.create_user(username="clerk", password="password")
    client.force_login(member)

    read = client.get(CONTROL)
    change = client.patch(CONTROL, {"error_rate": 1.0}, content_type="application/json")

    assert read.status_code == 403
    assert change.status_code == 403
    assert fault_config("pm").error_rate == 0.0


def test_the_control_endpoint_asks_anonymous_callers_to_sign_in(client):
    response = client.patch(CONTROL, {"error_rate": 1.0}, content_type="application/json")

    assert response.status_code == 401
    assert fault_config("pm").error_rate == 0.0


def test_a_rate_limit_answers_429_beyond_its_requests_a_minute(pm):
    from sandbox.faults import requests_per_minute_peak

    configure(requests_per_minute=3)

    answers = [pm.get("participants").status_code for _ in range(5)]

    assert answers[:3] == [200, 200, 200] or set(answers[:3]) <= {200, 204}
    assert answers[3:] == [429, 429]
    limited = pm.get("participants")
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert errors_of(limited)[0]["code"] == "rate_limited"
    assert fault_config("pm").requests_limited == 3
    assert requests_per_minute_peak("pm") == 3


def test_signing_in_is_not_counted_against_the_rate_limit(client):
    configure(requests_per_minute=1)

    answers = [client.post(TOKEN_URL, {"grant_type": "password"}).status_code for _ in range(3)]

    assert 429 not in answers
