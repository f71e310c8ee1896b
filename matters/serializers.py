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
