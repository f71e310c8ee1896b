from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from config.admin_access import ReadOnlyAdmin
from sync.admin import LinkedRecordAdmin, LinkStatusFilter
from sync.display import local_time, money

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

    change_form_template = "admin/matters/matter/change_form.html"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The balance card goes at the top of the page, for those allowed to see
        balances."""
        if obj is not None and change and can_view_balances(request):
            context["balance_card"] = self.balance_card(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def balance_card(self, obj):
        """The hub's copy of LA's balances, with their currency, when they were read,
        whether they reached PM, and a refresh."""
        balance = MatterBalance.objects.filter(matter=obj).first()
        refresh = format_html(
            '<button type="submit" class="button" formaction="{}" formnovalidate '
            'name="_refresh_balance">Refresh balances</button>',
            reverse("admin:matters_matter_refresh_balance", args=[obj.pk]),
        )
        if balance is None or balance.as_of is None:
            reason = balance.last_error if balance else ""
            return format_html(
                '<div class="balance-panel"><h2>Balances in LA</h2><p>Not read from LA yet. {}</p>'
                "{}</div>",
                reason,
                refresh,
            )
        stale, reason = balance_staleness(balance)
        rows = format_html_join(
            "",
            '<tr><th scope="row">{}</th><td class="balance-amount">{}</td></tr>',
            (
                (label, money(getattr(balance, name), balance.currency))
                for label, name in BALANCE_ROWS
            ),
        )
        note = format_html('<p class="balance-stale">Stale: {}</p>', reason) if stale else ""
        if balance.pm_error:
            in_pm = format_html(
                '<p class="balance-in-pm balance-in-pm--failed">Not written into PM: {}</p>',
                balance.pm_error,
            )
        elif balance.pm_written_at:
            in_pm = format_html(
                '<p class="balance-in-pm">Written into the matter in PM ({}) at {}.</p>',
                "Legal Accounting balances",
                local_time(balance.pm_written_at),
            )
        else:
            in_pm = ""
        return format_html(
            '<div class="balance-panel"><h2>Balances in LA</h2><table>{}</table>'
            '<p class="balance-as-of">As of {}</p>{}{}{}</div>',
            rows,
            local_time(balance.as_of),
            note,
            in_pm,
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
        "trust_shown",
        "wip_fees_shown",
        "wip_disbursements_shown",
        "accounts_receivable_shown",
        "unallocated_credit_shown",
        "as_of",
        "pm_written_at",
    ]
    list_select_related = ["matter"]

    @admin.display(description="Trust", ordering="trust")
    def trust_shown(self, obj):
        return money(obj.trust, obj.currency)

    @admin.display(description="Unbilled time", ordering="wip_fees")
    def wip_fees_shown(self, obj):
        return money(obj.wip_fees, obj.currency)

    @admin.display(description="Unbilled disbursements", ordering="wip_disbursements")
    def wip_disbursements_shown(self, obj):
        return money(obj.wip_disbursements, obj.currency)

    @admin.display(description="Receivables", ordering="accounts_receivable")
    def accounts_receivable_shown(self, obj):
        return money(obj.accounts_receivable, obj.currency)

    @admin.display(description="Unallocated credit", ordering="unallocated_credit")
    def unallocated_credit_shown(self, obj):
        return money(obj.unallocated_credit, obj.currency)

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
        "last_attempt_at",
        "pm_record_id",
        "pm_written_at",
        "pm_error",
        "pm_error_at",
    ]
    exclude = ["pm_data_collection_id", "pm_written"]
