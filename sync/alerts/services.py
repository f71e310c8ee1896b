"""Email the firm's integration admins when links turn red: one digest per interval,
never one mail per record, and nothing when nothing turned red.

A scheduled task (every minute) calls `alert_digest_send`. It sends when at least
`ALERT_DIGEST_MINUTES` have passed since the last digest and some link turned red since
the window that digest covered: the count per record type and per reason (sync/advice.py),
the newest records with a link to each, and links to the filtered lists and the health
page. The recipients are the active users with an email address in the group named by
`ALERT_GROUP` ("Integration admins", made by this app's migration).

The window ends `SETTLE` before now: a link turned red in a transaction that commits a
moment after the digest reads is in the next digest, not lost between two.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from sync.advice import advice_for
from sync.display import local_time
from sync.models import RECORD_FIELDS, Link, LinkStatus, RecordType

from .models import AlertDigest

logger = logging.getLogger(__name__)

SETTLE = timedelta(seconds=30)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NEWEST = 10
CHANGELISTS = {
    RecordType.CONTACT: "admin:contacts_contact_changelist",
    RecordType.MATTER: "admin:matters_matter_changelist",
    RecordType.TIME_ENTRY: "admin:timekeeping_timeentry_changelist",
}


def _absolute(path: str) -> str:
    return settings.HUB_BASE_URL.rstrip("/") + path


def alert_recipients() -> list[str]:
    users = (
        get_user_model()
        .objects.filter(groups__name=settings.ALERT_GROUP, is_active=True)
        .exclude(email="")
    )
    return sorted(set(users.values_list("email", flat=True)))


def alert_digest_send(*, now: datetime | None = None) -> AlertDigest | None:
    """Send the digest if one is due and something turned red; answers it, or None."""
    now = now or timezone.now()
    last = AlertDigest.objects.order_by("-covered_until").first()
    if last and now - last.sent_at < timedelta(minutes=settings.ALERT_DIGEST_MINUTES):
        return None  # one digest per interval
    since = last.covered_until if last else EPOCH
    until = now - SETTLE
    turned_red = Link.objects.filter(
        status=LinkStatus.ERROR, status_changed_at__gt=since, status_changed_at__lte=until
    )
    per_type = dict(turned_red.order_by().values_list("record_type").annotate(n=Count("pk")))
    count = sum(per_type.values())
    if not count:
        return None
    per_code = list(
        turned_red.order_by().values_list("error_code").annotate(n=Count("pk")).order_by("-n")
    )
    newest = list(
        turned_red.select_related(*RECORD_FIELDS.values()).order_by("-status_changed_at", "-pk")[
            :NEWEST
        ]
    )
    total = Link.objects.filter(status=LinkStatus.ERROR).count()
    recipients = alert_recipients()
    subject = (
        f"[{settings.ALERT_SUBJECT_PREFIX}] {count} link{'s' if count != 1 else ''} "
        f"turned red ({total} in error)"
    )
    try:
        with transaction.atomic():
            # Claims the window: a second worker sending the same one fails here.
            digest = AlertDigest.objects.create(
                since=since,
                covered_until=until,
                new_errors=count,
                total_errors=total,
                recipients=", ".join(recipients),
                subject=subject,
            )
            if recipients:
                send_mail(
                    subject,
                    _body(
                        since=since,
                        per_type=per_type,
                        per_code=per_code,
                        newest=newest,
                        total=total,
                    ),
                    settings.ALERT_FROM_EMAIL,
                    recipients,
                )
            else:
                logger.warning(
                    "%s; nobody to tell: the group %r has no active user with an email address.",
                    subject,
                    settings.ALERT_GROUP,
                )
    except IntegrityError:
        return None
    return digest


def _body(*, since, per_type, per_code, newest, total) -> str:
    count = sum(per_type.values())
    start = "since the hub started" if since == EPOCH else f"since {local_time(since)}"
    lines = [
        f"{count} link{'s' if count != 1 else ''} turned red {start}; "
        f"{total} {'is' if total == 1 else 'are'} in error in all.",
        "",
    ]
    for record_type in RecordType:
        if per_type.get(record_type):
            url = _absolute(reverse(CHANGELISTS[record_type])) + "?link_status=error"
            lines.append(f"{record_type.label}s: {per_type[record_type]}  {url}")
    lines += ["", "Why:"]
    for code, number in per_code:
        advice = advice_for(code)
        lines.append(f"  {number} x {advice.short}" + (f" ({code})" if code else ""))
    lines += ["", "Newest:"]
    for link in newest:
        record = link.record
        opts = record._meta
        url = _absolute(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
        )
        lines += [f"  {link.get_record_type_display()} “{record}”: {link.message}", f"    {url}"]
    lines += [
        "",
        f"Sync health: {_absolute(reverse('admin:sync_health'))}",
        "",
        f"You get this because you are in the group “{settings.ALERT_GROUP}”; at most one "
        f"digest every {settings.ALERT_DIGEST_MINUTES} minutes, and none while nothing "
        "turns red.",
    ]
    return "\n".join(lines)
