"""Timekeepers and time entries in API v1, read-only.

`TimeEntryViewSet` is where sending time for billing goes: an `@action` guarded by
`config.permissions.CanSendTimeForBilling`.
"""

from sync.api import ReadViewSet, record_schema

from .selectors import time_entry_list, timekeeper_list
from .serializers import (
    TimeEntryFilterSerializer,
    TimeEntryOutputSerializer,
    TimekeeperOutputSerializer,
)


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
