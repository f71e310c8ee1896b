"""Timekeepers: PM users and LA fee earners, matched by email (ARCHITECTURE §2 "Time").

Timekeepers are not synced, only matched: the hub keeps each one's PM user id and LA
fee-earner id. In PM a user is also a participant; those participants are people of
the firm, not contacts, and the contact sync leaves them alone.
"""

from __future__ import annotations

from sync.connectors import la_client, pm_client
from timekeeping.models import Timekeeper


def timekeepers_refresh() -> set[str]:
    """Read PM's users and LA's fee earners; answer the PM ids of users' participants."""
    user_participants: set[str] = set()
    known = {tk.email.lower(): tk for tk in Timekeeper.objects.all()}
    for user in pm_client().list_all("users"):
        email = (user.get("email") or "").strip().lower()
        participant = (user.get("links") or {}).get("participant") or user["id"]
        user_participants.add(str(participant))
        if not email:
            continue
        name = user.get("name") or " ".join(
            part for part in (user.get("firstName"), user.get("lastName")) if part
        )
        fields = {
            "name": name or email,
            "pm_user_id": str(participant),
            "active": user.get("isActive", "T") != "F",
        }
        timekeeper = known.get(email)
        if timekeeper is None:
            known[email] = Timekeeper.objects.create(email=email, **fields)
        elif any(getattr(timekeeper, key) != value for key, value in fields.items()):
            Timekeeper.objects.filter(pk=timekeeper.pk).update(**fields)
    for fee_earner in la_client().list_all("fee-earners"):
        timekeeper = known.get((fee_earner.get("email") or "").lower())
        if timekeeper and timekeeper.la_fee_earner_id != str(fee_earner["id"]):
            Timekeeper.objects.filter(pk=timekeeper.pk).update(
                la_fee_earner_id=str(fee_earner["id"])
            )
    return user_participants


def pm_user_participants() -> set[str]:
    return set(Timekeeper.objects.exclude(pm_user_id=None).values_list("pm_user_id", flat=True))
