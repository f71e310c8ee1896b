"""Helpers shared by the PM emulator's tests: the API as a client sees it, OpenAPI
validation of its answers, and records made through the services. Holds no tests of
its own (see the test_pm_*.py modules).
"""

import functools
import json
from decimal import Decimal
from pathlib import Path

import yaml
from django.conf import settings
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from jsonschema import Draft7Validator

from sandbox.pm import services
from sandbox.pm.models import Action, ActionType, Participant, ParticipantType, TimeEntry, User

API = "/sandbox/pm/api/rest/"
AUTHORIZE_URL = "/sandbox/pm/api/oauth/authorize"
TOKEN_URL = "/sandbox/pm/api/oauth/token"
MEDIA_TYPE = "application/vnd.api+json"
OPENAPI = Path(services.__file__).parent / "openapi"
SUPPLEMENT = "supplement.openapi.yml"
RECORD_SCHEMAS = {
    "participants": "Participant",
    "actions": "Action",
    "timeentries": "TimeEntry",
    "resthooks": "RESTHook",
    "users": "User",
    "participanttypes": "ParticipantType",
    "actionparticipants": "ActionParticipant",
}
PAGED_SCHEMAS = {
    "participants": "PagedParticipants",
    "actions": "PagedActions",
    "timeentries": "PagedTimeEntries",
    "resthooks": "PagedRESTHooks",
    "users": "PagedUsers",
    "participanttypes": "PagedParticipantTypes",
    "actionparticipants": "PagedActionParticipants",
}
SPECS = {
    "participants": "participants-api.openapi.yml",
    "actions": "actions-api.openapi.yml",
    "timeentries": "time-entries-api.openapi.yml",
    "resthooks": "rest-hooks-api.openapi.yml",
    "users": SUPPLEMENT,
    "participanttypes": SUPPLEMENT,
    "actionparticipants": SUPPLEMENT,
    "actioncreate": SUPPLEMENT,
    "errors": SUPPLEMENT,
}


def make_token(*, user: User | None = None, scopes=("all",)) -> str:
    """A fresh access token of a grant by `user` (default: a new "Api Clerk" user)."""
    if user is None:
        email = f"api.clerk{User.objects.count() + 1}@example-law.test"
        user = make_user(first_name="Api", last_name="Clerk", email=email)
    grant = services.grant_create(
        user=user, client_id=settings.SANDBOX_PM_CLIENT_ID, scopes=list(scopes)
    )
    return services.token_issue(grant=grant).access_token


class PM:
    """The PM API over HTTP (Django's test client) with a bearer token.

    Without a token it signs in as a new user "Api Clerk" (who, as every user, is also
    a participant) with the `all` scope.
    """

    def __init__(self, token: str | None = None, *, user: User | None = None, scopes=("all",)):
        self.token = make_token(user=user, scopes=scopes) if token is None else token
        self.http = Client(headers={"Authorization": f"Bearer {self.token}"} if self.token else {})

    def get(self, path: str, params: dict | None = None):
        return self.http.get(API + path, params or {})

    def send(self, method: str, path: str, body, content_type: str = MEDIA_TYPE):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return getattr(self.http, method)(API + path, data, content_type=content_type)

    def post(self, path: str, body, **kwargs):
        return self.send("post", path, body, **kwargs)

    def put(self, path: str, body, **kwargs):
        return self.send("put", path, body, **kwargs)

    def patch(self, path: str, body, **kwargs):
        return self.send("patch", path, body, **kwargs)

    def delete(self, path: str):
        return self.http.delete(API + path)


def body_of(response) -> dict:
    """The JSON body with numbers as Decimal, as a careful client reads money."""
    return json.loads(response.content, parse_float=Decimal)


def records_of(body: dict, resource: str) -> list[dict]:
    """The records of an answer as a list: one record comes as a bare object."""
    records = body[resource]
    return records if isinstance(records, list) else [records]


def ids_of(response, resource: str) -> list:
    """The ids an answer lists; [] for the 204 of no records."""
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.content
    return [record["id"] for record in records_of(body_of(response), resource)]


def errors_of(response) -> list[dict]:
    """The `errors` of an error answer, checked against the supplement's Errors schema."""
    body = body_of(response)
    _validate(body, "errors", "Errors")
    assert body["errors"][0]["status"] == str(response.status_code)
    return body["errors"]


def pointers_of(response) -> set[str]:
    return {entry["source"]["pointer"] for entry in errors_of(response) if "source" in entry}


def _link_ids_as_strings(schemas: dict) -> dict:
    """The files type the ids inside `links` as integers, but real answers carry strings
    (dbc-tech samples/action.json): a `*Links` schema's integers become digit strings."""
    for name, schema in schemas.items():
        if not name.endswith("Links"):
            continue
        for prop in schema.get("properties", {}).values():
            if prop.get("type") == "integer":
                prop["type"] = "string"
                prop["pattern"] = "^[0-9]+$"
                prop.pop("format", None)
    return schemas


def _loosen(node):
    """Two known gaps of the compiled files, and one of float arithmetic, closed:

    - they never say `nullable`, though Actionstep answers null for unset properties;
    - they type list-valued links (`primaryParticipants`) as a scalar with a list example;
    - `multipleOf: 0.01` fails for 2.35 in floats, so it is compared as Decimal.
    """
    if isinstance(node, list):
        return [_loosen(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _loosen(value) for key, value in node.items()}
    kind = node.get("type")
    if isinstance(kind, str):
        if isinstance(node.get("example"), list) and kind != "array":
            item = {key: value for key, value in node.items() if key in ("type", "pattern")}
            return {"type": ["array", "null"], "items": item}
        node["type"] = [kind, "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
    if "multipleOf" in node:
        node["multipleOf"] = Decimal(str(node["multipleOf"]))
    return node


@functools.cache
def _components(resource: str) -> dict:
    spec = yaml.safe_load((OPENAPI / SPECS[resource]).read_text())
    if SPECS[resource] == SUPPLEMENT:
        return spec["components"]  # ours: it says nullable where it means it
    components = spec["components"]
    components["schemas"] = _link_ids_as_strings(components["schemas"])
    return _loosen(components)


def _validate(instance, resource: str, schema: str) -> None:
    components = _components(resource)
    validator = Draft7Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": components}
    )
    problems = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(instance)]
    assert not problems, problems


def assert_matches_schema(body: dict, resource: str) -> None:
    """An answer fits the resource's OpenAPI file: the paged list, or the one record
    (the one-object quirk) and its paging; and its records have no property the file
    does not describe."""
    records = body[resource]
    if isinstance(records, list):
        _validate(body, resource, PAGED_SCHEMAS[resource])
    else:
        _validate(records, resource, RECORD_SCHEMAS[resource])
        _validate(body["meta"], resource, "PageMetaData")
        records = [records]
    schema = _components(resource)["schemas"][RECORD_SCHEMAS[resource]]
    described = set(schema["properties"])
    for record in records:
        assert set(record) <= described, f"undocumented: {set(record) - described}"


def assert_actioncreate_matches_schema(body: dict) -> None:
    _validate(body, "actioncreate", "ActionCreateAnswer")


def sandbox_queries(action) -> int:
    """How many queries `action()` sends to the sandbox database."""
    with CaptureQueriesContext(connections["sandbox"]) as captured:
        action()
    return len(captured.captured_queries)


def make_participant(**fields) -> Participant:
    return services.participant_create(**{"first_name": "Jane", "last_name": "Smith", **fields})


def make_user(first_name: str = "Ann", last_name: str = "Lawyer", **fields) -> User:
    email = fields.pop("email", f"{first_name}.{last_name}@example-law.test".lower())
    fields.setdefault("hourly_rate", Decimal("300.00"))
    return services.user_create(first_name=first_name, last_name=last_name, email=email, **fields)


def participant_types() -> dict[str, ParticipantType]:
    """Staff, Client and Other side (a transactional test's flush may have removed them)."""
    return services.participant_types_create_defaults()


def client_type() -> ParticipantType:
    return participant_types()["Client"]


def action_type() -> ActionType:
    return ActionType.objects.get_or_create(
        name="General Matter", defaults={"primary_participant_type": client_type()}
    )[0]


def make_action(client: Participant | None = None, **fields) -> Action:
    client = client or make_participant()
    data = {"name": "Purchase of 222 Beach Rd", "action_type": action_type(), **fields}
    return services.action_create(primary_participant_ids=[client.pk], **data)


def make_time_entry(action: Action, owner: User, **fields) -> TimeEntry:
    data = {"action": action, "owner": owner, "actual_hours": Decimal("1.50"), **fields}
    return services.time_entry_create(**data)
