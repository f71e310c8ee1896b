"""Propagation: how long an edit made in PM takes to reach LA through the webhook path.

The PM sandbox is seeded and synced once (`sync_now`, which also registers the hub's PM
resthooks and LA webhooks). Polling schedules are removed, so only webhooks carry the
edits, and a real `qcluster` runs the tasks. Then N contacts are edited in PM through
its REST API, one every `--interval` seconds, and a watcher reads the LA sandbox's
database every 20 ms until LA holds each new value:

    PUT participant ─▶ resthook task ─▶ /webhooks/pm/ (receipt) ─▶ receipt task
      ─▶ link sync task ─▶ PATCH LA contact

The time of an edit is when PM answered the PUT (the change committed); it arrives when
the watcher first sees the value in LA. p50 and p95 are nearest-rank percentiles.

With `--backfill N`, N more contacts are added to PM unannounced (as if they were there
before the hub) and a poll takes them in before the edits start: the edits are measured
while the link runner works through that backfill, held to `--pm-rpm` requests a minute
to PM (the hub's shared budget), so the figure is a live change's latency under a
backfill that spends the whole budget.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import threading
import time

from harness import (
    SandboxApi,
    Stack,
    common_arguments,
    machine,
    median,
    percentile,
    print_table,
    result_label,
    wait_for,
    write_results,
)

WATCH_INTERVAL = 0.02


def broker_idle() -> bool:
    """Nothing queued and no receipt waiting: the backlog of the first sync is done."""
    from django_q.brokers import get_broker

    from sync.models import WebhookReceipt

    return (
        get_broker().queue_size() == 0
        and not WebhookReceipt.objects.filter(processed_at__isnull=True, error="").exists()
    )


class Watcher(threading.Thread):
    """Reads LA's contacts until each awaited value is there, noting when it appeared."""

    def __init__(self):
        super().__init__(daemon=True)
        self.awaited: dict[str, str] = {}
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def expect(self, pm_id: str, last_name: str) -> None:
        with self.lock:
            self.awaited[pm_id] = last_name

    def run(self) -> None:
        from django.db import connection

        from sandbox.la.models import Contact

        try:
            while not self.stopping.is_set():
                with self.lock:
                    awaited = dict(self.awaited)
                if awaited:
                    rows = Contact.objects.filter(pm_contact_id__in=list(awaited)).values_list(
                        "pm_contact_id", "last_name"
                    )
                    now = time.time()
                    with self.lock:
                        for pm_id, last_name in rows:
                            if self.awaited.get(pm_id) == last_name:
                                self.arrived[pm_id] = now
                                del self.awaited[pm_id]
                self.stopping.wait(WATCH_INTERVAL)
        finally:
            connection.close()

    def pending(self) -> int:
        with self.lock:
            return len(self.awaited)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between edits")
    parser.add_argument("--workers", type=int, default=2, help="qcluster workers")
    parser.add_argument("--redis", action="store_true", help="use the Redis broker")
    parser.add_argument(
        "--deadline", type=float, default=60.0, help="seconds to wait after the last edit"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--backfill", type=int, default=0, help="contacts new to the hub, taken in first"
    )
    parser.add_argument(
        "--pm-rpm", type=int, default=0, help="the hub's PM request budget a minute (0: none)"
    )
    common_arguments(parser)
    options = parser.parse_args(argv)

    stack = Stack(
        "propagation", postgres=options.postgres, redis=options.redis, workers=options.workers
    )
    if options.pm_rpm:
        stack.env["PM_REQUESTS_PER_MINUTE"] = str(options.pm_rpm)
    backfill: dict = {}
    with stack:
        stack.create()
        stack.seed(
            contacts=options.edits + 10, matters=0, time_entries=0, users=2, seed=options.seed
        )
        stack.serve()
        stack.django_setup()
        facts = machine(stack)

        from django.core.management import call_command
        from django_q.models import Schedule

        from sync.models import Link, LinkStatus, RecordType, SyncEvent, WebhookReceipt

        call_command("sync_now", stdout=io.StringIO())
        Schedule.objects.all().delete()
        stack.qcluster_start()
        wait_for(broker_idle, "the first sync's webhook backlog to drain", 300, 0.5)

        pm_ids = list(
            Link.objects.filter(record_type=RecordType.CONTACT, status=LinkStatus.SYNCED)
            .exclude(la_id=None)
            .order_by("pk")
            .values_list("pm_id", flat=True)[: options.edits]
        )
        if len(pm_ids) < options.edits:
            print(f"Only {len(pm_ids)} contacts synced; expected {options.edits}.", file=sys.stderr)
            return 1
        if options.backfill:
            backfill = backfill_start(options.backfill)
        api = SandboxApi(stack.base)
        api.pm_token()
        watcher = Watcher()
        watcher.start()
        edited: dict[str, float] = {}
        print(
            f"Editing {options.edits} PM contacts, one every {options.interval} s, "
            f"with {options.workers} qcluster workers ({facts['broker']} broker)…",
            flush=True,
        )
        for number, pm_id in enumerate(pm_ids):
            started = time.monotonic()
            value = f"Edited{number:04d}"
            watcher.expect(pm_id, value)
            response = api.pm("PUT", f"participants/{pm_id}", {"participants": {"lastName": value}})
            edited[pm_id] = time.time()
            if response.status_code != 200:
                print(f"PM refused edit {number}: {response.status_code}", file=sys.stderr)
                return 1
            time.sleep(max(0.0, options.interval - (time.monotonic() - started)))
        with contextlib.suppress(TimeoutError):  # the lost ones are reported below
            wait_for(lambda: watcher.pending() == 0, "every edit to reach LA", options.deadline)
        watcher.stopping.set()
        watcher.join()

        if options.backfill:
            backfill["synced by the end of the edits"] = backfill_synced() - backfill["synced"]
            del backfill["synced"]
        latencies = {pm_id: watcher.arrived[pm_id] - edited[pm_id] for pm_id in watcher.arrived}
        stages = stage_times(edited, watcher.arrived, Link, SyncEvent, WebhookReceipt)
        lost = sorted(set(edited) - set(watcher.arrived))

    values = list(latencies.values())
    summary = {
        "edits": len(edited),
        "arrived": len(values),
        "lost": len(lost),
        "p50_seconds": round(percentile(values, 0.50), 3),
        "p95_seconds": round(percentile(values, 0.95), 3),
        "max_seconds": round(max(values), 3) if values else None,
        "mean_seconds": round(sum(values) / len(values), 3) if values else None,
    }
    print_table(
        ["edits", "arrived", "lost", "p50 s", "p95 s", "max s", "mean s"],
        [
            [summary[k] for k in ("edits", "arrived", "lost")]
            + [
                summary[k] or 0.0
                for k in ("p50_seconds", "p95_seconds", "max_seconds", "mean_seconds")
            ]
        ],
        title=f"Propagation PM → LA on {facts['database']}, {facts['broker']} broker, "
        f"{options.workers} workers"
        + (f", backfill of {options.backfill} at {options.pm_rpm}/min" if backfill else ""),
    )
    print_table(
        ["stage (median)", "seconds"],
        [[name, round(median(times), 3)] for name, times in stages.items()],
    )
    data = {
        "benchmark": "propagation",
        "command": "benchmarks/propagation.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "options": {k: str(v) for k, v in vars(options).items()},
        "machine": facts,
        "summary": summary,
        "backfill": backfill,
        "stage_medians_seconds": {k: round(median(v), 3) for k, v in stages.items()},
        "watch_interval_seconds": WATCH_INTERVAL,
        "latencies_seconds": sorted(round(v, 3) for v in values),
        "lost_pm_ids": lost,
    }
    extra = [f"backfill{options.backfill}-pm{options.pm_rpm}"] if options.backfill else []
    label = result_label(stack, options, "redis" if options.redis else "", *extra)
    write_results("propagation", label, data, options.results_dir)
    return 1 if lost else 0


def backfill_synced() -> int:
    from sync.models import Link, RecordType

    return Link.objects.filter(record_type=RecordType.CONTACT, last_synced_at__isnull=False).count()


def backfill_start(count: int) -> dict:
    """Add `count` contacts to PM with no resthook to announce them (records the firm
    had before the hub), then queue a poll: it takes them in and the link runner starts
    on them. Answers once the runner is at work."""
    from django_q.tasks import async_task

    from sandbox.pm import models as pm
    from sandbox.pm import services as pm_services
    from sync.models import Link, LinkStatus, RecordType
    from sync.services.subscriptions import pm_resthooks_ensure

    pm.RestHook.objects.all().delete()
    for number in range(count):
        pm_services.participant_create(first_name="Backfill", last_name=f"Contact {number:05d}")
    pm_resthooks_ensure()  # the hub's hooks again, at the same secret
    synced = backfill_synced()
    async_task("sync.tasks.poll_task")
    new = Link.objects.filter(record_type=RecordType.CONTACT, status=LinkStatus.PENDING)
    wait_for(lambda: new.count() >= count, "the poll to take the backfill in", 600, 0.5)
    wait_for(lambda: backfill_synced() > synced, "the runner to start on it", 120, 0.2)
    print(f"Backfill of {count} contacts taken in; the runner is at work.", flush=True)
    return {"contacts": count, "synced": synced}


def stage_times(edited, arrived, Link, SyncEvent, WebhookReceipt) -> dict[str, list[float]]:
    """Where each edit's time went, from the hub's own records of the same edit."""
    stages: dict[str, list[float]] = {
        "edit → webhook received": [],
        "received → receipt processed": [],
        "processed → LA holds it": [],
    }
    receipts = {}
    for receipt in WebhookReceipt.objects.filter(event="ParticipantUpdated").order_by("pk"):
        for pm_id in receipt.payload.get("ids", []):
            receipts.setdefault(str(pm_id), []).append(receipt)
    for pm_id, edit_time in edited.items():
        if pm_id not in arrived:
            continue
        receipt = next(
            (r for r in receipts.get(pm_id, []) if r.received_at.timestamp() >= edit_time - 1),
            None,
        )
        if receipt is None or receipt.processed_at is None:
            continue
        stages["edit → webhook received"].append(receipt.received_at.timestamp() - edit_time)
        stages["received → receipt processed"].append(
            (receipt.processed_at - receipt.received_at).total_seconds()
        )
        stages["processed → LA holds it"].append(arrived[pm_id] - receipt.processed_at.timestamp())
    return stages


if __name__ == "__main__":
    sys.exit(main())
