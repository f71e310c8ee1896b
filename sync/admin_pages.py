"""The hub's own admin pages beside the model pages (sync/admin.py wires their URLs):

- **Sync health**, the page people check every morning: Link Indicator counts per record
  type, a 24-hour and 7-day trend of syncs and failures drawn from the history, the task
  queue and its running clusters, the connection to each system, the latest errors. It
  refreshes itself every minute and reads aggregates only (sync/health.py).
- **Field mapping**: the one declarative mapping as a table (sync/mapping_table.py).
- **Disconnect and purge**: a dry-run count, then, for a superuser who confirms, the stop
  and the forgetting (sync/services/purge.py).
- **Onboarding**, for whoever may change the sync switch
  (`sync.change_syncswitch`): the matching job with its progress and counts, the
  ambiguous records side by side to decide, and the switch: "Go live" behind a
  confirmation that says what will be created in each system, and "Pause".
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from . import health
from .advice import link_advice
from .charts import trend_chart
from .mapping_table import mapping_rows
from .models import AmbiguousMatch, Link, MatchingRun, RecordType
from .services.connection import connection_problem, pm_connection_read
from .services.matching import (
    MatchingBusy,
    go_live_preview,
    matching_run_latest,
    matching_run_start,
)
from .services.onboarding import (
    CONTACT_RULES,
    MATTER_RULES,
    DecisionRefused,
    ambiguous_match_decide,
)
from .services.purge import links_purge, purge_counts
from .services.switch import sync_go_live, sync_pause, sync_switch_read

HEALTH_REFRESH_SECONDS = 60
ONBOARDING_REFRESH_SECONDS = 2
SWITCH_PERMISSION = "sync.change_syncswitch"
PURGE_WORD = "PURGE"


def record_admin_url(record, view: str = "change") -> str:
    opts = record._meta
    args = [record.pk] if view == "change" else []
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def health_bar(counts: health.RecordTypeCounts, *, can_resync: bool) -> dict:
    """One record type's counts as bar segments in the badge colours, each linking to
    the record list filtered by that state."""
    from .admin import BADGE_COLOURS

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
        "advice": link_advice(link),
        "record": record,
        "record_url": record_admin_url(record),
        "link_url": reverse("admin:sync_link_change", args=[link.pk]),
    }


def health_trend(trend: health.Trend) -> dict:
    synced, failed = trend.totals
    return {
        "value": trend.record_type.value,
        "label": trend.record_type.label,
        "synced_24h": synced,
        "failed_24h": failed,
        "chart_24h": trend_chart(
            trend.hours,
            label=f"{trend.record_type.label}, last 24 hours by hour",
            bucket_format="D H:00",
            first="24 h ago",
            last="now",
        ),
        "chart_7d": trend_chart(
            trend.days,
            label=f"{trend.record_type.label}, last 7 days by day",
            bucket_format="D j M",
            first="7 days ago",
            last="today",
            width=140,
        ),
    }


def la_connection() -> dict:
    """Legal Accounting answers or not: one cheap authenticated read, its answer kept a
    few seconds (the readiness check's own, ops/health.py)."""
    try:
        from ops.health import la_check

        result = la_check()
    except Exception as error:  # a health page shows trouble, it never fails on it
        return {"ok": False, "detail": f"could not be checked ({type(error).__name__})"}
    return {"ok": result.ok, "detail": result.detail}


def health_context(model_admin, request, *, can_resync: bool) -> dict:
    connection = pm_connection_read()
    switch = sync_switch_read()
    return {
        **model_admin.admin_site.each_context(request),
        "title": "Sync health",
        "opts": model_admin.opts,
        # The page is meant to be read in one screen; the breadcrumbs lead back.
        "is_nav_sidebar_enabled": False,
        "refresh_seconds": HEALTH_REFRESH_SECONDS,
        "record_types": [
            health_bar(counts, can_resync=can_resync) for counts in health.link_counts()
        ],
        "trends": [health_trend(trend) for trend in health.sync_trends()],
        "errors": [health_error_row(link) for link in health.latest_errors()],
        "latest_errors_limit": health.LATEST_ERRORS,
        "queue": health.queue_state(),
        "failures_url": reverse("admin:django_q_failure_changelist")
        if request.user.is_superuser
        else "",
        "systems": health.system_activity(),
        "pm_connection": connection,
        "pm_connection_message": connection_problem(connection),
        "la_connection": la_connection(),
        "la_api_url": settings.LA_API_URL,
        "switch": switch,
        **_banner(switch),
        "can_onboard": request.user.has_perm(SWITCH_PERMISSION),
        "can_resync": can_resync,
        "time_zone": settings.TIME_ZONE,
    }


def health_page(model_admin, request, *, can_resync: bool):
    context = health_context(model_admin, request, can_resync=can_resync)
    return TemplateResponse(request, "admin/sync/health.html", context)


# Field mapping --------------------------------------------------------------------------


def mapping_page(model_admin, request):
    rows = mapping_rows()
    sections = [
        {
            "label": record_type.label + "s",
            "value": record_type.value,
            "rows": [row for row in rows if row.record_type == record_type],
        }
        for record_type in (RecordType.CONTACT, RecordType.MATTER)
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Field mapping",
        "opts": model_admin.opts,
        "sections": sections,
    }
    return TemplateResponse(request, "admin/sync/mapping.html", context)


# Disconnect and purge ---------------------------------------------------------------------


def purge_page(model_admin, request):
    """GET: what a purge would forget (nothing changes). POST, with the word typed: stop
    the sync and forget every link. Superusers only."""
    if not request.user.is_superuser:
        raise PermissionDenied
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    typed = request.POST.get("confirm", "").strip()
    if request.method == "POST" and typed == PURGE_WORD:
        forgotten = links_purge(user=request.user)
        model_admin.message_user(
            request,
            f"Purged: {forgotten.total} links forgotten and Practice Management disconnected. "
            "Run manage.py link_existing to link the records again, then Connect.",
            messages.WARNING,
        )
        return redirect("admin:sync_health")
    counts = purge_counts()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Disconnect and purge",
        "opts": model_admin.opts,
        "counts": counts,
        "link_rows": [(record_type.label, counts.links[record_type]) for record_type in RecordType],
        "purge_word": PURGE_WORD,
        "typed_wrong": request.method == "POST",
    }
    return TemplateResponse(request, "admin/sync/purge.html", context)


# Onboarding ------------------------------------------------------------------------------


def _banner(switch) -> dict:
    """The paused banner's value from the switch a page read already (it overrides the
    context processor's, which would read it again)."""
    paused = switch is not None and switch.state == switch.State.PAUSED
    return {"sync_paused": "paused" if paused else ""}


def _onboarding_allowed(request) -> None:
    if not request.user.has_perm(SWITCH_PERMISSION):
        raise PermissionDenied


def _run_rows(run: MatchingRun | None) -> list[dict]:
    """The last run's counts per record type: matched by each rule, new on each side,
    ambiguous, already linked."""
    if run is None or not run.report:
        return []
    rows = []
    for name, rules in (("contacts", CONTACT_RULES), ("matters", MATTER_RULES)):
        found = run.report.get(name) or {}
        rows.append(
            {
                "label": name.capitalize(),
                "read": found.get("read", {}),
                "matched": [(rule, (found.get("matched") or {}).get(rule, 0)) for rule in rules],
                "already_linked": found.get("already_linked", 0),
                "decided": found.get("decided", 0),
                "only_in_pm": found.get("only_in_pm", 0),
                "only_in_la": found.get("only_in_la", 0),
                "ambiguous": len(found.get("ambiguous") or []),
                "held": len(found.get("held") or []),
            }
        )
    return rows


def _case_row(case: AmbiguousMatch) -> dict:
    pm = case.candidates.get("pm") or []
    la = case.candidates.get("la") or []
    return {
        "case": case,
        "pm": pm,
        "la": la,
        "rows": [
            (pm[i] if i < len(pm) else None, la[i] if i < len(la) else None)
            for i in range(max(len(pm), len(la)))
        ],
    }


def onboarding_page(model_admin, request):
    """GET: the switch, the last matching run (refreshing while it runs), the counts, and
    the ambiguous records to decide. POST: start matching, or decide one case."""
    _onboarding_allowed(request)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST":
        _onboarding_post(model_admin, request)
        return redirect("admin:sync_onboarding")
    run = matching_run_latest()
    running = run is not None and run.state in (MatchingRun.State.QUEUED, MatchingRun.State.RUNNING)
    percent = None
    if running and run.total:
        percent = min(100, 100 * run.done // run.total)
    undecided = AmbiguousMatch.objects.filter(decision=AmbiguousMatch.Decision.UNDECIDED)
    decided = AmbiguousMatch.objects.exclude(
        decision=AmbiguousMatch.Decision.UNDECIDED
    ).select_related("decided_by")
    switch = sync_switch_read()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Onboarding",
        "opts": model_admin.opts,
        "is_nav_sidebar_enabled": False,
        "switch": switch,
        **_banner(switch),
        "run": run,
        "running": running,
        "percent": percent,
        "refresh_seconds": ONBOARDING_REFRESH_SECONDS,
        "run_rows": _run_rows(run),
        "cases": [_case_row(case) for case in undecided],
        "decided": list(decided.order_by("-decided_at")[:50]),
        # Matters wait for their clients: a decision since the last run calls for another.
        "match_again": run is not None
        and not running
        and decided.filter(decided_at__gt=run.created_at).exists(),
        "preview": go_live_preview(),
    }
    return TemplateResponse(request, "admin/sync/onboarding.html", context)


def _onboarding_post(model_admin, request) -> None:
    action = request.POST.get("action", "")
    if action == "match":
        try:
            matching_run_start(user=request.user)
        except MatchingBusy as busy:
            model_admin.message_user(request, str(busy), messages.WARNING)
        else:
            model_admin.message_user(
                request, "Matching started; this page shows its progress.", messages.SUCCESS
            )
        return
    if action not in ("twins", "different"):
        model_admin.message_user(request, "Nothing was done: unknown action.", messages.ERROR)
        return
    try:
        match_id = int(request.POST.get("case", ""))
    except ValueError:
        model_admin.message_user(request, "Nothing was done: no case named.", messages.ERROR)
        return
    twin_pm = request.POST.get("twin_pm", "") if action == "twins" else ""
    twin_la = request.POST.get("twin_la", "") if action == "twins" else ""
    if action == "twins" and not (twin_pm and twin_la):
        model_admin.message_user(
            request, "Pick one PM record and one LA record to link them.", messages.ERROR
        )
        return
    try:
        ambiguous_match_decide(
            match_id=match_id, user=request.user, twin_pm_id=twin_pm, twin_la_id=twin_la
        )
    except AmbiguousMatch.DoesNotExist:
        model_admin.message_user(request, "That case does not exist.", messages.ERROR)
        return
    except DecisionRefused as refused:
        model_admin.message_user(request, str(refused), messages.ERROR)
        return
    if action == "twins":
        text = f"Linked PM {twin_pm} and LA {twin_la} as twins; the others are different records."
    else:
        text = "Marked as different records: each will be created in the other system."
    model_admin.message_user(request, text, messages.SUCCESS)


def go_live_page(model_admin, request):
    """GET: what going live will create in each system. POST: go live."""
    _onboarding_allowed(request)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST":
        sync_go_live(user=request.user)
        model_admin.message_user(
            request,
            "The sync is live: what waited is being synced now.",
            messages.SUCCESS,
        )
        return redirect("admin:sync_health")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Go live",
        "opts": model_admin.opts,
        "switch": sync_switch_read(),
        "preview": go_live_preview(),
    }
    return TemplateResponse(request, "admin/sync/go_live.html", context)


def pause_page(model_admin, request):
    """POST: pause the sync."""
    _onboarding_allowed(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    who = request.user.get_username()
    sync_pause(user=request.user, reason=f"Paused by {who}.")
    model_admin.message_user(
        request,
        "The sync is paused: nothing is written to PM or LA until you go live again.",
        messages.WARNING,
    )
    return redirect("admin:sync_onboarding")
