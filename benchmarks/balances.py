"""The scheduled balance refresh at firm size: what each pass asks of LA and plans for PM.

N matters are linked to N files in the LA emulator (bulk-created in both databases: the
refresh reads balances, it never needs the records synced). The scheduled pass
(`sync.tasks.balances_refresh_task`) then runs again and again, as its schedule would
every 15 minutes, over real HTTP to the sandbox, until every matter's figures are read;
then once more on a quiet day. Each pass's LA requests are counted and set beside the
share of LA's budget a pass may spend; the writes into PM it queues (chunks the cluster
runs later, not run here) beside the share of PM's budget:

    LA share a pass = BALANCE_REFRESH_BUDGET_SHARE * LA_REQUESTS_PER_MINUTE * 15
    PM share a pass = BALANCE_REFRESH_BUDGET_SHARE * PM_REQUESTS_PER_MINUTE * 15
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time

from harness import (
    RequestCounter,
    Stack,
    common_arguments,
    machine,
    print_table,
    result_label,
    write_results,
)

BATCH = 2000


def seed(count: int) -> None:
    """`count` hub matters, each linked to an LA file of its own (and a PM id)."""
    from django.db import transaction
    from django.utils import timezone

    from contacts.models import Contact
    from matters.models import Matter
    from sandbox.la import models as la
    from sync.models import Link, LinkStatus, RecordType

    client = la.Contact.objects.create(last_name="Bench", contact_number="BENCH-1")
    hub_client = Contact.objects.create(last_name="Bench", reference="BENCH-1")
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        files = la.File.objects.bulk_create(
            la.File(
                contact=client,
                file_number=f"F{start + i:06d}",
                description=f"Matter {start + i}",
                pm_matter_id=str(start + i + 1),
                balance_changed_at=long_ago,  # their figures last moved two hours ago
            )
            for i in range(size)
        )
        with transaction.atomic():
            matters = Matter.objects.bulk_create(
                Matter(name=f"Matter {start + i}", client=hub_client) for i in range(size)
            )
            Link.objects.bulk_create(
                Link(
                    record_type=RecordType.MATTER,
                    matter=matter,
                    status=LinkStatus.SYNCED,
                    pm_id=str(start + i + 1),
                    la_id=str(file.pk),
                )
                for i, (matter, file) in enumerate(zip(matters, files, strict=True))
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matters", type=int, default=10_000)
    parser.add_argument("--pm-rpm", type=int, default=120, help="PM_REQUESTS_PER_MINUTE")
    parser.add_argument("--la-rpm", type=int, default=600, help="LA_REQUESTS_PER_MINUTE")
    parser.add_argument("--max-passes", type=int, default=20)
    common_arguments(parser)
    options = parser.parse_args(argv)

    stack = Stack("balances", postgres=options.postgres)
    stack.env["PM_REQUESTS_PER_MINUTE"] = str(options.pm_rpm)
    stack.env["LA_REQUESTS_PER_MINUTE"] = str(options.la_rpm)
    with stack:
        stack.create()
        stack.serve()
        stack.django_setup()
        facts = machine(stack)

        from django.conf import settings
        from django_q.models import OrmQ, Schedule

        from matters.models import MatterBalance
        from matters.services import REFRESH_INTERVAL, STALE_READS_PER_PASS
        from sync.tasks import balances_refresh_task

        seed(options.matters)
        print(f"{options.matters:,} matters linked to LA files.", flush=True)

        counting = RequestCounter()
        counting.install()
        minutes = REFRESH_INTERVAL.total_seconds() / 60
        share = settings.BALANCE_REFRESH_BUDGET_SHARE
        la_share = share * options.la_rpm * minutes
        pm_share = share * options.pm_rpm * minutes
        passes = []
        quiet_passes = 0
        while len(passes) < options.max_passes and quiet_passes < 1:
            started = time.perf_counter()
            report, sent = counting.run(balances_refresh_task)
            seconds = time.perf_counter() - started
            read_so_far = MatterBalance.objects.filter(as_of__isnull=False).count()
            passes.append(
                {
                    "pass": len(passes) + 1,
                    "la_requests": sent["la"],
                    "pm_requests": sent["pm"],
                    "seconds": round(seconds, 2),
                    **report,
                    "read_so_far": read_so_far,
                }
            )
            # The cluster would run the writes the pass queued; here they are only counted.
            OrmQ.objects.all().delete()
            Schedule.objects.filter(func__startswith="matters.tasks.").delete()
            if read_so_far == options.matters:
                quiet_passes += report["read"] == 0
        all_read = passes[-1]["read_so_far"] == options.matters

    print_table(
        [
            "pass",
            "LA requests",
            "read",
            "changed",
            "confirmed",
            "writes queued",
            "their PM requests",
            "seconds",
        ],
        [
            [
                p["pass"],
                p["la_requests"],
                p["read"],
                p["changed"],
                p["confirmed"],
                p["writes_queued"],
                p["write_requests_planned"],
                p["seconds"],
            ]
            for p in passes
        ],
        title=(
            f"Balance refresh of {options.matters:,} matters at {options.la_rpm} LA and "
            f"{options.pm_rpm} PM requests a minute; a pass may spend {la_share:.0f} LA and "
            f"{pm_share:.0f} PM requests (its {share:.0%} share of 15 minutes)"
        ),
    )
    most_la = max(p["la_requests"] for p in passes)
    most_pm = max(p["write_requests_planned"] for p in passes)
    within = most_la <= la_share and most_pm <= pm_share
    print(
        f"Every matter read in {len(passes) - 1} passes "
        f"({(len(passes) - 1) * minutes:.0f} minutes of schedule); at most {most_la} LA "
        f"requests and {most_pm} PM requests of writes queued a pass: "
        f"{'within' if within else 'OVER'} the budget shares. A quiet pass: "
        f"{passes[-1]['la_requests']} LA request(s)."
    )
    data = {
        "benchmark": "balances",
        "command": "benchmarks/balances.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "options": {k: str(v) for k, v in vars(options).items()},
        "machine": facts,
        "stale_reads_per_pass": STALE_READS_PER_PASS,
        "la_share_a_pass": la_share,
        "pm_share_a_pass": pm_share,
        "passes": passes,
        "all_read": all_read,
        "within_budget_shares": within,
    }
    write_results("balances", result_label(stack, options), data, options.results_dir)
    return 0 if all_read and within else 1


if __name__ == "__main__":
    sys.exit(main())
