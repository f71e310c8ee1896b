from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from config.admin_access import ReadOnlyAdmin
from sync.admin import LinkedRecordAdmin, LinkStatusFilter

from .models import Matter, MatterBalance
from .services import balance_staleness, matter_balance_refresh

# Balances are shown to holders of this permission only: not to those holding the
# model's default view_/change_matterbalance (MatterBalance.Meta.permissions).
VIEW_BALANCES = "matters.view_matter_balance"

BALANCE_ROWS = [
    ("Trust", "trust"),
    ("Unbilled time (WIP fees)", "wip_fees"),
    ("Unbilled disbursements", "wip_disbursements"),
    ("Accounts receivable", "accounts_receivable"),
    ("Unallocated credit", "unallocated_credit"),
]


def can_view_balances(request) -> bool:
    return request.user.has_perm(VIEW_BALANCES)


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

    def get_fields(self, request, obj=None):
        return self._with_balance(request, obj, super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return self._with_balance(request, obj, super().get_readonly_fields(request, obj))

    def _with_balance(self, request, obj, fields) -> list:
        """The balance panel, on an existing matter, for those allowed to see balances."""
        if obj is not None and can_view_balances(request):
            return [*fields, "balance_panel"]
        return list(fields)

    @admin.display(description="Balances in LA")
    def balance_panel(self, obj):
        """The hub's copy of LA's balances, with when they were read and a refresh."""
        balance = MatterBalance.objects.filter(matter=obj).first()
        refresh = format_html(
            '<button type="submit" class="button" formaction="{}" formnovalidate '
            'name="_refresh_balance">Refresh balances</button>',
            reverse("admin:matters_matter_refresh_balance", args=[obj.pk]),
        )
        if balance is None or balance.as_of is None:
            reason = balance.last_error if balance else ""
            return format_html(
                '<div class="balance-panel"><p>Not read from LA yet. {}</p>{}</div>',
                reason,
                refresh,
            )
        stale, reason = balance_staleness(balance)
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{} {}</td></tr>",
            ((label, getattr(balance, name), balance.currency) for label, name in BALANCE_ROWS),
        )
        note = format_html('<p class="balance-stale">Stale: {}</p>', reason) if stale else ""
        return format_html(
            '<div class="balance-panel"><table>{}</table><p>As of {}</p>{}{}</div>',
            rows,
            balance.as_of,
            note,
            refresh,
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/refresh-balance/",
                self.admin_site.admin_view(self.refresh_balance_view),
                name="matters_matter_refresh_balance",
            ),
            *super().get_urls(),
        ]

    def refresh_balance_view(self, request, object_id):
        if request.method != "POST" or not can_view_balances(request):
            raise PermissionDenied
        matter = self.get_object(request, unquote(object_id))
        if matter is None:
            raise Http404("No matter with that id.")
        balance = matter_balance_refresh(matter=matter)
        stale, reason = balance_staleness(balance)
        if stale:
            self.message_user(
                request, f"Balances could not be refreshed: {reason}", messages.WARNING
            )
        else:
            self.message_user(request, "Balances refreshed from LA.", messages.SUCCESS)
        return redirect(reverse("admin:matters_matter_change", args=[matter.pk]))


@admin.register(MatterBalance)
class MatterBalanceAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Balances are LA's figures: the hub only shows them, to holders of
    `matters.view_matter_balance`, and nothing changes them here whatever else a user
    holds (they are refreshed from LA on the matter's page)."""

    view_permission = VIEW_BALANCES

    def has_module_permission(self, request):
        return can_view_balances(request)

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
