"""What every benchmark shares: throwaway databases, a threaded web server hosting the
sandbox, a django-q2 cluster, machine facts, tables and result files.

A benchmark never touches the developer's db.sqlite3: each `Stack` has its own temporary
SQLite files (copied from a migrated template kept in the system's temp folder) or, with
`--postgres`, its own freshly created PostgreSQL databases, dropped at the end.

Run as a script this module is also the entry point of the processes a stack starts:

    python benchmarks/harness.py serve PORT      # threaded WSGI server (hub + sandbox)
    python benchmarks/harness.py seed --contacts N --matters M --time-entries K ...
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
# The developer's own configuration must not leak into a benchmark's processes.
INHERITED_PREFIXES = (
    "DJANGO_",
    "DATABASE_URL",
    "REDIS_URL",
    "SANDBOX_",
    "Q_",
    "PM_",
    "LA_",
    "HUB_",
    "SYNC_",
    "LOG_LEVEL",
)
# Rate limits are the product's real ceiling (ARCHITECTURE §6). To measure the engine
# against the HTTP floor they are set out of the way; the docs say what they cost.
UNLIMITED_REQUESTS_PER_MINUTE = "10000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what: str, seconds: float = 60.0, interval: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}")


def _migrations_digest() -> str:
    """A digest of every migration the hub and the sandbox apply, for the template cache."""
    digest = hashlib.sha256()
    sources = sorted(ROOT.glob("*/migrations/*.py")) + sorted(ROOT.glob("*/*/migrations/*.py"))
    import django_q

    sources += sorted((Path(django_q.__file__).parent / "migrations").glob("*.py"))
    for source in sources:
        if ".venv" in source.parts:
            continue
        digest.update(str(source.relative_to(source.anchor)).encode())
        digest.update(source.read_bytes())
    digest.update(PYTHON.encode())
    return digest.hexdigest()[:16]


def _checkpoint(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_PREFIXES)}


class Stack:
    """One throwaway installation: databases, a web server, optionally a task cluster."""

    def __init__(
        self,
        name: str,
        *,
        postgres: bool = False,
        redis: bool = False,
        workers: int = 2,
        http_timeout: float = 10.0,
    ):
        self.name = name
        self.postgres = postgres
        self.workers = workers
        self.dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self.connected = False
        self.logs: dict[str, Path] = {}
        self.databases: list[str] = []
        self.qcluster_helpers: dict[str, set[int]] = {}
        if postgres:
            hub = f"bench_{name}_{os.getpid()}"
            self.databases = [hub, f"{hub}_sandbox"]
            hub_url, sandbox_url = (f"{PG_SERVER}/{db}" for db in self.databases)
        else:
            hub_url = f"sqlite:///{self.dir / 'hub.sqlite3'}"
            sandbox_url = f"sqlite:///{self.dir / 'sandbox.sqlite3'}"
        self.env = _clean_environment()
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DJANGO_DEBUG="False",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
            DATABASE_URL=hub_url,
            SANDBOX_DATABASE_URL=sandbox_url,
            HUB_BASE_URL=self.base,
            Q_CLUSTER_NAME=f"bench{self.port}",
            Q_WORKERS=str(workers),
            LOG_LEVEL="WARNING",
            SYNC_HTTP_TIMEOUT=str(http_timeout),
            PM_REQUESTS_PER_MINUTE=UNLIMITED_REQUESTS_PER_MINUTE,
            LA_REQUESTS_PER_MINUTE=UNLIMITED_REQUESTS_PER_MINUTE,
            PYTHONUNBUFFERED="1",
            # The scripts queue polls when they want them (benchmarks/idle.py measures
            # the quiet schedule a firm runs).
            POLL_QUIET_MINUTES="0",
        )
        if redis:
            self.env["REDIS_URL"] = "redis://127.0.0.1:6379/7"

    @property
    def db_label(self) -> str:
        return "postgres" if self.postgres else "sqlite"

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # Databases
    def create(self) -> None:
        if self.postgres:
            self._postgres_create()
            self.manage("migrate", "--noinput")
            self.manage("migrate", "--noinput", "--database", "sandbox")
            return
        template = Path(tempfile.gettempdir()) / f"bench-template-{_migrations_digest()}"
        if not (template / "ready").exists():
            building = Path(tempfile.mkdtemp(prefix="bench-template-build-"))
            env = {
                **self.env,
                "DATABASE_URL": f"sqlite:///{building / 'hub.sqlite3'}",
                "SANDBOX_DATABASE_URL": f"sqlite:///{building / 'sandbox.sqlite3'}",
            }
            for extra in ([], ["--database", "sandbox"]):
                subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
                    [PYTHON, "manage.py", "migrate", "--noinput", *extra],
                    cwd=ROOT,
                    env=env,
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
            for db in ("hub.sqlite3", "sandbox.sqlite3"):
                _checkpoint(building / db)
            (building / "ready").write_text("migrated\n")
            try:
                building.rename(template)
            except OSError:  # another run built it meanwhile
                shutil.rmtree(building, ignore_errors=True)
        for db in ("hub.sqlite3", "sandbox.sqlite3"):
            shutil.copyfile(template / db, self.dir / db)

    def _postgres_connection(self):
        import psycopg

        return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)

    def _postgres_create(self) -> None:
        with self._postgres_connection() as connection:
            for db in self.databases:
                connection.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                connection.execute(f'CREATE DATABASE "{db}"')

    def _postgres_drop(self) -> None:
        with self._postgres_connection() as connection:
            for db in self.databases:
                connection.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    def database_version(self) -> str:
        if not self.postgres:
            return f"SQLite {sqlite3.sqlite_version}"
        with self._postgres_connection() as connection:
            version = connection.execute("SHOW server_version").fetchone()[0]
            return f"PostgreSQL {version}"

    # Processes
    def manage(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def seed(self, **options) -> dict:
        """Seed the PM and LA sandboxes in a separate process (see `seed_command`)."""
        argv = []
        for key, value in options.items():
            argv += [f"--{key.replace('_', '-')}", str(value)]
        done = subprocess.run(  # noqa: S603 (our own interpreter and script)
            [PYTHON, str(Path(__file__)), "seed", *argv],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode:
            raise RuntimeError(f"seeding failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log_path = self.dir / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 (the process owns it until stop())
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and scripts)
            argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.processes[name] = process
        self.logs[name] = log_path
        return process

    def serve(self, name: str = "server") -> str:
        """A web process with the hub and both emulators, on a threaded WSGI server
        (HTTP/1.1 keep-alive); answers its base URL. The first ("server") answers at
        `self.base`, the hub's own URL; others ("server2"…) are further web hosts on
        ports of their own, sharing the databases, as behind a load balancer."""
        if name not in self.ports:
            self.ports[name] = self.port if name == "server" else free_port()
        port = self.ports[name]
        base = f"http://127.0.0.1:{port}"
        self.start(name, [PYTHON, str(Path(__file__)), "serve", str(port)])

        def answering():
            login = f"{base}/admin/login/"
            with urllib.request.urlopen(login, timeout=5) as response:  # noqa: S310 (http only)
                return response.status == 200

        try:
            wait_for(answering, f"the web server {name}", 60)
        except TimeoutError:
            print(self.log_tail(name), file=sys.stderr)
            raise
        if name == "server" and not self.connected:
            # The hub connects to the sandbox's PM as `make run` does: the OAuth2
            # authorization-code flow, consenting as the sandbox's first user.
            self.manage("pm_connect_sandbox")
            self.connected = True
        return base

    def qcluster_start(self, name: str = "qcluster") -> subprocess.Popen:
        """Start `manage.py qcluster` (as `name`: several clusters may run) and wait for
        its workers, monitor and pusher."""
        process = self.start(name, [PYTHON, "manage.py", "qcluster"])
        spawned = wait_for(
            lambda: len(found := self._qcluster_children(name)) >= self.workers + 2 and found,
            "the qcluster workers",
            60,
        )
        # django_q.cluster spawns the workers first, then the monitor and the pusher;
        # a worker started later to replace a dead one is told apart by not being those.
        self.qcluster_helpers[name] = set(spawned[self.workers : self.workers + 2])
        return process

    def _qcluster_children(self, name: str = "qcluster") -> list[int]:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return []
        sentinels = children(process.pid)
        return children(sentinels[0]) if sentinels else []

    def qcluster_workers(self, name: str = "qcluster") -> list[int]:
        helpers = self.qcluster_helpers.get(name, set())
        return [pid for pid in self._qcluster_children(name) if pid not in helpers]

    def qcluster_kill_worker(self, name: str = "qcluster") -> int | None:
        """SIGKILL one worker mid-task; the sentinel notices and starts another."""
        workers = self.qcluster_workers(name)
        if not workers:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(workers[0], signal.SIGKILL)
        return workers[0]

    def qcluster_kill(self, name: str = "qcluster") -> list[int]:
        """SIGKILL the whole cluster, as a machine losing power would."""
        process = self.processes.pop(name, None)
        if process is None:
            return []
        pids = [process.pid, *descendants(process.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)
        return pids

    def server_kill(self, name: str = "server") -> None:
        """SIGKILL a web server mid-request, as a crash or a hard restart would."""
        process = self.processes.pop(name, None)
        if process is None:
            return
        for pid in [process.pid, *descendants(process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        tree = descendants(process.pid)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for pid in tree:  # a cluster's workers outliving their sentinel
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def log_tail(self, name: str, chars: int = 4000) -> str:
        path = self.logs.get(name)
        return path.read_text(errors="replace")[-chars:] if path and path.exists() else ""

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        if self.postgres:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            self._postgres_drop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # This process
    def django_setup(self) -> None:
        """Point this process's Django at the stack (once per process)."""
        os.environ.update(self.env)
        import django

        django.setup()


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        kids = children(frontier.pop())
        found += kids
        frontier += kids
    return found


class SandboxApi:
    """A bare `requests` client for the emulated systems, as a person's tools would use
    them (the edits the benchmarks make), with the sandbox's default credentials."""

    def __init__(self, base: str, timeout: float = 30.0):
        import requests

        self.base = base
        self.timeout = timeout
        self.session = requests.Session()
        self.token = ""

    def pm_token(self) -> None:
        """A token through the sandbox's consent page, as a person's tool would get one."""
        from sandbox.pm.consent import tool_token

        self.token = tool_token(self.base, timeout=self.timeout)["access_token"]

    def pm(self, method: str, path: str, body: dict | None = None):
        if not self.token:
            self.pm_token()
        for _ in range(2):
            response = self.session.request(
                method,
                f"{self.base}/sandbox/pm/api/rest/{path}",
                data=json.dumps(body) if body is not None else None,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Accept": "application/vnd.api+json",
                    "Content-Type": "application/vnd.api+json",
                },
                timeout=self.timeout,
            )
            if response.status_code != 401:
                break
            self.pm_token()
        return response

    def la(self, method: str, path: str, body: dict | None = None):
        return self.session.request(
            method,
            f"{self.base}/sandbox/la/api/v1/{path}",
            data=json.dumps(body) if body is not None else None,
            headers={
                "Authorization": "Bearer sandbox-la-token",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            timeout=self.timeout,
        )


# Measuring
def rss_mb(pid: int | str = "self") -> float:
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int | str = "self") -> float:
    return _status_kb(pid, "VmHWM") / 1024


def _status_kb(pid: int | str, key: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


class RssSampler:
    """Samples this process's resident memory in the background."""

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - self.started, rss_mb()))
            self._stop.wait(self.interval)

    def peak(self) -> float:
        return max((mb for _, mb in self.samples), default=rss_mb())


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 200 values is the 190th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class RequestCounter:
    """Counts the requests the hub's connectors send, by system (after `install()`, in
    this process)."""

    def __init__(self):
        from collections import Counter

        self.counts = Counter()

    def install(self) -> None:
        from sync.connectors.base import JsonHttpClient

        send = JsonHttpClient.send
        counts = self.counts

        def counted(client, method, path, **kwargs):
            counts[client.system] += 1
            return send(client, method, path, **kwargs)

        JsonHttpClient.send = counted

    def run(self, func):
        """Call `func()`; answer (its result, {system: requests it sent})."""
        before = dict(self.counts)
        result = func()
        return result, {s: self.counts[s] - before.get(s, 0) for s in ("pm", "la")}


def machine(stack: Stack | None = None) -> dict:
    import django

    memory_kb = _status_line("/proc/meminfo", "MemTotal")
    cpu = _status_line("/proc/cpuinfo", "model name", numeric=False)
    facts = {
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1) if memory_kb else None,
        "cpu": cpu,
        "python": platform.python_version(),
        "django": django.get_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": _git("rev-parse", "--short", "HEAD"),
        "worktree_dirty": bool(_git("status", "--porcelain")),
    }
    if stack is not None:
        facts["database"] = stack.database_version()
        facts["broker"] = "redis" if "REDIS_URL" in stack.env else "orm"
    return facts


def _status_line(path: str, key: str, *, numeric: bool = True):
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                value = line.split(":", 1)[1].strip()
                return float(value.split()[0]) if numeric else value
    except OSError:
        pass
    return None


def _git(*args: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 (fixed git arguments)
            ["git", *args],  # noqa: S607 (git from PATH, as the developer runs it)
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return ""
    return done.stdout.strip()


# Reporting
def print_table(headers: list[str], rows: list[list], title: str = "") -> None:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    if title:
        print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_results(name: str, stack_label: str, data: dict, results_dir: Path | None) -> Path:
    directory = Path(results_dir) if results_dir else RESULTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    data["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = directory / f"{name}-{stack_label}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2, default=str) + "\n")
    temporary.replace(path)
    print(f"\nWrote {path}")
    return path


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres",
        action="store_true",
        help=f"run on fresh PostgreSQL databases on {PG_SERVER} (created and dropped)",
    )
    parser.add_argument(
        "--results-dir", type=Path, default=None, help=f"where to write JSON ({RESULTS_DIR})"
    )
    parser.add_argument("--label", default="", help="a suffix for the result file's name")


def result_label(stack: Stack, options, *extra: str) -> str:
    """`sqlite` or `postgres`, then any extra parts and `--label`, joined by dashes."""
    return "-".join(part for part in (stack.db_label, *extra, options.label) if part)


# Entry points of the processes a stack starts
def serve_command(port: int) -> None:
    import django

    django.setup()
    import socketserver

    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
    from django.core.wsgi import get_wsgi_application

    class NoDelayHandler(WSGIRequestHandler):
        # wsgiref writes the headers and the body in two sends; with Nagle's algorithm
        # and the client's delayed ACK each keep-alive answer would wait ~40 ms.
        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    server_class = type("ThreadedWSGIServer", (socketserver.ThreadingMixIn, WSGIServer), {})
    server = server_class(("127.0.0.1", port), NoDelayHandler)
    server.daemon_threads = True
    server.set_app(get_wsgi_application())
    server.serve_forever()


def seed_command(argv: list[str]) -> None:
    """Seed both sandboxes: PM contacts, matters, time by `users` timekeepers; LA-only
    contacts; `clashes` PM contacts whose Reference LA already holds; a fee earner in
    LA for every PM user (same email)."""
    parser = argparse.ArgumentParser(prog="harness.py seed")
    parser.add_argument("--contacts", type=int, required=True)
    parser.add_argument("--matters", type=int, required=True)
    parser.add_argument("--time-entries", type=int, required=True)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--la-contacts", type=int, default=0)
    parser.add_argument("--clashes", type=int, default=0)
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args(argv)

    import django

    django.setup()
    from sandbox.la.models import FeeEarner
    from sandbox.la.seed import seed_la
    from sandbox.la.services import fee_earner_create
    from sandbox.pm.models import User
    from sandbox.pm.seed import seed_pm

    rng = random.Random(options.seed)
    clashing: list[str] = []
    la_contacts = max(options.la_contacts, options.clashes)
    if la_contacts:
        la = seed_la(contacts=la_contacts, fee_earners=[], rng=rng)
        clashing = la["contact_numbers"][: options.clashes]
    pm = seed_pm(
        contacts=options.contacts,
        matters=options.matters,
        time_entries=options.time_entries,
        users=options.users,
        rng=rng,
        clashing_references=clashing,
    )
    for user in User.objects.order_by("pk"):
        if not FeeEarner.objects.filter(email__iexact=user.email).exists():
            fee_earner_create(name=user.name, email=user.email)
    print(json.dumps({**pm, "la_contacts": la_contacts, "clashing_references": clashing}))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve_command(int(sys.argv[2]))
    elif len(sys.argv) >= 2 and sys.argv[1] == "seed":
        seed_command(sys.argv[2:])
    else:
        sys.exit(__doc__)
