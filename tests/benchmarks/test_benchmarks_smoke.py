"""Every benchmark script runs end to end at a tiny size and writes its JSON.

The scripts start their own web servers, task clusters and throwaway databases, so
they run as subprocesses, all five at once to keep this file well under a minute.
They write to a temporary folder, never over the published figures in
benchmarks/results/.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parent.parent.parent
TIMEOUT_SECONDS = 150

RUNS = {
    "backfill": ["--contacts", "20", "--matters", "10", "--time-entries", "30", "--users", "2"],
    "propagation": ["--edits", "4", "--interval", "0.1", "--deadline", "30"],
    "admin_at_scale": ["--contacts", "300", "--small", "100", "--loads", "2"],
    "webhook_fuzz": [],
    "balances": ["--matters", "300"],
    "idle": ["--contacts", "10", "--matters", "5", "--time-entries", "10", "--users", "2"],
    "soak": [
        *["--contacts", "8", "--matters", "4", "--time-entries", "8", "--la-contacts", "3"],
        *["--clashes", "1", "--users", "2", "--duration", "6", "--kill-at", "0"],
        *["--cluster-kill-at", "0", "--poll-every", "2", "--sweep-every", "1"],
        *["--settle", "90"],
    ],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every script at once; answer {name: (process, results folder, log)}."""
    started = {}
    for name, arguments in RUNS.items():
        folder = tmp_path_factory.mktemp(name)
        log = (folder / "output.log").open("w")
        process = subprocess.Popen(
            [sys.executable, f"benchmarks/{name}.py", *arguments, "--results-dir", str(folder)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started[name] = (process, folder, log)
    yield started
    for process, _, log in started.values():
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def finished(process: subprocess.Popen, deadline: float) -> int:
    try:
        return process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return -9


@pytest.mark.parametrize("name", list(RUNS))
def test_the_benchmark_runs_and_writes_its_results(runs, name):
    process, folder, log = runs[name]
    code = finished(process, time.monotonic() + TIMEOUT_SECONDS)
    log.flush()
    output = (folder / "output.log").read_text()
    assert code == 0, f"{name} exited {code}:\n{output[-3000:]}"
    written = list(folder.glob(f"{name}-sqlite.json"))
    assert written, f"{name} wrote no results:\n{output[-3000:]}"
    data = json.loads(written[0].read_text())
    assert data["benchmark"] == name
    assert data["machine"]["cores"] >= 1
