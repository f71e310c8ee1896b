"""Stopping the hub's processes always stops them, workers included, within a grace
period — even a cluster that hangs after it was told to stop (seen under load)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from sync.processes import child_start, children_stop

# A "cluster" that ignores SIGTERM, as a hung qcluster does, with a worker that does too.
STUBBORN = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    worker = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    print(worker.pid, flush=True)
    time.sleep(600)
    """
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead, only not yet reaped
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_child_that_ignores_sigterm_is_killed_with_its_workers_after_the_grace():
    process = subprocess.Popen(
        [sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    worker = int(process.stdout.readline())
    assert alive(process.pid) and alive(worker)

    started = time.monotonic()
    children_stop([process], grace=1.0)

    assert time.monotonic() - started < 8
    assert not alive(process.pid)
    deadline = time.monotonic() + 5
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker)


def test_a_child_that_stops_on_sigterm_is_not_waited_for():
    process = child_start([sys.executable, "-c", "import time; time.sleep(600)"])

    started = time.monotonic()
    children_stop([process], grace=30.0)

    assert time.monotonic() - started < 5
    assert process.returncode == -signal.SIGTERM


@pytest.mark.processes
def test_run_cluster_stops_the_cluster_and_its_workers_on_sigterm(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}",
        "Q_CLUSTER_NAME": f"stop{os.getpid()}",
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    runner = subprocess.Popen(
        [sys.executable, "manage.py", "run_cluster"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    time.sleep(8)  # the cluster and its workers are up
    cluster = [
        int(pid) for pid in os.listdir("/proc") if pid.isdigit() and _parent(int(pid)) == runner.pid
    ]
    assert cluster, "run_cluster started no cluster"
    group = os.getpgid(cluster[0])

    runner.send_signal(signal.SIGTERM)
    runner.wait(timeout=60)

    left = [pid for pid in _group_members(group) if alive(pid)]
    assert left == []


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None


def _group_members(group: int) -> list[int]:
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getpgid(int(name)) == group:
                    members.append(int(name))
            except ProcessLookupError:
                continue
    return members
