"""Soak: a seeded firm synced under faults on both systems and a killed worker, then a
convergence check.

1. Seed PM (contacts, matters, time by several timekeepers) and LA (contacts of its own,
   fee earners), with `--clashes` PM contacts whose Reference LA already holds.
2. Turn faults on in both emulators (503, 429 with Retry-After, hangs longer than the
   hub's HTTP timeout, and "commit then drop the answer"), register the webhooks, start
   a `qcluster` and let it sync: a polling pass every `--poll-every` seconds and the
   retry sweep every `--sweep-every` seconds are queued as tasks, people keep editing
   contacts in both systems, and half-way through time is sent for billing.
3. Mid-run, SIGKILL one qcluster worker (its sentinel starts another), and later SIGKILL
   a whole cluster while it holds tasks and start a new one (`--clusters` run side by
   side). The half-way send for billing goes through the web server's API, and the web
   server is SIGKILLed while that request is in flight, then started again.
   With `--webs 2` the send goes to a second web host, which is killed under it, and the
   person sends again to the first; with `--no-cluster-restart` the killed cluster stays
   dead and the others take its work over (the several-hosts layout of
   docs/deployment.md). With `--budget N` the hub may make N requests a minute to each
   system and each emulator refuses any beyond N (checked: none refused, the peak minute
   within N).
4. Turn the faults off and let the hub settle (bounded by `--settle`); send again the
   time that failed, as an admin would.
5. Check convergence: no duplicate in either system, nothing missing, every mapped
   field equal in the hub, PM and LA, and exactly the planted clashes red with LA's
   message (plus their matters and those matters' time, which can't go to LA); every
   time entry in LA exactly once or red with that reason, none left queued, none gray
   that LA holds; no task failed; the links settled within two minutes of the faults.

A task killed mid-sync leaves its link leased; the lease (sync/links.py, 300 s) must
expire before another worker takes the link, so settling after a kill takes minutes.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter

from harness import Stack, common_arguments, machine, print_table, result_label, write_results

FAULTS = {
    "error_rate": 0.05,
    "rate_limit_rate": 0.04,
    "retry_after_seconds": 1,
    "hang_rate": 0.02,
    "hang_seconds": 3.0,
    "drop_rate": 0.05,
}
NO_FAULTS = {"error_rate": 0.0, "rate_limit_rate": 0.0, "hang_rate": 0.0, "drop_rate": 0.0}
HTTP_TIMEOUT = 2.0  # shorter than hang_seconds, so a hang is a timeout to the hub
SETTLE_LIMIT = 120  # seconds after the faults stop by which every link has settled


def faults_set(seed: int, **fields) -> None:
    """Configure both emulators' faults; the server reads them on every request."""
    from sandbox.faults import fault_config

    for offset, system in enumerate(("pm", "la")):
        config = fault_config(system)
        config.seed = seed + offset
        for name, value in fields.items():
            setattr(config, name, value)
        config.save()


def enqueue(func: str) -> None:
    from django_q.tasks import async_task

    async_task(func)


class People:
    """Staff editing contacts in both systems through the systems' own screens (their
    services), which announce the change by resthook or webhook as they commit."""

    def __init__(self, seed: int, planted: set[int]):
        self.rng = random.Random(seed)
        self.planted = planted
        self.count: Counter[str] = Counter()

    def edit(self) -> None:
        from sandbox.la import models as la
        from sandbox.la import services as la_services
        from sandbox.pm import models as pm
        from sandbox.pm import services as pm_services

        number = sum(self.count.values())
        if self.rng.random() < 0.6:
            ids = list(
                pm.Participant.objects.filter(user__isnull=True)
                .exclude(pk__in=self.planted)
                .values_list("pk", flat=True)
            )
            participant = pm.Participant.objects.get(pk=self.rng.choice(ids))
            pm_services.participant_update(participant, middle_name=f"Pm{number}")
            self.count["pm edits"] += 1
        else:
            ids = list(la.Contact.objects.values_list("pk", flat=True))
            contact = la.Contact.objects.get(pk=self.rng.choice(ids))
            la_services.contact_update(contact=contact, data={"email": f"la{number}@soak.test"})
            self.count["la edits"] += 1


def planted_records(clashing: list[str]) -> tuple[set[int], set[int]]:
    """The planted PM contacts (a Reference LA holds) and the PM matters whose client is
    one of them: those must end red, everything else green."""
    from sandbox.pm import models as pm

    planted = set(
        pm.Participant.objects.filter(
            import_external_reference__in=clashing, user__isnull=True
        ).values_list("pk", flat=True)
    )
    # A matter's first client is its first participant of the action type's primary
    # participant type (Client).
    matters = {
        action.pk
        for action in pm.Action.objects.prefetch_related("participant_links")
        if action.primary_participant_ids and action.primary_participant_ids[0] in planted
    }
    return planted, matters


def settled() -> bool:
    """No link pending, unknown, held or owed another pass, no webhook waiting, every PM
    record in the hub.

    A link a killed worker held keeps its state until its lease runs out, and a change
    announced meanwhile marks it dirty: it is not settled until the sweep has taken it
    back and synced it. (The broker's queue is not asked: the poll and sweep tasks this
    script queues every few seconds would never let it be empty for long.)"""
    from django.db.models import Q
    from django.utils import timezone

    from sandbox.pm import models as pm
    from sync.models import Link, LinkStatus, WebhookReceipt
    from timekeeping.models import BillingBatch, TimeEntry
    from timekeeping.services import OPEN

    unsettled = (
        Q(status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN])
        | Q(dirty=True)
        | Q(lease_expires_at__gt=timezone.now())
    )
    return (
        not Link.objects.filter(unsettled).exists()
        and not WebhookReceipt.objects.filter(processed_at__isnull=True).exists()
        and not BillingBatch.objects.filter(status__in=OPEN).exists()
        and TimeEntry.objects.count() == pm.TimeEntry.objects.count()
        and Link.objects.filter(record_type="contact", pm_id__isnull=False).count()
        >= pm.Participant.objects.filter(user__isnull=True).count()
    )


def waiting() -> str:
    """What the hub is still waiting for, for the timeline."""
    from django.db.models import Count, Max, Min
    from django.utils import timezone
    from django_q.brokers import get_broker

    from sync.models import Link, LinkStatus

    now = timezone.now()
    rows = (
        Link.objects.filter(status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN])
        .values("record_type", "error_code")
        .annotate(n=Count("pk"), retry=Min("next_retry_at"), lease=Min("lease_expires_at"))
    )
    parts = [
        f"{row['n']} {row['record_type']} {row['error_code'] or 'queued'}"
        + (f" (retry in {(row['retry'] - now).total_seconds():.0f} s)" if row["retry"] else "")
        + (f" (leased {(row['lease'] - now).total_seconds():.0f} s more)" if row["lease"] else "")
        for row in rows
    ]
    held = Link.objects.exclude(status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN]).filter(
        lease_expires_at__gt=now
    )
    if held.exists():
        latest = held.aggregate(until=Max("lease_expires_at"))["until"]
        parts.append(
            f"{held.count()} leased (until {(latest - now).total_seconds():.0f} s from now), "
            f"{held.filter(dirty=True).count()} of them owed another pass"
        )
    return f"queue {get_broker().queue_size()}; waiting: " + (", ".join(parts) or "nothing")


ADMIN = ("soak-admin", "soak-Admin-password-1")


def send_time_over_http(base: str, posting: threading.Event) -> dict:
    """An admin's send for billing through the API, as a session: log in, then POST;
    `posting` is set just before the POST goes out."""
    import requests

    session = requests.Session()
    try:
        login = session.get(f"{base}/admin/login/", timeout=30)
        token = login.cookies.get("csrftoken") or session.cookies.get("csrftoken")
        session.post(
            f"{base}/admin/login/",
            data={"username": ADMIN[0], "password": ADMIN[1], "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/admin/login/"},
            timeout=30,
        )
    except requests.RequestException as error:
        posting.set()
        return {"request": f"login failed: {type(error).__name__}"}
    posting.set()
    try:
        answer = session.post(
            f"{base}/api/v1/time-entries/send-for-billing/",
            json={"date_from": "2000-01-01"},
            headers={"X-CSRFToken": session.cookies.get("csrftoken", ""), "Referer": base},
            timeout=60,
        )
    except requests.RequestException as error:
        return {"request": f"cut off: {type(error).__name__}"}
    return {"request": answer.status_code}


def send_time(statuses: list[str]) -> dict:
    from django.db import connection

    from timekeeping.models import TimeEntry
    from timekeeping.services import time_entries_send_for_billing

    try:
        batch, _ = time_entries_send_for_billing(
            entries=TimeEntry.objects.filter(billing_status__in=statuses)
        )
        return {"entries": batch.entry_count, "sent": batch.sent_count, "errors": batch.error_count}
    finally:
        connection.close()


def duplicates(queryset, field: str) -> int:
    from django.db.models import Count

    return (
        queryset.exclude(**{f"{field}__isnull": True})
        .exclude(**{field: ""})
        .values(field)
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )


def convergence_check(seeded: dict, planted: set[int], red_matters: set[int]):
    """Answers (counts, problems): an empty list of problems means converged."""
    from contacts.models import Contact as HubContact
    from sandbox.la import models as la
    from sandbox.pm import models as pm
    from sync.connectors import la_client, pm_client
    from sync.connectors.actionstep import mapping as pm_mapping
    from sync.connectors.legal_accounting import mapping as la_mapping
    from sync.fields import CONTACT_FIELDS, LA, PM
    from sync.models import Link, LinkStatus, RecordType
    from sync.services import contacts
    from sync.services.time_entries import ENTRY_FIELDS
    from timekeeping.models import TimeEntry, Timekeeper

    problems: list[str] = []
    counts: dict[str, int] = {}

    def expect(name: str, value: int, wanted: int) -> None:
        counts[name] = value
        if value != wanted:
            problems.append(f"{name}: {value}, expected {wanted}")

    # No duplicates, in either system or in the hub.
    expect("duplicate LA contacts (same PM id)", duplicates(la.Contact.objects, "pm_contact_id"), 0)
    # A PM contact the hub made from an LA contact carries LA's number as its Reference;
    # only the planted contacts (a number LA already holds, red) may share one.
    expect(
        "duplicate PM contacts (same LA number)",
        duplicates(pm.Participant.objects.exclude(pk__in=planted), "import_external_reference"),
        0,
    )
    expect("duplicate LA files (same PM id)", duplicates(la.File.objects, "pm_matter_id"), 0)
    expect("duplicate LA time entries", duplicates(la.TimeEntry.objects, "external_id"), 0)
    expect(
        "hub contacts without a link",
        HubContact.objects.filter(link__isnull=True).count(),
        0,
    )

    # Nothing missing.
    pm_contact_ids = set(
        map(str, pm.Participant.objects.filter(user__isnull=True).values_list("pk", flat=True))
    )
    la_contact_ids = set(map(str, la.Contact.objects.values_list("pk", flat=True)))
    contact_links = Link.objects.filter(record_type=RecordType.CONTACT)
    expect(
        "PM contacts not in the hub",
        len(pm_contact_ids - set(contact_links.values_list("pm_id", flat=True))),
        0,
    )
    expect(
        "LA contacts not in the hub",
        len(la_contact_ids - set(contact_links.values_list("la_id", flat=True))),
        0,
    )
    expect("PM contacts", len(pm_contact_ids), seeded["contacts"] + seeded["la_contacts"])
    expect(
        "LA contacts",
        len(la_contact_ids),
        seeded["contacts"] + seeded["la_contacts"] - len(planted),
    )
    pm_matter_ids = set(map(str, pm.Action.objects.values_list("pk", flat=True)))
    matter_links = Link.objects.filter(record_type=RecordType.MATTER)
    expect(
        "PM matters not in the hub",
        len(pm_matter_ids - set(matter_links.values_list("pm_id", flat=True))),
        0,
    )
    expect("LA files", la.File.objects.count(), len(pm_matter_ids) - len(red_matters))
    red_entries = pm.TimeEntry.objects.filter(action_id__in=red_matters).count()
    pm_entries = pm.TimeEntry.objects.count()
    expect("PM time entries not in the hub", pm_entries - TimeEntry.objects.count(), 0)
    expect("LA time entries", la.TimeEntry.objects.count(), pm_entries - red_entries)

    # Exactly the planted errors are red, with LA's message.
    statuses = Counter(Link.objects.values_list("record_type", "status"))
    for (record_type, status), number in sorted(statuses.items()):
        counts[f"{record_type} links {status}"] = number
    red_contacts = list(contact_links.filter(status=LinkStatus.ERROR))
    expect("red contacts", len(red_contacts), len(planted))
    for link in red_contacts:
        reference = link.contact.reference
        if not (
            int(link.pm_id) in planted
            and link.error_code == "already_assigned"
            and f"contact number {reference} is already assigned" in link.message
        ):
            problems.append(f"unexpected red contact {link.pm_id}: {link.message}")
    red_matter_links = list(matter_links.filter(status=LinkStatus.ERROR))
    expect("red matters", len(red_matter_links), len(red_matters))
    for link in red_matter_links:
        if int(link.pm_id) not in red_matters or not link.message.startswith(
            "client contact not linked: contact number"
        ):
            problems.append(f"unexpected red matter {link.pm_id}: {link.message}")
    red_time = Link.objects.filter(record_type=RecordType.TIME_ENTRY, status=LinkStatus.ERROR)
    expect("red time entries", red_time.count(), red_entries)
    for link in red_time.select_related("time_entry__matter__link")[:1000]:
        if int(link.time_entry.matter.link.pm_id) not in red_matters:
            problems.append(f"unexpected red time entry {link.pm_id}: {link.message}")
    expect(
        "links pending or unknown",
        Link.objects.filter(status__in=[LinkStatus.PENDING, LinkStatus.UNKNOWN]).count(),
        0,
    )
    # Billing: nothing left claimed, nothing in LA that the hub shows as not sent.
    from timekeeping.models import BillingBatch
    from timekeeping.services import OPEN

    expect(
        "time entries queued",
        TimeEntry.objects.filter(billing_status=TimeEntry.BillingStatus.QUEUED).count(),
        0,
    )
    expect("billing batches open", BillingBatch.objects.filter(status__in=OPEN).count(), 0)
    in_la = set(la.TimeEntry.objects.values_list("external_id", flat=True))
    not_sent = Link.objects.filter(
        record_type=RecordType.TIME_ENTRY,
        time_entry__billing_status__in=[
            TimeEntry.BillingStatus.UNSENT,
            TimeEntry.BillingStatus.ERROR,
        ],
    ).values_list("pm_id", flat=True)
    expect("time entries in LA the hub shows as not sent", len(in_la & set(not_sent)), 0)

    # Every mapped field equal in the hub, PM and LA (read through the APIs).
    firm_people = set(
        Timekeeper.objects.exclude(pm_user_id=None).values_list("pm_user_id", flat=True)
    )
    pm_values = {
        str(raw["id"]): contacts.pm_remote(raw).values
        for raw in pm_client().list_all("participants")
        if str(raw["id"]) not in firm_people
    }
    la_values = {
        str(raw["id"]): contacts.la_remote(raw).values for raw in la_client().list_all("contacts")
    }
    differing = 0
    for link in contact_links.filter(status=LinkStatus.SYNCED).select_related("contact"):
        hub = contacts.ADAPTER.hub_values(link.contact)
        for shared in CONTACT_FIELDS:
            sides = [("PM", pm_values.get(link.pm_id))] if PM in shared.systems else []
            sides += [("LA", la_values.get(link.la_id))] if LA in shared.systems else []
            for side, values in sides:
                if values is None or values.get(shared.name) != hub[shared.name]:
                    differing += 1
                    if differing <= 10:
                        problems.append(
                            f"contact {link.pk} {shared.name}: hub {hub[shared.name]!r}, "
                            f"{side} {None if values is None else values.get(shared.name)!r}"
                        )
    actions = {
        str(raw["id"]): pm_mapping.action_from_pm(raw) for raw in pm_client().list_all("actions")
    }
    files = {
        str(raw["id"]): la_mapping.from_la(la_mapping.FILE, raw)
        for raw in la_client().list_all("files")
    }
    for link in matter_links.filter(status=LinkStatus.SYNCED).select_related(
        "matter__client__link", "matter__assigned_to"
    ):
        matter = link.matter
        assigned = matter.assigned_to
        wanted_pm = {
            "name": matter.name,
            "file_reference": matter.file_reference,
            "status": matter.status,
            "client": matter.client.link.pm_id,
            "assigned_to": assigned.pm_user_id if assigned else None,
        }
        wanted_la = {
            "name": matter.name,
            "file_reference": matter.file_reference,
            "client": int(matter.client.link.la_id),
            "assigned_to": int(assigned.la_fee_earner_id) if assigned else None,
        }
        for side, values, wanted in (
            ("PM", actions.get(link.pm_id), wanted_pm),
            ("LA", files.get(link.la_id), wanted_la),
        ):
            for name, value in wanted.items():
                got = None if values is None else values.get(name)
                if got != value:
                    differing += 1
                    if differing <= 10:
                        problems.append(f"matter {link.pk} {name}: hub {value!r}, {side} {got!r}")
    la_entries = {
        str(raw["id"]): la_mapping.time_entry_from_la(raw)
        for raw in la_client().list_all("time-entries")
    }
    pm_entries_values = {
        str(raw["id"]): pm_mapping.time_entry_from_pm(raw)
        for raw in pm_client().list_all("timeentries")
    }
    for link in Link.objects.filter(
        record_type=RecordType.TIME_ENTRY, status=LinkStatus.SYNCED
    ).select_related("time_entry"):
        entry = link.time_entry
        for side, values, names in (
            (
                "LA",
                la_entries.get(link.la_id),
                ["date", "description", "billable_hours", "rate", "amount", "billing_behaviour"],
            ),
            (
                "PM",
                pm_entries_values.get(link.pm_id),
                ENTRY_FIELDS,
            ),
        ):
            for name in names:
                got = None if values is None else values.get(name)
                if got != getattr(entry, name):
                    differing += 1
                    if differing <= 10:
                        hub = getattr(entry, name)
                        problems.append(f"time entry {link.pk} {name}: hub {hub!r}, {side} {got!r}")
    expect("mapped fields differing (hub vs PM vs LA)", differing, 0)
    return counts, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--matters", type=int, default=150)
    parser.add_argument("--time-entries", type=int, default=600)
    parser.add_argument("--la-contacts", type=int, default=60)
    parser.add_argument("--clashes", type=int, default=5, help="planted Reference clashes")
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="qcluster workers")
    parser.add_argument("--duration", type=float, default=90, help="seconds under faults")
    parser.add_argument(
        "--kill-at",
        type=float,
        default=15,
        help="SIGKILL a worker after this many seconds (0: never)",
    )
    parser.add_argument(
        "--cluster-kill-at",
        type=float,
        default=30,
        help="SIGKILL the whole cluster and start another after this many seconds (0: never)",
    )
    parser.add_argument("--settle", type=float, default=480, help="seconds allowed to converge")
    parser.add_argument(
        "--settle-limit",
        type=float,
        default=SETTLE_LIMIT,
        help="seconds after the faults by which every link must have settled (checked); a "
        "cluster killed and not restarted holds its links' leases for 150 s",
    )
    parser.add_argument("--poll-every", type=float, default=15)
    parser.add_argument("--sweep-every", type=float, default=5)
    parser.add_argument("--edits-per-second", type=float, default=1.0)
    parser.add_argument("--redis", action="store_true", help="use the Redis broker")
    parser.add_argument("--clusters", type=int, default=1, help="qcluster processes side by side")
    parser.add_argument(
        "--no-cluster-restart",
        dest="cluster_restart",
        action="store_false",
        help="leave the killed cluster dead: the others take its work over",
    )
    parser.add_argument(
        "--webs",
        type=int,
        default=1,
        help="web processes; with 2 or more the send for billing goes to another than the "
        "hub's own and that one is killed under it (the person sends again to the first)",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=0,
        help="requests a minute the hub may make to each system, and the limit each "
        "emulator enforces (0: unlimited)",
    )
    parser.add_argument(
        "--no-web-restart",
        dest="web_restart",
        action="store_false",
        help="do not kill the web server during the send for billing",
    )
    parser.add_argument("--seed", type=int, default=2026)
    common_arguments(parser)
    options = parser.parse_args(argv)

    stack = Stack(
        "soak",
        postgres=options.postgres,
        redis=options.redis,
        workers=options.workers,
        http_timeout=HTTP_TIMEOUT,
    )
    if options.budget:
        stack.env["PM_REQUESTS_PER_MINUTE"] = str(options.budget)
        stack.env["LA_REQUESTS_PER_MINUTE"] = str(options.budget)
    timeline: list[tuple[float, str]] = []
    with stack:
        stack.create()
        seeded = stack.seed(
            contacts=options.contacts,
            matters=options.matters,
            time_entries=options.time_entries,
            la_contacts=options.la_contacts,
            clashes=options.clashes,
            users=options.users,
            seed=options.seed,
        )
        stack.serve()
        api_base = stack.base
        for number in range(2, options.webs + 1):
            api_base = stack.serve(f"server{number}")
        stack.django_setup()
        facts = machine(stack)
        planted, red_matters = planted_records(seeded["clashing_references"])
        people = People(options.seed, planted)

        from django.contrib.auth import get_user_model
        from django.db import connection

        from sync.services.subscriptions import la_webhooks_ensure, pm_resthooks_ensure
        from timekeeping.models import TimeEntry

        get_user_model().objects.create_superuser(ADMIN[0], "admin@soak.test", ADMIN[1])
        pm_resthooks_ensure()
        la_webhooks_ensure()
        faults_set(options.seed, **FAULTS, requests_per_minute=options.budget)
        clusters = [f"qcluster{n}" if n else "qcluster" for n in range(options.clusters)]
        for name in clusters:
            stack.qcluster_start(name)
        print(
            f"Seeded PM with {seeded['contacts']} contacts ({len(planted)} clashing), "
            f"{seeded['matters']} matters, {seeded['time_entries']} time entries; LA with "
            f"{seeded['la_contacts']} contacts. Faults on for {options.duration:.0f} s…",
            flush=True,
        )

        started = time.monotonic()

        def log(what: str) -> None:
            moment = time.monotonic() - started
            timeline.append((round(moment, 1), what))
            print(f"  {moment:6.1f} s  {what}", flush=True)

        due = {"poll": 0.0, "sweep": 0.0, "edit": 5.0}
        sender: list[dict] = []
        server_log = ""
        posting = threading.Event()

        def send_for_billing() -> None:
            """A person's send; the web server is killed under it, so they send again
            once the server answers (what they asked for was or wasn't claimed: either
            way nothing is lost and nothing goes twice)."""
            sender.append(send_time_over_http(api_base, posting))
            if "cut off" in str(sender[0].get("request")):
                time.sleep(3)
                sender.append(send_time_over_http(stack.base, threading.Event()))

        send_thread = threading.Thread(target=send_for_billing)
        killed_worker = killed_cluster = False
        while (now := time.monotonic() - started) < options.duration:
            if now >= due["poll"]:
                enqueue("sync.tasks.poll_task")
                due["poll"] += options.poll_every
            if now >= due["sweep"]:
                enqueue("sync.tasks.sweep_task")
                due["sweep"] += options.sweep_every
            if options.edits_per_second and now >= due["edit"]:
                people.edit()
                due["edit"] += 1 / options.edits_per_second
            if options.kill_at and not killed_worker and now >= options.kill_at:
                killed_worker = True
                pid = stack.qcluster_kill_worker()
                log(f"SIGKILL qcluster worker {pid}")
            if options.cluster_kill_at and not killed_cluster and now >= options.cluster_kill_at:
                killed_cluster = True
                pids = stack.qcluster_kill(clusters[-1])
                if options.cluster_restart:
                    log(f"SIGKILL a whole qcluster ({len(pids)} processes); starting a new one")
                    stack.qcluster_start(clusters[-1])
                else:
                    log(f"SIGKILL a whole qcluster ({len(pids)} processes); the others go on")
            if not send_thread.is_alive() and not sender and now >= options.duration / 2:
                log("sending all unsent time for billing through the API (under faults)")
                send_thread.start()
                if options.web_restart:
                    posting.wait(timeout=60)
                    time.sleep(0.05)  # the request is in flight
                    if options.webs > 1:
                        server_log = stack.log_tail(f"server{options.webs}", 3000)
                        stack.server_kill(f"server{options.webs}")
                        log("SIGKILL a web host mid-request; the person sends again to another")
                    else:
                        server_log = stack.log_tail("server", 3000)
                        stack.server_kill()
                        log("SIGKILL the web server mid-request; starting it again")
                        stack.serve()
            time.sleep(0.05)
        faults_set(options.seed, **NO_FAULTS)
        log("faults off; settling")
        if send_thread.is_alive() or sender:
            send_thread.join()
        log(f"billing send under faults: {sender or 'not run'}")
        if (
            sender
            and sender[0].get("request") not in (202, None)
            and "cut" not in str(sender[0].get("request"))
        ):
            print(server_log, flush=True)

        deadline = started + options.duration + options.settle
        due = {"poll": now, "sweep": now}
        calm_since = None
        while time.monotonic() < deadline:
            now = time.monotonic() - started
            if now >= due["poll"]:
                enqueue("sync.tasks.poll_task")
                due["poll"] = now + options.poll_every
            if now >= due["sweep"]:
                enqueue("sync.tasks.sweep_task")
                due["sweep"] = now + options.sweep_every
            if now >= due.setdefault("report", now):
                log(waiting())
                due["report"] = now + 30
            if settled():
                calm_since = calm_since or time.monotonic()
                if time.monotonic() - calm_since >= 2 * options.poll_every:
                    break
            else:
                calm_since = None
            time.sleep(1)
        # When it settled: the calm it waited out after settling is not settling.
        settle_seconds = (calm_since or time.monotonic()) - started - options.duration
        log("settled" if calm_since else "settle deadline reached")
        resend = send_time([TimeEntry.BillingStatus.UNSENT, TimeEntry.BillingStatus.ERROR])
        log(f"sent again the time not yet in LA: {resend}")
        connection.close()
        counts, problems = convergence_check(seeded, planted, red_matters)
        log("convergence checked")
        tasks = task_counts()
        requests = request_rates(options.budget)
        for system, rates in requests.items():
            if refused := rates["refused for the limit"]:
                problems.append(f"{system}: {refused} requests over the limit")
            if options.budget and rates["peak a minute"] > options.budget:
                problems.append(f"{system}: {rates['peak a minute']} requests in a minute")
        if tasks["tasks failed (raised)"]:
            problems.append(f"{tasks['tasks failed (raised)']} tasks failed (raised)")
        if settle_seconds > options.settle_limit:
            problems.append(
                f"settled {settle_seconds:.0f} s after the faults, over {options.settle_limit:.0f}"
            )
        worker_log = stack.log_tail("qcluster", 2000)

    print_table(["check", "count"], [[k, v] for k, v in counts.items()], title="Convergence")
    print_table(["", "count"], [[k, v] for k, v in {**people.count, **tasks}.items()])
    print_table(
        ["system", *next(iter(requests.values()))],
        [[system, *rates.values()] for system, rates in requests.items()],
        title="Requests",
    )
    if problems:
        print("\nNOT CONVERGED:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
    else:
        print("\nConverged: no duplicates, nothing missing, fields equal, only planted errors red.")
    data = {
        "benchmark": "soak",
        "command": "benchmarks/soak.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "options": {k: str(v) for k, v in vars(options).items()},
        "machine": facts,
        "faults": FAULTS,
        "hub_http_timeout_seconds": HTTP_TIMEOUT,
        "seeded": seeded,
        "timeline": timeline,
        "billing_send_under_faults": sender,
        "billing_resend": resend,
        "edits": dict(people.count),
        "tasks": tasks,
        "requests": requests,
        "counts": counts,
        "converged": not problems,
        "problems": problems,
        "seconds_to_settle": round(settle_seconds, 1),
    }
    if problems:
        data["qcluster_log_tail"] = worker_log
    label = result_label(stack, options, "redis" if options.redis else "")
    write_results("soak", label, data, options.results_dir)
    return 1 if problems else 0


def request_rates(budget: int) -> dict[str, dict[str, int]]:
    """Per system: the budget, the most requests its emulator answered in any minute,
    and how many it refused for going over the limit (all server processes together)."""
    from sandbox.faults import requests_per_minute_peak
    from sandbox.models import FaultConfig

    limited = dict(FaultConfig.objects.values_list("system", "requests_limited"))
    return {
        system: {
            "budget a minute": budget,
            "peak a minute": requests_per_minute_peak(system),
            "refused for the limit": limited.get(system, 0),
        }
        for system in ("pm", "la")
    }


def task_counts() -> dict[str, int]:
    from django_q.models import Failure

    from sync.models import SyncEvent, WebhookReceipt

    outcomes = Counter(SyncEvent.objects.values_list("outcome", flat=True))
    return {
        "tasks failed (raised)": Failure.objects.count(),
        "webhooks received": WebhookReceipt.objects.count(),
        **{f"sync events {outcome}": n for outcome, n in sorted(outcomes.items())},
    }


if __name__ == "__main__":
    sys.exit(main())
