"""Admin screens of the emulated PM: create and change records "in PM" by hand.

Every save goes through `services`, so a record made here gets the same validation,
modifiedTimestamp and REST hooks as one made through the API. REST hooks can be added
and deleted but not edited: re-registering is how a disabled hook comes back.
"""

from django import forms
from django.contrib import admin

from . import services
from .models import AccessToken, Action, ActionType, Participant, RestHook, TimeEntry, User

READ_ONLY_TIMES = ("created_at", "modified_at")


def _changed_fields(form: forms.ModelForm) -> dict:
    return {
        name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data
    }


def _stored(obj):
    """The record as stored: the form has already written its values onto `obj`, and a
    service compares against the stored values to tell whether anything changed."""
    return type(obj)._default_manager.get(pk=obj.pk)


def _adopt(obj, created) -> None:
    """Point the admin's unsaved instance at the record a service created."""
    obj.pk = created.pk
    obj.refresh_from_db()


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["id", "display_name", "reference", "email", "is_company", "modified_at"]
    list_filter = ["is_company"]
    search_fields = ["display_name", "reference", "email", "import_external_reference"]
    readonly_fields = READ_ONLY_TIMES
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "is_company",
                    "company_name",
                    ("salutation", "first_name", "middle_name", "last_name", "suffix"),
                    "preferred_name",
                    ("display_name", "display_initials"),
                    "email",
                    "import_external_reference",
                ]
            },
        ),
        (
            "Physical address",
            {
                "fields": [
                    "physical_address_line1",
                    "physical_address_line2",
                    ("physical_city", "physical_state_province", "physical_county"),
                    ("physical_post_code", "physical_country"),
                ]
            },
        ),
        (
            "Mailing address",
            {
                "fields": [
                    "mailing_address_line1",
                    "mailing_address_line2",
                    ("mailing_city", "mailing_state_province", "mailing_county"),
                    ("mailing_post_code", "mailing_country"),
                ]
            },
        ),
        (
            "Phones",
            {
                "fields": [
                    *(
                        (
                            f"phone{n}_label",
                            f"phone{n}_country",
                            f"phone{n}_area",
                            f"phone{n}_number",
                            f"phone{n}_notes",
                        )
                        for n in range(1, 5)
                    ),
                    ("fax", "sms"),
                    ("website", "occupation"),
                ]
            },
        ),
        ("Times", {"fields": READ_ONLY_TIMES}),
    ]

    def save_model(self, request, obj, form, change):
        if change:
            services.participant_update(_stored(obj), **_changed_fields(form))
        else:
            _adopt(obj, services.participant_create(**_changed_fields(form)))


class UserForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "is_active", "hourly_rate"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        clash = User.objects.filter(email=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A user with this email already exists.")
        return email


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    form = UserForm
    list_display = ["participant_id", "first_name", "last_name", "email", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["first_name", "last_name", "email"]

    def save_model(self, request, obj, form, change):
        if change:
            services.user_update(_stored(obj), **_changed_fields(form))
        else:
            _adopt(obj, services.user_create(**form.cleaned_data))


@admin.register(ActionType)
class ActionTypeAdmin(admin.ModelAdmin):
    list_display = ["id", "name"]
    search_fields = ["name"]


class ActionForm(forms.ModelForm):
    """Primary participants as ordered ids: order matters (the first is the main client)."""

    primary_participants = forms.CharField(
        required=False,
        help_text="Participant ids, comma-separated; the first is the primary client.",
    )

    class Meta:
        model = Action
        fields = [
            "name",
            "reference",
            "action_type",
            "assigned_to",
            "status",
            "priority",
            "import_external_reference",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            ids = self.instance.primary_participant_ids
            self.initial["primary_participants"] = ", ".join(map(str, ids))

    def clean_primary_participants(self) -> list[int]:
        parts = [part.strip() for part in self.cleaned_data["primary_participants"].split(",")]
        parts = [part for part in parts if part]
        if not all(part.isdigit() for part in parts):
            raise forms.ValidationError("Enter participant ids separated by commas.")
        ids = [int(part) for part in parts]
        known = set(Participant.objects.filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [str(pk) for pk in ids if pk not in known]
        if unknown:
            raise forms.ValidationError(f"No participant with id {', '.join(unknown)}.")
        if len(set(ids)) != len(ids):
            raise forms.ValidationError("A participant is listed twice.")
        return ids


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    form = ActionForm
    list_display = [
        "id",
        "name",
        "reference",
        "status",
        "action_type",
        "assigned_to",
        "modified_at",
    ]
    list_filter = ["status", "action_type"]
    list_select_related = ["action_type", "assigned_to"]
    search_fields = ["name", "reference", "import_external_reference"]
    readonly_fields = ["status_changed_at", *READ_ONLY_TIMES]
    raw_id_fields = ["assigned_to"]

    def save_model(self, request, obj, form, change):
        fields = _changed_fields(form)
        clients = fields.pop("primary_participants", None)
        if change:
            services.action_update(_stored(obj), primary_participant_ids=clients, **fields)
        else:
            _adopt(obj, services.action_create(primary_participant_ids=clients or (), **fields))


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "timestamp_date",
        "owner",
        "action",
        "actual_hours",
        "billable_hours",
        "billing_behavior",
        "billable_amount",
    ]
    list_filter = ["billing_behavior", "timestamp_date"]
    list_select_related = ["owner", "action"]
    search_fields = ["description", "import_external_reference"]
    raw_id_fields = ["action", "owner", "created_by"]
    readonly_fields = READ_ONLY_TIMES
    fields = [
        "action",
        "owner",
        "created_by",
        "timestamp_date",
        "description",
        ("actual_hours", "billable_hours"),
        "billing_behavior",
        ("rate_unit_price", "billable_amount_type", "billable_amount"),
        "import_external_reference",
        *READ_ONLY_TIMES,
    ]

    def save_model(self, request, obj, form, change):
        if change:
            services.time_entry_update(_stored(obj), **_changed_fields(form))
        else:
            _adopt(obj, services.time_entry_create(**_changed_fields(form)))

    def delete_model(self, request, obj):
        services.time_entry_delete(obj)

    def delete_queryset(self, request, queryset):
        for entry in queryset:
            services.time_entry_delete(entry)


@admin.register(RestHook)
class RestHookAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "event_name",
        "target_url",
        "status",
        "triggered_count",
        "triggered_last_at",
        "last_status_code",
    ]
    list_filter = ["status", "event_name"]
    readonly_fields = [
        "status",
        "triggered_count",
        "triggered_last_at",
        "last_status_code",
        "last_error",
        "created_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "event_name", "target_url"]

    def save_model(self, request, obj, form, change):
        if not change:
            _adopt(obj, services.resthook_create(**form.cleaned_data))


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are issued by the token endpoint; change `expires_at` to test expiry."""

    list_display = ["id", "created_at", "expires_at", "refresh_expires_at"]
    fields = ["created_at", "expires_at", "refresh_expires_at"]
    readonly_fields = ["created_at", "refresh_expires_at"]

    def has_add_permission(self, request):
        return False
