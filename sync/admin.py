"""Admin for links and their history, and the pieces every linked record's admin shares:
the Link Indicator badge, the filter by indicator state and the history table.
"""

from urllib.parse import quote

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from config.admin_access import ReadOnlyAdmin

from . import health
from .connectors.actionstep.oauth import SCOPES
from .models import Link, LinkStatus, PmConnection, RecordType, SyncEvent, System
from .services import record_resync
from .services.connection import (
    AuthorizationFailed,
    connection_complete,
    connection_disconnect,
    connection_problem,
    connection_start,
    pm_connection_read,
)

# (background, text) per state: green, gray, light blue, yellow, red (ARCHITECTURE §2).
BADGE_COLOURS = {
    LinkStatus.SYNCED: ("#2e7d32", "#ffffff"),
    LinkStatus.UNSYNCED: ("#9e9e9e", "#ffffff"),
    LinkStatus.PENDING: ("#81d4fa", "#01324a"),
    LinkStatus.UNKNOWN: ("#fdd835", "#3e2f00"),
    LinkStatus.ERROR: ("#c62828", "#ffffff"),
}

STATUS_MEANINGS = {
    LinkStatus.SYNCED: "Both systems agree with the last sync.",
    LinkStatus.UNSYNCED: "Not linked yet, or not part of the integration.",
    LinkStatus.PENDING: "A sync is queued or running.",
    LinkStatus.UNKNOWN: "The state can't be determined: the other system is unreachable "
    "or the credentials have expired.",
    LinkStatus.ERROR: "The last sync failed.",
}

HISTORY_ROWS = 20


def link_badge(link: Link | None):
    """The Link Indicator as a coloured badge; hovering shows the reason."""
    status = LinkStatus(link.status) if link else LinkStatus.UNSYNCED
    message = (link.message if link else "") or STATUS_MEANINGS[status]
    background, colour = BADGE_COLOURS[status]
    return format_html(
        '<span class="link-badge link-badge--{}" title="{}" '
        'style="background:{};color:{};padding:2px 8px;border-radius:9px;'
        'font-weight:600;white-space:nowrap">{}</span>',
        status.value,
        message,
        background,
        colour,
        status.label,
    )


def has_resync_permission(request) -> bool:
    return request.user.has_perm("sync.resync_link")


def link_of(record) -> Link | None:
    try:
        return record.link
    except Link.DoesNotExist:
        return None


class LinkStatusFilter(admin.SimpleListFilter):
    """Filter by Link Indicator; a record with no link yet counts as unsynced."""

    title = "link indicator"
    parameter_name = "link_status"

    def lookups(self, request, model_admin):
        return LinkStatus.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == LinkStatus.UNSYNCED:
            return queryset.filter(Q(link__isnull=True) | Q(link__status=value))
        return queryset.filter(link__status=value)


def record_url_in(system: str, record_type: str, foreign_id: str | None) -> str:
    """The address of a record's page in PM or LA, from `PM_RECORD_URLS` or
    `LA_RECORD_URLS` (a template per record type with `{id}`); "" when unknown."""
    templates = settings.PM_RECORD_URLS if system == System.PM else settings.LA_RECORD_URLS
    template = templates.get(record_type, "")
    if not (foreign_id and template):
        return ""
    # Plain replacement, not str.format: an operator's URL may hold other braces.
    return template.replace("{id}", quote(str(foreign_id), safe=""))


def foreign_id_with_link(link: Link, system: str):
    """A foreign id, linked to the same record's page in that system when configured."""
    foreign_id = link.pm_id if system == System.PM else link.la_id
    if not foreign_id:
        return "—"
    url = record_url_in(system, link.record_type, foreign_id)
    if not url:
        return foreign_id
    return format_html(
        '{} <a href="{}" class="record-in-{}" target="_blank" rel="noopener noreferrer">'
        "open in {}</a>",
        foreign_id,
        url,
        system,
        System(system).name,
    )


def history_table(events):
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                f"{event.occurred_at:%Y-%m-%d %H:%M:%S}",
                event.get_direction_display(),
                event.action,
                event.get_outcome_display(),
                event.message,
                "" if event.duration_ms is None else f"{event.duration_ms} ms",
            )
            for event in events
        ),
    )
    if not rows:
        return "No sync attempts yet."
    return format_html(
        '<table class="sync-history"><thead><tr><th>When</th><th>Direction</th>'
        "<th>Action</th><th>Outcome</th><th>Message</th><th>Duration</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        rows,
    )


class LinkedRecordAdmin(admin.ModelAdmin):
    """Base admin for contacts, matters and time entries: badge, filter, link, history.

    Subclasses must keep "link" in `list_select_related` so the badge costs no query.
    With `resyncable`, the admin offers "Resync now" (a button on the record's page and
    an action for selected records, both needing `sync.resync_link`), and a record
    saved here is queued for sync so the admin's fix reaches both systems.
    """

    link_readonly_fields = ("link_indicator", "link_details", "sync_history")
    resyncable = False
    change_form_template = "admin/linked_record_change_form.html"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not (self.resyncable and has_resync_permission(request)):
            actions.pop("resync_selected", None)
        return actions

    actions = ["resync_selected"]

    @admin.action(description="Resync selected records with PM and LA")
    def resync_selected(self, request, queryset):
        if not has_resync_permission(request):
            raise PermissionDenied
        count = 0
        for record in queryset:
            record_resync(record)
            count += 1
        self.message_user(request, f"Queued {count} records for resync.", messages.SUCCESS)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/resync/",
                self.admin_site.admin_view(self.resync_view),
                name=f"{info[0]}_{info[1]}_resync",
            ),
            *super().get_urls(),
        ]

    def resync_view(self, request, object_id):
        if request.method != "POST" or not self.resyncable:
            raise PermissionDenied
        if not has_resync_permission(request):
            raise PermissionDenied
        # get_object answers None for an id that is not one (not a number): a 404.
        record = self.get_object(request, unquote(object_id))
        if record is None:
            raise Http404(f"No {self.opts.verbose_name} with that id.")
        record_resync(record)
        self.message_user(request, f"Resync of “{record}” queued.", messages.SUCCESS)
        return redirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[record.pk])
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["show_resync"] = bool(
            obj and change and self.resyncable and has_resync_permission(request)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if self.resyncable:
            from sync.links import link_for
            from sync.services import link_enqueue

            link_enqueue(link_for(obj), message="Changed in the hub; sync queued.")

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *self.link_readonly_fields)

    @admin.display(description="Link", ordering="link__status")
    def link_indicator(self, obj):
        return link_badge(link_of(obj))

    @admin.display(description="Link details")
    def link_details(self, obj):
        link = link_of(obj)
        if link is None:
            return "Not linked yet."
        return format_html(
            "<dl class='link-details'><dt>PM id</dt><dd>{}</dd><dt>LA id</dt><dd>{}</dd>"
            "<dt>Reason</dt><dd>{}</dd><dt>Error code</dt><dd>{}</dd>"
            "<dt>Failed in</dt><dd>{}</dd>"
            "<dt>Last synced</dt><dd>{}</dd><dt>Failed attempts</dt><dd>{}</dd>"
            "<dt>Next retry</dt><dd>{}</dd></dl>",
            foreign_id_with_link(link, System.PM),
            foreign_id_with_link(link, System.LA),
            link.message or STATUS_MEANINGS[LinkStatus(link.status)],
            link.error_code or "—",
            link.get_error_system_display() or "—",
            link.last_synced_at or "never",
            link.attempts,
            link.next_retry_at or "—",
        )

    @admin.display(description="Sync history")
    def sync_history(self, obj):
        link = link_of(obj)
        if link is None:
            return "No sync attempts yet."
        return history_table(link.events.all()[:HISTORY_ROWS])


def record_admin_url(record, view: str = "change") -> str:
    opts = record._meta
    args = [record.pk] if view == "change" else []
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def health_bar(counts: health.RecordTypeCounts, *, can_resync: bool) -> dict:
    """One record type's counts as bar segments in the badge colours, each linking to
    the record list filtered by that state."""
    changelist = record_admin_url(health.RECORD_MODELS[counts.record_type], "changelist")
    segments = [
        {
            "status": state.status.value,
            "label": state.status.label,
            "count": state.count,
            "percent": state.percent,
            "background": BADGE_COLOURS[state.status][0],
            "colour": BADGE_COLOURS[state.status][1],
            "url": f"{changelist}?link_status={state.status.value}",
        }
        for state in counts.states
    ]
    return {
        "value": counts.record_type.value,
        "label": counts.record_type.label,
        "total": counts.total,
        "errors": counts.errors,
        "segments": segments,
        "show_resync": can_resync and counts.errors > 0,
    }


def health_error_row(link: Link) -> dict:
    record = link.record
    return {
        "link": link,
        "record": record,
        "record_url": record_admin_url(record),
        "link_url": reverse("admin:sync_link_change", args=[link.pk]),
    }


class SyncEventInline(admin.TabularInline):
    model = SyncEvent
    fields = ["occurred_at", "direction", "action", "outcome", "message", "duration_ms"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-occurred_at", "-pk"]
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("sync.view_syncevent")


@admin.register(Link)
class LinkAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only for everyone (config/admin_access.py): a link's PM and LA ids are the
    hub's only record of which records are twins, and deleting one would make the next
    sync create them again."""

    view_permission = "sync.view_link"
    list_display = [
        "__str__",
        "record",
        "record_type",
        "status_badge",
        "error_code",
        "pm_id",
        "la_id",
        "last_synced_at",
        "attempts",
        "next_retry_at",
    ]
    list_filter = ["status", "record_type", "error_system", "error_code"]
    list_select_related = ["contact", "matter", "time_entry"]
    search_fields = ["pm_id", "la_id", "message", "error_code"]
    readonly_fields = [
        "record_type",
        "contact",
        "matter",
        "time_entry",
        "pm_id",
        "la_id",
        "status_badge",
        "status",
        "error_code",
        "error_system",
        "message",
        "status_changed_at",
        "last_synced_at",
        "attempts",
        "next_retry_at",
        "pm_snapshot",
        "la_snapshot",
        "pm_hash",
        "la_hash",
    ]
    exclude = ["created_at", "updated_at"]
    inlines = [SyncEventInline]

    @admin.display(description="Link", ordering="status")
    def status_badge(self, obj):
        return link_badge(obj)

    @admin.display(description="Record")
    def record(self, obj):
        return obj.record

    def get_urls(self):
        return [
            path(
                "health/",
                self.admin_site.admin_view(self.health_view),
                name="sync_health",
            ),
            path(
                "health/resync-errors/",
                self.admin_site.admin_view(self.resync_errors_view),
                name="sync_health_resync_errors",
            ),
            *super().get_urls(),
        ]

    def health_view(self, request):
        """Sync health: indicator counts per record type, the latest errors, the task
        queue and when each system was last heard from. Aggregates only (sync.health)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        can_resync = has_resync_permission(request)
        connection = pm_connection_read()
        context = {
            **self.admin_site.each_context(request),
            "title": "Sync health",
            "opts": self.opts,
            # The page is meant to be read in one screen; the breadcrumbs lead back.
            "is_nav_sidebar_enabled": False,
            "record_types": [
                health_bar(counts, can_resync=can_resync) for counts in health.link_counts()
            ],
            "errors": [health_error_row(link) for link in health.latest_errors()],
            "latest_errors_limit": health.LATEST_ERRORS,
            "queue": health.queue_state(),
            "systems": health.system_activity(),
            "pm_connection": connection,
            "pm_connection_message": connection_problem(connection),
            "can_resync": can_resync,
        }
        return TemplateResponse(request, "admin/sync/health.html", context)

    def resync_errors_view(self, request):
        """The "Resync all errors" button of one record type: one UPDATE; the sweep
        queues the links."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not has_resync_permission(request):
            raise PermissionDenied
        record_type = request.POST.get("record_type", "")
        if record_type not in RecordType.values:
            return HttpResponseBadRequest("Unknown record type.")
        count = health.links_resync_errors(record_type=record_type)
        label = RecordType(record_type).label.lower()
        if count:
            self.message_user(
                request,
                f"Resync requested for {count} {label} link{'s' if count != 1 else ''} "
                "in error; they are queued within a minute.",
                messages.SUCCESS,
            )
        else:
            self.message_user(request, f"No {label} links are in error.", messages.INFO)
        return redirect("admin:sync_health")


@admin.register(SyncEvent)
class SyncEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "link",
        "direction",
        "action",
        "outcome",
        "message",
        "duration_ms",
    ]
    list_filter = ["outcome", "direction", "link__record_type"]
    list_select_related = ["link"]
    search_fields = ["message", "action", "link__pm_id", "link__la_id"]
    date_hierarchy = "occurred_at"

    view_permission = "sync.view_syncevent"


@admin.register(PmConnection)
class PmConnectionAdmin(admin.ModelAdmin):
    """The one PM connection: its state, and Connect / Reconnect / Disconnect.

    Connecting is Actionstep's authorization-code flow: the button sends the person to
    PM to consent, PM sends them back to `callback/`, and the hub stores the grant.
    Viewing needs `sync.view_pmconnection`; connecting and disconnecting need
    `sync.change_pmconnection`.
    """

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "",
                self.admin_site.admin_view(self.connection_view),
                name="sync_pmconnection_changelist",
            ),
            path(
                "connect/",
                self.admin_site.admin_view(self.connect_view),
                name="sync_pmconnection_connect",
            ),
            path(
                "callback/",
                self.admin_site.admin_view(self.callback_view),
                name="sync_pmconnection_callback",
            ),
            path(
                "disconnect/",
                self.admin_site.admin_view(self.disconnect_view),
                name="sync_pmconnection_disconnect",
            ),
        ]

    def connection_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        connection = pm_connection_read()
        context = {
            **self.admin_site.each_context(request),
            "title": "Practice Management connection",
            "opts": self.opts,
            "connection": connection,
            "state_colour": CONNECTION_COLOURS[connection.state],
            "problem": connection_problem(connection),
            "scopes": SCOPES,
            "redirect_uri": settings.PM_REDIRECT_URI,
            "authorize_url": settings.PM_AUTHORIZE_URL,
            "can_change": self.has_change_permission(request),
        }
        return TemplateResponse(request, "admin/sync/pmconnection/connection.html", context)

    def connect_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        return redirect(connection_start(user=request.user))

    def callback_view(self, request):
        """Where PM sends the person back with `code` and `state` (or `error`)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            connection_complete(
                code=request.GET.get("code", ""),
                state=request.GET.get("state", ""),
                error=request.GET.get("error", ""),
                user=request.user,
            )
        except AuthorizationFailed as failure:
            self.message_user(request, str(failure), messages.ERROR)
        else:
            self.message_user(
                request,
                "Practice Management is connected. Resthooks are being registered and "
                "everything that waited is queued.",
                messages.SUCCESS,
            )
        return redirect("admin:sync_pmconnection_changelist")

    def disconnect_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        connection_disconnect(user=request.user)
        self.message_user(
            request,
            "Practice Management is disconnected: syncs with it are paused, links are kept.",
            messages.WARNING,
        )
        return redirect("admin:sync_pmconnection_changelist")


# Connected green, not connected gray, the rest red (they need a person).
CONNECTION_COLOURS = {
    PmConnection.State.CONNECTED: BADGE_COLOURS[LinkStatus.SYNCED],
    PmConnection.State.NOT_CONNECTED: BADGE_COLOURS[LinkStatus.UNSYNCED],
    PmConnection.State.REFRESH_FAILING: BADGE_COLOURS[LinkStatus.UNKNOWN],
    PmConnection.State.NEEDS_REAUTHORISATION: BADGE_COLOURS[LinkStatus.ERROR],
    PmConnection.State.MISSING_SCOPE: BADGE_COLOURS[LinkStatus.ERROR],
}
