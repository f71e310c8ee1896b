"""Several hub processes doing the same thing at the same moment, for the tests that
prove the hub's locks hold across processes (PostgreSQL: the test database is shared).

Each process is a fresh Python with the test settings, pointed at the test's database and
live server. At an agreed instant each runs `code`, which prints one JSON line last.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

PRELUDE = """
import json, os, sys, time
import django

django.setup()
time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
"""


def _database_url(database: dict) -> str:
    user = database.get("USER") or "postgres"
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{database['NAME']}"


def run_in_processes(
    code: str, *, base_url: str, database: dict, processes: int, env: dict | None = None
) -> list[dict]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(database),
        "HUB_BASE_URL": base_url,
        "START_AT": str(time.time() + 3),
        **(env or {}),
    }
    root = Path(__file__).resolve().parents[2]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", PRELUDE + code],
            cwd=root,
            env=environment,
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
        results.append(json.loads(lines[-1]) if lines else {"error": err[-2000:]})
    return results
