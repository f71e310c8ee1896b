"""Several hub processes refreshing PM's token at the same moment (test_connection).

Each process is a fresh Python with the test settings, pointed at the test's PostgreSQL
database and live server. At an agreed instant, each one `refreshes` times: takes the
current token, reports it refused (as after a 401) — which refreshes unless another
process has just done so — and makes a real API call with what it got.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

WORKER = """
import json, os, sys, time
import django

django.setup()
from sync.connectors import pm_client
from sync.services.connection import pm_credentials

result = {"error": None, "calls_ok": 0}
start_at = float(os.environ["START_AT"])
time.sleep(max(0.0, start_at - time.time()))
try:
    for _ in range(int(os.environ["REFRESHES"])):
        held = pm_credentials()
        pm_credentials(refused=held.access_token)
        if pm_client().get("users", "current") is not None:
            result["calls_ok"] += 1
except Exception as error:
    result["error"] = f"{type(error).__name__}: {error}"
print(json.dumps(result))
"""


def _database_url(database: dict) -> str:
    user = database.get("USER") or "postgres"
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{database['NAME']}"


def run_refresh_workers(
    *, base_url: str, database: dict, processes: int, refreshes: int
) -> list[dict]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(database),
        "HUB_BASE_URL": base_url,
        "START_AT": str(time.time() + 3),
        "REFRESHES": str(refreshes),
    }
    root = Path(__file__).resolve().parents[2]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        results.append(json.loads(lines[-1]) if lines else {"error": err[-2000:], "calls_ok": 0})
    return results
