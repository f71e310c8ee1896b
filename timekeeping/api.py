"""Timekeepers and time entries in API v1 (read-only), and sending time for billing."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from config.exceptions import error_responses
from config.permissions import CanSendTimeForBilling, UserHasPermission
from sync.api import ReadViewSet, record_schema
from sync.services.switch import SyncPaused

from .models import TimeEntry
from .selectors import (
    SENDABLE,
    billing_batch_list,
    time_entries_filtered,
    time_entry_list,
    timekeeper_list,
)
from .serializers import (
    BillingBatchDetailSerializer,
    BillingBatchOutputSerializer,
    SendForBillingInputSerializer,
    TimeEntryFilterSerializer,
    TimeEntryOutputSerializer,
    TimekeeperOutputSerializer,
)
from .services import OPEN, billing_batch_cancel, billing_batch_create, billing_batch_resend


class Conflict(APIException):
    status_code = 409
    default_detail = "The request conflicts with the state of the resource."
    default_code = "conflict"


@record_schema("timekeepers", TimekeeperOutputSerializer)
class TimekeeperViewSet(ReadViewSet):
    """The firm's people who record time, matched across systems by email."""

    selector = staticmethod(timekeeper_list)
    serializer_class = TimekeeperOutputSerializer


@record_schema("time entries", TimeEntryOutputSerializer, TimeEntryFilterSerializer)
class TimeEntryViewSet(ReadViewSet):
    """Time recorded in PM, with its billing state and Link Indicator."""

    selector = staticmethod(time_entry_list)
    serializer_class = TimeEntryOutputSerializer
    filter_serializer_class = TimeEntryFilterSerializer

    @extend_schema(
        request=SendForBillingInputSerializer,
        responses={202: BillingBatchOutputSerializer, **error_responses(400, 401, 403)},
        description="Send time entries to LA for billing. The entries are claimed for a "
        "new billing batch and the request answers at once (202, with the batch's URL in "
        "`url` and `Location`); the hub's tasks send the batch, and the batch's page "
        "fills in with a result per entry. Needs `timekeeping.send_time_for_billing`.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="send-for-billing",
        permission_classes=[CanSendTimeForBilling],
    )
    def send_for_billing(self, request):
        request_data = SendForBillingInputSerializer(data=request.data)
        request_data.is_valid(raise_exception=True)
        data = dict(request_data.validated_data)
        ids = data.pop("ids", None)
        entries = time_entries_filtered(TimeEntry.objects.all(), **data)
        entries = entries.filter(pk__in=ids) if ids else entries.filter(billing_status__in=SENDABLE)
        try:
            batch = billing_batch_create(
                entries=entries, user=request.user, filters=request_data.filters()
            )
        except SyncPaused as paused:
            return Response({"detail": paused.message}, status=status.HTTP_409_CONFLICT)
        body = BillingBatchOutputSerializer(batch, context={"request": request}).data
        # The url is a DRF Hyperlink, a str subclass, which WSGI servers refuse in a
        # header (found by benchmarks/soak.py): send it as a plain str.
        location = str(body["url"])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class CanSeeBillingBatches(UserHasPermission):
    """See billing batches: whoever may send time, or view batches."""

    message = "You may not see billing batches."

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (
                user.has_perm("timekeeping.send_time_for_billing")
                or user.has_perm("timekeeping.view_billingbatch")
            )
        )


@extend_schema_view(
    list=extend_schema(responses={200: BillingBatchOutputSerializer(many=True)}),
    retrieve=extend_schema(
        responses={200: BillingBatchDetailSerializer, **error_responses(401, 403, 404)}
    ),
)
@extend_schema(tags=["billing batches"])
class BillingBatchViewSet(ReadViewSet):
    """Sends for billing, newest first, each with a result per entry as its tasks fill
    it in: `queued` (waiting to be sent or retried), `sent`, `error` or `skipped`."""

    selector = staticmethod(billing_batch_list)
    permission_classes = [CanSeeBillingBatches]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return BillingBatchDetailSerializer
        return BillingBatchOutputSerializer

    @extend_schema(
        request=None,
        responses={202: BillingBatchOutputSerializer, **error_responses(401, 403, 404, 409)},
        description="Try the batch's waiting entries again now. 409 when the batch is "
        "finished or being sent this moment.",
    )
    @action(detail=True, methods=["post"], permission_classes=[CanSendTimeForBilling])
    def resend(self, request, pk=None):
        batch = self.get_object()
        if not billing_batch_resend(batch):
            raise Conflict("This batch is finished or being sent right now.")
        batch.refresh_from_db()
        body = BillingBatchOutputSerializer(batch, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={200: BillingBatchOutputSerializer, **error_responses(401, 403, 404, 409)},
        description="Put the batch's entries that are still waiting back to unsent and "
        "close it. 409 when it is finished or being sent this moment.",
    )
    @action(detail=True, methods=["post"], permission_classes=[CanSendTimeForBilling])
    def cancel(self, request, pk=None):
        batch = self.get_object()
        if batch.status not in OPEN or not billing_batch_cancel(batch):
            raise Conflict("This batch is finished or being sent right now.")
        batch.refresh_from_db()
        return Response(BillingBatchOutputSerializer(batch, context={"request": request}).data)
