from django.contrib import admin

from sync.admin import LinkedRecordAdmin, LinkStatusFilter

from .models import BillingBatch, TimeEntry, Timekeeper


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
    list_filter = [LinkStatusFilter, "billing_status", "billing_behaviour", "changed_after_sending"]
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
