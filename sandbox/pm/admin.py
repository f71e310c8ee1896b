"""Admin screens of the emulated PM: create and change records "in PM" by hand.

Every save goes through `services`, so a record made here gets the same validation,
modifiedTimestamp and REST hooks as one made through the API. REST hooks can be added
and deleted but not edited: re-registering is how a disabled or deleted hook comes back.
Participant types, OAuth2 grants and tokens are read-only; a grant can be revoked.
"""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html_join

from sandbox.admin_site import sandbox_admin_site

from . import services
from .models import (
    AccessToken,
    Action,
    ActionParticipant,
    ActionType,
    DataCollection,
    DataCollectionField,
    DataCollectionRecord,
    DataCollectionRecordValue,
    Grant,
    Participant,
    ParticipantType,
    RefreshToken,
    RestHook,
    TimeEntry,
    User,
    client_participant_type_id,
)

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


@admin.register(Participant, site=sandbox_admin_site)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "display_name",
        "import_external_reference",
        "email",
        "is_company",
        "modified_at",
    ]
    list_filter = ["is_company"]
    search_fields = ["display_name", "import_external_reference", "email"]
    readonly_fields = READ_ONLY_TIMES
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "import_external_reference",
                    "is_company",
                    "company_name",
                    ("salutation", "first_name", "middle_name", "last_name", "suffix"),
                    "preferred_name",
                    ("display_name", "display_initials"),
                    "email",
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


@admin.register(User, site=sandbox_admin_site)
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


@admin.register(ParticipantType, site=sandbox_admin_site)
class ParticipantTypeAdmin(admin.ModelAdmin):
    """Read-only, as the API's participanttypes are (migration 0004 seeds them)."""

    list_display = ["id", "name", "description", "company_flag", "is_base_participant_type"]
    search_fields = ["name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ActionType, site=sandbox_admin_site)
class ActionTypeAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "primary_participant_type"]
    list_select_related = ["primary_participant_type"]
    search_fields = ["name"]


class ActionParticipantInline(admin.TabularInline):
    """An action's participants in the order added. Those of the action type's primary
    participant type (Client) are its primaryParticipants; the first listed is the
    primary client. Rows cannot be edited, only added and deleted: Actionstep's links
    are "required ... immutable" (wiki Action Participants)."""

    model = ActionParticipant
    fields = ["participant_number", "participant_type", "participant"]
    readonly_fields = ["participant_number"]
    raw_id_fields = ["participant"]
    extra = 1

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("participant", "participant_type")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "participant_type":
            kwargs["initial"] = client_participant_type_id
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def data_collections_shown(action: Action):
    """An action's data collection records and their values: what a PM user sees on the
    matter (the hub writes Legal Accounting's balances there). Values change on each
    record's page, through the services, which fire the resthooks."""
    records = action.data_collection_records.select_related("data_collection").prefetch_related(
        "values__field"
    )
    shown = format_html_join(
        "",
        '<div class="data-collection"><h3><a href="{}">{}</a></h3>{}</div>',
        (
            (
                reverse("sandbox_admin:sandbox_pm_datacollectionrecord_change", args=[record.pk]),
                record.data_collection,
                format_html_join(
                    "",
                    '<div class="data-collection-value"><strong>{}</strong>: {}</div>',
                    (
                        (value.field.label or value.field.name, value.string_value or "—")
                        for value in record.values.all()
                    ),
                ),
            )
            for record in records
        ),
    )
    return shown or "None."


@admin.register(Action, site=sandbox_admin_site)
class ActionAdmin(admin.ModelAdmin):
    fields = [
        "name",
        "reference",
        "action_type",
        "assigned_to",
        "status",
        "priority",
        "import_external_reference",
        "status_changed_at",
        *READ_ONLY_TIMES,
        "data_collections",
    ]
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
    readonly_fields = ["status_changed_at", *READ_ONLY_TIMES, "data_collections"]
    raw_id_fields = ["assigned_to"]
    inlines = [ActionParticipantInline]

    @admin.display(description="Data collections")
    def data_collections(self, obj):
        return data_collections_shown(obj) if obj.pk else "—"

    def save_model(self, request, obj, form, change):
        # A new action is created in save_related, together with its participants, so
        # that ActionCreated already carries its primaryParticipants.
        if change:
            services.action_update(_stored(obj), **_changed_fields(form))

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
            return
        pairs = [
            (row.cleaned_data["participant_type"].pk, row.cleaned_data["participant"].pk)
            for formset in formsets
            for row in formset.forms
            if row.cleaned_data and not row.cleaned_data.get("DELETE")
        ]
        created = services.action_create(participants=pairs, **_changed_fields(form))
        _adopt(form.instance, created)
        for formset in formsets:
            formset.save(commit=False)  # what the admin's change message reads; saves nothing

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        for link in formset.deleted_objects:
            services.action_participant_delete(link)
        for row in formset.extra_forms:
            if row.has_changed() and not row.cleaned_data.get("DELETE"):
                services.action_participant_create(
                    action_id=form.instance.pk,
                    participant_type_id=row.cleaned_data["participant_type"].pk,
                    participant_id=row.cleaned_data["participant"].pk,
                )


@admin.register(TimeEntry, site=sandbox_admin_site)
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
    readonly_fields = ["created_at"]
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
        "created_at",
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


@admin.register(RestHook, site=sandbox_admin_site)
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """History that only the OAuth2 endpoints write: viewable, never added or edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Grant, site=sandbox_admin_site)
class GrantAdmin(ReadOnlyAdmin):
    """A user's consent to the client; "Revoke access" ends its tokens (services.grant_revoke)."""

    list_display = ["id", "user", "client_id", "scopes", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    actions = ["revoke_access"]

    @admin.action(description="Revoke access")
    def revoke_access(self, request, queryset):
        for grant in queryset:
            services.grant_revoke(grant)
        self.message_user(request, f"Revoked {len(queryset)} grant(s).")


@admin.register(AccessToken, site=sandbox_admin_site)
class AccessTokenAdmin(ReadOnlyAdmin):
    list_display = ["id", "grant", "scopes", "created_at", "expires_at"]
    list_select_related = ["grant"]


@admin.register(RefreshToken, site=sandbox_admin_site)
class RefreshTokenAdmin(ReadOnlyAdmin):
    list_display = ["id", "grant", "scopes", "created_at", "expires_at"]
    list_select_related = ["grant"]


class DataCollectionFieldInline(admin.TabularInline):
    """A collection's fields; a name is fixed once created (as in Actionstep)."""

    model = DataCollectionField
    fields = ["name", "data_type", "label", "form_order", "required", "description"]
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj is not None else []


@admin.register(DataCollection, site=sandbox_admin_site)
class DataCollectionAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "label", "action_type", "multiple_records"]
    list_select_related = ["action_type"]
    list_filter = ["action_type"]
    search_fields = ["name", "label"]
    inlines = [DataCollectionFieldInline]

    def save_model(self, request, obj, form, change):
        if change:
            services.data_collection_update(_stored(obj), **_changed_fields(form))
        else:
            _adopt(obj, services.data_collection_create(**_changed_fields(form)))

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        for field in formset.deleted_objects:
            services.data_collection_field_delete(field)
        for row in formset.forms:
            if row in formset.deleted_forms or not row.has_changed():
                continue
            data = _changed_fields(row)
            if row.instance.pk is None:
                services.data_collection_field_create(data_collection=form.instance, **data)
            else:
                services.data_collection_field_update(_stored(row.instance), **data)

    def delete_model(self, request, obj):
        services.data_collection_delete(obj)


class DataCollectionRecordValueInline(admin.TabularInline):
    model = DataCollectionRecordValue
    fields = ["field", "string_value", "modified_at", "modified_by"]
    readonly_fields = ["field", "modified_at", "modified_by"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DataCollectionRecord, site=sandbox_admin_site)
class DataCollectionRecordAdmin(admin.ModelAdmin):
    """A record's values, changed "in PM" by hand: every change goes through the
    services, so it fires DataCollectionRecordValueUpdated as an API PUT does."""

    list_display = ["id", "action", "data_collection"]
    list_select_related = ["action", "data_collection"]
    list_filter = ["data_collection"]
    raw_id_fields = ["action"]
    inlines = [DataCollectionRecordValueInline]

    def get_readonly_fields(self, request, obj=None):
        return ["action", "data_collection", "can_write", "can_delete"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            _adopt(
                obj,
                services.data_collection_record_create(
                    action_id=data["action"].pk, data_collection_id=data["data_collection"].pk
                ),
            )

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        for row in formset.forms:
            if row.instance.pk and "string_value" in row.changed_data:
                services.data_collection_value_update(
                    _stored(row.instance), string_value=row.cleaned_data["string_value"]
                )

    def delete_model(self, request, obj):
        services.data_collection_record_delete(obj)
