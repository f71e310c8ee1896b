"""Bad input: hostile and broken requests to the webhook receivers of a running server.

Every case is sent over real HTTP to PM's resthook receiver (`/webhooks/pm/<event>/<secret>/`,
authenticated by the secret in its URL, as Actionstep signs nothing) and LA's
(`/webhooks/la/`, an HMAC signature): missing and wrong secrets and signatures; bodies that
are not JSON, not an object, empty, oversized (with and without a Content-Length), deeply
nested; unknown and malformed events; authentic bodies whose payload does not name records
the way the system does; wrong HTTP methods. Each must be answered with a 4xx, quickly,
and change nothing: no WebhookReceipt stored, no task queued. The server must still
answer a good request afterwards.
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

LA_SECRET = "sandbox-la-webhook-secret"
LA_HEADER = "X-LA-Signature"
KNOWN = {"pm": "ParticipantUpdated", "la": "contact.updated"}
GOOD = {
    "pm": {"data": {"type": "participants", "id": "1", "attributes": {}}},
    "la": {"id": "e1", "event": "contact.updated",
           "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
           "data": {"id": 1}},
}  # fmt: skip
SIGN = object()  # authentic: LA's body signed with the right secret, PM's right URL secret


def signature(body: bytes, secret: str = LA_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def nested(depth: int, opening: str = "[", closing: str = "]") -> bytes:
    return (opening * depth + closing * depth).encode()


def cases(system: str, limit: int) -> list[dict]:
    """(name, method, body, credential) for one receiver: for PM the credential is the
    URL's event and secret (SIGN: the right ones), for LA the signature header."""
    good = json.dumps(GOOD[system]).encode()
    known = KNOWN[system]
    if system == "pm":
        credentials = [
            ("no secret in the URL", "POST", good, (known, None)),
            ("wrong secret", "POST", good, (known, "guess")),
            ("secret one character short", "POST", good, (known, "SHORT")),
            ("secret with a non-ASCII character", "POST", good, (known, "sécret")),
            ("event the hub does not handle", "POST", good, ("TimeEntryDeleted", SIGN)),
            ("event of the other system", "POST", good, ("contact.updated", SIGN)),
            ("event 10 kB long", "POST", good, ("E" * 10_000, SIGN)),
        ]
        shape = [
            ("data missing", {"meta": {}}),
            ("data of another resource", {"data": {"type": "actions", "id": "1"}}),
            ("id not a number", {"data": {"type": "participants", "id": "abc"}}),
            ("id negative", {"data": {"type": "participants", "id": -3}}),
            ("id true", {"data": {"type": "participants", "id": True}}),
            ("id nested 500 deep", {"data": {"id": json.loads(nested(500))}}),
            ("data of strings", {"data": ["1", "2"]}),
            ("empty data list", {"data": []}),
            ("ids list (not PM's shape)", {"event": known, "ids": [1]}),
        ]
    else:
        credentials = [
            ("no signature", "POST", good, None),
            ("empty signature", "POST", good, ""),
            ("signature without sha256=", "POST", good, signature(good)[7:]),
            ("md5= signature", "POST", good, "md5=" + hashlib.md5(good).hexdigest()),  # noqa: S324
            ("signature of another body", "POST", good, signature(good + b" ")),
            ("signature with the wrong secret", "POST", good, signature(good, "guess")),
            ("signature in upper case", "POST", good, signature(good).upper()),
            ("signature with a non-ASCII character", "POST", good, "sha256=é"),
            ("unknown event", "POST", b'{"event": "Exploded", "data": {"id": 1}}', SIGN),
            ("event of the other system", "POST", b'{"event": "ParticipantUpdated"}', SIGN),
            ("event missing", "POST", b'{"data": {"id": 1}}', SIGN),
            ("event a number", "POST", b'{"event": 7, "data": {"id": 1}}', SIGN),
            ("event NaN", "POST", b'{"event": NaN, "data": {"id": 1}}', SIGN),
            ("event an object", "POST", b'{"event": {"name": "x"}, "data": {"id": 1}}', SIGN),
            ("event 100 kB long", "POST", json.dumps({"event": "E" * 100_000}).encode(), SIGN),
        ]
        shape = [
            ("data missing", {"event": known}),
            ("data not an object", {"event": known, "data": [1]}),
            ("data.id a string", {"event": known, "data": {"id": "abc"}}),
            ("data nested 500 deep", {"event": known, "data": json.loads(nested(500))}),
            ("billed without entries", {"event": "time_entries.billed", "data": {"file": 1}}),
        ]
    authentic = (known, SIGN) if system == "pm" else SIGN
    found = [
        *credentials,
        ("empty body", "POST", b"", authentic),
        ("truncated JSON", "POST", good[:-5], authentic),
        ("trailing garbage", "POST", good + b"}}", authentic),
        ("invalid UTF-8", "POST", b'{"data": "\xff\xfe"}', authentic),
        ("JSON list", "POST", b"[1, 2, 3]", authentic),
        ("JSON string", "POST", b'"ParticipantUpdated"', authentic),
        ("JSON number", "POST", b"42", authentic),
        ("JSON null", "POST", b"null", authentic),
        ("arrays nested 100,000 deep", "POST", nested(100_000), authentic),
        ("objects nested 100,000 deep", "POST", nested(100_000, '{"a":', "}"), authentic),
        ("body over the limit", "POST", b'{"event": "' + b"x" * (limit + 1) + b'"}', authentic),
        *[(name, "POST", json.dumps(body).encode(), authentic) for name, body in shape],
        ("GET", "GET", b"", authentic),
        ("PUT with a good body", "PUT", good, authentic),
        ("DELETE", "DELETE", b"", authentic),
    ]  # fmt: skip
    return [{"name": n, "method": m, "body": b, "credential": c} for n, m, b, c in found]


def target(base: str, system: str, case: dict, secret: str) -> tuple[str, dict]:
    """The URL and headers a case is sent with."""
    headers = {"Content-Type": "application/json"}
    if system == "pm":
        event, given = case["credential"]
        if given is None:
            return f"{base}/webhooks/pm/{event}/", headers
        key = secret if given is SIGN else (secret[:-1] if given == "SHORT" else given)
        return f"{base}/webhooks/pm/{event}/{key}/", headers
    if case["credential"] is SIGN:
        headers[LA_HEADER] = signature(case["body"])
    elif case["credential"] is not None:
        headers[LA_HEADER] = case["credential"]
    return f"{base}/webhooks/la/", headers


def send(session, url: str, headers: dict, case: dict, *, chunked: bool = False):
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

        from sync.models import PmConnection, WebhookReceipt

        stack.manage("register_webhooks")  # gives PM's hooks their URL secret
        secret = PmConnection.objects.get(pk=1).resthook_secret
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        session = requests.Session()
        OrmQ.objects.all().delete()  # what connecting queued is not the fuzz's doing
        before = (WebhookReceipt.objects.count(), OrmQ.objects.count())
        for system in ("pm", "la"):
            for case in cases(system, limit):
                url, headers = target(stack.base, system, case, secret)
                runs = [("", False)]
                if case["name"] == "body over the limit":
                    runs.append((" (chunked, no Content-Length)", True))
                for suffix, chunked in runs:
                    # A chunked body the server does not read would spoil a kept-alive
                    # connection for the next case: it gets a connection of its own.
                    with requests.Session() if chunked else contextlib.nullcontext(session) as use:
                        status, code, error, seconds = send(
                            use, url, headers, case, chunked=chunked
                        )
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
        alive = session.post(
            f"{stack.base}/webhooks/pm/{KNOWN['pm']}/{secret}/",
            data=json.dumps(GOOD["pm"]).encode(),
            headers={"Content-Type": "application/json"},
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
