import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "HUB_ENCRYPTION_KEY"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


FERNET_KEY = "bm90LWEtcmVhbC1rZXktYnV0LTMyLWJ5dGVzLWxvbmc="


def test_production_refuses_to_start_without_an_encryption_key():
    result = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k3y-" + "x9Q!zR7#pL2@vN5$" * 4,
    )
    assert result.returncode != 0
    assert "HUB_ENCRYPTION_KEY" in result.stderr


def test_production_refuses_an_encryption_key_that_is_not_a_fernet_key():
    result = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k3y-" + "x9Q!zR7#pL2@vN5$" * 4,
        HUB_ENCRYPTION_KEY="changeme",
    )
    assert result.returncode != 0
    assert "sync.E001" in result.stderr


def test_production_passes_the_deploy_checks_with_a_strong_key():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k3y-" + "x9Q!zR7#pL2@vN5$" * 4,
        HUB_ENCRYPTION_KEY=FERNET_KEY,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_has_no_sandbox():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SANDBOX_ENABLED, "
        "'sandbox' in settings.DATABASES, 'sandbox.pm' in settings.INSTALLED_APPS)",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k3y-" + "x9Q!zR7#pL2@vN5$" * 4,
        HUB_ENCRYPTION_KEY=FERNET_KEY,
    )
    assert result.stdout.splitlines()[-1].split() == ["False", "False", "False"], result.stderr


def test_task_retry_outlasts_the_task_timeout():
    q_cluster = settings.Q_CLUSTER
    assert q_cluster["retry"] > q_cluster["timeout"]
    assert q_cluster["max_attempts"] >= 1
    assert q_cluster["ack_failures"] is True


@pytest.mark.django_db
@pytest.mark.skipif(connections["default"].vendor != "sqlite", reason="SQLite only")
def test_sqlite_takes_the_write_lock_at_the_start_of_a_transaction():
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]


@pytest.mark.django_db
def test_the_openapi_schema_answers(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi" in response.content
