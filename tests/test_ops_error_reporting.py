"""Sentry, only when SENTRY_DSN is set (ops/error_reporting.py)."""

from unittest import mock

import sentry_sdk

from ops.error_reporting import error_reporting_init
from tests.test_settings import PRODUCTION, run_manage


def test_without_a_dsn_sentry_is_not_started():
    with mock.patch("sentry_sdk.init") as init:
        started = error_reporting_init(dsn="", environment="production", traces_sample_rate=0)

    assert started is False
    init.assert_not_called()


def test_the_hub_starts_without_sentry_when_no_dsn_is_set():
    assert sentry_sdk.get_client().is_active() is False
    result = run_manage(
        "shell",
        "-c",
        "import sentry_sdk; print(sentry_sdk.get_client().is_active())",
        **PRODUCTION,
    )
    assert result.stdout.splitlines()[-1] == "False", result.stderr


def test_with_a_dsn_sentry_starts_without_personal_data():
    with mock.patch("sentry_sdk.init") as init:
        started = error_reporting_init(
            dsn="https://key@sentry.example.invalid/1",
            environment="staging",
            traces_sample_rate=0.1,
        )

    assert started is True
    options = init.call_args.kwargs
    assert options["dsn"] == "https://key@sentry.example.invalid/1"
    assert options["environment"] == "staging"
    assert options["traces_sample_rate"] == 0.1
    assert options["send_default_pii"] is False
