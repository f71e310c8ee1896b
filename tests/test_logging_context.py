"""Structured logs: JSON lines (LOG_FORMAT=json) carrying the link, record type, system and
task they are about (sync/log_context.py)."""

import io
import json
import logging
import logging.config
import subprocess
import sys
import threading

import pytest
import responses
from django.conf import settings
from django_q.tasks import async_task

from sync.connectors.base import ConnectorError
from sync.connectors.legal_accounting.client import LegalAccountingClient
from sync.log_context import (
    LogContextFilter,
    log_context,
    log_context_add,
    log_context_fields,
    logged_with,
)
from tests.factories import ContactLinkFactory
from tests.test_settings import PRODUCTION, ROOT, run_manage

REQUIRED = {"timestamp", "level", "logger", "message"}


@pytest.fixture
def json_lines():
    """A handler configured as the hub's console handler under LOG_FORMAT=json, on the
    root logger; answers a function giving the lines written so far, parsed."""
    stream = io.StringIO()
    config = settings.LOGGING
    handler = logging.StreamHandler(stream)
    formatter = logging.config.DictConfigurator({}).configure_formatter(
        dict(config["formatters"]["json"])
    )
    handler.setFormatter(formatter)
    handler.addFilter(LogContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_every_line_is_one_json_object_with_time_level_logger_and_message(json_lines):
    logging.getLogger("sync.services.engine").warning("Sync of %s failed", "contact 7")

    (line,) = json_lines()
    assert set(line) >= REQUIRED
    assert line["level"] == "WARNING"
    assert line["logger"] == "sync.services.engine"
    assert line["message"] == "Sync of contact 7 failed"
    assert line["timestamp"].endswith("+00:00")


def test_fields_not_set_are_left_out(json_lines):
    logging.getLogger("hub").info("nothing to say about a link")

    (line,) = json_lines()
    assert not {"link_id", "record_type", "system", "task_id"} & set(line)


def test_a_failed_sync_s_line_carries_the_link_id_and_the_system_s_message(json_lines, db):
    """The call sites the engine wraps (docs/deployment.md, "Logs"): the link id from
    `@logged_with("link_id")` on record_sync, the record type added once the link is
    read, and the failure logged with the system the connector names."""
    link = ContactLinkFactory(pm_id="88")
    la = LegalAccountingClient(
        base_url="http://la.test/api/v1/", token="t", timeout=2, requests_per_minute=6000
    )
    clash = {
        "error": {
            "code": "already_assigned",
            "message": "contact number 1001 is already assigned to Holder, Ann",
            "field": "contact_number",
        }
    }

    @logged_with("link_id")
    def record_sync(link_id):
        log_context_add(record_type=link.record_type)
        try:
            la.create("contacts", {"contact_number": "1001"}, idempotency_key="k")
        except ConnectorError as error:
            logging.getLogger("sync.services.engine").warning(
                "Sync failed: %s", error.message, extra={"system": error.system}
            )

    with responses.RequestsMock() as mocked:
        mocked.post("http://la.test/api/v1/contacts", status=409, json=clash)
        record_sync(link.pk)

    (line,) = json_lines()
    assert line["link_id"] == link.pk
    assert line["record_type"] == "contact"
    assert line["system"] == "la"
    assert line["message"] == (
        "Sync failed: contact number 1001 is already assigned to Holder, Ann"
    )
    assert log_context_fields() == {}


def test_a_block_s_fields_are_gone_after_it_whatever_was_added_inside(json_lines):
    log = logging.getLogger("hub")
    with log_context(link_id=1, system="pm"):
        with log_context(link_id=2):
            log_context_add(record_type="matter")
            log.info("inner")
        log.info("outer")
    log.info("after")

    inner, outer, after = json_lines()
    assert (inner["link_id"], inner["system"], inner["record_type"]) == (2, "pm", "matter")
    assert (outer["link_id"], outer["system"]) == (1, "pm")
    assert "record_type" not in outer
    assert "link_id" not in after


def test_an_extra_field_given_with_the_call_wins_over_the_context(json_lines):
    with log_context(system="pm"):
        logging.getLogger("hub").warning("LA refused", extra={"system": "la"})

    assert json_lines()[0]["system"] == "la"


def test_logged_with_takes_the_argument_however_it_is_passed():
    seen = []

    @logged_with("receipt_id")
    def handle(*, receipt_id):
        seen.append(log_context_fields())

    @logged_with("link_id")
    def sync(link_id, full=False):
        seen.append(log_context_fields())

    handle(receipt_id=5)
    sync(7)
    sync(link_id=8, full=True)

    assert seen == [{"receipt_id": 5}, {"link_id": 7}, {"link_id": 8}]


def test_logged_with_refuses_an_argument_the_function_does_not_take():
    with pytest.raises(TypeError, match="batch_id"):

        @logged_with("batch_id")
        def send(*, batch):
            pass


def test_threads_keep_their_own_fields():
    seen = {}

    def work(link_id):
        with log_context(link_id=link_id):
            barrier.wait()
            seen[link_id] = log_context_fields()["link_id"]

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert seen == {1: 1, 2: 2}


def log_a_line_in_a_task():
    logging.getLogger("sync.tasks").info("inside the task")
    return log_context_fields().get("task_id")


@pytest.mark.django_db
def test_every_line_of_a_task_carries_its_task_id(json_lines):
    """django-q2's pre_execute and post_execute signals set and clear it (the test
    settings run tasks in-process, through the same worker code)."""
    task_id = async_task("tests.test_logging_context.log_a_line_in_a_task")

    lines = [line for line in json_lines() if line["message"] == "inside the task"]
    assert [line["task_id"] for line in lines] == [task_id]
    assert "task_id" not in log_context_fields()


def test_production_logs_json_and_local_runs_plain_lines():
    script = (
        "import logging; logging.getLogger('hub').warning('hello'); "
        "from django.conf import settings; print(settings.LOG_FORMAT)"
    )
    production = run_manage("shell", "-c", script, **PRODUCTION)
    local = run_manage("shell", "-c", script, DJANGO_SETTINGS_MODULE="config.settings.local")
    plain_in_production = run_manage("shell", "-c", script, **PRODUCTION, LOG_FORMAT="plain")

    assert production.stdout.splitlines()[-1] == "json", production.stderr
    line = json.loads(production.stderr.strip().splitlines()[-1])
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "hub", "hello")
    assert local.stdout.splitlines()[-1] == "plain"
    assert local.stderr.strip().splitlines()[-1].endswith("WARNING hub hello")
    assert plain_in_production.stderr.strip().splitlines()[-1].endswith("WARNING hub hello")


def test_an_unknown_log_format_stops_the_start():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.local", LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "xml" in result.stderr


def test_the_json_formatter_keeps_a_traceback_in_the_line(json_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("hub").exception("it failed")

    (line,) = json_lines()
    assert "ValueError: boom" in line["exc_info"]
    assert sys.exc_info() == (None, None, None)


def test_gunicorn_logs_in_the_same_shape():
    """deploy/gunicorn.conf.py formats gunicorn's own lines with the hub's JSON formatter."""
    script = (
        "import runpy, logging.config, logging; "
        "c = runpy.run_path('deploy/gunicorn.conf.py'); "
        "logging.config.dictConfig(c['logconfig_dict']); "
        "logging.getLogger('gunicorn.error').info('Booting worker')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"LOG_FORMAT": "json"},
        cwd=ROOT,
    )
    line = json.loads(result.stderr.strip())
    assert set(line) >= REQUIRED
    assert line["logger"] == "gunicorn.error"
