"""/healthz (alive) and /readyz (database, broker, PM connection, LA), ops/health.py."""

import json
import os
import socket
import subprocess
import sys
from contextlib import contextmanager

import pytest
import responses
from django.core.cache import cache

from ops.health import LA_CACHE_KEY
from sync.models import PmConnection
from tests.test_settings import HERMETIC_PREFIXES, ROOT

LA_SETTINGS = "http://la.test/api/v1/settings"


@pytest.fixture(autouse=True)
def la_api(settings):
    settings.LA_API_URL = "http://la.test/api/v1/"
    settings.LA_API_TOKEN = "la-readiness-token-1234"
    cache.delete(LA_CACHE_KEY)
    yield
    cache.delete(LA_CACHE_KEY)


@contextmanager
def closed_port():
    """A local port that refuses connections: bound, never listening, so nothing else
    can take it while the test runs."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    try:
        yield holder.getsockname()[1]
    finally:
        holder.close()


def checks_of(response) -> dict:
    return json.loads(response.content)["checks"]


def test_healthz_answers_without_asking_the_database(client):
    # No database access is allowed in this test: any query would raise.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_the_probes_need_no_allowed_host_and_are_not_sent_to_https(client, settings):
    settings.ALLOWED_HOSTS = ["hub.example.org"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")

    assert response.status_code == 200


def test_the_probes_take_only_get_and_head(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


@pytest.mark.django_db
@responses.activate
def test_readyz_is_200_naming_each_check_when_all_pass(client, pm_connection_up):
    responses.get(LA_SETTINGS, json={"matter_numbering": "firm"})

    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "pm", "la"}
    assert all(check["ok"] for check in body["checks"].values())
    assert responses.calls[0].request.headers["Authorization"] == "Bearer la-readiness-token-1234"


@pytest.mark.django_db
@responses.activate
@pytest.mark.parametrize(
    "state",
    [
        PmConnection.State.NOT_CONNECTED,
        PmConnection.State.REFRESH_FAILING,
        PmConnection.State.NEEDS_REAUTHORISATION,
        PmConnection.State.MISSING_SCOPE,
    ],
)
def test_readyz_is_503_when_the_pm_connection_is_not_connected(client, pm_connection_up, state):
    responses.get(LA_SETTINGS, json={})
    PmConnection.objects.filter(pk=1).update(state=state)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert json.loads(response.content)["status"] == "unavailable"
    assert checks_of(response)["pm"] == {"ok": False, "detail": state}
    assert checks_of(response)["database"]["ok"] is True


@pytest.mark.django_db
@responses.activate
def test_readyz_is_503_before_pm_was_ever_connected(client):
    responses.get(LA_SETTINGS, json={})

    response = client.get("/readyz")

    assert response.status_code == 503
    assert checks_of(response)["pm"] == {"ok": False, "detail": "not_connected"}


@pytest.mark.django_db
@responses.activate
def test_readyz_is_503_when_the_redis_broker_is_down(client, settings, pm_connection_up):
    responses.get(LA_SETTINGS, json={})
    with closed_port() as port:
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"

        response = client.get("/readyz")

    assert response.status_code == 503
    assert checks_of(response)["broker"]["ok"] is False
    assert checks_of(response)["database"]["ok"] is True
    assert str(port) not in response.content.decode()


@pytest.mark.django_db
@responses.activate
def test_readyz_pings_redis_when_it_is_the_broker(client, settings, pm_connection_up):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    responses.get(LA_SETTINGS, json={})
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"

    response = client.get("/readyz")

    assert checks_of(response)["broker"] == {"ok": True, "detail": "redis"}


@pytest.mark.django_db
@responses.activate
@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ({"status": 401, "json": {"error": {"code": "unauthorised"}}}, "refused the hub's token"),
        ({"status": 503}, "answered HTTP 503"),
        ({"body": responses.ConnectionError("refused")}, "unreachable"),
    ],
)
def test_readyz_is_503_when_la_does_not_answer_the_hub(client, pm_connection_up, answer, detail):
    responses.get(LA_SETTINGS, **answer)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert checks_of(response)["la"]["ok"] is False
    assert detail in checks_of(response)["la"]["detail"]
    assert "la-readiness-token-1234" not in response.content.decode()


@pytest.mark.django_db
@responses.activate
def test_la_is_asked_once_per_cache_period_not_once_per_probe(client, pm_connection_up):
    responses.get(LA_SETTINGS, json={})

    for _ in range(5):
        assert client.get("/readyz").status_code == 200

    assert len(responses.calls) == 1


@pytest.mark.django_db
@responses.activate
def test_a_failing_readyz_is_not_logged_as_a_server_error(client, caplog):
    responses.get(LA_SETTINGS, json={})

    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get("/readyz").status_code == 503

    assert not [r for r in caplog.records if r.name == "django.request"]


def test_readyz_is_503_when_the_database_is_unreachable():
    """A hub pointed at a PostgreSQL that refuses connections, in a process of its own."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(HERMETIC_PREFIXES)
    }
    script = (
        "import json; from django.test import Client; "
        "r = Client().get('/readyz'); print(r.status_code, r.content.decode())"
    )
    with closed_port() as port:
        environment.update(
            DJANGO_SETTINGS_MODULE="config.settings.test",
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/hub",
            LA_API_URL=f"http://127.0.0.1:{port}/la/",
            DJANGO_ALLOWED_HOSTS="testserver",
        )
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    status, _, body = result.stdout.strip().splitlines()[-1].partition(" ")
    assert status == "503", result.stdout + result.stderr
    checks = json.loads(body)["checks"]
    assert checks["database"]["ok"] is False
    assert checks["database"]["detail"] == "failed (OperationalError)"
    assert checks["pm"]["ok"] is False  # its state is in the database
    assert str(port) not in body
