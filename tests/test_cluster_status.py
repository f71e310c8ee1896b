"""The health page sees a django-q2 cluster that runs in another process: with the ORM
broker through the file cache every process of the machine shares (settings), with
Redis through Redis. Real processes on temporary SQLite files."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parent.parent


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def manage(env, *args) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done.stdout


CLUSTERS = (
    "from sync.health import queue_state; "
    "print(';'.join(f'{c.host}|{c.status}|{c.workers}' for c in queue_state().clusters))"
)


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_the_health_page_sees_a_cluster_running_in_another_process(tmp_path, broker):
    if broker == "redis" and not redis_available():
        pytest.skip("no Redis on 127.0.0.1:6379")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
        "Q_CLUSTER_NAME": f"status{os.getpid()}{broker}",
        "Q_STATUS_CACHE_DIR": str(tmp_path / "cluster-status"),
        "Q_WORKERS": "1",
    }
    env.pop("REDIS_URL", None)
    if broker == "redis":
        env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    manage(env, "migrate", "--noinput")
    assert manage(env, "shell", "--no-imports", "-c", CLUSTERS).strip() == ""

    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        seen = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not seen:
            seen = manage(env, "shell", "--no-imports", "-c", CLUSTERS).strip()
            if not seen:
                time.sleep(1)
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)

    assert seen, "the cluster never showed on the health page"
    host, status, workers = seen.split(";")[0].split("|")
    assert host == socket.gethostname()
    assert status in {"Starting", "Idle", "Working"}
    assert int(workers) == 1
