"""API v1 pieces every endpoint of hub records shares (paging, filters, writes that
queue a resync, the resync action), and the read-only endpoints for links and history.

Each endpoint reads through a selector, validates its query parameters with a filter
serializer (an unknown value is a 400 naming the parameter), validates writes with an
input serializer and answers with an output serializer. Every endpoint is throttled
(config/throttles.py).
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from config.exceptions import error_responses
from config.permissions import VIEW, CanResyncLinks, ModelPermissions
from config.throttles import API_THROTTLES

from .selectors import link_get, link_list, sync_event_list
from .serializers import (
    LinkFilterSerializer,
    LinkOutputSerializer,
    ResyncAnswerSerializer,
    SyncEventFilterSerializer,
    SyncEventOutputSerializer,
)
from .services import record_create, record_resync, record_update


class ApiPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def record_schema(tag: str, output, filters=None, write=None):
    """OpenAPI for a viewset of records: its tag, filters, input, output and errors."""
    operations = {
        "list": extend_schema(
            parameters=[filters] if filters else [],
            responses={
                200: output(many=True),
                **error_responses(*((400,) if filters else ()), 401, 403),
            },
        ),
        "retrieve": extend_schema(responses={200: output, **error_responses(401, 403, 404)}),
    }
    if write:
        operations["create"] = extend_schema(
            request=write, responses={201: output, **error_responses(400, 401, 403)}
        )
        for name in ("update", "partial_update"):
            operations[name] = extend_schema(
                request=write, responses={200: output, **error_responses(400, 401, 403, 404)}
            )

    def document(viewset):
        return extend_schema(tags=[tag])(extend_schema_view(**operations)(viewset))

    return document


class ReadViewSet(viewsets.GenericViewSet):
    """List and detail of one kind of record.

    Subclasses set `selector` (a function taking `filters` and returning the queryset,
    with the joins its output needs), `serializer_class` (the output) and, if the list
    takes query parameters, `filter_serializer_class`.
    """

    permission_classes = [ModelPermissions]
    throttle_classes = API_THROTTLES
    pagination_class = ApiPagination
    filter_serializer_class = None

    def initial(self, request, *args, **kwargs):
        """DRF checks throttles only after authentication and permissions pass, so a
        caller guessing tokens, or knocking without the right, would never be slowed
        down: a refused caller is counted too, and is a 429 past its rate."""
        try:
            super().initial(request, *args, **kwargs)
        except (
            exceptions.NotAuthenticated,
            exceptions.AuthenticationFailed,
            exceptions.PermissionDenied,
        ):
            self.check_throttles(request)
            raise

    def get_queryset(self):
        return self.selector()

    def list_filters(self) -> dict:
        if self.filter_serializer_class is None:
            return {}
        params = {name: value for name, value in self.request.query_params.items() if value}
        serializer = self.filter_serializer_class(data=params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def list(self, request):
        page = self.paginate_queryset(self.selector(filters=self.list_filters()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)


class RecordWriteMixin:
    """Create, replace and change a hub record through `input_serializer_class`; each
    write queues a resync so the change reaches PM and LA."""

    input_serializer_class = None

    def create(self, request):
        serializer = self.input_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = record_create(self.get_queryset().model, serializer.validated_data)
        return self.answer(record, status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        return self.change(partial=False)

    def partial_update(self, request, pk=None):
        return self.change(partial=True)

    def change(self, *, partial: bool) -> Response:
        record = self.get_object()
        serializer = self.input_serializer_class(record, data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        record_update(record, serializer.validated_data)
        return self.answer(record, status.HTTP_200_OK)

    def answer(self, record, status_code: int) -> Response:
        """The record read again, so its link shows the sync just queued."""
        fresh = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)


class RecordResyncMixin:
    """`POST …/{id}/resync/`: queue a fresh sync of the record, as the admin's
    "Resync now" does, and answer with its Link Indicator (now pending).

    Resyncing needs only `sync.resync_link`; the link's ids, message and attempts are
    what reading the record or the links shows, so a caller who may do neither (the
    record's `view_<model>`, `sync.view_link`) gets the status alone."""

    @extend_schema(
        request=None,
        responses={202: ResyncAnswerSerializer, **error_responses(401, 403, 404)},
        description="Queue a fresh sync with PM and LA. Needs `sync.resync_link`. The "
        "answer is the record's Link Indicator; only its `status` without the record's "
        "`view_` permission or `sync.view_link`.",
    )
    @action(detail=True, methods=["post"], permission_classes=[CanResyncLinks])
    def resync(self, request, pk=None):
        record = self.get_object()
        link = record_resync(record)
        answer = ResyncAnswerSerializer(link_get(link_id=link.pk)).data
        if not self.may_view(record):
            answer = {"status": answer["status"]}
        return Response(answer, status=status.HTTP_202_ACCEPTED)

    def may_view(self, record) -> bool:
        opts = record._meta
        user = self.request.user
        return user.has_perm(
            VIEW % {"app_label": opts.app_label, "model_name": opts.model_name}
        ) or user.has_perm("sync.view_link")


@record_schema("links", LinkOutputSerializer, LinkFilterSerializer)
class LinkViewSet(ReadViewSet):
    """Links between hub records and their twins in PM and LA, with their indicators."""

    selector = staticmethod(link_list)
    serializer_class = LinkOutputSerializer
    filter_serializer_class = LinkFilterSerializer


@record_schema("sync events", SyncEventOutputSerializer, SyncEventFilterSerializer)
class SyncEventViewSet(ReadViewSet):
    """Every sync attempt, newest first: when, direction, action, outcome, message."""

    selector = staticmethod(sync_event_list)
    serializer_class = SyncEventOutputSerializer
    filter_serializer_class = SyncEventFilterSerializer
