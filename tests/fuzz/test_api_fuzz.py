"""Schemathesis against the running API: no server error, no answer that breaks the
API's own OpenAPI schema. A real web server on temp SQLite files, a real token."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_qcluster import ROOT, free_port, manage, serving, wait_for

pytestmark = pytest.mark.processes

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
SEED = 2026
EXAMPLES = 25


@pytest.fixture
def server(tmp_path):
    import os

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "SANDBOX_", "Q_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DEBUG="False",
        DATABASE_URL=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        SANDBOX_DATABASE_URL=f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
        HUB_BASE_URL=base,
        LOG_LEVEL="ERROR",
    )
    manage(env, "migrate", "--noinput")
    manage(env, "migrate", "--noinput", "--database", "sandbox")
    token = manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User; from config.security.models "
        "import ApiToken; u = User.objects.create_superuser('fuzz', 'f@example.com', 'pw'); "
        "print(ApiToken.objects.create(user=u)[1])",
    ).stdout.split()[-1]
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: serving(f"{base}/healthz"), "the web server", 30)
        yield {"base": base, "token": token, "log": tmp_path / "server.log"}
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_the_api_gives_no_server_error_and_keeps_to_its_schema(server):
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{server['base']}/api/schema/",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--header",
            f"Authorization: Token {server['token']}",
            "--hypothesis-max-examples",
            str(EXAMPLES),
            "--hypothesis-seed",
            str(SEED),
            "--hypothesis-suppress-health-check",
            "too_slow,filter_too_much,data_too_large",
            "--no-color",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    if result.returncode != 0:
        report += "\n--- server log ---\n" + server["log"].read_text()[-4000:]
    assert result.returncode == 0, report
