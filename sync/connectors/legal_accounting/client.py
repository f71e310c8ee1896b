"""A thin client for Legal Accounting's REST API (docs/legal-accounting-api.md)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import requests
from django.conf import settings

from sync.connectors.base import JsonHttpClient

PAGE_SIZE = 200


class LegalAccountingClient(JsonHttpClient):
    system = "la"

    def __init__(self, *, base_url: str, token: str, timeout: float, requests_per_minute: int):
        super().__init__(
            base_url=base_url, timeout=timeout, requests_per_minute=requests_per_minute
        )
        self.token = token

    @classmethod
    def from_settings(cls) -> LegalAccountingClient:
        return cls(
            base_url=settings.LA_API_URL,
            token=settings.LA_API_TOKEN,
            timeout=settings.SYNC_HTTP_TIMEOUT,
            requests_per_minute=settings.LA_REQUESTS_PER_MINUTE,
        )

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def error_body(self, response: requests.Response):
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            return "", "", None, {}
        if not isinstance(error, dict):
            return "", str(error), None, {}
        return error.get("code", ""), error.get("message", ""), error.get("field"), error

    def call(self, method: str, path: str, **kwargs) -> Any:
        return self.parse(self.send(method, path, **kwargs))

    def list_all(self, path: str, **params) -> Iterator[dict]:
        """Every record of a collection, page by page."""
        found, next_url = self.page_read(path, params=params)
        yield from found
        while next_url:
            found, next_url = self.page_read(path, url=next_url)
            yield from found

    def page_read(
        self, path: str, *, params: dict | None = None, url: str = ""
    ) -> tuple[list[dict], str]:
        """One page: the first of a read with `params`, or the one at `url` (a `next`
        answered before); answers its records and the next page's URL ("" at the end)."""
        if url:
            page = self.call("GET", url)
        else:
            page = self.call("GET", path, params={**(params or {}), "page_size": PAGE_SIZE})
        page = page or {}
        return page.get("results", []), str(page.get("next") or "")

    def find_by_pm_ids(self, path: str, pm_id_field: str, pm_ids: list[str]) -> dict[str, dict]:
        """The records of a collection holding any of `pm_ids` in `pm_id_field`, by PM id:
        one request for up to PAGE_SIZE ids (`<field>__in`, docs/legal-accounting-api.md)."""
        found: dict[str, dict] = {}
        for start in range(0, len(pm_ids), PAGE_SIZE):
            chunk = ",".join(pm_ids[start : start + PAGE_SIZE])
            for raw in self.list_all(path, **{f"{pm_id_field}__in": chunk}):
                found[str(raw.get(pm_id_field))] = raw
        return found

    def find_one(self, path: str, **params) -> dict | None:
        results = self.call("GET", path, params=params).get("results", [])
        return results[0] if results else None

    def create(self, path: str, payload: dict, *, idempotency_key: str | None = None) -> dict:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.call("POST", path, json=payload, headers=headers)

    # Contacts
    def contact_get(self, contact_id: str) -> dict:
        return self.call("GET", f"contacts/{contact_id}")

    def contact_find_by_pm_id(self, pm_id: str) -> dict | None:
        return self.find_one("contacts", pm_contact_id=pm_id)

    def contact_create(self, payload: dict, *, idempotency_key: str) -> dict:
        return self.create("contacts", payload, idempotency_key=idempotency_key)

    def contact_update(self, contact_id: str, payload: dict) -> dict:
        return self.call("PATCH", f"contacts/{contact_id}", json=payload)

    # Files (matters)
    def file_get(self, file_id: str) -> dict:
        return self.call("GET", f"files/{file_id}")

    def file_find_by_pm_id(self, pm_id: str) -> dict | None:
        return self.find_one("files", pm_matter_id=pm_id)

    def file_create(self, payload: dict, *, idempotency_key: str) -> dict:
        return self.create("files", payload, idempotency_key=idempotency_key)

    def file_update(self, file_id: str, payload: dict) -> dict:
        return self.call("PATCH", f"files/{file_id}", json=payload)

    def file_balance(self, file_id: str) -> dict:
        return self.call("GET", f"files/{file_id}/balance")

    def balances_of_files(self, file_ids: list[str]) -> Iterator[dict]:
        """These files' balances, PAGE_SIZE files a request (`GET /balances?file__in`)."""
        for start in range(0, len(file_ids), PAGE_SIZE):
            yield from self.list_all(
                "balances", file__in=",".join(file_ids[start : start + PAGE_SIZE])
            )

    def balances_changed_since(self, moment: datetime.datetime) -> Iterator[dict]:
        """The balances of the files whose figures may have moved since `moment`: one
        request when nothing did (`GET /balances?changed_since`)."""
        yield from self.list_all("balances", changed_since=moment.isoformat())

    # Fee earners and time
    def fee_earner_find_by_email(self, email: str) -> dict | None:
        return self.find_one("fee-earners", email=email)

    def time_entries_create(self, entries: list[dict], *, idempotency_key: str) -> list[dict]:
        body = self.create(
            "time-entries/batch", {"entries": entries}, idempotency_key=idempotency_key
        )
        return body["results"]

    def time_entry_get(self, entry_id: str) -> dict:
        return self.call("GET", f"time-entries/{entry_id}")

    def webhook_register(self, url: str, events: list[str]) -> dict:
        return self.call("POST", "webhooks", json={"url": url, "events": events})
