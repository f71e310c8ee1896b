"""Admin for links and their history, and the pieces every linked record's admin shares:
the Link Indicator badge, the filter by indicator state and the history table.
"""

from urllib.parse import quote

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from config.admin_access import ReadOnlyAdmin

from . import admin_pages, health
from .admin_pages import record_admin_url
from .advice import link_advice, link_problem
from .connectors.actionstep.oauth import SCOPES
from .display import local_time
from .links import NEEDS_DECISION
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
from .services.purge import link_forgotten, links_forget

# The hub's own admin: its name on every page; the site's root is the admin itself.
PRODUCT_NAME = "PM ⇄ LA integration hub"
admin.site.site_header = PRODUCT_NAME
admin.site.site_title = PRODUCT_NAME
admin.site.index_title = "Contacts, matters and time linked between PM and LA"
admin.site.site_url = None

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
# Who a red record's page says the message comes from.
SYSTEM_SAYS = {System.PM: "Practice Management", System.LA: "Legal Accounting", "hub": "The hub"}
# Syncing a record whose link was forgotten would create it again in both systems.
FORGOTTEN_NOT_SYNCED = (
    "%d record(s) not synced: the link was forgotten (purge or forget link). Run "
    "manage.py link_existing to link it again first."
)


# A pending record onboarding holds for an admin's decision: amber.
NEEDS_DECISION_COLOURS = ("#ffb300", "#3e2400")


def link_badge(link: Link | None):
    """The Link Indicator as a coloured badge; hovering shows the reason."""
    status = LinkStatus(link.status) if link else LinkStatus.UNSYNCED
    message = (link.message if link else "") or STATUS_MEANINGS[status]
    background, colour = BADGE_COLOURS[status]
    label, modifier = status.label, status.value
    if link and status == LinkStatus.PENDING and link.error_code == NEEDS_DECISION:
        background, colour = NEEDS_DECISION_COLOURS
        label, modifier = "Needs a decision", "needs-decision"
    return format_html(
        '<span class="link-badge link-badge--{}" title="{}" '
        'style="background:{};color:{};padding:2px 8px;border-radius:9px;'
        'font-weight:600;white-space:nowrap">{}</span>',
        modifier,
        message,
        background,
        colour,
        label,
    )


def has_resync_permission(request) -> bool:
    return request.user.has_perm("sync.resync_link")


def link_of(record) -> Link | None:
    try:
        return record.link
    except Link.DoesNotExist:
        return None


class LinkStatusFilter(admin.SimpleListFilter):
    """Filter by Link Indicator; a record with no link yet counts as unsynced, and one
    held for an onboarding decision can be listed alone."""

    title = "link indicator"
    parameter_name = "link_status"

    def lookups(self, request, model_admin):
        # Pending records onboarding holds for an admin's decision, apart.
        return [*LinkStatus.choices, (NEEDS_DECISION, "Needs a decision")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == NEEDS_DECISION:
            return queryset.filter(link__needs_decision=True, link__status=LinkStatus.PENDING)
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
                local_time(event.occurred_at, seconds=True),
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


# Red first, then yellow, then the rest: what needs a person is at the top of a list.
ATTENTION_ORDER = Case(
    When(link__status=LinkStatus.ERROR, then=Value(0)),
    When(link__status=LinkStatus.UNKNOWN, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


class AttentionFirstChangeList(ChangeList):
    """A list of linked records: red first, then yellow, unless a column is sorted."""

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        if ORDER_VAR in self.params:
            return ordering
        return ["link_attention", *ordering]


class LinkedRecordAdmin(admin.ModelAdmin):
    """Base admin for contacts, matters and time entries: badge, filter, link, history.

    Subclasses must keep "link" in `list_select_related` so the badge costs no query.
    With `resyncable`, the admin offers "Resync now" (a button on the record's page and
    an action for selected records, both needing `sync.resync_link`), and a record
    saved here is queued for sync so the admin's fix reaches both systems.

    A record that needs a person (red, or yellow) shows at the top of its page the
    system's message, what to do (sync/advice.py), the field at fault marked, and a
    link to the record to fix when the fault is in another one (a matter's client).
    Lists show a short reason and put those records first.
    """

    link_readonly_fields = ("link_indicator", "link_details", "sync_history")
    resyncable = False
    change_form_template = "admin/linked_record_change_form.html"
    # Where the reason column goes: right after this column of list_display.
    reason_after = "link_indicator"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not (self.resyncable and has_resync_permission(request)):
            actions.pop("resync_selected", None)
        return actions

    actions = ["resync_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(link_attention=ATTENTION_ORDER)

    def get_changelist(self, request, **kwargs):
        return AttentionFirstChangeList

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if self.reason_after in columns and "link_reason" not in columns:
            columns.insert(columns.index(self.reason_after) + 1, "link_reason")
        return columns

    @admin.display(description="Reason")
    def link_reason(self, obj):
        """The short reason a record needs a person; the full message on hover."""
        link = link_of(obj)
        advice = link_advice(link)
        if advice is None:
            return ""
        return format_html(
            '<span class="link-reason" title="{}">{}</span>', link.message, advice.short
        )

    @admin.action(description="Resync selected records with PM and LA")
    def resync_selected(self, request, queryset):
        if not has_resync_permission(request):
            raise PermissionDenied
        count = skipped = 0
        for record in queryset.select_related("link"):
            if link_forgotten(link_of(record)):
                skipped += 1
                continue
            record_resync(record)
            count += 1
        self.message_user(request, f"Queued {count} records for resync.", messages.SUCCESS)
        if skipped:
            self.message_user(request, FORGOTTEN_NOT_SYNCED % skipped, messages.WARNING)

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
        if link_forgotten(link_of(record)):
            self.message_user(request, FORGOTTEN_NOT_SYNCED % 1, messages.WARNING)
        else:
            record_resync(record)
            self.message_user(request, f"Resync of “{record}” queued.", messages.SUCCESS)
        return redirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[record.pk])
        )

    def problem_of(self, request, obj):
        """The page's problem, read once per request (the form and the page both ask)."""
        if obj is None or obj.pk is None:
            return None
        cache = request.__dict__.setdefault("_link_problems", {})
        key = (self.opts.label_lower, obj.pk)
        if key not in cache:
            cache[key] = link_problem(link_of(obj))
        return cache[key]

    def fix_target(self, obj, problem) -> tuple[str, str]:
        """(url, label) of the record to fix when the fault is in another record."""
        if problem.advice.fix == "client" and getattr(obj, "client_id", None):
            return record_admin_url(obj.client), f"the client “{obj.client}”"
        if problem.advice.fix == "matter" and getattr(obj, "matter_id", None):
            return record_admin_url(obj.matter), f"the matter “{obj.matter}”"
        return "", ""

    def get_form(self, request, obj=None, change=False, **kwargs):
        """Mark the field a refusal names: the box itself (aria-invalid) and its help."""
        form = super().get_form(request, obj, change, **kwargs)
        problem = self.problem_of(request, obj)
        if problem is None or problem.field not in form.base_fields:
            return form
        name, message = problem.field, problem.link.message

        class MarkedForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                marked = self.fields[name]
                marked.widget.attrs["aria-invalid"] = "true"
                marked.widget.attrs["class"] = (
                    f"{marked.widget.attrs.get('class', '')} link-problem-field".strip()
                )
                marked.help_text = format_html(
                    '<span class="link-problem-help">Fix this: {}</span>{}',
                    message,
                    format_html("<br>{}", marked.help_text) if marked.help_text else "",
                )

        MarkedForm.__name__ = form.__name__
        return MarkedForm

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["show_resync"] = bool(
            obj and change and self.resyncable and has_resync_permission(request)
        )
        problem = self.problem_of(request, obj) if change else None
        if problem is not None:
            fix_url, fix_label = self.fix_target(obj, problem)
            field_label = ""
            if problem.field:
                try:
                    field_label = self.model._meta.get_field(problem.field).verbose_name
                except Exception:  # a field of the form but not of the model
                    field_label = problem.field
            context.update(
                link_problem=problem,
                link_problem_badge=link_badge(problem.link),
                link_problem_system=SYSTEM_SAYS.get(problem.link.error_system, "The hub"),
                link_problem_field_label=str(field_label),
                link_problem_fix_url=fix_url,
                link_problem_fix_label=fix_label,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not self.resyncable:
            return
        from sync.links import link_for
        from sync.services import link_enqueue

        link = link_for(obj)
        if link_forgotten(link):
            self.message_user(request, FORGOTTEN_NOT_SYNCED % 1, messages.WARNING)
            return
        link_enqueue(link, message="Changed in the hub; sync queued.")

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
            local_time(link.last_synced_at, empty="never"),
            link.attempts,
            local_time(link.next_retry_at),
        )

    @admin.display(description="Sync history")
    def sync_history(self, obj):
        link = link_of(obj)
        if link is None:
            return "No sync attempts yet."
        return history_table(link.events.all()[:HISTORY_ROWS])


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
    change_form_template = "admin/sync/link/change_form.html"

    def has_forget_permission(self, request) -> bool:
        return request.user.is_superuser

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_forget"] = bool(
            obj and self.has_forget_permission(request) and not link_forgotten(obj)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def forget_view(self, request, object_id):
        """ "Forget link" instead of a delete (a deleted link makes the next sync create
        both records again): a confirmation page, then the link forgets its PM and LA ids
        and stops syncing, keeping its record and history. Nothing is written to PM or
        LA; `link_existing` links the record again. Superusers only."""
        if not self.has_forget_permission(request):
            raise PermissionDenied
        link = self.get_object(request, unquote(object_id))
        if link is None:
            raise Http404("No link with that id.")
        if request.method == "POST":
            links_forget(links=Link.objects.filter(pk=link.pk), user=request.user)
            self.message_user(
                request,
                f"Forgot {link}: {link.record} no longer syncs until manage.py link_existing "
                "links it again.",
                messages.WARNING,
            )
            return redirect("admin:sync_link_change", link.pk)
        return TemplateResponse(
            request,
            "admin/sync/link/forget_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Forget this link?",
                "opts": self.opts,
                "link": link,
            },
        )

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
            path("mapping/", self.admin_site.admin_view(self.mapping_view), name="sync_mapping"),
            path("purge/", self.admin_site.admin_view(self.purge_view), name="sync_purge"),
            path(
                "onboarding/",
                self.admin_site.admin_view(self.onboarding_view),
                name="sync_onboarding",
            ),
            path(
                "onboarding/go-live/",
                self.admin_site.admin_view(self.go_live_view),
                name="sync_onboarding_go_live",
            ),
            path(
                "onboarding/pause/",
                self.admin_site.admin_view(self.pause_view),
                name="sync_onboarding_pause",
            ),
            path(
                "<path:object_id>/forget/",
                self.admin_site.admin_view(self.forget_view),
                name="sync_link_forget",
            ),
            *super().get_urls(),
        ]

    def health_view(self, request):
        """Sync health (sync/admin_pages.py): aggregates only (sync/health.py)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return admin_pages.health_page(self, request, can_resync=has_resync_permission(request))

    def mapping_view(self, request):
        """The field mapping, read from sync/fields.py and the connectors' mappings."""
        return admin_pages.mapping_page(self, request)

    def purge_view(self, request):
        """Disconnect and purge: a dry-run count, then a superuser's confirmation."""
        return admin_pages.purge_page(self, request)

    def onboarding_view(self, request):
        """Onboarding: the matching job, the ambiguous records, the switch."""
        return admin_pages.onboarding_page(self, request)

    def go_live_view(self, request):
        """Go live: what will be created in each system, then a confirmation."""
        return admin_pages.go_live_page(self, request)

    def pause_view(self, request):
        """Pause the sync (POST)."""
        return admin_pages.pause_page(self, request)

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
