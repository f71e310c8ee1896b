from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from config.admin_access import ReadOnlyAdmin
from sync.admin import BADGE_COLOURS, LinkedRecordAdmin, LinkStatusFilter, link_badge, link_of
from sync.display import money, yes_no
from sync.models import LinkStatus
from sync.services.switch import SyncPaused

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
    list_display = ["name", "email", "pm_user_id", "la_fee_earner_id", "active_text"]
    list_filter = ["active"]
    search_fields = ["name", "email"]

    @admin.display(description="Active", ordering="active")
    def active_text(self, obj):
        # An inactive colleague is a fact, not an error: no red cross.
        return yes_no(obj.active)


# Billing states as a time entry's list shows them first: (label, background, text).
BILLING_STATES = {
    "unsent": ("Unsent", *BADGE_COLOURS[LinkStatus.UNSYNCED]),
    "queued": ("Queued", *BADGE_COLOURS[LinkStatus.PENDING]),
    "sent": ("Sent", *BADGE_COLOURS[LinkStatus.SYNCED]),
    "billed": ("Billed", "#1b5e20", "#ffffff"),
    "error": ("Not sent", *BADGE_COLOURS[LinkStatus.ERROR]),
    "needs_correction": ("Needs correction", *BADGE_COLOURS[LinkStatus.ERROR]),
}
# The correction rule's codes (sync/services/time_entries.py): a PM change after sending.
CORRECTION_CODES = frozenset({"changed_after_sending", "deleted_after_sending"})
# The Link Indicator is shown beside the billing status only when it says something.
TELLING_LINK_STATES = frozenset({LinkStatus.PENDING, LinkStatus.UNKNOWN, LinkStatus.ERROR})


def billing_state(entry: TimeEntry) -> str:
    """What a person needs to know about an entry's billing, first: unsent, queued, sent,
    billed, not sent (a send failed), or needs correction (changed or deleted in PM after
    it was sent: only LA can correct it)."""
    link = link_of(entry)
    if entry.changed_after_sending or (
        link is not None and link.status == LinkStatus.ERROR and link.error_code in CORRECTION_CODES
    ):
        return "needs_correction"
    return entry.billing_status


class BillingStateFilter(admin.SimpleListFilter):
    title = "billing"
    parameter_name = "billing"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, *_colours) in BILLING_STATES.items()]

    def queryset(self, request, queryset):
        value = self.value()
        correction = Q(changed_after_sending=True) | Q(
            link__status=LinkStatus.ERROR, link__error_code__in=CORRECTION_CODES
        )
        if value == "needs_correction":
            return queryset.filter(correction)
        if value in TimeEntry.BillingStatus.values:
            return queryset.filter(billing_status=value).exclude(correction)
        return queryset


@admin.register(TimeEntry)
class TimeEntryAdmin(LinkedRecordAdmin):
    """Time entries read as billing: the billing status first; the Link Indicator only
    when it says something; the list fits a 1,400-pixel window."""

    list_display = [
        "date",
        "timekeeper",
        "matter",
        "hours",
        "amount_with_currency",
        "bill_as",
        "billing",
        "link_when_telling",
    ]
    # The reason goes under the Link Indicator, not in a column of its own: the list fits
    # a 1,400-pixel window beside the admin's sidebars.
    reason_after = ""
    change_list_template = "admin/timekeeping/timeentry/change_list.html"
    list_filter = [
        BillingStateFilter,
        LinkStatusFilter,
        "billing_behaviour",
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
        "billing",
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
        "changed_after_sending_text",
        "batch",
        "sent_at",
        "billed_at",
        "link_indicator",
        "link_details",
        "sync_history",
    ]
    readonly_fields = [
        "billing",
        "changed_after_sending_text",
        "batch",
        "sent_at",
        "billed_at",
    ]

    @admin.display(description="Billing", ordering="billing_status")
    def billing(self, obj):
        state = billing_state(obj)
        label, background, colour = BILLING_STATES[state]
        return format_html(
            '<span class="billing-badge billing-badge--{}" style="background:{};color:{};'
            'padding:2px 8px;border-radius:9px;font-weight:600;white-space:nowrap">{}</span>',
            state,
            background,
            colour,
            label,
        )

    @admin.display(description="Link", ordering="link__status")
    def link_when_telling(self, obj):
        """The Link Indicator only when it says something, with the short reason."""
        link = link_of(obj)
        if link is None or link.status not in TELLING_LINK_STATES:
            return ""
        return format_html("{}<br>{}", link_badge(link), self.link_reason(obj))

    @admin.display(description="Bill as", ordering="billing_behaviour")
    def bill_as(self, obj):
        return obj.get_billing_behaviour_display()

    @admin.display(description="Hours", ordering="billable_hours")
    def hours(self, obj):
        return obj.billable_hours

    @admin.display(description="Amount", ordering="amount")
    def amount_with_currency(self, obj):
        return money(obj.amount, obj.currency)

    @admin.display(description="Changed after sending")
    def changed_after_sending_text(self, obj):
        return yes_no(
            obj.changed_after_sending,
            yes="Yes: correct it in Legal Accounting",
            bad_when=True,
        )

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
                try:
                    batch = billing_batch_create(
                        entries=selected, user=request.user, filters=form.filters()
                    )
                except SyncPaused as paused:
                    self.message_user(request, paused.message, messages.ERROR)
                    return redirect("admin:timekeeping_timeentry_changelist")
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
