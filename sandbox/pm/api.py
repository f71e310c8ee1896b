"""HTTP views of the emulated PM's REST API (the OAuth2 endpoints are in `oauth.py`).

Views only translate HTTP; records change in `services`, reads live in `selectors`,
the JSON shape in `wire_format`, errors in `errors`. Decisions (sources:
docs/actionstep-fidelity.md):

- **Envelope** (wiki "Responses"; docs api-responses), `Content-Type:
  application/vnd.api+json`: `{"links": {...}, "<resource>": [...], "linked": {...},
  "meta": {"paging": {"<resource>": {recordCount, pageCount, page, pageSize, prevPage,
  nextPage}}}}` (paging under the resource name: actions OpenAPI file). `prevPage` and
  `nextPage` are absolute URLs, null at either end (what real Actionstep answers there
  is UNKNOWN). `links` holds Actionstep's URL templates, e.g. `"actions.assignedTo":
  {"href": ".../rest/participants/{actions.assignedTo}", "type": "participants"}`.
- **One record is an object** (api-quirks.md; dbc-tech v1.19.0; the demo's
  `DataRows == 1`): a collection with one record, `participants/7` and any write answer
  `{"participants": {...}}`; `participants/7,8` answers a list (docs api-requests).
  Ids that do not exist are left out; 404 when none of them exists.
- **No records is 204 with no body** (wiki Error Codes: "May occur if there are no
  records matching the requested filters"; the demo tests `NoContent`; the PHP SDK's
  "no records found"), also for a page past the end (emulator choice).
- **linked** is `{}` unless `include=` names links; then it holds the full records,
  under the target resource's name (`users/current?include=participant` fills
  `linked.participants`, as Actionstep's demo reads it). Records of a resource the token
  has no scope for are left out: the old wiki says "the client will only receive data
  which is available to the scopes requested".
- **Writes.** Bodies are `application/json` or `application/vnd.api+json` (else 415).
  POST answers 200 with the record, as the OpenAPI files say. PUT and PATCH are both
  partial updates: absent properties are left as they are (actions: PATCH in the
  OpenAPI file, PUT in the wiki and the demo). DELETE answers 204 and takes comma lists
  (`resthooks/1,2`, as the demo deletes hooks); every id must exist (else 404 and
  nothing is deleted).
- **Tokens and scopes.** Every endpoint needs a bearer token (docs api-requests);
  missing, unknown, expired or revoked → 401 with `WWW-Authenticate: Bearer`. Each
  endpoint needs the scope named after its resource (`actioncreate` for actioncreate);
  `all` covers everything (docs api-scopes). A token without it → 403
  `insufficient_scope` (api-quirks.md, a single source).
- **Errors** are `{"errors": [...]}` (see `errors.py`).
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views import View

from sandbox.routers import SANDBOX_DATABASE

from . import selectors, services
from .errors import MEDIA_TYPE, ApiError, Problem, bad_request, errors_body, rule_broken
from .selectors import Access, Filter, Page
from .wire_format import (
    ACTION_CREATE,
    ACTION_PARTICIPANTS,
    ACTION_TYPES,
    ACTIONS,
    DATA_COLLECTION_FIELDS,
    DATA_COLLECTION_RECORD_VALUES,
    DATA_COLLECTION_RECORDS,
    DATA_COLLECTIONS,
    PARTICIPANT_TYPES,
    PARTICIPANTS,
    RESTHOOKS,
    TIME_ENTRIES,
    USERS,
    Resource,
    actioncreate_parse,
)

JSON_TYPES = frozenset({"application/json", MEDIA_TYPE})


def errors_response(problems: list[Problem]) -> JsonResponse:
    return JsonResponse(errors_body(problems), status=problems[0].status, content_type=MEDIA_TYPE)


def _integer_key(part: str) -> Q | None:
    return Q(pk=int(part)) if part.isdigit() else None


def _composite_key(part: str) -> Q | None:
    """`<action>--<participantType>--<participant>`, an action participant's id."""
    pieces = part.split("--")
    if len(pieces) != 3 or not all(piece.isdigit() for piece in pieces):
        return None
    action, participant_type, participant = map(int, pieces)
    return Q(action_id=action, participant_type_id=participant_type, participant_id=participant)


def _field_key(part: str) -> Q | None:
    """`<data collection>--<field name>`, a data collection field's id."""
    collection, separator, name = part.partition("--")
    if not (separator and collection.isdigit() and name) or "--" in name:
        return None
    return Q(data_collection_id=int(collection), name=name)


def _value_key(part: str) -> Q | None:
    """`<data collection>--<field name>--<record>`, a data collection value's id."""
    pieces = part.split("--")
    if len(pieces) != 3 or not (pieces[0].isdigit() and pieces[2].isdigit() and pieces[1]):
        return None
    collection, name, record = pieces
    return Q(record_id=int(record), field__name=name, field__data_collection_id=int(collection))


@dataclass(frozen=True)
class Endpoint:
    """One REST resource: its wire format, records, filters and the services that change it.

    `records` gets the request's Access (users need it for `isCurrent`); `includes` maps
    a link name to the resource it points at and the ids a record links to; `key` reads
    one id of a path; `current` allows `<resource>/current` (users).
    """

    wire: Resource
    records: Callable[[Access], QuerySet]
    filters: Mapping[str, Filter]
    sorts: Mapping[str, str] = field(default_factory=lambda: selectors.ID_SORTS)
    create: Callable[..., Any] | None = None
    update: Callable[..., Any] | None = None
    delete: Callable[[Any], None] | None = None
    includes: Mapping[str, tuple[str, Callable[[Any], list]]] = field(default_factory=dict)
    key: Callable[[str], Q | None] = _integer_key
    current: bool = False
    # The services that record who changed a record take the token's user.
    with_user: bool = False


ENDPOINTS = {
    "participants": Endpoint(
        PARTICIPANTS,
        lambda access: selectors.participant_list(),
        selectors.PARTICIPANT_FILTERS,
        sorts=selectors.PARTICIPANT_SORTS,
        create=services.participant_create,
        update=services.participant_update,
    ),
    "actions": Endpoint(
        ACTIONS,
        lambda access: selectors.action_list(),
        selectors.ACTION_FILTERS,
        sorts=selectors.ACTION_SORTS,
        update=services.action_update,
        includes={
            "assignedTo": ("participants", lambda action: [action.assigned_to_id]),
            "primaryParticipants": ("participants", lambda action: action.primary_participant_ids),
            "actionType": ("actiontypes", lambda action: [action.action_type_id]),
        },
    ),
    "actionparticipants": Endpoint(
        ACTION_PARTICIPANTS,
        lambda access: selectors.action_participant_list(),
        selectors.ACTION_PARTICIPANT_FILTERS,
        sorts=selectors.ACTION_PARTICIPANT_SORTS,
        create=services.action_participant_create,
        delete=services.action_participant_delete,
        includes={
            "action": ("actions", lambda link: [link.action_id]),
            "participantType": ("participanttypes", lambda link: [link.participant_type_id]),
            "participant": ("participants", lambda link: [link.participant_id]),
        },
        key=_composite_key,
    ),
    "timeentries": Endpoint(
        TIME_ENTRIES,
        lambda access: selectors.time_entry_list(),
        selectors.TIME_ENTRY_FILTERS,
        sorts=selectors.TIME_ENTRY_SORTS,
        create=services.time_entry_create,
        update=services.time_entry_update,
        delete=services.time_entry_delete,
        includes={
            "action": ("actions", lambda entry: [entry.action_id]),
            "owner": ("participants", lambda entry: [entry.owner_id]),
            "createdBy": ("participants", lambda entry: [entry.created_by_id]),
        },
    ),
    "users": Endpoint(
        USERS,
        lambda access: selectors.user_list(current_user_id=access.user_id),
        selectors.USER_FILTERS,
        includes={"participant": ("participants", lambda user: [user.pk])},
        current=True,
    ),
    "participanttypes": Endpoint(
        PARTICIPANT_TYPES,
        lambda access: selectors.participant_type_list(),
        selectors.PARTICIPANT_TYPE_FILTERS,
        sorts=selectors.NAMED_SORTS,
    ),
    "actiontypes": Endpoint(
        ACTION_TYPES,
        lambda access: selectors.action_type_list(),
        selectors.ACTION_TYPE_FILTERS,
        sorts=selectors.NAMED_SORTS,
        includes={
            "primaryParticipantType": (
                "participanttypes",
                lambda action_type: [action_type.primary_participant_type_id],
            )
        },
    ),
    "datacollections": Endpoint(
        DATA_COLLECTIONS,
        lambda access: selectors.data_collection_list(),
        selectors.DATA_COLLECTION_FILTERS,
        sorts=selectors.NAMED_SORTS,
        create=services.data_collection_create,
        update=services.data_collection_update,
        delete=services.data_collection_delete,
        includes={"actionType": ("actiontypes", lambda dc: [dc.action_type_id])},
    ),
    "datacollectionfields": Endpoint(
        DATA_COLLECTION_FIELDS,
        lambda access: selectors.data_collection_field_list(),
        selectors.DATA_COLLECTION_FIELD_FILTERS,
        sorts=selectors.NAMED_SORTS,
        create=services.data_collection_field_create,
        update=services.data_collection_field_update,
        delete=services.data_collection_field_delete,
        includes={"dataCollection": ("datacollections", lambda f: [f.data_collection_id])},
        key=_field_key,
    ),
    "datacollectionrecords": Endpoint(
        DATA_COLLECTION_RECORDS,
        lambda access: selectors.data_collection_record_list(),
        selectors.DATA_COLLECTION_RECORD_FILTERS,
        create=services.data_collection_record_create,
        delete=services.data_collection_record_delete,
        includes={
            "action": ("actions", lambda record: [record.action_id]),
            "dataCollection": ("datacollections", lambda record: [record.data_collection_id]),
        },
    ),
    "datacollectionrecordvalues": Endpoint(
        DATA_COLLECTION_RECORD_VALUES,
        lambda access: selectors.data_collection_record_value_list(),
        selectors.DATA_COLLECTION_RECORD_VALUE_FILTERS,
        create=services.data_collection_value_create,
        update=services.data_collection_value_update,
        includes={
            "action": ("actions", lambda value: [value.action_id]),
            "dataCollectionField": ("datacollectionfields", lambda value: [value.field_id]),
            "dataCollectionRecord": ("datacollectionrecords", lambda value: [value.record_id]),
            "dataCollection": ("datacollections", lambda value: [value.data_collection_id]),
        },
        key=_value_key,
        with_user=True,
    ),
    "resthooks": Endpoint(
        RESTHOOKS,
        lambda access: selectors.resthook_list(),
        selectors.RESTHOOK_FILTERS,
        create=services.resthook_create,
        update=services.resthook_update,
        delete=services.resthook_delete,
    ),
}


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _request_json(request: HttpRequest) -> Any:
    if request.content_type not in JSON_TYPES:
        raise ApiError(
            [Problem(415, "unsupported_media_type", f"Send {MEDIA_TYPE} or application/json.")]
        )
    if not request.body:
        raise ApiError([bad_request("The request body is empty.")])
    try:
        return json.loads(request.body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise ApiError([bad_request("The request body is not valid JSON.")]) from None


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


def _include_names(request: HttpRequest, endpoint: Endpoint) -> list[str]:
    """The links `include=` names; raises for one the resource does not have."""
    names = [name for name in request.GET.get("include", "").split(",") if name]
    for name in names:
        if name not in endpoint.includes:
            choices = ", ".join(endpoint.includes) or "nothing"
            raise selectors.query_error("include", f"{endpoint.wire.name} can include {choices}.")
    return names


def _linked(request: HttpRequest, endpoint: Endpoint, records: list, access: Access) -> dict:
    wanted: dict[str, set[int]] = {}
    for name in _include_names(request, endpoint):
        target, ids_of = endpoint.includes[name]
        ids = wanted.setdefault(target, set())
        ids.update(pk for record in records for pk in ids_of(record) if pk is not None)
    linked = {}
    for target, ids in wanted.items():
        if not access.allows(target):
            continue
        related = ENDPOINTS[target]
        rows = related.records(access).filter(pk__in=ids).order_by("pk")
        linked[target] = [related.wire.render(row) for row in rows]
    return linked


def envelope(request: HttpRequest, endpoint: Endpoint, page: Page, access: Access) -> dict:
    """The answer for a page of records: exactly one record is an object, not a list."""
    wire = endpoint.wire
    rendered = [wire.render(record) for record in page.records]
    return {
        "links": _link_templates(request, wire),
        wire.name: rendered[0] if len(rendered) == 1 else rendered,
        "linked": _linked(request, endpoint, page.records, access),
        "meta": {"paging": {wire.name: _paging(request, page)}},
    }


def _one(record: Any) -> Page:
    return Page(records=[record], record_count=1, page=1, page_size=selectors.PAGE_SIZE_DEFAULT)


def _not_found(endpoint: Endpoint, ids: str) -> ApiError:
    return ApiError([Problem(404, "not_found", f"No {endpoint.wire.name} with id {ids}.")])


class ApiView(View):
    """Bearer-token and scope checks and the translation of errors into API answers."""

    http_method_names = ["get", "post", "put", "patch", "delete"]
    scope: str | None = None
    access: Access

    @property
    def error_wire(self) -> Resource | None:
        return None

    def dispatch(self, request, *args, **kwargs):
        access = selectors.token_access(_bearer_token(request))
        if access is None:
            detail = "The access token is missing, unknown, expired or revoked."
            response = errors_response([Problem(401, "invalid_token", detail)])
            response["WWW-Authenticate"] = 'Bearer realm="sandbox-pm", error="invalid_token"'
            return response
        if self.scope is not None and not access.allows(self.scope):
            detail = f"This resource needs the scope {self.scope} (or all)."
            response = errors_response([Problem(403, "insufficient_scope", detail)])
            response["WWW-Authenticate"] = (
                f'Bearer realm="sandbox-pm", error="insufficient_scope", scope="{self.scope}"'
            )
            return response
        self.access = access
        try:
            return super().dispatch(request, *args, **kwargs)
        except ApiError as error:
            return errors_response(error.problems)
        except ValidationError as error:
            wire = self.error_wire
            if wire is None:
                return errors_response([rule_broken(message) for message in error.messages])
            return errors_response(wire.validation_problems(error))

    def http_method_not_allowed(self, request, *args, **kwargs):
        detail = f"{request.method} is not allowed here."
        return errors_response([Problem(405, "method_not_allowed", detail)])


class EndpointView(ApiView):
    endpoint_name = ""

    @property
    def endpoint(self) -> Endpoint:
        return ENDPOINTS[self.endpoint_name]

    @property
    def scope(self) -> str:
        return self.endpoint_name

    @property
    def error_wire(self) -> Resource:
        return self.endpoint.wire

    def answer(self, request: HttpRequest, record: Any) -> JsonResponse:
        """The envelope of one record, reloaded so that it renders as a read would."""
        record = self.endpoint.records(self.access).get(pk=record.pk)
        body = envelope(request, self.endpoint, _one(record), self.access)
        return JsonResponse(body, content_type=MEDIA_TYPE)

    def body_fields(self, request: HttpRequest, *, creating: bool) -> dict:
        wire = self.endpoint.wire
        return wire.parse(wire.unwrap(_request_json(request)), creating=creating)


class CollectionView(EndpointView):
    def get(self, request):
        endpoint = self.endpoint
        records = endpoint.records(self.access)
        queryset = selectors.records_filter(records, request.GET, endpoint.filters)
        queryset = selectors.records_sort(queryset, request.GET.get("sort"), endpoint.sorts)
        page = selectors.records_page(queryset, request.GET)
        _include_names(request, endpoint)
        if not page.records:
            return HttpResponse(status=204)
        body = envelope(request, endpoint, page, self.access)
        return JsonResponse(body, content_type=MEDIA_TYPE)

    def post(self, request):
        if self.endpoint.create is None:
            return self.http_method_not_allowed(request)
        fields = self.body_fields(request, creating=True)
        if self.endpoint.with_user:
            fields["user_id"] = self.access.user_id
        record = self.endpoint.create(**fields)
        return self.answer(request, record)


class MemberView(EndpointView):
    def _matching(self, ids: str) -> tuple[QuerySet, int]:
        """The records `ids` names (comma-separated) and how many ids it names."""
        endpoint = self.endpoint
        if endpoint.current and ids == "current":
            keys = [Q(pk=self.access.user_id)]
        else:
            keys = [endpoint.key(part) for part in ids.split(",")]
        if None in keys:
            raise _not_found(endpoint, ids)
        condition = Q()
        for key in keys:
            condition |= key
        return endpoint.records(self.access).filter(condition).order_by("pk"), len(keys)

    def _record(self, ids: str) -> Any:
        records, count = self._matching(ids)
        if count != 1:
            raise ApiError([bad_request("Change one record at a time.")])
        record = records.first()
        if record is None:
            raise _not_found(self.endpoint, ids)
        return record

    def get(self, request, ids: str):
        records, _ = self._matching(ids)
        page = selectors.records_page(records, request.GET)
        if not page.record_count:
            raise _not_found(self.endpoint, ids)
        body = envelope(request, self.endpoint, page, self.access)
        return JsonResponse(body, content_type=MEDIA_TYPE)

    def put(self, request, ids: str):
        if self.endpoint.update is None:
            return self.http_method_not_allowed(request)
        record = self._record(ids)
        fields = self.body_fields(request, creating=False)
        if self.endpoint.with_user:
            fields["user_id"] = self.access.user_id
        record = self.endpoint.update(record, **fields)
        return self.answer(request, record)

    patch = put

    def delete(self, request, ids: str):
        if self.endpoint.delete is None:
            return self.http_method_not_allowed(request)
        records, count = self._matching(ids)
        records = list(records)
        if len(records) != count:
            raise _not_found(self.endpoint, ids)
        # One request, one outcome: a list is deleted whole or not at all.
        with transaction.atomic(using=SANDBOX_DATABASE):
            for record in records:
                self.endpoint.delete(record)
        return HttpResponse(status=204)


class ActionCreateView(ApiView):
    """`POST actioncreate` and `POST actioncreate/{actionTypeId}` create a matter."""

    http_method_names = ["post"]
    scope = "actioncreate"

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
                    pointer = ACTION_CREATE.pointer("links.actionType")
                    detail = "links.actionType differs from the action type in the URL."
                    raise ApiError([rule_broken(detail, pointer=pointer)])
                data = {**data, "links": {**links, "actionType": action_type_id}}
        fields, participants = actioncreate_parse(data)
        action = services.action_create(participants=participants, **fields)
        body = {ACTION_CREATE.name: ACTION_CREATE.render(action)}
        return JsonResponse(body, content_type=MEDIA_TYPE)


class IndexView(ApiView):
    """`api/` and `api/rest/`: where the resources are, for a client finding its way."""

    http_method_names = ["get"]

    def get(self, request):
        rest = request.build_absolute_uri(reverse("sandbox_pm:rest"))
        resources = {name: f"{rest}{name}" for name in [*ENDPOINTS, "actioncreate"]}
        return JsonResponse({"links": resources}, content_type=MEDIA_TYPE)


def unknown_resource(request: HttpRequest, path: str) -> JsonResponse:
    return errors_response([Problem(404, "not_found", f"There is no resource at rest/{path}.")])
