import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from config.security import published
from config.security.checks import secrets_check

ROOT = Path(__file__).resolve().parent.parent
# Every variable a test sets, left out of the environment the tests inherit.
HERMETIC_PREFIXES = (
    "DJANGO_",
    "DATABASE_URL",
    "REDIS_URL",
    "HUB_ENCRYPTION_KEY",
    "PM_",
    "LA_",
    "SANDBOX_",
)


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(HERMETIC_PREFIXES)
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


FERNET_KEY = "bm90LWEtcmVhbC1rZXktYnV0LTMyLWJ5dGVzLWxvbmc="
# What a production deployment must set, each a strong value of its own.
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "k3y-" + "x9Q!zR7#pL2@vN5$" * 4,
    "HUB_ENCRYPTION_KEY": FERNET_KEY,
    "PM_CLIENT_ID": "firm-hub-5f2c9e",
    "PM_CLIENT_SECRET": "pm-Xq3v8Lr2Tn6Wy9Kb4Hd7",
    "LA_API_TOKEN": "la-Jm5Qz8Rc1Vp4Ns7Gf2",
    "LA_WEBHOOK_SECRET": "wh-Bt6Yx3Lk9Pd2Mq5Zr8",
}
DEPLOY_CHECK = ("check", "--deploy", "--fail-level", "WARNING")


def production(**changes: str | None) -> dict[str, str]:
    """PRODUCTION with `changes`; None leaves a variable out."""
    environment = {**PRODUCTION, **changes}
    return {name: value for name, value in environment.items() if value is not None}


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", **production(DJANGO_SECRET_KEY=None))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_an_encryption_key():
    result = run_manage("check", **production(HUB_ENCRYPTION_KEY=None))
    assert result.returncode != 0
    assert "HUB_ENCRYPTION_KEY" in result.stderr


@pytest.mark.parametrize(
    "variable", ["PM_CLIENT_ID", "PM_CLIENT_SECRET", "LA_API_TOKEN", "LA_WEBHOOK_SECRET"]
)
def test_production_refuses_to_start_without_each_credential(variable):
    result = run_manage("check", **production(**{variable: None}))
    assert result.returncode != 0
    assert f"Set the {variable} environment variable" in result.stderr


def test_production_refuses_an_encryption_key_that_is_not_a_fernet_key():
    result = run_manage("check", **production(HUB_ENCRYPTION_KEY="changeme"))
    assert result.returncode != 0
    assert "sync.E001" in result.stderr


def test_production_passes_the_deploy_checks_with_strong_secrets():
    result = run_manage(*DEPLOY_CHECK, **production())
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_fails_on_a_sandbox_credential_and_names_only_the_variable():
    result = run_manage(
        *DEPLOY_CHECK, **production(LA_WEBHOOK_SECRET=published.SANDBOX_LA_WEBHOOK_SECRET)
    )
    assert result.returncode != 0
    assert "secrets.E001" in result.stderr
    assert "LA_WEBHOOK_SECRET" in result.stderr
    assert published.SANDBOX_LA_WEBHOOK_SECRET not in result.stdout + result.stderr


def test_production_has_no_sandbox():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SANDBOX_ENABLED, "
        "'sandbox' in settings.DATABASES, 'sandbox.pm' in settings.INSTALLED_APPS)",
        **production(),
    )
    assert result.stdout.splitlines()[-1].split() == ["False", "False", "False"], result.stderr


def test_no_secret_has_a_default_in_the_base_or_production_settings():
    for module in ("base.py", "production.py"):
        text = (ROOT / "config" / "settings" / module).read_text()
        assert [value for value in published.PUBLISHED_SECRETS if value in text] == [], module


def test_local_and_test_runs_keep_the_sandbox_credentials_with_no_configuration():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.PM_CLIENT_SECRET, "
        "settings.SANDBOX_PM_CLIENT_SECRET, settings.LA_API_TOKEN, settings.LA_WEBHOOK_SECRET)",
        DJANGO_SETTINGS_MODULE="config.settings.local",
    )
    assert result.stdout.splitlines()[-1].split() == [
        published.SANDBOX_PM_CLIENT_SECRET,
        published.SANDBOX_PM_CLIENT_SECRET,
        published.SANDBOX_LA_API_TOKEN,
        published.SANDBOX_LA_WEBHOOK_SECRET,
    ], result.stderr
    assert settings.PM_CLIENT_ID == settings.SANDBOX_PM_CLIENT_ID == published.SANDBOX_PM_CLIENT_ID
    assert settings.LA_API_TOKEN == settings.SANDBOX_LA_API_TOKEN


STRONG_SETTINGS = {
    "SECRET_KEY": PRODUCTION["DJANGO_SECRET_KEY"],
    "HUB_ENCRYPTION_KEY": [FERNET_KEY],
    "PM_CLIENT_ID": PRODUCTION["PM_CLIENT_ID"],
    "PM_CLIENT_SECRET": PRODUCTION["PM_CLIENT_SECRET"],
    "LA_API_TOKEN": PRODUCTION["LA_API_TOKEN"],
    "LA_WEBHOOK_SECRET": PRODUCTION["LA_WEBHOOK_SECRET"],
}


def check_with(settings, **changes) -> list[tuple[str, str]]:
    for name, value in {**STRONG_SETTINGS, **changes}.items():
        setattr(settings, name, value)
    return [(error.id, error.msg.split()[0]) for error in secrets_check(None)]


def test_the_secrets_check_passes_strong_secrets(settings):
    assert check_with(settings) == []


@pytest.mark.parametrize(
    ("setting", "variable", "value"),
    [
        ("PM_CLIENT_ID", "PM_CLIENT_ID", published.SANDBOX_PM_CLIENT_ID),
        ("PM_CLIENT_SECRET", "PM_CLIENT_SECRET", published.SANDBOX_PM_CLIENT_SECRET),
        ("LA_API_TOKEN", "LA_API_TOKEN", published.SANDBOX_LA_API_TOKEN),
        ("LA_WEBHOOK_SECRET", "LA_WEBHOOK_SECRET", published.SANDBOX_LA_WEBHOOK_SECRET),
        # The sandbox's own credentials, set on the hub's side by mistake.
        ("PM_CLIENT_ID", "PM_CLIENT_ID", published.SANDBOX_PM_CLIENT_SECRET),
        ("LA_API_TOKEN", "LA_API_TOKEN", published.SANDBOX_LA_WEBHOOK_SECRET),
        ("SECRET_KEY", "DJANGO_SECRET_KEY", published.LOCAL_SECRET_KEY),
        ("SECRET_KEY", "DJANGO_SECRET_KEY", published.TEST_SECRET_KEY),
        ("HUB_ENCRYPTION_KEY", "HUB_ENCRYPTION_KEY", [FERNET_KEY, published.LOCAL_ENCRYPTION_KEY]),
        ("HUB_ENCRYPTION_KEY", "HUB_ENCRYPTION_KEY", [published.TEST_ENCRYPTION_KEY]),
    ],
)
def test_the_deploy_check_refuses_each_published_default(settings, setting, variable, value):
    assert check_with(settings, **{setting: value}) == [("secrets.E001", variable)]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PM_CLIENT_SECRET", "changeme"),
        ("LA_API_TOKEN", "Password"),
        ("LA_WEBHOOK_SECRET", "short-secret"),
        ("PM_CLIENT_SECRET", ""),
        ("PM_CLIENT_ID", "secret"),
    ],
)
def test_the_deploy_check_refuses_a_known_weak_secret(settings, setting, value):
    assert check_with(settings, **{setting: value}) == [("secrets.E002", setting)]


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


def test_production_serves_its_static_files_with_whitenoise():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; m = settings.MIDDLEWARE; print("
        "m.index('whitenoise.middleware.WhiteNoiseMiddleware') "
        "- m.index('django.middleware.security.SecurityMiddleware'), "
        "settings.STORAGES['staticfiles']['BACKEND'].rsplit('.', 1)[-1])",
        **production(),
    )
    # Right after SecurityMiddleware, as WhiteNoise asks: before sessions and the rest.
    assert result.stdout.splitlines()[-1].split() == [
        "1",
        "CompressedManifestStaticFilesStorage",
    ], result.stderr


def test_the_operations_endpoints_come_before_every_other_middleware():
    assert settings.MIDDLEWARE[0] == "ops.middleware.OperationsEndpointsMiddleware"
    assert "whitenoise.middleware.WhiteNoiseMiddleware" not in settings.MIDDLEWARE


@pytest.mark.parametrize("token", ["", "k9" + "Zq4-Lm8_Rt2Wx6Pv" * 2])
def test_the_deploy_check_accepts_no_metrics_token_or_a_strong_one(token):
    result = run_manage(*DEPLOY_CHECK, **production(METRICS_TOKEN=token))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("token", ["metrics", "short-token", published.SANDBOX_LA_API_TOKEN])
def test_the_deploy_check_refuses_a_weak_metrics_token(settings, token):
    from ops.checks import metrics_token_check

    settings.METRICS_TOKEN = token
    assert [error.id for error in metrics_token_check(None)] == ["ops.E001"]
