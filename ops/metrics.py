"""Prometheus metrics: what the web's `/metrics` and a worker's exporter answer.

Two kinds, kept apart on purpose (docs/decisions.md):

- **Counted where it happens** (sync/metrics.py): sync attempts, request latency to PM
  and LA, request-budget waits. Each process counts its own; with
  `PROMETHEUS_MULTIPROC_DIR` set (deploy/entrypoint.sh) a role's processes write to one
  directory and its exporter adds them up. Scrape every web host and every worker host.
- **Read at scrape time** (`HubStateCollector`, web only): links by Link Indicator state
  (one aggregate query), the broker's queue depth and the PM connection's state. They
  describe the shared database, so every web host answers the same values: aggregate
  them with `max`, not `sum`.

Both answer only to `Authorization: Bearer <METRICS_TOKEN>`; with no token set they are
off (404).
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.db.models import Count
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

import sync.metrics  # noqa: F401 - registers the engine's metrics in this process

logger = logging.getLogger(__name__)


def metrics_authorised(authorization: str | None) -> bool:
    """Whether an `Authorization` header carries the metrics token (never, without one)."""
    token = settings.METRICS_TOKEN
    if not token or not authorization:
        return False
    return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())


class _ThisProcess:
    """The metrics of this process alone (no multiprocess directory: `make run`, tests)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def process_registry() -> CollectorRegistry:
    """The counted metrics: of every process of this role when they share a multiprocess
    directory, else of this process."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    return registry


class HubStateCollector:
    """Gauges read from the database and the broker when scraped. A source that fails is
    reported as `hub_metrics_source_up{source} 0` and the rest still answers."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "hub_metrics_source_up",
            "Whether the source of the scrape-time gauges could be read (1) or not (0).",
            labels=["source"],
        )
        for source, read in [
            ("links", self.links),
            ("queue", self.queue),
            ("pm_connection", self.pm_connection),
        ]:
            try:
                families = list(read())
            except Exception as error:
                logger.warning("Metrics source %s failed: %s", source, type(error).__name__)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up

    def links(self) -> Iterator[Metric]:
        from sync.models import Link, LinkStatus, RecordType

        counts = {(rt.value, status.value): 0 for rt in RecordType for status in LinkStatus}
        grouped = Link.objects.order_by().values("record_type", "status").annotate(n=Count("pk"))
        for row in grouped:
            counts[(row["record_type"], row["status"])] = row["n"]
        family = GaugeMetricFamily(
            "hub_links",
            "Links by record type and Link Indicator state (a record the engine has not "
            "touched yet has no link and is not counted).",
            labels=["record_type", "state"],
        )
        for (record_type, state), count in sorted(counts.items()):
            family.add_metric([record_type, state], count)
        yield family

    def queue(self) -> Iterator[Metric]:
        from django_q.brokers import get_broker

        yield GaugeMetricFamily(
            "hub_queue_depth",
            "Tasks waiting in django-q2's broker queue.",
            value=get_broker().queue_size() or 0,
        )

    def pm_connection(self) -> Iterator[Metric]:
        from sync.models import PmConnection
        from sync.services.connection import pm_connection_read

        current = pm_connection_read().state
        family = GaugeMetricFamily(
            "hub_pm_connection_state",
            "The Practice Management connection's state: 1 for the current one.",
            labels=["state"],
        )
        for state in PmConnection.State:
            family.add_metric([state.value], 1 if state == current else 0)
        yield family


def web_metrics() -> bytes:
    """What the web's `/metrics` answers: its processes' counts and the hub's state."""
    registry = process_registry()
    registry.register(HubStateCollector())
    return generate_latest(registry)


# The worker's exporter ------------------------------------------------------------------


def exporter_app(environ, start_response):
    """A WSGI app answering the worker role's counted metrics, to the metrics token."""
    if environ.get("PATH_INFO", "/").rstrip("/") not in ("", "/metrics"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found.\n"]
    if not metrics_authorised(environ.get("HTTP_AUTHORIZATION")):
        status = "401 Unauthorized" if settings.METRICS_TOKEN else "404 Not Found"
        start_response(status, [("Content-Type", "text/plain")])
        return [b"Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.\n"]
    body = generate_latest(process_registry())
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [body]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # one line per scrape would drown the logs
        pass


def exporter_start(host: str, port: int) -> WSGIServer:
    """Serve `exporter_app` on host:port from a daemon thread; answers the server."""
    server = make_server(
        host, port, exporter_app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True).start()
    return server
