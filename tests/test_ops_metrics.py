"""Prometheus metrics: /metrics (ops/metrics.py), the engine's counters and timings
(sync/metrics.py), and the worker's exporter."""

import os
import subprocess
import sys
import textwrap
from wsgiref.util import setup_testing_defaults

import pytest
import requests
import responses
from prometheus_client.parser import text_string_to_metric_families

from ops.metrics import exporter_app
from sync import metrics
from sync.connectors.base import ConnectorError
from sync.connectors.legal_accounting.client import LegalAccountingClient
from sync.models import LinkStatus, PmConnection
from tests.factories import ContactLinkFactory, MatterLinkFactory
from tests.test_settings import ROOT

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(scraped, name, **labels) -> float:
    return scraped[(name, tuple(sorted(labels.items())))]


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Token {TOKEN}", TOKEN])
def test_metrics_refuse_a_missing_or_wrong_token(client, metrics_on, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    response = client.get("/metrics", **extra)

    assert response.status_code == 401
    assert b"hub_" not in response.content


@pytest.mark.django_db
def test_links_are_counted_by_record_type_and_state(client, metrics_on):
    ContactLinkFactory.create_batch(2, status=LinkStatus.SYNCED)
    ContactLinkFactory(status=LinkStatus.ERROR)
    MatterLinkFactory(status=LinkStatus.PENDING)

    scraped = scrape(client)

    assert sample(scraped, "hub_links", record_type="contact", state="synced") == 2
    assert sample(scraped, "hub_links", record_type="contact", state="error") == 1
    assert sample(scraped, "hub_links", record_type="matter", state="pending") == 1
    assert sample(scraped, "hub_links", record_type="time_entry", state="synced") == 0
    assert sample(scraped, "hub_metrics_source_up", source="links") == 1


@pytest.mark.django_db
def test_the_scrape_costs_the_same_queries_at_3_links_and_at_30(
    client, metrics_on, django_assert_num_queries
):
    ContactLinkFactory.create_batch(3)
    with django_assert_num_queries(3):  # links, queue depth, PM connection
        scrape(client)

    ContactLinkFactory.create_batch(27)
    with django_assert_num_queries(3):
        scrape(client)


@pytest.mark.django_db
def test_the_queue_depth_and_pm_connection_state_are_shown(client, metrics_on, pm_connection_up):
    scraped = scrape(client)

    assert sample(scraped, "hub_queue_depth") == 0
    assert sample(scraped, "hub_pm_connection_state", state="connected") == 1
    assert sample(scraped, "hub_pm_connection_state", state="not_connected") == 0
    assert len([key for key in scraped if key[0] == "hub_pm_connection_state"]) == len(
        PmConnection.State
    )


@pytest.mark.django_db
def test_a_source_that_fails_is_reported_and_the_rest_still_answers(
    client, metrics_on, monkeypatch
):
    def broken():
        raise RuntimeError("broker down")

    monkeypatch.setattr("django_q.brokers.get_broker", lambda *a, **k: broken())

    scraped = scrape(client)

    assert sample(scraped, "hub_metrics_source_up", source="queue") == 0
    assert sample(scraped, "hub_metrics_source_up", source="links") == 1
    assert ("hub_queue_depth", ()) not in scraped


@pytest.mark.django_db
def test_sync_attempts_are_counted_by_record_type_and_outcome(client, metrics_on):
    before = scrape(client)

    metrics.sync_attempt_count(record_type="contact", outcome="error")
    metrics.sync_attempt_count(record_type="time_entry", outcome="success", count=3)

    after = scrape(client)
    for record_type, outcome, added in [("contact", "error", 1), ("time_entry", "success", 3)]:
        labels = {"record_type": record_type, "outcome": outcome}
        grown = sample(after, "hub_sync_attempts_total", **labels) - sample(
            before, "hub_sync_attempts_total", **labels
        )
        assert grown == added
    assert sample(after, "hub_sync_attempts_total", record_type="matter", outcome="retry") >= 0


def histogram_count(scraped, system, status) -> float:
    key = ("hub_external_request_duration_seconds_count", (("status", status), ("system", system)))
    return scraped.get(key, 0)


@pytest.mark.django_db
@responses.activate
def test_requests_to_a_system_are_timed_by_status_class(client, metrics_on):
    la = metrics.http_client_instrument(
        LegalAccountingClient(
            base_url="http://la.test/api/v1/", token="t", timeout=2, requests_per_minute=6000
        )
    )
    responses.get("http://la.test/api/v1/settings", json={})
    responses.get("http://la.test/api/v1/contacts/9", status=503)
    responses.get("http://la.test/api/v1/contacts/8", body=requests.ConnectTimeout())
    before = scrape(client)

    la.send("GET", "settings")
    la.send("GET", "contacts/9")
    with pytest.raises(ConnectorError):
        la.send("GET", "contacts/8")

    after = scrape(client)
    for status in ["2xx", "5xx", "timeout"]:
        assert histogram_count(after, "la", status) - histogram_count(before, "la", status) == 1


class WaitingBudget:
    """A stand-in for sync/budget.py's SharedBudget: `waited` grows as it waits."""

    def __init__(self):
        self.waited = 0.0

    def acquire(self):
        self.waited += 0.25


@pytest.mark.django_db
@responses.activate
def test_the_seconds_waited_for_the_request_budget_are_counted(client, metrics_on):
    la = LegalAccountingClient(
        base_url="http://la.test/api/v1/", token="t", timeout=2, requests_per_minute=6000
    )
    la.limiter = WaitingBudget()
    metrics.http_client_instrument(la)
    responses.get("http://la.test/api/v1/settings", json={})
    before = sample(scrape(client), "hub_request_budget_wait_seconds_total", system="la")

    for _ in range(4):
        la.send("GET", "settings")

    after = sample(scrape(client), "hub_request_budget_wait_seconds_total", system="la")
    assert after - before == pytest.approx(1.0)


def call_exporter(authorization=None, path="/metrics"):
    environ = {"PATH_INFO": path}
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers):
        answer["status"] = status

    body = b"".join(exporter_app(environ, start_response))
    return answer["status"], body


def test_the_worker_exporter_answers_only_to_the_token(settings):
    settings.METRICS_TOKEN = TOKEN

    assert call_exporter()[0].startswith("401")
    assert call_exporter("Bearer nope")[0].startswith("401")
    assert call_exporter(f"Bearer {TOKEN}", path="/other")[0].startswith("404")
    status, body = call_exporter(f"Bearer {TOKEN}")
    assert status.startswith("200")
    assert b"hub_sync_attempts_total" in body

    settings.METRICS_TOKEN = ""
    assert call_exporter(f"Bearer {TOKEN}")[0].startswith("404")


def test_the_counts_of_every_worker_process_add_up_at_the_exporter(tmp_path):
    """Two processes count, a third (the exporter) answers their sum: what a task host's
    django-q2 workers and `run_worker` do with PROMETHEUS_MULTIPROC_DIR."""
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = textwrap.dedent(
        """
        from sync import metrics
        metrics.sync_attempt_count(record_type="contact", outcome="error", count=2)
        metrics.BUDGET_WAIT_SECONDS.labels(system="pm").inc(1.5)
        """
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], cwd=ROOT, env=environment, check=True)
    read = "from ops.metrics import generate_latest, process_registry; " + (
        "print(generate_latest(process_registry()).decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", read],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    scraped = samples(result.stdout)
    assert sample(scraped, "hub_sync_attempts_total", record_type="contact", outcome="error") == 4
    assert sample(scraped, "hub_request_budget_wait_seconds_total", system="pm") == 3.0
