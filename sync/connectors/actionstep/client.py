"""A thin client for the Actionstep-shaped PM REST API (ARCHITECTURE §5).

OAuth2 client credentials with refresh; a 401 refreshes the token and retries once.
Collections come back as `{"<resource>": [...], "meta": {"paging": {...}}}`, and a
one-record answer may be an object rather than a list: `records()` normalises both.
POST is not idempotent in PM, so the engine looks a record up by
`importExternalReference` before it creates one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
from django.conf import settings

from sync.connectors.base import ConnectorError, ErrorKind, JsonHttpClient

MEDIA_TYPE = "application/vnd.api+json"
PAGE_SIZE = 200
# Refresh a little before the token runs out rather than collect a 401 for it.
EXPIRY_MARGIN_SECONDS = 10
# Where PM puts a validation error that belongs to no one property.
NON_FIELD = "__all__"


def records(body: dict | None, resource: str) -> list[dict]:
    """The records of `resource` in a PM answer, always as a list."""
    if not body:
        return []
    found = body.get(resource)
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


class ActionstepClient(JsonHttpClient):
    system = "pm"
    content_type = MEDIA_TYPE

    _token_lock = threading.Lock()

    def __init__(
        self,
        *,
        base_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        timeout: float,
        requests_per_minute: int,
    ):
        super().__init__(
            base_url=base_url, timeout=timeout, requests_per_minute=requests_per_minute
        )
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token = ""
        self.refresh_token = ""
        self.expires_at = 0.0

    @classmethod
    def from_settings(cls) -> ActionstepClient:
        return cls(
            base_url=settings.PM_API_URL,
            token_url=settings.PM_TOKEN_URL,
            client_id=settings.PM_CLIENT_ID,
            client_secret=settings.PM_CLIENT_SECRET,
            timeout=settings.SYNC_HTTP_TIMEOUT,
            requests_per_minute=settings.PM_REQUESTS_PER_MINUTE,
        )

    # OAuth2
    def authenticate(self, *, refused: str | None = None) -> None:
        """Have a usable access token; `refused` is a token PM just answered 401 to.

        The refresh grant is tried first when there is a refresh token; if PM refuses it,
        client credentials start afresh. A token endpoint that is down is not retried
        with the other grant: that would only double the wait.
        """
        with self._token_lock:
            usable = self.access_token and time.monotonic() < self.expires_at
            # Another thread may have replaced the refused token while this one waited.
            if usable and self.access_token != refused:
                return
            if self.refresh_token:
                try:
                    self._take_token(
                        {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
                    )
                    return
                except ConnectorError as error:
                    if error.kind != ErrorKind.AUTH:
                        raise
                    self.refresh_token = ""
            self._take_token({"grant_type": "client_credentials"})

    def _take_token(self, grant: dict) -> None:
        self.limiter.acquire()
        self.requests_made += 1
        data = {**grant, "client_id": self.client_id, "client_secret": self.client_secret}
        try:
            response = self.session.post(self.token_url, data=data, timeout=self.timeout)
        except requests.Timeout as error:
            raise self.error(
                ErrorKind.UNREACHABLE, f"{self.name} sign-in did not answer in time."
            ) from error
        except requests.RequestException as error:
            raise self.error(
                ErrorKind.UNREACHABLE, f"{self.name} sign-in is unreachable: {error}"
            ) from error
        if response.status_code in (400, 401, 403):
            raise self.error(
                ErrorKind.AUTH,
                f"{self.name} refused our credentials (HTTP {response.status_code}).",
                status=response.status_code,
                code="credentials_refused",
            )
        body = self.parse(response)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise self.error(
                ErrorKind.AUTH,
                f"{self.name} sign-in answered without an access token.",
                status=response.status_code,
                code="no_access_token",
            )
        self.access_token = body["access_token"]
        # RFC 6749 §6: keep the refresh token unless the server issued a new one.
        self.refresh_token = body.get("refresh_token") or grant.get("refresh_token", "")
        lifetime = float(body.get("expires_in") or 300)
        self.expires_at = time.monotonic() + max(0.0, lifetime - EXPIRY_MARGIN_SECONDS)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def call(self, method: str, path: str, **kwargs) -> Any:
        self.authenticate()
        sent_with = self.access_token
        response = self.send(method, path, **kwargs)
        if response.status_code == 401:
            self.authenticate(refused=sent_with)
            response = self.send(method, path, **kwargs)
        return self.parse(response)

    def error_body(self, response: requests.Response):
        """PM's errors are `{"error": {"code", "message", "field", "fields"}}` (sandbox/pm/api.py).

        A rule that is not about one property comes back under Django's `__all__`; it is
        reported without a field, and its message without that prefix.
        """
        try:
            body = response.json()
        except ValueError:
            return "", "", None, {}
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return "", "", None, {}
        field_name = error.get("field")
        message = str(error.get("message") or "")
        if field_name == NON_FIELD:
            field_name = None
            message = message.replace(f"{NON_FIELD}: ", "")
        return str(error.get("code") or ""), message, field_name, error

    # Reading
    def list_all(self, resource: str, **params) -> Iterator[dict]:
        """Every record of a resource, following `meta.paging.<resource>.nextPage`."""
        body = self.call("GET", resource, params={**params, "pageSize": PAGE_SIZE, "page": 1})
        while body:
            yield from records(body, resource)
            paging = ((body.get("meta") or {}).get("paging") or {}).get(resource) or {}
            next_page = paging.get("nextPage")
            body = self.call("GET", next_page) if next_page else None

    def get(self, resource: str, record_id: str) -> dict | None:
        found = records(self.call("GET", f"{resource}/{record_id}"), resource)
        return found[0] if found else None

    def find(self, resource: str, **filters) -> list[dict]:
        return records(self.call("GET", resource, params=filters), resource)

    # Writing
    def create(self, resource: str, fields: dict) -> dict:
        return records(self.call("POST", resource, json={resource: fields}), resource)[0]

    def update(self, resource: str, record_id: str, fields: dict) -> dict:
        body = self.call("PUT", f"{resource}/{record_id}", json={resource: fields})
        return records(body, resource)[0]

    def action_create(self, fields: dict) -> dict:
        body = self.call("POST", "actioncreate", json={"actioncreate": fields})
        return records(body, "actioncreate")[0]

    def resthook_register(self, event_name: str, target_url: str) -> dict:
        return self.create("resthooks", {"eventName": event_name, "targetUrl": target_url})
