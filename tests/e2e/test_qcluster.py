"""End to end with real processes: the web server, a django-q2 cluster, both emulators.

A contact created in the PM sandbox reaches the LA sandbox through the webhook path:
PM's resthook → /webhooks/pm/ → a task reads the participant → a task creates the LA
contact and writes LA's number back to PM. Polling schedules are removed first, so
only the webhook can carry the change. Runs with the ORM broker and with Redis.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from sandbox.pm.consent import tool_token

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
DEADLINE_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def manage(env, *args, **kwargs):
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
        **kwargs,
    )


def http(method: str, url: str, *, data=None, headers=None, form=False):
    body = None
    headers = dict(headers or {})
    if data is not None and form:
        body = urllib.parse.urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/vnd.api+json"
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def serving(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status == 200


def wait_for(check, what: str, seconds: float = DEADLINE_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(params=["orm", "redis"])
def hub(request, tmp_path):
    if request.param == "redis" and not redis_available():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "SANDBOX_", "Q_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        SANDBOX_DATABASE_URL=f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
        HUB_BASE_URL=base,
        Q_CLUSTER_NAME=f"e2e{port}",
        Q_WORKERS="2",
        LOG_LEVEL="WARNING",
    )
    if request.param == "redis":
        env["REDIS_URL"] = "redis://127.0.0.1:6379/7"
    manage(env, "migrate", "--noinput")
    manage(env, "migrate", "--noinput", "--database", "sandbox")
    manage(
        env, "shell", "-c", "from django_q.models import Schedule; Schedule.objects.all().delete()"
    )
    log = open(tmp_path / "processes.log", "w")  # noqa: SIM115 (closed below)
    processes = [
        subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [PYTHON, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        wait_for(lambda: serving(f"{base}/admin/login/"), "the web server", 30)
        manage(env, "pm_connect_sandbox")  # the authorization-code flow, as `make run` does
        manage(env, "sync_now")  # registers the resthooks and LA webhooks
        yield {"base": base, "db": tmp_path / "hub.sqlite3", "log": tmp_path / "processes.log"}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def hub_rows(db: Path, sql: str):
    with sqlite3.connect(db, timeout=10) as connection:
        return connection.execute(sql).fetchall()


def test_a_contact_created_in_pm_arrives_in_la_through_the_webhook_path(hub):
    base = hub["base"]
    token = tool_token(base)["access_token"]
    pm_auth = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.api+json"}
    hooks = http("GET", f"{base}/sandbox/pm/api/rest/resthooks", headers=pm_auth)["resthooks"]
    assert {hook["eventName"] for hook in hooks} >= {"ParticipantCreated"}

    created = http(
        "POST",
        f"{base}/sandbox/pm/api/rest/participants",
        data={
            "participants": {
                "displayName": "Endtoend, Ella",
                "firstName": "Ella",
                "lastName": "Endtoend",
            }
        },
        headers=pm_auth,
    )["participants"]
    participant_id = created["id"]

    la_auth = {"Authorization": "Bearer sandbox-la-token"}

    def la_contact():
        found = http(
            "GET",
            f"{base}/sandbox/la/api/v1/contacts?pm_contact_id={participant_id}",
            headers=la_auth,
        )["results"]
        return found[0] if found else None

    try:
        contact = wait_for(la_contact, "the contact to reach LA")
        assert (contact["first_name"], contact["last_name"]) == ("Ella", "Endtoend")

        def number_written_back():
            record = http(
                "GET", f"{base}/sandbox/pm/api/rest/participants/{participant_id}", headers=pm_auth
            )["participants"]
            return record["importExternalReference"] == contact["contact_number"]

        wait_for(number_written_back, "LA's number to reach PM")
    except AssertionError:
        print(hub["log"].read_text()[-5000:])
        raise
    receipts = hub_rows(
        hub["db"],
        "SELECT count(*) FROM sync_webhookreceipt "
        "WHERE event = 'ParticipantCreated' AND processed_at IS NOT NULL",
    )
    assert receipts[0][0] >= 1
