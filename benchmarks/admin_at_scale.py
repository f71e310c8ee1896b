"""Admin at scale: the pages a firm admin opens, with 100,000 contacts in the hub.

Contacts are bulk-created in the hub with links in mixed states (most synced, some
pending, unknown, red with a reason, unsynced, and some with no link at all), plus a
share of matters and time entries so the health page has every record type to count.
Each page is loaded through Django's test client as a logged-in superuser: one warm-up
load, then `--loads` timed loads; the table shows the median time and the number of
database queries. The same pages are measured first with `--small` contacts, so a
query count that grows with the data shows up as a difference between the two.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from harness import (
    Stack,
    common_arguments,
    machine,
    median,
    print_table,
    result_label,
    write_results,
)

BATCH = 2000
# Share of contacts per Link Indicator state; the rest have no link row (unsynced).
STATES = [
    ("synced", 0.70),
    ("pending", 0.08),
    ("unknown", 0.03),
    ("error", 0.05),
    ("unsynced", 0.04),
]
ERROR_MESSAGES = [
    ("already_assigned", "la", "contact number {n} is already assigned to Smith, Jane"),
    ("invalid_reference", "hub", "Reference 'A {n}': A reference may not contain '*' or spaces."),
    ("unavailable", "la", "Legal Accounting failed with HTTP 503."),
]


def pages() -> list[tuple[str, str]]:
    from django.urls import NoReverseMatch, reverse

    found = [
        ("contacts changelist", reverse("admin:contacts_contact_changelist")),
        ("contacts, red only", reverse("admin:contacts_contact_changelist") + "?link_status=error"),
        ("contacts, search", reverse("admin:contacts_contact_changelist") + "?q=Smith"),
        ("link changelist", reverse("admin:sync_link_changelist")),
        ("link changelist, red", reverse("admin:sync_link_changelist") + "?status__exact=error"),
    ]
    try:
        found.append(("sync health page", reverse("admin:sync_health")))
    except NoReverseMatch:
        print("No sync health page yet: measuring the link changelist only.", file=sys.stderr)
    return found


def grow(target: int, rng: random.Random, made: int) -> int:
    """Bulk-create contacts (and their links) until the hub holds `target` contacts."""
    from django.db import transaction

    from contacts.models import Contact
    from matters.models import Matter
    from sync.models import Link, LinkStatus, RecordType
    from timekeeping.models import TimeEntry, Timekeeper

    timekeeper, _ = Timekeeper.objects.get_or_create(
        email="bench@example-law.test", defaults={"name": "Bench Lawyer"}
    )
    names = ["Smith", "Jones", "Ngata", "Patel", "Chen", "Garcia", "Brown", "Okafor", "Kim"]
    while made < target:
        size = min(BATCH, target - made)
        with transaction.atomic():
            contacts = Contact.objects.bulk_create(
                [
                    Contact(
                        first_name=f"First{made + i}",
                        last_name=rng.choice(names),
                        email=f"c{made + i}@example.com",
                        reference=str(made + i + 1),
                    )
                    for i in range(size)
                ]
            )
            links = []
            for contact in contacts:
                roll, cumulative, state = rng.random(), 0.0, None
                for name, share in STATES:
                    cumulative += share
                    if roll < cumulative:
                        state = name
                        break
                if state is None:
                    continue
                link = Link(
                    record_type=RecordType.CONTACT,
                    contact=contact,
                    status=state,
                    pm_id=str(contact.pk),
                    la_id=str(contact.pk) if state == LinkStatus.SYNCED else None,
                )
                if state == LinkStatus.ERROR:
                    code, system, message = rng.choice(ERROR_MESSAGES)
                    link.error_code, link.error_system = code, system
                    link.message = message.format(n=contact.pk)
                links.append(link)
            Link.objects.bulk_create(links)
            # One matter per 20 contacts and a time entry per matter, so every record
            # type is on the health page.
            matters = Matter.objects.bulk_create(
                [Matter(name=f"Matter of {c.pk}", client=c) for c in contacts[::20]]
            )
            entries = TimeEntry.objects.bulk_create(
                [TimeEntry(matter=m, timekeeper=timekeeper, date="2026-01-05") for m in matters]
            )
            Link.objects.bulk_create(
                [
                    Link(record_type=RecordType.MATTER, matter=m, status=LinkStatus.SYNCED)
                    for m in matters
                ]
                + [
                    Link(
                        record_type=RecordType.TIME_ENTRY, time_entry=e, status=LinkStatus.UNSYNCED
                    )
                    for e in entries
                ]
            )
        made += size
    return made


def measure(client, url: str, loads: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: templates, caches
    times, queries, status = [], [], None
    for _ in range(loads):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured.captured_queries))
        status = response.status_code
    return {
        "status": status,
        "median_ms": round(median(times), 1),
        "max_ms": round(max(times), 1),
        "queries": sorted(set(queries)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000, help="the first, small measurement")
    parser.add_argument("--loads", type=int, default=7, help="timed loads per page")
    parser.add_argument("--seed", type=int, default=2026)
    common_arguments(parser)
    options = parser.parse_args(argv)

    stack = Stack("admin", postgres=options.postgres)
    results: dict[int, dict[str, dict]] = {}
    with stack:
        stack.create()
        stack.django_setup()
        facts = machine(stack)
        from django.contrib.auth import get_user_model
        from django.test import Client

        admin = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
        client = Client()
        client.force_login(admin)
        rng = random.Random(options.seed)
        made = 0
        for size in dict.fromkeys([options.small, options.contacts]):
            started = time.perf_counter()
            made = grow(size, rng, made)
            print(
                f"{made:,} contacts in the hub ({time.perf_counter() - started:.1f} s)", flush=True
            )
            results[size] = {name: measure(client, url, options.loads) for name, url in pages()}
        if stack.postgres:
            from django.db import connection

            connection.close()

    sizes = list(results)
    rows, constant = [], True
    for name in results[sizes[0]]:
        row = [name]
        for size in sizes:
            page = results[size][name]
            row += ["/".join(map(str, page["queries"])), page["median_ms"]]
        first, last = results[sizes[0]][name], results[sizes[-1]][name]
        same = first["queries"] == last["queries"] and len(last["queries"]) == 1
        constant = constant and same
        row.append("yes" if same else "NO")
        rows.append(row)
    headers = ["page"]
    for size in sizes:
        headers += [f"queries @{size:,}", f"median ms @{size:,}"]
    print_table([*headers, "constant queries"], rows, title=f"Admin pages on {facts['database']}")
    statuses = {r["status"] for by_page in results.values() for r in by_page.values()}
    data = {
        "benchmark": "admin_at_scale",
        "command": "benchmarks/admin_at_scale.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "options": {k: str(v) for k, v in vars(options).items()},
        "machine": facts,
        "link_state_shares": dict(STATES),
        "pages": {str(size): by_page for size, by_page in results.items()},
        "constant_query_count": constant,
        "statuses": sorted(statuses),
    }
    write_results("admin_at_scale", result_label(stack, options), data, options.results_dir)
    return 0 if statuses == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
