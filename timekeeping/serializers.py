"""Timekeepers and time entries as API v1 shows them, and the send-for-billing request."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from matters.models import Matter
from sync.serializers import LinkedRecordFilterSerializer, LinkStateField

from .models import BillingBatch, TimeEntry, Timekeeper
from .services import billing_batch_results


class TimekeeperSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Timekeeper
        fields = ["id", "name", "email"]
        read_only_fields = fields


class TimekeeperOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Timekeeper
        fields = ["id", "name", "email", "pm_user_id", "la_fee_earner_id", "active"]
        read_only_fields = fields


class TimeEntryMatterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Matter
        fields = ["id", "name", "file_reference"]
        read_only_fields = fields


class TimeEntryOutputSerializer(serializers.ModelSerializer):
    matter = TimeEntryMatterSerializer()
    timekeeper = TimekeeperSummarySerializer()
    link = LinkStateField()

    class Meta:
        model = TimeEntry
        fields = [
            "id",
            "matter",
            "timekeeper",
            "date",
            "description",
            "actual_hours",
            "billable_hours",
            "rate",
            "amount",
            "currency",
            "billing_behaviour",
            "billing_status",
            "changed_after_sending",
            "batch",
            "sent_at",
            "billed_at",
            "created_at",
            "updated_at",
            "link",
        ]
        read_only_fields = fields


class TimeEntryFilterSerializer(LinkedRecordFilterSerializer):
    """Query parameters of the time entry list: the link filters."""


class SendForBillingInputSerializer(serializers.Serializer):
    """Which entries to send: by id, or all unsent ones matching the filters (or both)."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=5000,
        help_text="Time entry ids. Without ids, every unsent entry matching the filters.",
    )
    timekeeper = serializers.PrimaryKeyRelatedField(
        queryset=Timekeeper.objects.all(), required=False
    )
    matter = serializers.PrimaryKeyRelatedField(queryset=Matter.objects.all(), required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate(self, data):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise serializers.ValidationError(
                {"date_to": "The end of the range is before its start."}
            )
        if not any(
            data.get(name) for name in ("ids", "timekeeper", "matter", "date_from", "date_to")
        ):
            raise serializers.ValidationError(
                {"ids": "Name the entries (ids) or narrow them with at least one filter."}
            )
        return data

    def filters(self) -> dict:
        """The request as plain values, kept with the batch."""
        data = self.validated_data
        return {
            "ids": data.get("ids"),
            "timekeeper": data["timekeeper"].pk if data.get("timekeeper") else None,
            "matter": data["matter"].pk if data.get("matter") else None,
            "date_from": data["date_from"].isoformat() if data.get("date_from") else None,
            "date_to": data["date_to"].isoformat() if data.get("date_to") else None,
        }


class EntryResultSerializer(serializers.Serializer):
    entry = serializers.IntegerField(source="entry_id")
    status = serializers.ChoiceField(
        choices=["sent", "error", "queued", "skipped"],
        help_text="`queued`: waiting to be sent or retried (the message says why).",
    )
    message = serializers.CharField()
    la_id = serializers.CharField(allow_null=True)


class SkippedEntrySerializer(serializers.Serializer):
    entry = serializers.IntegerField()
    reason = serializers.CharField()


class BillingBatchOutputSerializer(serializers.ModelSerializer):
    """A send for billing: a job the hub's tasks carry out; it fills in as they do."""

    url = serializers.HyperlinkedIdentityField(view_name="billing-batch-detail")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    skipped = SkippedEntrySerializer(many=True)

    class Meta:
        model = BillingBatch
        fields = [
            "id",
            "url",
            "status",
            "created_at",
            "created_by",
            "filters",
            "entry_count",
            "sent_count",
            "error_count",
            "skipped",
            "attempts",
            "next_attempt_at",
            "last_error",
            "finished_at",
        ]
        read_only_fields = fields


class BillingBatchDetailSerializer(BillingBatchOutputSerializer):
    results = serializers.SerializerMethodField()

    class Meta(BillingBatchOutputSerializer.Meta):
        fields = [*BillingBatchOutputSerializer.Meta.fields, "results"]
        read_only_fields = fields

    @extend_schema_field(EntryResultSerializer(many=True))
    def get_results(self, batch):
        return EntryResultSerializer(billing_batch_results(batch), many=True).data
