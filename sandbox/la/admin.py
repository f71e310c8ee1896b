"""Admin screens for the emulated LA, so a person can act "in LA" and watch the hub react.

Decisions:

- Every save goes through `services.py` (numbering, clash checks, webhooks), exactly
  like an API call: creating a contact here fires `contact.created`.
- A form runs the service's checks in `clean()` so a rule break shows on the form with
  LA's own message; Django's generic unique checks are switched off in favour of them.
- Invoices are read-only (they come from billing: the "Bill" action on files), ledger
  transactions are append-only, and a billed time entry is locked (view only).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse

from sandbox.admin_site import sandbox_admin_site

from . import services
from .errors import LAError
from .models import (
    Contact,
    FeeEarner,
    File,
    Invoice,
    InvoiceLine,
    LASettings,
    LedgerTransaction,
    TimeEntry,
    Webhook,
    WebhookDelivery,
)


class ServiceCheckedForm(forms.ModelForm):
    """A model form whose `clean()` asks the service whether the change is allowed."""

    def service_check(self, data: dict) -> None:
        """Forms whose field choices already say everything that is allowed keep this."""

    def changes(self) -> dict:
        data = self.cleaned_data
        if self.instance.pk is None:
            return dict(data)
        return {name: data[name] for name in self.changed_data if name in data}

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.service_check(self.changes())
        except LAError as error:
            if error.field in self.fields:
                raise ValidationError({error.field: error.message}) from error
            raise ValidationError(error.message) from error
        return cleaned

    def validate_unique(self):
        """The service checks above name the record holding a value; Django's don't."""


class ServiceSavedAdmin(admin.ModelAdmin):
    """Saves through a service; the admin goes on with `obj` (messages, redirects), so
    the saved record's state is copied onto it."""

    # Each subclass names the services that create and change its records.
    def service_create(self, data: dict):
        raise TypeError(f"{type(self).__name__} must define service_create()")

    def service_update(self, obj, data: dict):
        raise TypeError(f"{type(self).__name__} must define service_update()")

    def save_model(self, request, obj, form, change):
        data = form.changes()
        saved = self.service_update(obj, data) if change else self.service_create(data)
        vars(obj).update(vars(saved))


class ContactForm(ServiceCheckedForm):
    class Meta:
        model = Contact
        fields = [field.name for field in Contact._meta.fields if field.editable]

    def service_check(self, data):
        services.contact_check(data=data, contact=self.instance if self.instance.pk else None)


@admin.register(Contact, site=sandbox_admin_site)
class ContactAdmin(ServiceSavedAdmin):
    form = ContactForm
    list_display = [
        "contact_number",
        "display_name",
        "kind",
        "email",
        "pm_contact_id",
        "modified_at",
    ]
    list_filter = ["kind", "is_company", "is_1099"]
    search_fields = ["contact_number", "last_name", "first_name", "company_name", "email"]
    readonly_fields = ["created_at", "modified_at"]
    fieldsets = [
        (None, {"fields": ["contact_number", "kind", "pm_contact_id"]}),
        (
            "Name",
            {
                "fields": [
                    "is_company",
                    "company_name",
                    "title",
                    "first_name",
                    "middle_name",
                    "last_name",
                    "suffix",
                    "alias",
                    "email",
                ]
            },
        ),
        (
            "Main address",
            {
                "fields": [
                    "main_line1",
                    "main_line2",
                    "main_city",
                    "main_state",
                    "main_post_code",
                    "main_country",
                ]
            },
        ),
        (
            "Additional address",
            {
                "fields": [
                    "additional_line1",
                    "additional_line2",
                    "additional_city",
                    "additional_state",
                    "additional_post_code",
                    "additional_country",
                ]
            },
        ),
        (
            "Phones",
            {"fields": ["phone_work", "phone_mobile", "phone_home", "phone_other", "phone_fax"]},
        ),
        ("Billing defaults (never synced)", {"fields": ["gl_account", "is_1099", "billing_rate"]}),
        (None, {"fields": ["created_at", "modified_at"]}),
    ]

    def service_create(self, data):
        return services.contact_create(data=data)

    def service_update(self, obj, data):
        return services.contact_update(contact=obj, data=data)


class FeeEarnerForm(ServiceCheckedForm):
    class Meta:
        model = FeeEarner
        fields = ["name", "email"]

    def service_check(self, data):
        if "email" in data:
            instance = self.instance if self.instance.pk else None
            services.fee_earner_check(email=data["email"], fee_earner=instance)


@admin.register(FeeEarner, site=sandbox_admin_site)
class FeeEarnerAdmin(ServiceSavedAdmin):
    form = FeeEarnerForm
    list_display = ["name", "email", "modified_at"]
    search_fields = ["name", "email"]

    def service_create(self, data):
        return services.fee_earner_create(**data)

    def service_update(self, obj, data):
        return services.fee_earner_update(fee_earner=obj, data=data)


class FileForm(ServiceCheckedForm):
    class Meta:
        model = File
        fields = [
            "contact",
            "file_number",
            "description",
            "pm_matter_id",
            "assigned_fee_earner",
            "responsible_fee_earner",
            "lead_fee_earner",
            "open_date",
            "status",
        ]

    def service_check(self, data):
        services.file_check(data=data, file=self.instance if self.instance.pk else None)


@admin.register(File, site=sandbox_admin_site)
class FileAdmin(ServiceSavedAdmin):
    form = FileForm
    list_display = [
        "file_number",
        "description",
        "contact",
        "assigned_fee_earner",
        "status",
        "pm_matter_id",
        "modified_at",
    ]
    list_select_related = ["contact", "assigned_fee_earner"]
    list_filter = ["status"]
    search_fields = ["file_number", "description", "pm_matter_id"]
    autocomplete_fields = ["contact"]
    actions = ["bill"]

    def service_create(self, data):
        return services.file_create(data=data)

    def service_update(self, obj, data):
        return services.file_update(file=obj, data=data)

    @admin.action(description="Bill unbilled time and disbursements")
    def bill(self, request, queryset):
        for file in queryset:
            try:
                invoice = services.file_bill(file=file)
            except LAError as error:
                self.message_user(request, error.message, messages.WARNING)
            else:
                self.message_user(request, f"File {file.file_number}: invoice {invoice.number}.")


class TimeEntryForm(ServiceCheckedForm):
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, required=False, help_text="Blank: hours x rate."
    )

    class Meta:
        model = TimeEntry
        fields = [
            "file",
            "fee_earner",
            "date",
            "description",
            "hours",
            "rate",
            "amount",
            "billing_behaviour",
            "external_id",
        ]

    def service_check(self, data):
        services.time_entry_check(data=data, time_entry=self.instance if self.instance.pk else None)


@admin.register(TimeEntry, site=sandbox_admin_site)
class TimeEntryAdmin(ServiceSavedAdmin):
    form = TimeEntryForm
    list_display = [
        "pk",
        "date",
        "file",
        "fee_earner",
        "hours",
        "amount",
        "billing_behaviour",
        "status",
        "external_id",
    ]
    list_select_related = ["file", "fee_earner"]
    list_filter = ["status", "billing_behaviour"]
    search_fields = ["external_id", "description", "file__file_number"]
    autocomplete_fields = ["file"]
    readonly_fields = ["status", "invoice", "billed_at", "created_at", "modified_at"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_delete_permission(request, obj)

    def service_create(self, data):
        return services.time_entry_create(data=data)

    def service_update(self, obj, data):
        return services.time_entry_update(time_entry=obj, data=data)

    def delete_model(self, request, obj):
        services.time_entry_delete(time_entry=obj)

    def delete_queryset(self, request, queryset):
        for entry in queryset.filter(status=TimeEntry.Status.UNBILLED):
            services.time_entry_delete(time_entry=entry)


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ["time_entry", "disbursement", "description", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice, site=sandbox_admin_site)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "file", "issued_on", "total"]
    list_select_related = ["file"]
    search_fields = ["number", "file__file_number"]
    inlines = [InvoiceLineInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TransactionForm(forms.ModelForm):
    class Meta:
        model = LedgerTransaction
        fields = ["file", "kind", "amount", "date", "description", "reference"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            services.transaction_check(
                file=cleaned["file"], kind=cleaned["kind"], amount=cleaned["amount"]
            )
        except LAError as error:
            raise ValidationError({error.field or "__all__": error.message}) from error
        return cleaned


@admin.register(LedgerTransaction, site=sandbox_admin_site)
class LedgerTransactionAdmin(admin.ModelAdmin):
    """Append-only: a recorded movement is never edited, only followed by another."""

    form = TransactionForm
    list_display = ["pk", "file", "kind", "amount", "applied_amount", "date", "invoice"]
    list_select_related = ["file", "invoice"]
    list_filter = ["kind"]
    search_fields = ["file__file_number", "reference", "description"]
    autocomplete_fields = ["file"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = services.transaction_record(**form.cleaned_data)
        vars(obj).update(vars(saved))


class SettingsForm(ServiceCheckedForm):
    class Meta:
        model = LASettings
        fields = ["file_numbering", "currency"]


@admin.register(LASettings, site=sandbox_admin_site)
class LASettingsAdmin(ServiceSavedAdmin):
    form = SettingsForm
    list_display = ["__str__", "file_numbering", "currency", "modified_at"]

    # One settings row, made on first use: no add page, and the list opens that row.
    # (Asking "is there a row yet?" here would cost every admin page a query.)
    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        row = LASettings.load()
        return redirect(
            reverse(f"{self.admin_site.name}:sandbox_la_lasettings_change", args=[row.pk])
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def service_create(self, data):
        return services.settings_update(data=data)

    def service_update(self, obj, data):
        return services.settings_update(data=data)


class WebhookForm(ServiceCheckedForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=Webhook.Event.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Webhook
        fields = ["url", "events"]


@admin.register(Webhook, site=sandbox_admin_site)
class WebhookAdmin(ServiceSavedAdmin):
    form = WebhookForm
    list_display = ["url", "events", "created_at"]

    def service_create(self, data):
        return services.webhook_create(**data)

    def service_update(self, obj, data):
        return services.webhook_update(webhook=obj, data=data)


@admin.register(WebhookDelivery, site=sandbox_admin_site)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["attempted_at", "event", "webhook", "status_code", "error", "duration_ms"]
    list_select_related = ["webhook"]
    list_filter = ["event", "status_code"]
    readonly_fields = [
        "webhook",
        "event_id",
        "event",
        "body",
        "status_code",
        "error",
        "duration_ms",
        "attempted_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
