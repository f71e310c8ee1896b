"""Actionstep's data collections: custom data on a matter that a PM user sees there.

What real Actionstep does (docs/actionstep-fidelity.md "Data
collections"): a collection (`datacollections`) belongs to an action type and declares
fields (`datacollectionfields`, id `<collection>--<name>`); an action holds a record of
it (`datacollectionrecords`); each field's value in a record is a string
(`datacollectionrecordvalues`, id `<collection>--<name>--<record>`). Actionstep's demo app
writes a value in three steps — look for it, create the record, PUT the value on its
composite id — and so does the hub.

These are functions over the one `ActionstepClient` (`sync.connectors.pm_client()`), so
every call spends the shared request budget and takes its tokens from the hub's one
connection. One thing differs from `ActionstepClient.call`: a 403 here is not the
connection's trouble. A firm whose Actionstep client lacks the data collection scopes
keeps syncing contacts, matters and time; only writing balances into PM fails, with
its own message (`MISSING_SCOPE`).
"""

from __future__ import annotations

from typing import Any

from sync.connectors.base import ConnectorError, ErrorKind

from .client import ActionstepClient, records

# The scopes these calls need (each resource is a scope of its own, docs api-scopes).
SCOPES = (
    "datacollections",
    "datacollectionfields",
    "datacollectionrecords",
    "datacollectionrecordvalues",
)
MISSING_SCOPE = "datacollection_scope_missing"


def _call(client: ActionstepClient, method: str, path: str, **kwargs) -> Any:
    """`client.call`, except that a 403 fails this call only (see the module doc)."""
    credentials = client.tokens.credentials()
    response = client._send_with(credentials, method, path, **kwargs)
    if response.status_code == 401:
        credentials = client.tokens.credentials(refused=credentials.access_token)
        response = client._send_with(credentials, method, path, **kwargs)
        if response.status_code == 401:
            raise client.tokens.token_rejected()
    if response.status_code == 403:
        raise client.error(
            ErrorKind.PERMANENT,
            "Practice Management refused the hub access to data collections: ask Actionstep "
            f"to grant the scopes {' '.join(SCOPES)} to the hub's client, then Reconnect.",
            status=403,
            code=MISSING_SCOPE,
        )
    return client.parse(response)


def _find(client: ActionstepClient, resource: str, **filters) -> list[dict]:
    return records(_call(client, "GET", resource, params=filters), resource)


def _create(client: ActionstepClient, resource: str, fields: dict) -> dict:
    found = records(_call(client, "POST", resource, json={resource: fields}), resource)
    if not found:
        raise client.error(
            ErrorKind.TRANSIENT, f"Practice Management created no {resource} record.", code=""
        )
    return found[0]


def field_id(collection_id: str, name: str) -> str:
    """A field's id: `<collection>--<field name>`."""
    return f"{collection_id}--{name}"


def value_id(collection_id: str, name: str, record_id: str) -> str:
    """A value's id: `<collection>--<field name>--<record>` (the demo app builds it so)."""
    return f"{collection_id}--{name}--{record_id}"


def action_type_id(client: ActionstepClient, action_id: str) -> str | None:
    """The action type of a matter (a collection belongs to one); None when PM no longer
    has the matter."""
    action = client.get("actions", action_id)
    if action is None:
        return None
    return str((action.get("links") or {}).get("actionType") or "") or None


def collection_find(client: ActionstepClient, *, name: str, action_type: str) -> dict | None:
    found = _find(client, "datacollections", name=name, actionType=action_type)
    exact = [row for row in found if str(row.get("name", "")).lower() == name.lower()]
    return exact[0] if exact else None


def collection_create(
    client: ActionstepClient, *, name: str, label: str, description: str, action_type: str
) -> dict:
    return _create(
        client,
        "datacollections",
        {
            "name": name,
            "label": label,
            "description": description,
            "multipleRecords": "F",
            "links": {"actionType": str(action_type)},
        },
    )


def fields_of(client: ActionstepClient, collection_id: str) -> list[dict]:
    return _find(client, "datacollectionfields", dataCollection=collection_id)


def field_create(
    client: ActionstepClient,
    *,
    collection_id: str,
    name: str,
    data_type: str,
    label: str,
    form_order: int,
    description: str = "",
) -> dict:
    return _create(
        client,
        "datacollectionfields",
        {
            "name": name,
            "dataType": data_type,
            "label": label,
            "formOrder": form_order,
            "description": description,
            "links": {"dataCollection": str(collection_id)},
        },
    )


def record_find(client: ActionstepClient, *, collection_id: str, action_id: str) -> dict | None:
    """The action's record of the collection; None when it has none (PM answers 204)."""
    found = _find(client, "datacollectionrecords", dataCollection=collection_id, action=action_id)
    return found[0] if found else None


def record_create(client: ActionstepClient, *, collection_id: str, action_id: str) -> dict:
    return _create(
        client,
        "datacollectionrecords",
        {"links": {"action": str(action_id), "dataCollection": str(collection_id)}},
    )


def value_write(client: ActionstepClient, value: str, string_value: str) -> dict:
    """PUT one value on its composite id (the demo app's UpdateDataFieldValueAsync)."""
    body = _call(
        client,
        "PUT",
        f"datacollectionrecordvalues/{value}",
        json={"datacollectionrecordvalues": {"stringValue": string_value}},
    )
    found = records(body, "datacollectionrecordvalues")
    return found[0] if found else {}


def is_gone(error: ConnectorError) -> bool:
    """PM does not have what the hub remembered (a record or field deleted there)."""
    return error.status == 404 or error.kind == ErrorKind.REFUSED
