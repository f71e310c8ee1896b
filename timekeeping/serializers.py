"""Timekeepers and time entries as API v1 shows them (read-only for now)."""

from rest_framework import serializers

from matters.models import Matter
from sync.serializers import LinkedRecordFilterSerializer, LinkStateField

from .models import TimeEntry, Timekeeper


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
