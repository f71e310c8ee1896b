from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from config.admin_access import ReadOnlyAdmin
from sync.admin import LinkedRecordAdmin, LinkStatusFilter

from .forms import BillingFilterForm
from .models import BillingBatch, TimeEntry, Timekeeper
from .selectors import billing_summary, time_entries_filtered
from .services import (
    OPEN,
    billing_batch_cancel,
    billing_batch_create,
    billing_batch_resend,
    billing_batch_results,
)


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
                batch = billing_batch_create(
                    entries=selected, user=request.user, filters=form.filters()
                )
                self.message_user(
                    request,
                    f"{batch.entry_count} entries queued for billing; this page fills in "
                    "as they are sent.",
                    messages.SUCCESS,
                )
                return redirect("admin:timekeeping_billingbatch_change", batch.pk)
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
class BillingBatchAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """A send for billing: its entries fill in as its tasks send them; "Send again now"
    and "Cancel" are the hands on a batch that waits (`send_time_for_billing`). Seen by
    whoever may send time or view batches (as in the API); changed by no one."""

    list_display = [
        "created_at",
        "created_by",
        "status",
        "entry_count",
        "sent_count",
        "error_count",
        "next_attempt_at",
    ]
    list_filter = ["status"]
    list_select_related = ["created_by"]
    change_form_template = "admin/timekeeping/billingbatch/change_form.html"
    readonly_fields = [
        "id",
        "status",
        "created_at",
        "created_by",
        "filters",
        "entry_count",
        "sent_count",
        "error_count",
        "attempts",
        "next_attempt_at",
        "last_error",
        "finished_at",
    ]
    exclude = ["skipped"]

    def has_view_permission(self, request, obj=None):
        user = request.user
        return user.has_perm("timekeeping.view_billingbatch") or user.has_perm(
            "timekeeping.send_time_for_billing"
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request) or super().has_module_permission(request)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/resend/",
                self.admin_site.admin_view(self.resend_view),
                name="timekeeping_billingbatch_resend",
            ),
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="timekeeping_billingbatch_cancel",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            entries = {
                entry.pk: entry
                for entry in TimeEntry.objects.filter(
                    pk__in=[row["entry"] for row in obj.skipped]
                ).select_related("matter", "timekeeper")
            }
            entries.update(
                (entry.pk, entry)
                for entry in TimeEntry.objects.filter(batch=obj).select_related(
                    "matter", "timekeeper"
                )
            )
            context.update(
                rows=[
                    (entries[result.entry_id], result)
                    for result in billing_batch_results(obj)
                    if result.entry_id in entries
                ],
                open=obj.status in OPEN,
                can_send=request.user.has_perm("timekeeping.send_time_for_billing"),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _batch_action(self, request, object_id, act, done: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("timekeeping.send_time_for_billing"):
            raise PermissionDenied
        batch = self.get_object(request, unquote(object_id))
        if batch is None:
            raise Http404("No such billing batch.")
        if act(batch):
            self.message_user(request, done, messages.SUCCESS)
        else:
            self.message_user(
                request, "This batch is finished or being sent right now.", messages.WARNING
            )
        return redirect("admin:timekeeping_billingbatch_change", batch.pk)

    def resend_view(self, request, object_id):
        return self._batch_action(
            request, object_id, billing_batch_resend, "The waiting entries are being sent again."
        )

    def cancel_view(self, request, object_id):
        return self._batch_action(
            request,
            object_id,
            billing_batch_cancel,
            "Cancelled: the entries that were still waiting are unsent again.",
        )
