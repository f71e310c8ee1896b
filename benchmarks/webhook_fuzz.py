"""Bad input: hostile and broken requests to the webhook receivers of a running server.

Every case is sent to both receivers (`/webhooks/pm/`, `/webhooks/la/`) over real HTTP:
missing, malformed and wrong signatures; bodies that are not JSON, not an object, empty,
oversized (with and without a Content-Length), deeply nested; unknown and malformed
events; validly signed bodies whose payload is not the shape the system sends; wrong
HTTP methods. Each must be answered with a 4xx and a JSON error code, quickly, and
change nothing: no WebhookReceipt stored, no task queued. The server must still answer
a good request afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import sys
import time

import requests
from harness import Stack, common_arguments, machine, print_table, result_label, write_results

SECRETS = {"pm": "sandbox-pm-hook-secret", "la": "sandbox-la-webhook-secret"}
HEADERS = {"pm": "X-PM-Signature", "la": "X-LA-Signature"}
KNOWN = {"pm": "ParticipantUpdated", "la": "contact.updated"}
GOOD = {
    "pm": {"event": "ParticipantUpdated", "resource": "participants", "ids": [1]},
    "la": {"id": "e1", "event": "contact.updated", "occurred_at": "2026-01-01T00:00:00Z",
           "data": {"id": 1}},
}  # fmt: skip
SIGN = object()  # sign the body with the right secret


def signature(system: str, body: bytes, secret: str | None = None) -> str:
    key = (secret or SECRETS[system]).encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def nested(depth: int, opening: str = "[", closing: str = "]") -> bytes:
    return (opening * depth + closing * depth).encode()


def cases(system: str, limit: int) -> list[dict]:
    """(name, method, body, signature) for one receiver."""
    good = json.dumps(GOOD[system]).encode()
    known = KNOWN[system]
    other = KNOWN["la" if system == "pm" else "pm"]
    shape = (
        [
            ("ids missing", {"event": known}),
            ("ids not a list", {"event": known, "ids": "1,2"}),
            ("ids of strings", {"event": known, "ids": ["abc"]}),
            ("ids nested 500 deep", {"event": known, "ids": json.loads(nested(500))}),
            ("ids of objects", {"event": known, "ids": [{"id": 1}]}),
        ]
        if system == "pm"
        else [
            ("data missing", {"event": known}),
            ("data not an object", {"event": known, "data": [1]}),
            ("data.id a string", {"event": known, "data": {"id": "abc"}}),
            ("data nested 500 deep", {"event": known, "data": json.loads(nested(500))}),
            ("billed without entries", {"event": "time_entries.billed", "data": {"file": 1}}),
        ]
    )
    found = [
        ("no signature", "POST", good, None),
        ("empty signature", "POST", good, ""),
        ("signature without sha256=", "POST", good, signature(system, good)[7:]),
        ("md5= signature", "POST", good, "md5=" + hashlib.md5(good).hexdigest()),  # noqa: S324
        ("signature of another body", "POST", good, signature(system, good + b" ")),
        ("signature with the wrong secret", "POST", good, signature(system, good, "guess")),
        ("signature in upper case", "POST", good, signature(system, good).upper()),
        ("empty body", "POST", b"", SIGN),
        ("truncated JSON", "POST", good[:-5], SIGN),
        ("trailing garbage", "POST", good + b"}}", SIGN),
        ("invalid UTF-8", "POST", b'{"event": "\xff\xfe"}', SIGN),
        ("JSON list", "POST", b"[1, 2, 3]", SIGN),
        ("JSON string", "POST", b'"ParticipantUpdated"', SIGN),
        ("JSON number", "POST", b"42", SIGN),
        ("JSON null", "POST", b"null", SIGN),
        ("unknown event", "POST", b'{"event": "Exploded", "ids": [1]}', SIGN),
        ("event of the other system", "POST", json.dumps({"event": other}).encode(), SIGN),
        ("event missing", "POST", b'{"ids": [1]}', SIGN),
        ("event a number", "POST", b'{"event": 7, "ids": [1]}', SIGN),
        ("event NaN", "POST", b'{"event": NaN, "ids": [1]}', SIGN),
        ("event an object", "POST", b'{"event": {"name": "x"}, "ids": [1]}', SIGN),
        ("event 100 kB long", "POST", json.dumps({"event": "E" * 100_000}).encode(), SIGN),
        ("arrays nested 100,000 deep", "POST", nested(100_000), SIGN),
        ("objects nested 100,000 deep", "POST", nested(100_000, '{"a":', "}"), SIGN),
        ("body over the limit", "POST", b'{"event": "' + b"x" * (limit + 1) + b'"}', SIGN),
        *[(name, "POST", json.dumps(body).encode(), SIGN) for name, body in shape],
        ("GET", "GET", b"", None),
        ("PUT with a good body", "PUT", good, SIGN),
        ("DELETE", "DELETE", b"", None),
    ]  # fmt: skip
    return [{"name": n, "method": m, "body": b, "signature": s} for n, m, b, s in found]


def send(session, url: str, system: str, case: dict, *, chunked: bool = False):
    headers = {"Content-Type": "application/json"}
    if case["signature"] is SIGN:
        headers[HEADERS[system]] = signature(system, case["body"])
    elif case["signature"] is not None:
        headers[HEADERS[system]] = case["signature"]
    body = case["body"]
    data = (chunk for chunk in [body[i : i + 65536] for i in range(0, len(body), 65536)])
    started = time.perf_counter()
    try:
        response = session.request(
            case["method"], url, data=data if chunked else body, headers=headers, timeout=30
        )
    except requests.RequestException as error:
        return None, "", f"{type(error).__name__}", time.perf_counter() - started
    try:
        code = (response.json().get("error") or {}).get("code", "")
    except (ValueError, AttributeError):
        code = ""
    return response.status_code, code, "", time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser)
    options = parser.parse_args(argv)

    stack = Stack("fuzz", postgres=options.postgres)
    rows, results, failures = [], [], 0
    with stack:
        stack.create()
        stack.serve()
        stack.django_setup()
        facts = machine(stack)
        from django.conf import settings
        from django_q.models import OrmQ

        from sync.models import WebhookReceipt

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        session = requests.Session()
        before = (WebhookReceipt.objects.count(), OrmQ.objects.count())
        for system in ("pm", "la"):
            url = f"{stack.base}/webhooks/{system}/"
            for case in cases(system, limit):
                runs = [("", False)]
                if case["name"] == "body over the limit":
                    runs.append((" (chunked, no Content-Length)", True))
                for suffix, chunked in runs:
                    # A chunked body the server does not read would spoil a kept-alive
                    # connection for the next case: it gets a connection of its own.
                    with requests.Session() if chunked else contextlib.nullcontext(session) as use:
                        status, code, error, seconds = send(use, url, system, case, chunked=chunked)
                    ok = status is not None and 400 <= status < 500
                    failures += not ok
                    name = f"{system}: {case['name']}{suffix}"
                    results.append(
                        {
                            "case": name,
                            "status": status,
                            "code": code,
                            "error": error,
                            "ms": round(seconds * 1000, 1),
                            "ok": ok,
                        }
                    )
                    rows.append(
                        [name, status or error, code, seconds * 1000, "ok" if ok else "FAIL"]
                    )
        after = (WebhookReceipt.objects.count(), OrmQ.objects.count())
        good = json.dumps(GOOD["pm"]).encode()
        alive = session.post(
            f"{stack.base}/webhooks/pm/",
            data=good,
            headers={"Content-Type": "application/json", HEADERS["pm"]: signature("pm", good)},
            timeout=30,
        ).status_code

    print_table(["case", "status", "error code", "ms", ""], rows, title="Webhook fuzzing")
    unchanged = before == after
    print(
        f"\nWebhookReceipt rows before/after: {before[0]}/{after[0]}; queued tasks before/after: "
        f"{before[1]}/{after[1]}; a good request afterwards: HTTP {alive}"
    )
    passed = failures == 0 and unchanged and alive == 200
    print("All cases refused with a 4xx, nothing changed." if passed else "FAILED", flush=True)
    data = {
        "benchmark": "webhook_fuzz",
        "command": "benchmarks/webhook_fuzz.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": facts,
        "cases": results,
        "receipts_before_after": [before[0], after[0]],
        "queued_tasks_before_after": [before[1], after[1]],
        "good_request_afterwards": alive,
        "passed": passed,
    }
    write_results("webhook_fuzz", result_label(stack, options), data, options.results_dir)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
