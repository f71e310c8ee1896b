"""Matters in API v1: read, create, change and resync. Every write queues a sync.

Balances from LA, when they come to the API, need `config.permissions.CanViewMatterBalances`.
"""

from sync.api import ReadViewSet, RecordResyncMixin, RecordWriteMixin, record_schema

from .selectors import matter_list
from .serializers import MatterFilterSerializer, MatterInputSerializer, MatterOutputSerializer


@record_schema(
    "matters", MatterOutputSerializer, MatterFilterSerializer, write=MatterInputSerializer
)
class MatterViewSet(RecordResyncMixin, RecordWriteMixin, ReadViewSet):
    """Matters as the hub holds them, each with its Link Indicator."""

    selector = staticmethod(matter_list)
    serializer_class = MatterOutputSerializer
    filter_serializer_class = MatterFilterSerializer
    input_serializer_class = MatterInputSerializer
