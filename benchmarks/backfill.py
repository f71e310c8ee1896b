"""Backfill: a firm's first full sync from PM into an empty LA, against the HTTP floor.

The PM sandbox is seeded with contacts, matters and time (LA holds only the fee earners
matching PM's users). The engine then runs the first sync over real HTTP, in this
process, the way `manage.py sync_now` and the tasks do it:

1. poll: `poll_all()` reads timekeepers and every PM/LA collection and ingests the
   records into the hub (contacts, matters and time entries);
2. contacts: every contact link is synced (`link_sync`, the body of the sync task) by
   W threads, each with its own database connection;
3. matters: the same for matter links;
4. send: every time entry is sent for billing (`time_entries_send_for_billing`).

Threads rather than qcluster workers: the engine is I/O bound and thread-safe (leases
on the link rows, one HTTP session per system and process), threads let this process
count the database queries of every sync, and the broker's own latency is measured by
`propagation.py` and `soak.py`, which use a real qcluster.

The floor: every HTTP call the engine made is logged (method, path, query, body). The
same seed is loaded into a second, fresh sandbox and a bare `requests` client replays
the log with no engine — same endpoints, same count, same bodies, the same concurrency
per phase — mapping LA's new ids to the ids the replay gets back. engine / floor is the
cost of the engine's own work (database, mapping, merging, bookkeeping).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import pstats
import queue
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import requests
from harness import (
    ROOT,
    RssSampler,
    Stack,
    common_arguments,
    machine,
    peak_rss_mb,
    print_table,
    rss_mb,
    write_results,
)

from sandbox.pm.consent import tool_token

PHASES = ["poll", "contacts", "matters", "send"]
# Which phases and poll units make up each record type's figure.
TYPE_UNITS = {
    "contacts": ("poll:participants", "contacts"),
    "matters": ("poll:actions", "matters"),
    "time entries": ("poll:timeentries", "send"),
}
LA_PREFIX = "/sandbox/la/api/v1/"
LA_ID_IN_PATH = re.compile(r"^(/sandbox/la/api/v1/(contacts|files)/)(\d+)")


class CallLog:
    """Every HTTP call the connectors make, with the unit of work it belonged to."""

    def __init__(self, path: Path, base: str):
        self.path = path
        self.base = base
        self.file = path.open("w")
        self.lock = threading.Lock()
        self.local = threading.local()
        self.tokens = 0
        self.counts: Counter[str] = Counter()

    def unit(self, name: str) -> None:
        self.local.unit = name

    def install(self) -> None:
        from sync.connectors.actionstep.oauth import ActionstepOAuth
        from sync.connectors.base import JsonHttpClient

        send, refresh = JsonHttpClient.send, ActionstepOAuth.token_refreshed
        log = self

        def logged_send(client, method, path, *, json=None, params=None, headers=None):
            response = send(client, method, path, json=json, params=params, headers=headers)
            log.write(client, method, path, json, params, headers, response)
            return response

        def counted_refresh(oauth, *, refresh_token):
            with log.lock:
                log.tokens += 1
                log.counts[f"{getattr(log.local, 'unit', '?').split(':')[0]} token"] += 1
            return refresh(oauth, refresh_token=refresh_token)

        JsonHttpClient.send = logged_send
        ActionstepOAuth.token_refreshed = counted_refresh

    def write(self, client, method, path, body, params, headers, response) -> None:
        url = client.url(path)
        record = {
            "unit": getattr(self.local, "unit", "?"),
            "system": client.system,
            "method": method,
            "path": url[len(self.base) :] if url.startswith(self.base) else url,
            "params": params,
            "json": body,
            # The replay signs its calls with its own token.
            "headers": {k: v for k, v in (headers or {}).items() if k != "Authorization"},
            "status": response.status_code,
        }
        if client.system == "la" and method == "POST" and response.status_code < 300:
            answer = response.json()
            if isinstance(answer, dict) and "id" in answer:
                record["answer_id"] = str(answer["id"])
        line = json.dumps(record, default=str)
        with self.lock:
            self.file.write(line + "\n")
            self.counts[f"{record['unit'].split(':')[0]} {client.system}"] += 1

    def close(self) -> None:
        self.file.close()


class QueryCounter:
    """Counts this thread's database queries by kind (an `execute_wrapper`)."""

    def __init__(self, totals: Counter, lock: threading.Lock):
        self.totals = totals
        self.lock = lock

    def __call__(self, execute, sql, params, many, context):
        kind = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        with self.lock:
            self.totals[kind] += 1
        return execute(sql, params, many, context)


def run_threads(items: list, workers: int, work, *, per_thread=None) -> None:
    """Run `work(item)` for every item on `workers` threads, first come first served."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for item in items:
        todo.put(item)
    failures: list[BaseException] = []

    def loop() -> None:
        try:
            with per_thread() if per_thread else contextlib.nullcontext():
                while True:
                    try:
                        item = todo.get_nowait()
                    except queue.Empty:
                        return
                    work(item)
        except BaseException as error:  # reported once every thread is done
            failures.append(error)

    threads = [threading.Thread(target=loop, name=f"worker-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


class Profiles:
    """One cProfile per thread, merged at the end (cProfile sees only its own thread)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.profiles: list[cProfile.Profile] = []
        self.lock = threading.Lock()

    def __call__(self):
        return _ThreadProfile(self) if self.enabled else contextlib.nullcontext()

    def stats(self) -> pstats.Stats | None:
        if not self.profiles:
            return None
        stats = pstats.Stats(self.profiles[0], stream=io.StringIO())
        for profile in self.profiles[1:]:
            stats.add(profile)
        return stats


class _ThreadProfile:
    def __init__(self, owner: Profiles):
        self.owner = owner
        self.profile = cProfile.Profile()

    def __enter__(self):
        self.profile.enable()
        return self

    def __exit__(self, *exc_info):
        self.profile.disable()
        with self.owner.lock:
            self.owner.profiles.append(self.profile)
        return False


PROFILE_BUCKETS = [
    ("waiting on the server (socket)", ("_socket.socket", "/socket.py:")),
    ("database driver", ("sqlite3", "SQLiteCursorWrapper", "psycopg")),
    ("Django ORM", ("/django/db/",)),
    ("requests / urllib3 / http.client", ("/requests/", "/urllib3/", "/http/client", "/email/")),
    ("json", ("/json/",)),
    ("hub code", ("/sync/", "/contacts/", "/matters/", "/timekeeping/")),
    ("Django other", ("/django/",)),
    ("thread waits (locks, queues)", ("_thread.lock", "/threading.py:", "/queue.py:")),
]


def profile_summary(stats: pstats.Stats, top: int = 20) -> dict:
    """Own time by kind of work, and the functions with the most time below them."""
    buckets: Counter[str] = Counter()
    total = 0.0
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        total += tottime
        where = f"{filename}:{name}"
        for label, needles in PROFILE_BUCKETS:
            if any(needle in where for needle in needles):
                buckets[label] += tottime
                break
        else:
            buckets["built-ins and other Python (mostly called by the ORM)"] += tottime
    listings = {}
    for order in ("cumulative", "tottime"):
        stream = io.StringIO()
        stats.stream = stream
        stats.sort_stats(order).print_stats(top)
        listings[order] = stream.getvalue().replace(str(ROOT) + "/", "")
    return {
        "own_seconds_by_kind": {k: round(v, 2) for k, v in buckets.most_common()},
        "profiled_seconds": round(total, 2),
        "top_cumulative": listings["cumulative"],
        "top_own_time": listings["tottime"],
    }


def run_engine(stack: Stack, options, log: CallLog) -> dict:
    from django.db import connection, connections

    from sandbox.la import models as la
    from sandbox.pm import models as pm
    from sync.models import Link, LinkStatus, RecordType
    from sync.services import changes, link_sync, links_collected
    from timekeeping.models import TimeEntry
    from timekeeping.services import time_entries_send_for_billing

    log.install()
    queries: dict[str, Counter] = defaultdict(Counter)
    query_lock = threading.Lock()
    seconds: dict[str, float] = {}
    profiles = Profiles(options.profile)

    poll = changes._poll

    def timed_poll(system, resource, firm_people, *, page_limit=None):
        log.unit(f"poll:{resource}")
        started = time.perf_counter()
        with connection.execute_wrapper(QueryCounter(queries[f"poll:{resource}"], query_lock)):
            seen = poll(system, resource, firm_people, page_limit=page_limit)
        seconds[f"poll:{resource}"] = time.perf_counter() - started
        log.unit("poll:timekeepers")
        return seen

    changes._poll = timed_poll
    rss: dict[str, float] = {"start": rss_mb()}
    with RssSampler() as sampler:
        log.unit("poll:timekeepers")
        started = time.perf_counter()
        with profiles(), links_collected() as queued:
            counts = changes.poll_all()
        seconds["poll"] = time.perf_counter() - started
        changes._poll = poll
        rss["after poll"] = rss_mb()

        ordered = list(dict.fromkeys(queued))
        types = dict(
            Link.objects.exclude(record_type=RecordType.TIME_ENTRY)
            .values_list("pk", "record_type")
            .iterator()
        )
        for phase, record_type in (
            ("contacts", RecordType.CONTACT),
            ("matters", RecordType.MATTER),
        ):
            link_ids = [pk for pk in ordered if types.get(pk) == record_type]

            def per_thread(phase=phase):
                return _ThreadSetup(
                    connection, connections, QueryCounter(queries[phase], query_lock), profiles
                )

            def sync(link_id, phase=phase):
                log.unit(f"{phase}:{link_id}")
                link_sync(link_id=link_id)

            started = time.perf_counter()
            run_threads(link_ids, options.workers, sync, per_thread=per_thread)
            seconds[phase] = time.perf_counter() - started
            rss[f"after {phase}"] = rss_mb()

        log.unit("send:billing")
        started = time.perf_counter()
        with profiles(), connection.execute_wrapper(QueryCounter(queries["send"], query_lock)):
            batch, results = time_entries_send_for_billing(entries=TimeEntry.objects.all())
        seconds["send"] = time.perf_counter() - started
        rss["after send"] = rss_mb()
    log.close()

    links = Counter(
        f"{rt} {status}"
        for rt, status in Link.objects.values_list("record_type", "status").iterator()
    )
    pm_contacts = pm.Participant.objects.filter(user__isnull=True).count()
    check = {
        "pm contacts": pm_contacts,
        "la contacts": la.Contact.objects.count(),
        "pm matters": pm.Action.objects.count(),
        "la files": la.File.objects.count(),
        "pm time entries": pm.TimeEntry.objects.count(),
        "la time entries": la.TimeEntry.objects.count(),
        "time entries sent": batch.sent_count,
        "time entries refused": batch.error_count,
        "links not synced": sum(
            n for key, n in links.items() if not key.endswith(LinkStatus.SYNCED)
        ),
    }
    return {
        "seconds": seconds,
        "poll_counts": counts,
        "queries": {phase: dict(counter) for phase, counter in queries.items()},
        "records": {
            "contacts": sum(1 for pk in ordered if types.get(pk) == RecordType.CONTACT),
            "matters": sum(1 for pk in ordered if types.get(pk) == RecordType.MATTER),
            "time entries": len(results),
        },
        "rss_mb": {
            **{k: round(v, 1) for k, v in rss.items()},
            "peak": round(max(sampler.peak(), *rss.values()), 1),
        },
        "peak_rss_mb_process": round(peak_rss_mb(), 1),
        "check": check,
        "profile": profiles.stats(),
    }


class _ThreadSetup:
    """A worker thread's own database connection, query counter and profile."""

    def __init__(self, connection, connections, counter, profiles):
        self.connection = connection
        self.connections = connections
        self.counter = counter
        self.profile = profiles()
        self.wrapper = None

    def __enter__(self):
        self.wrapper = self.connection.execute_wrapper(self.counter)
        self.wrapper.__enter__()
        self.profile.__enter__()
        return self

    def __exit__(self, *exc_info):
        self.profile.__exit__(*exc_info)
        self.wrapper.__exit__(*exc_info)
        self.connections.close_all()
        return False


def load_units(path: Path) -> dict[str, list[dict]]:
    units: dict[str, list[dict]] = {}
    with path.open() as lines:
        for line in lines:
            record = json.loads(line)
            units.setdefault(record["unit"], []).append(record)
    return units


class Replayer:
    """The floor: the engine's HTTP calls made again by a bare `requests` client."""

    def __init__(self, base: str):
        self.base = base
        self.sessions = {"pm": requests.Session(), "la": requests.Session()}
        self.ids: dict[str, dict[str, str]] = {"contacts": {}, "files": {}}
        self.token = ""
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.failures: Counter[int] = Counter()

    def pm_token(self) -> None:
        """A token the way any Actionstep client gets one: a person consents (the
        sandbox's consent page, answered by `tool_token`), then the code is exchanged."""
        self.token = tool_token(self.base, timeout=30)["access_token"]
        with self.lock:
            self.calls["token"] += 1

    def headers(self, record: dict) -> dict:
        if record["system"] == "pm":
            headers = {
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.api+json",
            }
            if record["json"] is not None:
                headers["Content-Type"] = "application/vnd.api+json"
        else:
            headers = {"Authorization": "Bearer sandbox-la-token", "Accept": "application/json"}
            if record["json"] is not None:
                headers["Content-Type"] = "application/json"
        return {**headers, **record["headers"]}

    def remap(self, record: dict) -> tuple[str, dict | None]:
        path = LA_ID_IN_PATH.sub(
            lambda m: m.group(1) + self.ids[m.group(2)].get(m.group(3), m.group(3)),
            record["path"],
        )
        body = record["json"]
        if record["system"] == "la" and isinstance(body, dict):
            body = dict(body)
            if "contact" in body and body["contact"] is not None:
                body["contact"] = int(self.ids["contacts"].get(str(body["contact"]), 0))
            if isinstance(body.get("entries"), list):
                body["entries"] = [
                    {**item, "file": int(self.ids["files"].get(str(item["file"]), 0))}
                    for item in body["entries"]
                ]
        return path, body

    def play(self, records: list[dict]) -> None:
        for record in records:
            path, body = self.remap(record)
            url = path if path.startswith("http") else self.base + path
            session = self.sessions[record["system"]]
            data = json.dumps(body) if body is not None else None

            def send(record=record, url=url, data=data, session=session):
                return session.request(
                    record["method"],
                    url,
                    params=record["params"],
                    data=data,
                    headers=self.headers(record),
                    timeout=60,
                )

            response = send()
            if response.status_code == 401 and record["system"] == "pm":
                self.pm_token()
                response = send()  # with the new token
            if "answer_id" in record and response.status_code < 300:
                kind = record["path"][len(LA_PREFIX) :].split("/")[0]
                self.ids[kind][record["answer_id"]] = str(response.json()["id"])
            with self.lock:
                self.calls[record["system"]] += 1
                if response.status_code != record["status"]:
                    self.failures[response.status_code] += 1


def run_floor(stack: Stack, units: dict[str, list[dict]], workers: int) -> dict:
    replayer = Replayer(stack.base)
    replayer.pm_token()
    seconds: dict[str, float] = {}
    for phase in PHASES:
        names = [name for name in units if name.split(":")[0] == phase]
        started = time.perf_counter()
        if phase in ("contacts", "matters"):
            run_threads(names, workers, lambda name: replayer.play(units[name]))
        else:
            for name in names:
                unit_started = time.perf_counter()
                replayer.play(units[name])
                seconds[name] = time.perf_counter() - unit_started
        seconds[phase] = time.perf_counter() - started
    return {
        "seconds": seconds,
        "calls": dict(replayer.calls),
        "status_differences": dict(replayer.failures),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--matters", type=int, default=2000)
    parser.add_argument("--time-entries", type=int, default=20000)
    parser.add_argument("--users", type=int, default=5, help="PM users (timekeepers)")
    parser.add_argument("--workers", type=int, default=2, help="sync threads")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the engine with cProfile (slows it; the figures are marked profiled)",
    )
    parser.add_argument(
        "--pm-rpm",
        type=int,
        default=0,
        help="PM requests a minute: the hub's budget and the limit the PM sandbox enforces",
    )
    parser.add_argument("--la-rpm", type=int, default=0, help="the same for LA")
    common_arguments(parser)
    options = parser.parse_args(argv)
    if options.pm_rpm or options.la_rpm:
        return main_limited(options)

    seed = {
        "contacts": options.contacts,
        "matters": options.matters,
        "time_entries": options.time_entries,
        "users": options.users,
        "seed": options.seed,
    }
    engine_stack = Stack("backfill", postgres=options.postgres)
    # The engine runs in this one process, and its limits are out of the way: the bucket
    # is this process's (as before the budget was shared), so what is measured is the
    # engine, not a database round trip before every request (docs/performance.md).
    engine_stack.env["REQUEST_BUDGET_STORE"] = "process"
    floor_stack = Stack("backfill_floor", postgres=options.postgres)
    with engine_stack, floor_stack:
        engine_stack.create()
        seeded = engine_stack.seed(**seed)
        engine_stack.serve()
        engine_stack.django_setup()
        facts = machine(engine_stack)
        print(
            f"Seeded PM with {seeded['contacts']:,} contacts, {seeded['matters']:,} matters, "
            f"{seeded['time_entries']:,} time entries; syncing with {options.workers} threads "
            f"on {engine_stack.db_label}…",
            flush=True,
        )
        log = CallLog(engine_stack.dir / "calls.jsonl", engine_stack.base)
        engine = run_engine(engine_stack, options, log)
        engine_stack.stop("server")
        units = load_units(log.path)

        floor_stack.create()
        floor_stack.seed(**seed)
        floor_stack.serve()
        print("Replaying the engine's HTTP calls with a bare requests client…", flush=True)
        floor = run_floor(floor_stack, units, options.workers)

    return report(options, facts, engine, floor, log, units)


# The floor under limits: the fewest requests the two APIs allow for a first sync,
# counted by hand from the contracts (docs/performance.md, "Requests per record").
# A contact from PM: its page of participants (200 a page), a page of LA search, its
# create in LA, and LA's number written back to PM. A matter the same. A time entry:
# its page of PM time entries, its share of an LA batch (100 a batch) and of the reads of
# its matter in both systems (200 a page).
FLOOR_PER_RECORD = {
    "contacts": {"pm": 1 + 1 / 200, "la": 1 + 1 / 200},
    "matters": {"pm": 1 + 1 / 200, "la": 1 + 1 / 200},
    "time entries": {"pm": 1 / 200, "la": 1 / 100},
}


def main_limited(options) -> int:
    """The backfill under request limits: the hub held to its budgets, each sandbox
    refusing requests over the same limit. Answers requests per record and wall time;
    the floor is the count by hand (FLOOR_PER_RECORD), since a replay would be held to
    the same limits."""
    stack = Stack("backfill", postgres=options.postgres)
    unlimited = str(10**6)
    stack.env["PM_REQUESTS_PER_MINUTE"] = str(options.pm_rpm or unlimited)
    stack.env["LA_REQUESTS_PER_MINUTE"] = str(options.la_rpm or unlimited)
    with stack:
        stack.create()
        seeded = stack.seed(
            contacts=options.contacts,
            matters=options.matters,
            time_entries=options.time_entries,
            users=options.users,
            seed=options.seed,
        )
        stack.serve()
        stack.django_setup()
        facts = machine(stack)
        from sandbox.faults import fault_config, requests_per_minute_peak

        for system, limit in (("pm", options.pm_rpm), ("la", options.la_rpm)):
            config = fault_config(system)
            config.requests_per_minute = limit
            config.save()
        print(
            f"Seeded PM with {seeded['contacts']:,} contacts, {seeded['matters']:,} matters, "
            f"{seeded['time_entries']:,} time entries; syncing at {options.pm_rpm or 'no'} PM "
            f"and {options.la_rpm or 'no'} LA requests a minute…",
            flush=True,
        )
        log = CallLog(stack.dir / "calls.jsonl", stack.base)
        started = time.perf_counter()
        engine = run_engine(stack, options, log)
        wall = time.perf_counter() - started
        units = load_units(log.path)
        limits = {
            system: {
                "limit a minute": limit,
                "peak a minute": requests_per_minute_peak(system),
                "refused for the limit": fault_config(system).requests_limited,
            }
            for system, limit in (("pm", options.pm_rpm), ("la", options.la_rpm))
        }
    figures = {}
    for kind, parts in TYPE_UNITS.items():
        records = engine["records"][kind]
        by_system: Counter[str] = Counter()
        for name, recs in units.items():
            if name in parts or name.split(":")[0] in parts:
                by_system.update(record["system"] for record in recs)
        figures[kind] = {
            "records": records,
            "requests": dict(by_system),
            "requests_per_record": round(sum(by_system.values()) / records, 3) if records else None,
            "floor_per_record": round(sum(FLOOR_PER_RECORD[kind].values()), 3),
        }
    print_table(
        ["type", "records", "PM req", "LA req", "req/record", "floor/record"],
        [
            [
                kind,
                f["records"],
                f["requests"].get("pm", 0),
                f["requests"].get("la", 0),
                f["requests_per_record"] or 0.0,
                f["floor_per_record"],
            ]
            for kind, f in figures.items()
        ],
        title=f"Backfill at {options.pm_rpm or 'unlimited'} PM / {options.la_rpm or 'unlimited'} "
        f"LA requests a minute on {facts.get('database')}: {wall:.0f} s",
    )
    print_table(
        ["system", *next(iter(limits.values()))], [[k, *v.values()] for k, v in limits.items()]
    )
    check = engine["check"]
    converged = check["links not synced"] == 0 and check["la contacts"] == check["pm contacts"]
    refused = sum(v["refused for the limit"] for v in limits.values())
    data = {
        "benchmark": "backfill",
        "command": "benchmarks/backfill.py " + " ".join(sys.argv[1:]),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(options).items()},
        "machine": facts,
        "wall_seconds": round(wall, 1),
        "seconds_by_phase": {k: round(v, 1) for k, v in engine["seconds"].items()},
        "figures": figures,
        "requests_by_phase": dict(log.counts),
        "limits": limits,
        "check": check,
        "converged": converged and not refused,
    }
    label = "-".join(
        p
        for p in (
            "postgres" if options.postgres else "sqlite",
            f"pm{options.pm_rpm}" if options.pm_rpm else "",
            f"la{options.la_rpm}" if options.la_rpm else "",
            options.label,
        )
        if p
    )
    write_results("backfill", label, data, options.results_dir)
    if not data["converged"]:
        print("The backfill did not converge, or a request went over a limit.", file=sys.stderr)
        return 1
    return 0


def report(options, facts, engine, floor, log: CallLog, units) -> int:
    engine_calls = sum(len(records) for records in units.values()) + log.tokens
    floor_calls = sum(floor["calls"].values())
    rows, figures = [], {}
    for kind, parts in TYPE_UNITS.items():
        records = engine["records"][kind]
        engine_seconds = sum(engine["seconds"].get(p, 0.0) for p in parts)
        floor_seconds = sum(floor["seconds"].get(p, 0.0) for p in parts)
        calls = sum(
            len(recs)
            for name, recs in units.items()
            if name in parts or name.split(":")[0] in parts
        )
        figures[kind] = {
            "records": records,
            "engine_seconds": round(engine_seconds, 3),
            "floor_seconds": round(floor_seconds, 3),
            "engine_records_per_second": round(records / engine_seconds, 1)
            if engine_seconds
            else None,
            "floor_records_per_second": round(records / floor_seconds, 1)
            if floor_seconds
            else None,
            "http_requests": calls,
            "http_requests_per_record": round(calls / records, 3) if records else None,
            "engine_over_floor": round(engine_seconds / floor_seconds, 2)
            if floor_seconds
            else None,
        }
        rows.append(
            [
                kind,
                records,
                figures[kind]["engine_records_per_second"] or 0.0,
                figures[kind]["floor_records_per_second"] or 0.0,
                figures[kind]["http_requests_per_record"] or 0.0,
                figures[kind]["engine_over_floor"] or 0.0,
            ]
        )
    engine_total = sum(engine["seconds"][p] for p in PHASES)
    floor_total = sum(floor["seconds"][p] for p in PHASES)
    rows.append(["all (wall clock)", sum(engine["records"].values()), 0.0, 0.0, 0.0, 0.0])
    rows[-1][2:] = [
        f"{engine_total:.1f} s",
        f"{floor_total:.1f} s",
        round(engine_calls / max(1, sum(engine["records"].values())), 3),
        round(engine_total / floor_total, 2),
    ]
    print_table(
        ["type", "records", "engine rec/s", "floor rec/s", "HTTP req/record", "engine/floor"],
        rows,
        title=f"Backfill on {facts.get('database')} with {options.workers} workers",
    )

    contacts = engine["records"]["contacts"]
    contact_queries = {
        "ingest (poll)": sum(engine["queries"].get("poll:participants", {}).values()),
        "sync": sum(engine["queries"].get("contacts", {}).values()),
    }
    per_contact = {
        k: round(v / contacts, 2) if contacts else None for k, v in contact_queries.items()
    }
    per_contact["total"] = round(sum(contact_queries.values()) / contacts, 2) if contacts else None
    print_table(
        ["database queries per synced contact", "queries"],
        [[k, v or 0.0] for k, v in per_contact.items()],
    )
    print_table(
        ["phase", "engine s", "floor s", "engine queries"],
        [
            [
                phase,
                engine["seconds"].get(phase, 0.0),
                floor["seconds"].get(phase, 0.0),
                sum(
                    sum(c.values())
                    for name, c in engine["queries"].items()
                    if name.split(":")[0] == phase
                ),
            ]
            for phase in PHASES
        ],
    )
    print_table(["memory (RSS, MB)", "MB"], [[k, v] for k, v in engine["rss_mb"].items()])
    print_table(["check", "count"], [[k, v] for k, v in engine["check"].items()])
    print(
        f"\nHTTP calls: engine {engine_calls:,} (of which {log.tokens} token), "
        f"floor {floor_calls:,}; replies that differed in status: "
        f"{floor['status_differences'] or 'none'}"
    )
    check = engine["check"]
    converged = (
        check["la contacts"] == check["pm contacts"]
        and check["la files"] == check["pm matters"]
        and check["la time entries"] == check["time entries sent"] == check["pm time entries"]
        and check["links not synced"] == 0
    )
    data = {
        "benchmark": "backfill",
        "command": "benchmarks/backfill.py " + " ".join(sys.argv[1:]),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(options).items()},
        "machine": facts,
        "engine_mode": f"in-process threads ({options.workers}), one DB connection each",
        "profiled": options.profile,
        "figures": figures,
        "total": {
            "engine_seconds": round(engine_total, 3),
            "floor_seconds": round(floor_total, 3),
            "engine_over_floor": round(engine_total / floor_total, 2),
            "http_requests_engine": engine_calls,
            "http_requests_floor": floor_calls,
        },
        "queries_per_synced_contact": per_contact,
        "queries_by_phase": engine["queries"],
        "seconds_by_phase": {
            "engine": {k: round(v, 3) for k, v in engine["seconds"].items()},
            "floor": {k: round(v, 3) for k, v in floor["seconds"].items()},
        },
        "http_calls_by_phase": dict(log.counts),
        "floor_calls": floor["calls"],
        "floor_status_differences": floor["status_differences"],
        "rss_mb": engine["rss_mb"],
        "peak_rss_mb_process": engine["peak_rss_mb_process"],
        "check": check,
        "converged": converged,
    }
    if engine["profile"] is not None:
        data["profile"] = profile_summary(engine["profile"])
        print("\nWhere the engine's time goes (own time, all threads):")
        for kind, secs in data["profile"]["own_seconds_by_kind"].items():
            print(f"  {kind:50s} {secs:8.2f} s")
    label = "-".join(p for p in ("postgres" if options.postgres else "sqlite", options.label) if p)
    write_results("backfill", label, data, options.results_dir)
    if not converged:
        print("The backfill did not converge: see 'check'.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
