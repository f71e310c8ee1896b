"""Timekeepers and time entries in API v1 (read-only), and sending time for billing."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from config.exceptions import error_responses
from config.permissions import CanSendTimeForBilling
from sync.api import ReadViewSet, record_schema

from .models import TimeEntry
from .selectors import SENDABLE, time_entries_filtered, time_entry_list, timekeeper_list
from .serializers import (
    SendForBillingInputSerializer,
    SendForBillingOutputSerializer,
    TimeEntryFilterSerializer,
    TimeEntryOutputSerializer,
    TimekeeperOutputSerializer,
)
from .services import time_entries_send_for_billing


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
        responses={200: SendForBillingOutputSerializer, **error_responses(400, 401, 403)},
        description="Send time entries to LA for billing, in LA batches. Answers the batch "
        "id and a result per entry: `sent`, `error` with the unmet prerequisite or LA's "
        "reason, or `skipped` (already sent or queued). Needs "
        "`timekeeping.send_time_for_billing`.",
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
        batch, results = time_entries_send_for_billing(
            entries=entries, user=request.user, filters=request_data.filters()
        )
        return Response(
            SendForBillingOutputSerializer(
                {
                    "batch": batch.pk,
                    "sent": batch.sent_count,
                    "errors": batch.error_count,
                    "results": results,
                }
            ).data
        )
