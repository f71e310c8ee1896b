"""Idle cost: the requests a hub makes to PM and LA in an hour when nothing changes.

A firm is seeded and synced (webhooks registered, every record linked, its time sent for
billing). Nothing changes after that. Each scheduled job is then run as its schedule
would run it, in this process against the same sandbox, and every request it makes is
counted by system:

    requests an hour = sum over the jobs of (requests of one run * runs an hour)

Runs an hour come from the job's django-q2 schedule (the poll's schedule fires every
minute; it reads PM and LA every POLL_QUIET_MINUTES while the webhooks are in place,
and the firings between cost nothing, which is measured too). Each job runs once before
it is counted: its first run may still finish the sync's work (the balance refresh's
first pass reads every matter and writes it into PM). The comparison line is the hub
polling every minute (POLL_QUIET_MINUTES=0), as it did before the quiet poll.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections import Counter

from harness import (
    RequestCounter,
    Stack,
    common_arguments,
    machine,
    print_table,
    result_label,
    write_results,
)

JOBS = [
    ("poll", "sync.tasks.poll_task"),
    ("sweep", "sync.tasks.sweep_task"),
    ("balance refresh", "sync.tasks.balances_refresh_task"),
    ("time reconciliation", "sync.tasks.time_entries_reconcile_task"),
    ("receipt pruning", "sync.tasks.webhook_receipts_prune_task"),
]


def balances_written_into_pm() -> None:
    """Every matter's figures written into PM, as the first pass's chunks (spread over
    its interval as one-off schedules) would have written them by the next pass."""
    from django_q.models import Schedule

    from matters.models import MatterBalance
    from matters.services import WRITE_CHUNK_TASK, matter_balances_write_many

    matter_balances_write_many(
        matter_ids=list(MatterBalance.objects.values_list("matter_id", flat=True))
    )
    Schedule.objects.filter(func=WRITE_CHUNK_TASK).delete()


def runs_an_hour(func: str) -> float:
    from django_q.models import Schedule

    schedule = Schedule.objects.filter(func=func).first()
    if schedule is None or schedule.schedule_type != Schedule.MINUTES:
        return 1 / 24 if schedule is not None else 0.0  # daily, or not scheduled
    return 60 / (schedule.minutes or 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--matters", type=int, default=250)
    parser.add_argument("--time-entries", type=int, default=1000)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--quiet-minutes", type=int, default=15, help="POLL_QUIET_MINUTES")
    common_arguments(parser)
    options = parser.parse_args(argv)

    stack = Stack("idle", postgres=options.postgres)
    with stack:
        stack.create()
        seeded = stack.seed(
            contacts=options.contacts,
            matters=options.matters,
            time_entries=options.time_entries,
            users=options.users,
        )
        stack.serve()
        stack.django_setup()
        facts = machine(stack)

        from django.conf import settings
        from django.core.management import call_command
        from django.utils.module_loading import import_string
        from django_q.conf import Conf

        from sync.models import Link, LinkStatus, WorkLease
        from timekeeping.models import TimeEntry
        from timekeeping.services import time_entries_send_for_billing

        Conf.SYNC = True  # tasks the jobs queue (balance chunks) run here, counted
        call_command("register_webhooks", stdout=io.StringIO())
        call_command("sync_now", "--full", stdout=io.StringIO())
        time_entries_send_for_billing(
            entries=TimeEntry.objects.filter(billing_status=TimeEntry.BillingStatus.UNSENT)
        )
        call_command("sync_now", stdout=io.StringIO())  # what the sends changed settles
        states = dict(Counter(Link.objects.values_list("status", flat=True)))
        print(f"Seeded and synced; links by state: {states}", flush=True)

        counting = RequestCounter()
        counting.install()
        per_run: dict[str, dict[str, int]] = {}
        hourly: dict[str, dict[str, float]] = {}
        for name, func in JOBS:
            job = import_string(func)
            # A job's first run may still have work left from the sync (the balance
            # refresh reads every matter's figures once and writes them into PM): the
            # second is what each run costs while nothing changes.
            job()
            if name == "balance refresh":
                balances_written_into_pm()
            _, per_run[name] = counting.run(job)
            hourly[name] = {
                system: per_run[name][system] * runs_an_hour(func) for system in ("pm", "la")
            }

        # The poll: a pass, then the firings of the schedule before the next pass.
        WorkLease.objects.filter(name="poll").update(next_run_at=None)
        settings.POLL_QUIET_MINUTES = options.quiet_minutes
        poll = import_string("sync.tasks.poll_task")
        _, pass_cost = counting.run(poll)
        _, between = counting.run(poll)
        passes = 60 / max(1, options.quiet_minutes)
        hourly["poll"] = {
            system: pass_cost[system] * passes + between[system] * (60 - passes)
            for system in ("pm", "la")
        }
        per_run["poll"] = pass_cost
        per_run["poll, between passes"] = between
        before = {
            name: (
                {system: pass_cost[system] * 60 for system in ("pm", "la")}
                if name == "poll"
                else dict(costs)
            )
            for name, costs in hourly.items()
        }
        synced = Link.objects.filter(status=LinkStatus.SYNCED).count()

    total = {system: round(sum(h[system] for h in hourly.values())) for system in ("pm", "la")}
    total_before = {
        system: round(sum(h[system] for h in before.values())) for system in ("pm", "la")
    }
    print_table(
        ["job", "PM a run", "LA a run", "PM an hour", "LA an hour"],
        [
            [
                name,
                per_run[name]["pm"],
                per_run[name]["la"],
                round(hourly[name]["pm"]),
                round(hourly[name]["la"]),
            ]
            for name in hourly
        ]
        + [["total", "", "", total["pm"], total["la"]]],
        title=f"Idle requests, {synced} synced links, polling every {options.quiet_minutes} "
        "min while the webhooks are in place",
    )
    print(
        f"With a poll every minute instead: {total_before['pm']} PM and "
        f"{total_before['la']} LA requests an hour; with the quiet poll {total['pm']} and "
        f"{total['la']}."
    )
    data = {
        "benchmark": "idle",
        "command": "benchmarks/idle.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "options": {k: str(v) for k, v in vars(options).items()},
        "machine": facts,
        "seeded": seeded,
        "synced_links": synced,
        "requests_per_run": per_run,
        "requests_an_hour": {k: {s: round(v, 1) for s, v in h.items()} for k, h in hourly.items()},
        "total_an_hour": total,
        "total_an_hour_polling_every_minute": total_before,
    }
    write_results("idle", result_label(stack, options), data, options.results_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
