"""A thin client for Actionstep's REST API, as real Actionstep answers it.

Every behaviour relied on here is in docs/actionstep-fidelity.md with its source; the
answers it tolerates are every plausible shape where the real one is not published:

- **Tokens** come from a `TokenSource` (the hub's one connection, refreshed under a lock
  across processes); the REST base is the token answer's `api_endpoint` + `rest/`. A 401
  asks the source again once (another process may have refreshed), then gives up.
- **Collections** are `{"<resource>": [...], "linked": {...}, "meta": {"paging": {"<resource>":
  {..., "nextPage": "<url>"}}}}`; a one-record answer may be an object instead of a list;
  no records may be a 204 with no body. `records()` normalises all three.
- **Errors** carry a top-level `errors` (a list or one object, with `code`, `title`,
  `detail`, `source`), or, from older hosts and OAuth, `error`. A 500 with an Actionstep
  error code is how most refused rules come back: it is `REFUSED` (red if it repeats),
  while a 5xx without a code stays transient. A 403 is a permission the connection
  lacks, never a record's fault.
- POST is not idempotent in PM, so the engine looks a record up before creating it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import requests

from sync.connectors.base import ConnectorError, ErrorKind, JsonHttpClient

from .oauth import Credentials, rest_base

MEDIA_TYPE = "application/vnd.api+json"
PAGE_SIZE = 200  # Actionstep's maximum (docs.actionstep.com/api-limits)


class TokenSource(Protocol):
    def credentials(self, *, refused: str | None = None) -> Credentials: ...
    def scope_missing(self, message: str) -> ConnectorError: ...
    def token_rejected(self) -> ConnectorError: ...


def records(body: Any, resource: str) -> list[dict]:
    """The records of `resource` in a PM answer, always as a list (a 204 is none)."""
    if not isinstance(body, dict):
        return []
    found = body.get(resource)
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def next_page_url(body: Any, resource: str) -> str:
    """The URL of the page after this answer's (`meta.paging.<resource>.nextPage`), or ""."""
    if not isinstance(body, dict):
        return ""
    paging = ((body.get("meta") or {}).get("paging") or {}).get(resource) or {}
    return str(paging.get("nextPage") or "")


def linked(body: Any, resource: str) -> dict[str, dict]:
    """The side-loaded records of `resource` (`include=`), by their id as a string."""
    if not isinstance(body, dict):
        return {}
    found = (body.get("linked") or {}).get(resource) or []
    if isinstance(found, dict):
        found = [found]
    return {str(record.get("id")): record for record in found if isinstance(record, dict)}


def _error_entries(body: Any) -> list[dict]:
    if not isinstance(body, dict):
        return []
    errors = body.get("errors")
    if errors is None and "error" in body:
        error = body["error"]
        errors = error if isinstance(error, dict | list) else {"detail": str(error)}
        if isinstance(errors, dict) and "message" in errors and "detail" not in errors:
            errors = {**errors, "detail": errors["message"]}
        if isinstance(body.get("error_description"), str):
            errors = {"code": str(error), "detail": body["error_description"]}
    if isinstance(errors, dict):
        errors = [errors]
    if isinstance(errors, str):
        errors = [{"detail": errors}]
    return [entry for entry in errors or [] if isinstance(entry, dict)]


def _field_of(entry: dict) -> str | None:
    source = entry.get("source")
    if isinstance(source, dict):
        where = source.get("pointer") or source.get("parameter")
        if isinstance(where, str) and where:
            return where.rstrip("/").rsplit("/", 1)[-1]
    field = entry.get("field")
    return field if isinstance(field, str) and field else None


class ActionstepClient(JsonHttpClient):
    system = "pm"
    content_type = MEDIA_TYPE

    def __init__(
        self,
        *,
        tokens: TokenSource,
        timeout: float,
        budget: Any = None,
        requests_per_minute: int = 600,
        client_participant_type: str = "Client",
    ):
        super().__init__(
            base_url="https://pm.invalid/",
            timeout=timeout,
            budget=budget,
            requests_per_minute=requests_per_minute,
        )
        self.tokens = tokens
        self.client_participant_type = client_participant_type
        self._participant_type_ids: dict[str, str] = {}

    # Calls
    def call(self, method: str, path: str, **kwargs) -> Any:
        credentials = self.tokens.credentials()
        response = self._send_with(credentials, method, path, **kwargs)
        if response.status_code == 401:
            credentials = self.tokens.credentials(refused=credentials.access_token)
            response = self._send_with(credentials, method, path, **kwargs)
            if response.status_code == 401:
                raise self.tokens.token_rejected()
        if response.status_code == 403:
            raise self.tokens.scope_missing(self.failure(response).message)
        return self.parse(response)

    def _send_with(self, credentials: Credentials, method: str, path: str, **kwargs):
        self.base_url = rest_base(credentials.api_endpoint)
        headers = {
            **kwargs.pop("headers", {}),
            "Authorization": f"Bearer {credentials.access_token}",
        }
        return self.send(method, path, headers=headers, **kwargs)

    def error_body(self, response: requests.Response):
        try:
            body = response.json()
        except ValueError:
            return "", "", None, {}
        entries = _error_entries(body)
        if not entries:
            return "", "", None, {}
        first = entries[0]
        code = str(first.get("code") or "")
        messages = [
            str(entry.get("detail") or entry.get("title") or "").strip() for entry in entries
        ]
        message = "; ".join(text for text in messages if text)
        return code, message, _field_of(first), {"errors": entries}

    def failure(self, response: requests.Response) -> ConnectorError:
        status = response.status_code
        code, message, field_name, details = self.error_body(response)
        if status == 500 and code:
            return self.error(
                ErrorKind.REFUSED,
                message or f"{self.name} refused the request (error {code}).",
                status=status,
                code=code,
                field=field_name,
                details=details,
            )
        if status == 403:
            return self.error(
                ErrorKind.CONNECTION,
                message or f"{self.name} refused access (HTTP 403).",
                status=status,
                code=code or "forbidden",
            )
        return super().failure(response)

    # Reading
    def pages(self, resource: str, **params) -> Iterator[dict]:
        """Each answer of a collection read to its end, following
        `meta.paging.<resource>.nextPage` (an answer carries `linked` beside the records)."""
        body = self.call("GET", resource, params={**params, "pageSize": PAGE_SIZE, "page": 1})
        while isinstance(body, dict):
            yield body
            next_page = next_page_url(body, resource)
            body = self.call("GET", next_page) if next_page else None

    def page_read(
        self, resource: str, *, params: dict | None = None, url: str = ""
    ) -> tuple[list[dict], str]:
        """One page: the first of a read with `params`, or the one at `url` (a `nextPage`
        answered before); answers its records and the next page's URL ("" at the end)."""
        if url:
            body = self.call("GET", url)
        else:
            body = self.call(
                "GET", resource, params={**(params or {}), "pageSize": PAGE_SIZE, "page": 1}
            )
        return records(body, resource), next_page_url(body, resource)

    def list_all(self, resource: str, **params) -> Iterator[dict]:
        """Every record of a resource, page by page."""
        for body in self.pages(resource, **params):
            yield from records(body, resource)

    def get(self, resource: str, record_id: str, **params) -> dict | None:
        """One record, or None when PM answers that it has no such record (404 or 204)."""
        try:
            body = self.call("GET", f"{resource}/{record_id}", params=params or None)
        except ConnectorError as error:
            if error.status == 404:
                return None
            raise
        found = records(body, resource)
        return found[0] if found else None

    def find(self, resource: str, **filters) -> list[dict]:
        return records(self.call("GET", resource, params=filters), resource)

    # Writing
    def create(self, resource: str, fields: dict) -> dict:
        return records(self.call("POST", resource, json={resource: fields}), resource)[0]

    def update(self, resource: str, record_id: str, fields: dict, *, method: str = "PUT") -> dict:
        body = self.call(method, f"{resource}/{record_id}", json={resource: fields})
        found = records(body, resource)
        return found[0] if found else self.get(resource, record_id) or {}

    def action_create(self, fields: dict) -> str:
        """Create a matter through `actioncreate`; answers the new action's id.

        The answer's shape is not published (the API wiki: the POST does not answer as a
        GET would), so the id is looked for where each plausible shape puts it.
        """
        body = self.call("POST", "actioncreate", json={"actioncreate": fields})
        for created in records(body, "actioncreate"):
            action_id = (created.get("links") or {}).get("action") or created.get("id")
            if action_id:
                return str(action_id)
        for action in records(body, "actions"):
            if action.get("id"):
                return str(action["id"])
        raise self.error(
            ErrorKind.TRANSIENT,
            f"{self.name} created a matter but did not say its id.",
            code="no_action_id",
        )

    def participant_type_id(self, name: str) -> str:
        """The id of the participant type called `name` in this org (ids differ per org)."""
        if name not in self._participant_type_ids:
            found = [
                record
                for record in self.find("participanttypes", name=name)
                if str(record.get("name", "")).lower() == name.lower()
            ]
            if not found:
                raise self.error(
                    ErrorKind.PERMANENT,
                    f"{self.name} has no participant type named {name!r} "
                    "(PM_CLIENT_PARTICIPANT_TYPE).",
                    code="no_participant_type",
                )
            self._participant_type_ids[name] = str(found[0]["id"])
        return self._participant_type_ids[name]

    def action_client_add(self, action_id: str, participant_id: str) -> None:
        """Make a participant a client of a matter (an `actionparticipants` link of the
        client participant type)."""
        type_id = self.participant_type_id(self.client_participant_type)
        self.call(
            "POST",
            "actionparticipants",
            json={
                "actionparticipants": {
                    "links": {
                        "action": str(action_id),
                        "participantType": type_id,
                        "participant": str(participant_id),
                    }
                }
            },
        )

    def resthook_register(self, event_name: str, target_url: str) -> dict:
        return self.create("resthooks", {"eventName": event_name, "targetUrl": target_url})

    def resthook_delete(self, hook_id: str) -> None:
        try:
            self.call("DELETE", f"resthooks/{hook_id}")
        except ConnectorError as error:
            if error.status != 404:
                raise
