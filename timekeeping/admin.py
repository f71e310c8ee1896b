from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from sync.admin import LinkedRecordAdmin, LinkStatusFilter

from .forms import BillingFilterForm
from .models import BillingBatch, TimeEntry, Timekeeper
from .selectors import billing_summary, time_entries_filtered
from .services import time_entries_send_for_billing


@admin.register(Timekeeper)
class TimekeeperAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "pm_user_id", "la_fee_earner_id", "active"]
    list_filter = ["active"]
    search_fields = ["name", "email"]


@admin.register(TimeEntry)
class TimeEntryAdmin(LinkedRecordAdmin):
    list_display = [
        "date",
        "timekeeper",
        "matter",
        "billable_hours",
        "amount",
        "billing_behaviour",
        "billing_status",
        "changed_after_sending",
        "link_indicator",
    ]
    list_filter = [
        LinkStatusFilter,
        "billing_status",
        "billing_behaviour",
        "changed_after_sending",
        "timekeeper",
    ]
    actions = ["send_for_billing"]
    list_select_related = ["timekeeper", "matter", "link"]
    search_fields = [
        "description",
        "matter__name",
        "matter__file_reference",
        "timekeeper__name",
        "timekeeper__email",
    ]
    autocomplete_fields = ["matter", "timekeeper"]
    date_hierarchy = "date"
    fields = [
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
        "link_indicator",
        "link_details",
        "sync_history",
    ]
    readonly_fields = ["billing_status", "changed_after_sending", "batch", "sent_at", "billed_at"]

    def has_send_for_billing_permission(self, request):
        return request.user.has_perm("timekeeping.send_time_for_billing")

    @admin.action(
        description="Send selected time to LA for billing…", permissions=["send_for_billing"]
    )
    def send_for_billing(self, request, queryset):
        """A confirmation page first: the batch grouped by timekeeper and matter, which
        the filters can narrow; only "Send" sends."""
        if not self.has_send_for_billing_permission(request):
            raise PermissionDenied
        form = BillingFilterForm(
            request.POST if "apply_filters" in request.POST or "confirm" in request.POST else None
        )
        selected = queryset.select_related("matter", "timekeeper")
        if form.is_bound and form.is_valid():
            selected = time_entries_filtered(
                selected, **{k: v for k, v in form.cleaned_data.items()}
            )
            if "confirm" in request.POST:
                batch, results = time_entries_send_for_billing(
                    entries=selected, user=request.user, filters=form.filters()
                )
                entries = {
                    e.pk: e
                    for e in TimeEntry.objects.filter(
                        pk__in=[r.entry_id for r in results]
                    ).select_related("matter", "timekeeper")
                }
                level = messages.SUCCESS if not batch.error_count else messages.WARNING
                self.message_user(
                    request,
                    f"Sent {batch.sent_count} of {batch.entry_count} entries to LA; "
                    f"{batch.error_count} not sent (reasons below).",
                    level,
                )
                return TemplateResponse(
                    request,
                    "admin/timekeeping/billing_results.html",
                    {
                        **self.admin_site.each_context(request),
                        "title": "Send for billing: results",
                        "opts": self.model._meta,
                        "batch": batch,
                        "rows": [(entries[r.entry_id], r) for r in results],
                    },
                )
        return TemplateResponse(
            request,
            "admin/timekeeping/send_for_billing.html",
            {
                **self.admin_site.each_context(request),
                "title": "Send time to LA for billing",
                "opts": self.model._meta,
                "form": form if form.is_bound else BillingFilterForm(),
                "summary": billing_summary(selected),
                "selected_ids": list(queryset.values_list("pk", flat=True)),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(BillingBatch)
class BillingBatchAdmin(admin.ModelAdmin):
    list_display = ["created_at", "created_by", "entry_count", "sent_count", "error_count"]
    list_select_related = ["created_by"]
    readonly_fields = [
        "id",
        "created_at",
        "created_by",
        "filters",
        "entry_count",
        "sent_count",
        "error_count",
    ]

    def has_add_permission(self, request):
        return False
