"""Matters in API v1: read, create, change, resync, and LA's balances.

Every write queues a sync. Balances need `matters.view_matter_balance`.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from config.exceptions import error_responses
from config.permissions import CanViewMatterBalances
from sync.api import ReadViewSet, RecordResyncMixin, RecordWriteMixin, record_schema

from .selectors import matter_list
from .serializers import (
    BalanceOutputSerializer,
    BalanceQuerySerializer,
    MatterFilterSerializer,
    MatterInputSerializer,
    MatterOutputSerializer,
)
from .services import matter_balance_view


@record_schema(
    "matters", MatterOutputSerializer, MatterFilterSerializer, write=MatterInputSerializer
)
class MatterViewSet(RecordResyncMixin, RecordWriteMixin, ReadViewSet):
    """Matters as the hub holds them, each with its Link Indicator."""

    selector = staticmethod(matter_list)
    serializer_class = MatterOutputSerializer
    filter_serializer_class = MatterFilterSerializer
    input_serializer_class = MatterInputSerializer

    @extend_schema(
        parameters=[BalanceQuerySerializer],
        responses={200: BalanceOutputSerializer, **error_responses(400, 401, 403, 404)},
        description="The matter's balances in LA, from the hub's copy (refreshed on a "
        "schedule and when LA bills); `refresh=true` reads LA first. When LA can't be "
        "reached the last known figures come back with `stale: true` and the reason.",
    )
    @action(detail=True, methods=["get"], permission_classes=[CanViewMatterBalances])
    def balance(self, request, pk=None):
        query = BalanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        view = matter_balance_view(
            matter=self.get_object(), refresh=query.validated_data["refresh"]
        )
        balance = view.balance
        return Response(
            BalanceOutputSerializer(
                {
                    **{name: getattr(balance, name) for name in BALANCE_FIELDS},
                    "as_of": balance.as_of,
                    "stale": view.stale,
                    "stale_reason": view.reason,
                }
            ).data
        )


BALANCE_FIELDS = [
    "trust",
    "wip_fees",
    "wip_disbursements",
    "accounts_receivable",
    "unallocated_credit",
    "currency",
]
