"""Running the hub's own processes so that stopping them always stops them.

django-q2's `qcluster` finishes the tasks in hand when told to stop, and has been seen
to hang on a lock after that under load, leaving its workers behind. Each child here
runs in a process group of its own: stopping sends SIGTERM to the child (which stops its
own workers its own way), waits up to a grace period, then SIGKILLs whatever of the group
is left. Killing a task midway loses
nothing: every sync holds a lease that expires, and every billing batch too
(docs/decisions.md 13, 35).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings


def manage_command(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def child_start(argv: list[str]) -> subprocess.Popen:
    """Start a child in a process group of its own (its workers join that group)."""
    return subprocess.Popen(argv, start_new_session=True)  # noqa: S603 - our own commands


def cluster_grace_seconds() -> float:
    """How long a stopping cluster may take: a running task's whole timeout, and a little."""
    return float(settings.Q_CLUSTER["timeout"]) + 10


def children_stop(processes: list[subprocess.Popen], *, grace: float) -> None:
    """SIGTERM each child, wait for them together up to `grace` seconds, then SIGKILL
    each child's whole group (a stuck main process and any worker it left)."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        _group_signal(process, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def _group_signal(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)
