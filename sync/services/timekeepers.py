"""Timekeepers: PM users and LA fee earners, matched by email (ARCHITECTURE §2 "Time").

Timekeepers are not synced, only matched: the hub keeps each one's PM user id and LA
fee-earner id. In PM a user is also a participant; those participants are people of
the firm, not contacts, and the contact sync leaves them alone.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from sync.connectors import la_client, pm_client
from sync.connectors.actionstep import mapping as pm_mapping
from sync.connectors.actionstep.client import linked, records
from sync.connectors.base import ConnectorError
from timekeeping.models import Timekeeper

logger = logging.getLogger(__name__)


def timekeepers_refresh() -> set[str]:
    """Read PM's users and LA's fee earners; answer the PM ids of users' participants.

    PM users carry their email as `emailAddress` and their name on their participant
    (read with `include=participant`). Two refreshes may run at once (two resthooks in two
    workers): a timekeeper another one created meanwhile is updated, not created twice.
    """
    user_participants: set[str] = set()
    known = {tk.email.lower(): tk for tk in Timekeeper.objects.all()}
    client = pm_client()
    for body in client.pages("users", include="participant"):
        participants = linked(body, "participants")
        for user in records(body, "users"):
            fields = pm_mapping.user_from_pm(user, participants)
            user_participants.add(fields["pm_user_id"])
            email = fields.pop("email")
            if email:
                known[email] = _timekeeper_upsert(known.get(email), email, fields)
    try:
        fee_earners_match(known)
    except ConnectorError as error:
        # PM's users were read: the firm's people are known whatever LA answers.
        logger.warning("Could not read LA's fee earners: %s", error.message)
    return user_participants


def fee_earners_match(known: dict[str, Timekeeper]) -> None:
    """Give each timekeeper the id of LA's fee earner with the same email."""
    for fee_earner in la_client().list_all("fee-earners"):
        timekeeper = known.get((fee_earner.get("email") or "").lower())
        if timekeeper and timekeeper.la_fee_earner_id != str(fee_earner["id"]):
            Timekeeper.objects.filter(pk=timekeeper.pk).update(
                la_fee_earner_id=str(fee_earner["id"])
            )


def _timekeeper_upsert(timekeeper: Timekeeper | None, email: str, fields: dict) -> Timekeeper:
    if timekeeper is None:
        try:
            with transaction.atomic():
                return Timekeeper.objects.create(email=email, **fields)
        except IntegrityError:
            timekeeper = Timekeeper.objects.get(email__iexact=email)
    if any(getattr(timekeeper, key) != value for key, value in fields.items()):
        Timekeeper.objects.filter(pk=timekeeper.pk).update(**fields)
        for key, value in fields.items():
            setattr(timekeeper, key, value)
    return timekeeper


def pm_user_participants() -> set[str]:
    return set(Timekeeper.objects.exclude(pm_user_id=None).values_list("pm_user_id", flat=True))
