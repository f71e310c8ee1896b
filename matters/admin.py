from django.contrib import admin

from sync.admin import LinkedRecordAdmin, LinkStatusFilter

from .models import Matter, MatterBalance


@admin.register(Matter)
class MatterAdmin(LinkedRecordAdmin):
    resyncable = True
    list_display = [
        "name",
        "file_reference",
        "client",
        "assigned_to",
        "open_date",
        "status",
        "link_indicator",
    ]
    list_filter = [LinkStatusFilter, "status"]
    list_select_related = ["client", "assigned_to", "link"]
    search_fields = [
        "name",
        "file_reference",
        "client__last_name",
        "client__company_name",
        "client__email",
    ]
    autocomplete_fields = ["client", "assigned_to"]
    fields = [
        "name",
        "file_reference",
        "client",
        "assigned_to",
        "open_date",
        "status",
        "link_indicator",
        "link_details",
        "sync_history",
    ]


@admin.register(MatterBalance)
class MatterBalanceAdmin(admin.ModelAdmin):
    """Balances are LA's figures: the hub only shows them."""

    list_display = [
        "matter",
        "trust",
        "wip_fees",
        "wip_disbursements",
        "accounts_receivable",
        "unallocated_credit",
        "currency",
        "as_of",
    ]
    list_select_related = ["matter"]
    search_fields = ["matter__name", "matter__file_reference"]
    readonly_fields = [
        "matter",
        "trust",
        "wip_fees",
        "wip_disbursements",
        "accounts_receivable",
        "unallocated_credit",
        "currency",
        "as_of",
        "last_error",
        "last_error_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
