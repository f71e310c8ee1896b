"""Matters in and out of API v1. Input is the hub's own fields; output adds the link."""

from rest_framework import serializers

from contacts.models import Contact
from sync.serializers import LinkedRecordFilterSerializer, LinkStateField, NamedChoiceField
from timekeeping.serializers import TimekeeperSummarySerializer

from .models import Matter

MATTER_FIELDS = ["name", "file_reference", "client", "assigned_to", "open_date", "status"]


class MatterInputSerializer(serializers.ModelSerializer):
    """A matter as a client writes it. Only validated here: the view saves it."""

    status = NamedChoiceField(Matter.Status.choices, enum_name="MatterStatus", required=False)

    class Meta:
        model = Matter
        fields = MATTER_FIELDS
        extra_kwargs = {
            "client": {"help_text": "The client contact's id; it is synced before the matter."},
            "assigned_to": {"help_text": "A timekeeper's id."},
        }


class MatterClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "display_name", "reference"]
        read_only_fields = fields


class MatterOutputSerializer(serializers.ModelSerializer):
    client = MatterClientSerializer()
    assigned_to = TimekeeperSummarySerializer(allow_null=True)
    status = NamedChoiceField(Matter.Status.choices, enum_name="MatterStatus", read_only=True)
    link = LinkStateField()

    class Meta:
        model = Matter
        fields = ["id", *MATTER_FIELDS, "created_at", "updated_at", "link"]
        read_only_fields = fields


class MatterFilterSerializer(LinkedRecordFilterSerializer):
    search = serializers.CharField(
        required=False, allow_blank=True, help_text="Part of the name or file reference."
    )


def _money(label: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, help_text=label)


class BalanceQuerySerializer(serializers.Serializer):
    refresh = serializers.BooleanField(
        required=False, default=False, help_text="Read LA now instead of the hub's copy."
    )


class BalanceOutputSerializer(serializers.Serializer):
    """LA's balances of a matter, as of when they were read; money as decimal strings."""

    trust = _money("Trust balance.")
    wip_fees = _money("Unbilled time.")
    wip_disbursements = _money("Unbilled disbursements.")
    accounts_receivable = _money("Unpaid bills.")
    unallocated_credit = _money("Unallocated credit / general retainer.")
    currency = serializers.CharField()
    as_of = serializers.DateTimeField(allow_null=True, help_text="When LA was read.")
    stale = serializers.BooleanField(help_text="True when these may be out of date.")
    stale_reason = serializers.CharField(help_text="Why they may be out of date.")
