"""HTTP views of the emulated PM: the Actionstep-shaped REST API and the OAuth2 token endpoint.

Views only translate HTTP; records change in `services`, reads live in `selectors`,
the JSON shape in `wire_format`. Decisions where the reference files are silent:

- **Envelope** (ARCHITECTURE.md section 5), `Content-Type: application/vnd.api+json`:
  `{"links": {...}, "<resource>": [...], "linked": {...}, "meta": {"paging": {"<resource>":
  {recordCount, pageCount, page, pageSize, prevPage, nextPage}}}}`. `prevPage`/`nextPage`
  are absolute URLs (null at either end). `links` holds Actionstep's URL templates, e.g.
  `"actions.assignedTo": {"href": ".../rest/participants/{actions.assignedTo}", ...}`.
- **One record is an object.** `participants/7` (and any write) answers
  `{"participants": {...}}`; `participants/7,8` answers a list. Ids that do not exist
  are left out of a list; 404 when none of them exists.
- **linked** is `{}` unless `include=` names links (`include=assignedTo,primaryParticipants`
  on actions, `include=action,owner` on time entries); then it holds the full records.
- **Writes.** Bodies are `application/json` or `application/vnd.api+json` (else 415).
  POST answers 200, as the files say. PUT is partial, like PATCH: absent properties are
  left as they are. Actions are created through `actioncreate` only, which answers the
  `actioncreate` record (with `links.action`) and the new action under `actions`.
- **Errors** use the shape of `sandbox.faults`, so a client parses one format:
  `{"error": {"code", "message", "field", "fields": {"<property>": ["..."]}}}` — 400 for bad JSON
  or query parameters, 401 for a missing/unknown/expired token, 404, 405, 415, and 422
  for a body that breaks a rule (the property is named in `fields`).
- **Tokens** (`oauth/token`, form-encoded POST): `grant_type=client_credentials` or
  `grant_type=refresh_token` (+ `refresh_token`); the client authenticates on both, with
  `client_id`/`client_secret` in the body or HTTP Basic (RFC 6749 §2.3.1). The answer is
  `{"access_token", "token_type": "bearer", "expires_in", "refresh_token", "api_endpoint"}`;
  refreshing rotates both tokens. Errors follow RFC 6749 §5.2: `{"error", "error_description"}`.
"""

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views import View

from . import selectors, services
from .selectors import Filter, Page, QueryError
from .wire_format import (
    ACTION_CREATE,
    ACTION_TYPES,
    ACTIONS,
    PARTICIPANTS,
    RESTHOOKS,
    TIME_ENTRIES,
    USERS,
    Resource,
    WireError,
)

MEDIA_TYPE = "application/vnd.api+json"
JSON_TYPES = frozenset({"application/json", MEDIA_TYPE})


class RequestError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def api_error(
    status: int, code: str, message: str, fields: Mapping[str, list[str]] | None = None
) -> JsonResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["field"] = next(iter(fields))
        error["fields"] = dict(fields)
    return JsonResponse({"error": error}, status=status, content_type=MEDIA_TYPE)


def _invalid(errors: Mapping[str, list[str]]) -> JsonResponse:
    summary = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
    return api_error(422, "invalid", summary, errors)


@dataclass(frozen=True)
class Endpoint:
    """One REST resource: its wire format, records, filters and the services that change it.

    `includes` maps a link name to the resource it points at and the ids a record links to.
    """

    wire: Resource
    records: Callable[[], QuerySet]
    filters: Mapping[str, Filter]
    create: Callable[..., Any] | None = None
    update: Callable[..., Any] | None = None
    delete: Callable[[Any], None] | None = None
    includes: Mapping[str, tuple[str, Callable[[Any], list]]] = field(default_factory=dict)


ENDPOINTS = {
    "participants": Endpoint(
        PARTICIPANTS,
        selectors.participant_list,
        selectors.PARTICIPANT_FILTERS,
        create=services.participant_create,
        update=services.participant_update,
    ),
    "actions": Endpoint(
        ACTIONS,
        selectors.action_list,
        selectors.ACTION_FILTERS,
        update=services.action_update,
        includes={
            "assignedTo": ("participants", lambda action: [action.assigned_to_id]),
            "primaryParticipants": ("participants", lambda action: action.primary_participant_ids),
            "actionType": ("actiontypes", lambda action: [action.action_type_id]),
        },
    ),
    "timeentries": Endpoint(
        TIME_ENTRIES,
        selectors.time_entry_list,
        selectors.TIME_ENTRY_FILTERS,
        create=services.time_entry_create,
        update=services.time_entry_update,
        delete=services.time_entry_delete,
        includes={
            "action": ("actions", lambda entry: [entry.action_id]),
            "owner": ("participants", lambda entry: [entry.owner_id]),
        },
    ),
    "users": Endpoint(USERS, selectors.user_list, selectors.USER_FILTERS),
    "actiontypes": Endpoint(
        ACTION_TYPES, selectors.action_type_list, selectors.ACTION_TYPE_FILTERS
    ),
    "resthooks": Endpoint(
        RESTHOOKS,
        selectors.resthook_list,
        selectors.RESTHOOK_FILTERS,
        create=services.resthook_create,
        delete=services.resthook_delete,
    ),
}


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _request_json(request: HttpRequest) -> Any:
    if request.content_type not in JSON_TYPES:
        raise RequestError(415, "unsupported_media_type", f"Send {MEDIA_TYPE} or application/json.")
    if not request.body:
        raise RequestError(400, "bad_request", "The request body is empty.")
    try:
        return json.loads(request.body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, "bad_request", "The request body is not valid JSON.") from None


def _page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def _paging(request: HttpRequest, page: Page) -> dict:
    return {
        "recordCount": page.record_count,
        "pageCount": page.page_count,
        "page": page.page,
        "pageSize": page.page_size,
        "prevPage": _page_url(request, page.page - 1) if page.page > 1 else None,
        "nextPage": _page_url(request, page.page + 1) if page.page < page.page_count else None,
    }


def _link_templates(request: HttpRequest, wire: Resource) -> dict:
    rest = request.build_absolute_uri(reverse("sandbox_pm:rest"))
    return {
        f"{wire.name}.{link}": {"href": f"{rest}{target}/{{{wire.name}.{link}}}", "type": target}
        for link, target in wire.link_types.items()
    }


def _linked(request: HttpRequest, endpoint: Endpoint, records: list) -> dict:
    wanted: dict[str, set[int]] = {}
    for name in filter(None, request.GET.get("include", "").split(",")):
        if name not in endpoint.includes:
            choices = ", ".join(endpoint.includes) or "nothing"
            raise QueryError("include", f"{endpoint.wire.name} can include {choices}.")
        target, ids_of = endpoint.includes[name]
        ids = wanted.setdefault(target, set())
        ids.update(pk for record in records for pk in ids_of(record) if pk is not None)
    linked = {}
    for target, ids in wanted.items():
        related = ENDPOINTS[target]
        rows = related.records().filter(pk__in=ids).order_by("pk")
        linked[target] = [related.wire.render(row) for row in rows]
    return linked


def envelope(request: HttpRequest, endpoint: Endpoint, page: Page, *, many: bool) -> dict:
    wire = endpoint.wire
    rendered = [wire.render(record) for record in page.records]
    return {
        "links": _link_templates(request, wire),
        wire.name: rendered if many else rendered[0],
        "linked": _linked(request, endpoint, page.records),
        "meta": {"paging": {wire.name: _paging(request, page)}},
    }


def _one(record: Any) -> Page:
    return Page(records=[record], record_count=1, page=1, page_size=selectors.PAGE_SIZE_DEFAULT)


class ApiView(View):
    """Bearer-token check and the translation of errors into API answers."""

    endpoint_name = ""
    http_method_names = ["get", "post", "put", "patch", "delete"]

    @property
    def endpoint(self) -> Endpoint:
        return ENDPOINTS[self.endpoint_name]

    @property
    def error_wire(self) -> Resource:
        return self.endpoint.wire

    def dispatch(self, request, *args, **kwargs):
        if not services.token_is_valid(_bearer_token(request)):
            response = api_error(
                401, "invalid_token", "The access token is missing, unknown or expired."
            )
            response["WWW-Authenticate"] = 'Bearer realm="sandbox-pm", error="invalid_token"'
            return response
        try:
            return super().dispatch(request, *args, **kwargs)
        except RequestError as error:
            return api_error(error.status, error.code, error.message)
        except QueryError as error:
            return api_error(400, "bad_request", str(error), {error.parameter: [error.message]})
        except WireError as error:
            return _invalid(error.errors)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                errors = error.message_dict
            else:
                errors = {NON_FIELD_ERRORS: error.messages}
            return _invalid(self.error_wire.wire_errors(errors))

    def http_method_not_allowed(self, request, *args, **kwargs):
        return api_error(405, "method_not_allowed", f"{request.method} is not allowed here.")

    def answer(self, request: HttpRequest, record: Any, **extra: Any) -> JsonResponse:
        """The envelope of one record, reloaded so that it renders as a read would."""
        record = self.endpoint.records().get(pk=record.pk)
        body = {**extra, **envelope(request, self.endpoint, _one(record), many=False)}
        return JsonResponse(body, content_type=MEDIA_TYPE)

    def body_fields(self, request: HttpRequest, *, creating: bool) -> dict:
        wire = self.endpoint.wire
        return wire.parse(wire.unwrap(_request_json(request)), creating=creating)


class CollectionView(ApiView):
    def get(self, request):
        endpoint = self.endpoint
        queryset = selectors.records_filter(endpoint.records(), request.GET, endpoint.filters)
        queryset = selectors.records_sort(queryset, request.GET.get("sort"))
        page = selectors.records_page(queryset, request.GET)
        return JsonResponse(envelope(request, endpoint, page, many=True), content_type=MEDIA_TYPE)

    def post(self, request):
        if self.endpoint.create is None:
            return self.http_method_not_allowed(request)
        record = self.endpoint.create(**self.body_fields(request, creating=True))
        return self.answer(request, record)


class MemberView(ApiView):
    def _ids(self, ids: str) -> list[int]:
        parts = ids.split(",")
        if not all(part.isdigit() for part in parts):
            raise RequestError(404, "not_found", f"No {self.endpoint.wire.name} with id {ids}.")
        return [int(part) for part in parts]

    def _record(self, ids: str) -> Any:
        pks = self._ids(ids)
        if len(pks) != 1:
            raise RequestError(400, "bad_request", "Change one record at a time.")
        record = self.endpoint.records().filter(pk=pks[0]).first()
        if record is None:
            raise RequestError(404, "not_found", f"No {self.endpoint.wire.name} with id {ids}.")
        return record

    def get(self, request, ids: str):
        endpoint = self.endpoint
        pks = self._ids(ids)
        queryset = endpoint.records().filter(pk__in=pks).order_by("pk")
        page = selectors.records_page(queryset, request.GET)
        if not page.record_count:
            raise RequestError(404, "not_found", f"No {endpoint.wire.name} with id {ids}.")
        many = len(pks) > 1
        return JsonResponse(envelope(request, endpoint, page, many=many), content_type=MEDIA_TYPE)

    def put(self, request, ids: str):
        if self.endpoint.update is None:
            return self.http_method_not_allowed(request)
        record = self._record(ids)
        record = self.endpoint.update(record, **self.body_fields(request, creating=False))
        return self.answer(request, record)

    patch = put

    def delete(self, request, ids: str):
        if self.endpoint.delete is None:
            return self.http_method_not_allowed(request)
        self.endpoint.delete(self._record(ids))
        return HttpResponse(status=204)


class ActionCreateView(ApiView):
    """`POST actioncreate` and `POST actioncreate/{actionTypeId}` create a matter."""

    endpoint_name = "actions"
    http_method_names = ["post"]

    @property
    def error_wire(self) -> Resource:
        return ACTION_CREATE

    def post(self, request, action_type_id: str | None = None):
        data = ACTION_CREATE.unwrap(_request_json(request))
        if action_type_id is not None:
            links = data.get("links") or {}
            if isinstance(links, dict):
                given = links.get("actionType")
                if given is not None and str(given) != action_type_id:
                    raise WireError({"links.actionType": ["Differs from the type in the URL."]})
                data = {**data, "links": {**links, "actionType": int(action_type_id)}}
        fields = ACTION_CREATE.parse(data, creating=True)
        action = services.action_create(**fields)
        return self.answer(request, action, actioncreate=ACTION_CREATE.render(action))


class IndexView(ApiView):
    """`api/` and `api/rest/`: where the resources are, for a client finding its way."""

    http_method_names = ["get"]

    def get(self, request):
        rest = request.build_absolute_uri(reverse("sandbox_pm:rest"))
        resources = {name: f"{rest}{name}" for name in [*ENDPOINTS, "actioncreate"]}
        return JsonResponse({"links": resources}, content_type=MEDIA_TYPE)


def unknown_resource(request: HttpRequest, path: str) -> JsonResponse:
    return api_error(404, "not_found", f"There is no resource at rest/{path}.")


def _client_credentials(request: HttpRequest) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise services.TokenError("invalid_client", "Malformed Basic credentials.") from None
        client_id, _, client_secret = decoded.partition(":")
        return unquote(client_id), unquote(client_secret)
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def oauth_token(request: HttpRequest) -> JsonResponse:
    """OAuth2 token endpoint: client_credentials and refresh_token grants (see module doc)."""
    if request.method != "POST":
        return JsonResponse(
            {"error": "invalid_request", "error_description": "Use POST."}, status=405
        )
    try:
        services.client_credentials_check(*_client_credentials(request))
        grant_type = request.POST.get("grant_type", "")
        if grant_type == "client_credentials":
            issued = services.token_issue()
        elif grant_type == "refresh_token":
            refresh_token = request.POST.get("refresh_token", "")
            if not refresh_token:
                raise services.TokenError("invalid_request", "refresh_token is required.")
            issued = services.token_refresh(refresh_token=refresh_token)
        else:
            raise services.TokenError(
                "unsupported_grant_type", "Use client_credentials or refresh_token."
            )
    except services.TokenError as error:
        status = 401 if error.code == "invalid_client" else 400
        response = JsonResponse(
            {"error": error.code, "error_description": error.description}, status=status
        )
        if status == 401:
            response["WWW-Authenticate"] = 'Basic realm="sandbox-pm"'
        return response
    response = JsonResponse(
        {
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "refresh_token": issued.refresh_token,
            "api_endpoint": request.build_absolute_uri(reverse("sandbox_pm:api")),
        }
    )
    response["Cache-Control"] = "no-store"
    return response
