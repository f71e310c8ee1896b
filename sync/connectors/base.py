"""What both connectors share: one error type that says whether retrying can help, a
per-system rate limit, and a JSON-over-HTTP client with explicit timeouts.

Connectors never import the hub's models: they speak the external system's JSON and the
hub's plain field dicts (see each package's `mapping.py`).
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests


class ErrorKind:
    """How a failed call should be treated (ARCHITECTURE §4, rule 5)."""

    TRANSIENT = "transient"  # 5xx, 429: retry with backoff, link stays pending
    UNREACHABLE = "unreachable"  # timeout, refused connection: retry, link unknown
    AUTH = "auth"  # credentials refused even after a refresh: retry later, link unknown
    PERMANENT = "permanent"  # validation, other 4xx: red until the data changes
    # A rule the system refused, reported the way Actionstep reports most of them: a 500
    # carrying its error code. Retried once; the same code again turns the link red.
    REFUSED = "refused"
    # The connection to the system needs a person (not connected, grant revoked, scope
    # missing): syncs pause and links stay as they were until it is fixed.
    CONNECTION = "connection"


@dataclass
class ConnectorError(Exception):
    message: str
    kind: str
    system: str
    status: int | None = None
    code: str = ""
    field: str | None = None
    retry_after: float | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def permanent(self) -> bool:
        return self.kind == ErrorKind.PERMANENT


class RateLimiter:
    """A token bucket in this process: at most `per_minute` calls a minute, with bursts up
    to a tenth. The hub shares one budget between its processes (sync/budget.py); this
    one serves a client made on its own (tests, scripts).
    """

    def __init__(self, per_minute: int):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute / 10.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)


def retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After in seconds, given as seconds or as an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return max(0.0, (moment - datetime.datetime.now(datetime.UTC)).total_seconds())


class JsonHttpClient:
    """One `requests.Session`, explicit timeouts, and failures turned into ConnectorError."""

    system = ""
    content_type = "application/json"

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float,
        requests_per_minute: int = 600,
        budget: Any = None,
    ):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        # Anything with `acquire()`, called once before each request.
        self.limiter = budget or RateLimiter(requests_per_minute)
        self.session = requests.Session()
        self.session.headers.update({"Accept": self.content_type})
        self.requests_made = 0
        self.calls: Counter[str] = Counter()  # by HTTP method, for tests and benchmarks

    def url(self, path: str) -> str:
        if not path.startswith(("http://", "https://")):
            return self.base_url + path.lstrip("/")
        # An absolute address (a paging link from an answer) is followed only on the
        # system's own scheme and host: our credentials go nowhere else.
        if not same_origin(path, self.base_url):
            raise self.error(
                ErrorKind.PERMANENT,
                f"{self.name} answered with a link to another host; not followed.",
                code="foreign_link",
            )
        return path

    def auth_headers(self) -> dict[str, str]:
        return {}

    def send(self, method: str, path: str, *, json: Any = None, params=None, headers=None):
        """One HTTP call; answers the parsed body or raises ConnectorError."""
        self.limiter.acquire()
        self.requests_made += 1
        self.calls[method] += 1
        all_headers = {**self.auth_headers(), **(headers or {})}
        if json is not None:
            all_headers["Content-Type"] = self.content_type
        try:
            response = self.session.request(
                method,
                self.url(path),
                json=json,
                params=params,
                headers=all_headers,
                timeout=self.timeout,
            )
        except requests.Timeout as error:
            raise self.error(
                ErrorKind.UNREACHABLE, f"{self.name} did not answer in time."
            ) from error
        except requests.RequestException as error:
            raise self.error(
                ErrorKind.UNREACHABLE, f"{self.name} is unreachable: {error}"
            ) from error
        return response

    @property
    def name(self) -> str:
        return {"pm": "Practice Management", "la": "Legal Accounting"}.get(self.system, "system")

    def error(self, kind: str, message: str, **extra) -> ConnectorError:
        return ConnectorError(message=message, kind=kind, system=self.system, **extra)

    def parse(self, response: requests.Response) -> Any:
        if response.status_code < 400:
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as error:
                raise self.error(
                    ErrorKind.TRANSIENT,
                    f"{self.name} answered with a body that is not JSON.",
                    status=response.status_code,
                ) from error
        raise self.failure(response)

    def failure(self, response: requests.Response) -> ConnectorError:
        status = response.status_code
        code, message, field_name, details = self.error_body(response)
        if status == 429:
            return self.error(
                ErrorKind.TRANSIENT,
                message or f"{self.name} asked us to slow down.",
                status=status,
                code=code or "rate_limited",
                retry_after=retry_after_seconds(response),
            )
        if status >= 500:
            return self.error(
                ErrorKind.TRANSIENT,
                message or f"{self.name} failed with HTTP {status}.",
                status=status,
                code=code or "server_error",
            )
        if status in (401, 403):
            return self.error(
                ErrorKind.AUTH,
                message or f"{self.name} refused our credentials (HTTP {status}).",
                status=status,
                code=code or "unauthorised",
            )
        return self.error(
            ErrorKind.PERMANENT,
            message or f"{self.name} rejected the request (HTTP {status}).",
            status=status,
            code=code or f"http_{status}",
            field=field_name,
            details=details,
        )

    def error_body(self, response: requests.Response) -> tuple[str, str, str | None, dict]:
        """(code, message, field, details) from an error answer; each system overrides."""
        return "", "", None, {}


def same_origin(url: str, base: str) -> bool:
    first, second = urlsplit(url), urlsplit(base)
    return (first.scheme, first.netloc.lower()) == (second.scheme, second.netloc.lower())


def dig(payload: dict, path: str) -> Any:
    """`payload["a"]["b"]` for the dotted path "a.b"; None where a level is missing."""
    value: Any = payload
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def put(payload: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        payload = payload.setdefault(key, {})
    payload[last] = value
