"""The Link Indicator as the API shows it, the link filters, links and sync history."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_description_list
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .advice import link_advice_text
from .models import RECORD_FIELDS, Link, LinkStatus, RecordType, SyncEvent, System
from .selectors import record_link


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as the named enum `enum_name`, so one field name
    ("status") can carry different choice sets in different schemas."""

    def __init__(self, choices, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(choices, **kwargs)


class NamedChoiceFieldSchema(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = {
            "type": "string",
            "enum": list(field.choices),
            "description": build_choice_description_list(field.choices.items()),
        }
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema=schema,
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


def link_status_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(LinkStatus.choices, enum_name="LinkStatus", **kwargs)


class LinkStateSerializer(serializers.Serializer):
    """A record's Link Indicator; a record with no link yet shows a fresh, unsynced one."""

    status = link_status_field()
    message = serializers.CharField(help_text="Why the link is in this state.")
    error_code = serializers.CharField()
    error_system = serializers.CharField(
        help_text="Where the last failure came from: pm, la or hub; blank when none."
    )
    last_synced_at = serializers.DateTimeField(allow_null=True)
    pm_id = serializers.CharField(allow_null=True, help_text="The record's id in PM.")
    la_id = serializers.CharField(allow_null=True, help_text="The record's id in LA.")
    attempts = serializers.IntegerField(help_text="Failed attempts since the last success.")
    next_retry_at = serializers.DateTimeField(allow_null=True)
    advice = serializers.SerializerMethodField(
        help_text="What to do about the error, in plain words (by error_code; blank while "
        "the link needs nobody)."
    )

    @extend_schema_field(str)
    def get_advice(self, link: Link) -> str:
        return link_advice_text(link)


class ResyncAnswerSerializer(LinkStateSerializer):
    """A resync's answer: the Link Indicator, or its `status` alone for a caller who may
    resync the record but not view it (sync/api.py `RecordResyncMixin`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = name == "status"


@extend_schema_field(LinkStateSerializer)
class LinkStateField(serializers.Field):
    """The `link` block of a contact, matter or time entry (select_related "link")."""

    def __init__(self, **kwargs):
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, record):
        return LinkStateSerializer(record_link(record) or Link()).data


class LinkedRecordFilterSerializer(serializers.Serializer):
    """Query parameters every list of linked records takes; subclasses add their own."""

    link_status = serializers.ChoiceField(
        choices=LinkStatus.choices,
        required=False,
        help_text="Link Indicator state; records with no link yet count as unsynced.",
    )
    error_code = serializers.CharField(
        required=False, max_length=64, help_text="The link's error code, exactly."
    )
    system = serializers.ChoiceField(
        choices=System.choices,
        required=False,
        help_text="Only records linked in this system (that hold its id).",
    )
    error_system = serializers.ChoiceField(
        choices=[*System.choices, ("hub", "Hub")],
        required=False,
        help_text="Only records whose last failure came from this system.",
    )


class LinkFilterSerializer(LinkedRecordFilterSerializer):
    record_type = serializers.ChoiceField(choices=RecordType.choices, required=False)


# The largest id a 64-bit primary key holds; a larger one is a 400, not a database error.
MAX_ID = 2**63 - 1


class SyncEventFilterSerializer(serializers.Serializer):
    link = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A link's id."
    )
    outcome = serializers.ChoiceField(choices=SyncEvent.Outcome.choices, required=False)


class LinkOutputSerializer(serializers.ModelSerializer):
    status = link_status_field(read_only=True)
    record_id = serializers.SerializerMethodField()
    record_name = serializers.SerializerMethodField()

    class Meta:
        model = Link
        fields = [
            "id",
            "record_type",
            "record_id",
            "record_name",
            "status",
            "message",
            "error_code",
            "pm_id",
            "la_id",
            "status_changed_at",
            "last_synced_at",
            "attempts",
            "next_retry_at",
            "created_at",
            "updated_at",
        ]

    def get_record_id(self, link: Link) -> int:
        return getattr(link, f"{RECORD_FIELDS[link.record_type]}_id")

    def get_record_name(self, link: Link) -> str:
        return str(link.record)


class SyncEventOutputSerializer(serializers.ModelSerializer):
    record_type = serializers.ChoiceField(
        source="link.record_type", choices=RecordType.choices, read_only=True
    )

    class Meta:
        model = SyncEvent
        fields = [
            "id",
            "link",
            "record_type",
            "occurred_at",
            "direction",
            "action",
            "outcome",
            "message",
            "duration_ms",
            "details",
        ]
