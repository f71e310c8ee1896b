"""Every change to the emulated PM's records goes through these functions.

The API views, the admin (`save_model`) and tests call them, so validation,
`modifiedTimestamp` and REST hooks behave the same everywhere. They take model
attribute names (`owner_id`, `primary_participant_ids`) and raise Django's
`ValidationError` keyed by model field. Only the seed bypasses them, to bulk-create
thousands of rows without announcing each one.

An update that changes nothing is not a change: `modifiedTimestamp` stays and no hook
fires, so a client writing back what it just read does not start an echo.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from sandbox.routers import SANDBOX_DATABASE

from .hooks import resthooks_announce
from .models import AccessToken, Action, Participant, PrimaryParticipant, RestHook, TimeEntry, User

REFRESH_TOKEN_TTL = timedelta(days=30)
CENT = Decimal("0.01")

NAME_FIELDS = frozenset({"first_name", "last_name", "company_name", "is_company"})


def _assign(record: models.Model, fields: dict[str, Any]) -> bool:
    """Set `fields` on `record`; True when a value differs. Unknown names are a bug."""
    by_name = {}
    for model_field in record._meta.concrete_fields:
        by_name[model_field.name] = by_name[model_field.attname] = model_field
    changed = False
    for name, value in fields.items():
        model_field = by_name.get(name)
        if model_field is None:
            raise TypeError(f"{type(record).__name__} has no field {name!r}")
        if model_field.is_relation and name == model_field.name:
            name, value = model_field.attname, getattr(value, "pk", value)
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


# Participants ------------------------------------------------------------------------


def participant_display_name(participant: Participant) -> str:
    """Actionstep's default: the company name, else "Last, First"."""
    if participant.is_company and participant.company_name:
        return participant.company_name
    names = [participant.last_name, participant.first_name]
    return ", ".join(name for name in names if name) or participant.company_name


def _participant_derive_names(participant: Participant, *, keep_display_name: bool) -> None:
    if not (keep_display_name and participant.display_name):
        participant.display_name = participant_display_name(participant)
    if not participant.display_initials:
        words = (
            participant.company_name.split()
            if participant.is_company
            else [participant.first_name, participant.last_name]
        )
        participant.display_initials = "".join(word[:1] for word in words if word).upper()[:10]


@transaction.atomic(using=SANDBOX_DATABASE)
def participant_create(**fields: Any) -> Participant:
    """Create a contact. The Reference may not contain `*` or spaces (ARCHITECTURE.md §2)."""
    participant = Participant()
    _assign(participant, fields)
    _participant_derive_names(participant, keep_display_name="display_name" in fields)
    participant.full_clean()
    participant.save()
    resthooks_announce(RestHook.Event.PARTICIPANT_CREATED, "participants", [participant.pk])
    return participant


@transaction.atomic(using=SANDBOX_DATABASE)
def participant_update(participant: Participant, **fields: Any) -> Participant:
    """A name change re-derives displayName unless the same write changes displayName too
    (a client echoing back the displayName it read does not pin the old name)."""
    renamed = fields.get("display_name", participant.display_name) != participant.display_name
    if not _assign(participant, fields):
        return participant
    if NAME_FIELDS & fields.keys():
        _participant_derive_names(participant, keep_display_name=renamed)
    participant.modified_at = timezone.now()
    participant.full_clean()
    participant.save()
    resthooks_announce(RestHook.Event.PARTICIPANT_UPDATED, "participants", [participant.pk])
    return participant


# Users -------------------------------------------------------------------------------


@transaction.atomic(using=SANDBOX_DATABASE)
def user_create(*, first_name: str, last_name: str, email: str, **fields: Any) -> User:
    """A user is a participant too (see models.py); both are created together."""
    user = User(first_name=first_name, last_name=last_name, email=email.strip().lower())
    _assign(user, fields)
    user.full_clean(exclude=["participant"])
    user.participant = participant_create(
        first_name=first_name, last_name=last_name, email=user.email
    )
    user.save(force_insert=True)
    return user


@transaction.atomic(using=SANDBOX_DATABASE)
def user_update(user: User, **fields: Any) -> User:
    if "email" in fields:
        fields["email"] = fields["email"].strip().lower()
    if not _assign(user, fields):
        return user
    user.full_clean()
    user.save()
    participant_update(
        user.participant, first_name=user.first_name, last_name=user.last_name, email=user.email
    )
    return user


# Actions (matters) -------------------------------------------------------------------


def _action_set_clients(action: Action, participant_ids: list[int]) -> None:
    if len(set(participant_ids)) != len(participant_ids):
        raise ValidationError({"primary_participant_ids": "A participant is listed twice."})
    found = set(Participant.objects.filter(pk__in=participant_ids).values_list("pk", flat=True))
    missing = [str(pk) for pk in participant_ids if pk not in found]
    if missing:
        raise ValidationError(
            {"primary_participant_ids": f"No participant with id {', '.join(missing)}."}
        )
    action.client_links.all().delete()
    getattr(action, "_prefetched_objects_cache", {}).pop("client_links", None)
    PrimaryParticipant.objects.bulk_create(
        PrimaryParticipant(action=action, participant_id=pk, position=position)
        for position, pk in enumerate(participant_ids)
    )


@transaction.atomic(using=SANDBOX_DATABASE)
def action_create(*, primary_participant_ids: Iterable[int] = (), **fields: Any) -> Action:
    """Create a matter (Actionstep's `actioncreate`); the first client is the primary one."""
    action = Action()
    _assign(action, fields)
    action.full_clean()
    action.save()
    _action_set_clients(action, list(primary_participant_ids))
    resthooks_announce(RestHook.Event.ACTION_CREATED, "actions", [action.pk])
    return action


@transaction.atomic(using=SANDBOX_DATABASE)
def action_update(
    action: Action, *, primary_participant_ids: Iterable[int] | None = None, **fields: Any
) -> Action:
    status = action.status
    changed = _assign(action, fields)
    if primary_participant_ids is not None:
        ids = list(primary_participant_ids)
        if ids != action.primary_participant_ids:
            _action_set_clients(action, ids)
            changed = True
    if not changed:
        return action
    now = timezone.now()
    if action.status != status:
        action.status_changed_at = now
    action.modified_at = now
    action.full_clean()
    action.save()
    resthooks_announce(RestHook.Event.ACTION_UPDATED, "actions", [action.pk])
    return action


# Time entries ------------------------------------------------------------------------


def time_entry_amount(hours: Decimal, rate: Decimal) -> Decimal:
    """The one rounding rule for time: hours x rate, half up to the cent."""
    return (hours * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def _time_entry_price(entry: TimeEntry, fields: dict[str, Any]) -> None:
    if "billable_amount_type" not in fields and "billable_amount" in fields:
        entry.billable_amount_type = TimeEntry.AmountType.FIXED
    if entry.billable_amount_type == TimeEntry.AmountType.CALCULATED and None not in (
        entry.billable_hours,
        entry.rate_unit_price,
    ):
        entry.billable_amount = time_entry_amount(entry.billable_hours, entry.rate_unit_price)


@transaction.atomic(using=SANDBOX_DATABASE)
def time_entry_create(**fields: Any) -> TimeEntry:
    """Record time. Billable hours default to actual hours, the rate to the owner's rate,
    `createdBy` to the owner; a given `billableAmount` makes the amount Fixed."""
    entry = TimeEntry()
    _assign(entry, fields)
    if entry.billable_hours is None:
        entry.billable_hours = entry.actual_hours
    owner = User.objects.filter(pk=entry.owner_id).first() if entry.owner_id else None
    if owner is not None:
        if "rate_unit_price" not in fields:
            entry.rate_unit_price = owner.hourly_rate
        if entry.created_by_id is None:
            entry.created_by_id = owner.pk
    _time_entry_price(entry, fields)
    entry.full_clean()
    entry.save()
    resthooks_announce(RestHook.Event.TIME_ENTRY_CREATED, "timeentries", [entry.pk])
    return entry


@transaction.atomic(using=SANDBOX_DATABASE)
def time_entry_update(time_entry: TimeEntry, **fields: Any) -> TimeEntry:
    if not _assign(time_entry, fields):
        return time_entry
    _time_entry_price(time_entry, fields)
    time_entry.modified_at = timezone.now()
    time_entry.full_clean()
    time_entry.save()
    resthooks_announce(RestHook.Event.TIME_ENTRY_UPDATED, "timeentries", [time_entry.pk])
    return time_entry


@transaction.atomic(using=SANDBOX_DATABASE)
def time_entry_delete(time_entry: TimeEntry) -> None:
    pk = time_entry.pk
    time_entry.delete()
    resthooks_announce(RestHook.Event.TIME_ENTRY_DELETED, "timeentries", [pk])


# REST hooks --------------------------------------------------------------------------


def resthook_create(*, event_name: str, target_url: str) -> RestHook:
    """Register a hook. Registering again is how a client revives a disabled hook."""
    hook = RestHook(event_name=event_name, target_url=target_url)
    hook.full_clean()
    hook.save()
    return hook


def resthook_delete(hook: RestHook) -> None:
    hook.delete()


# OAuth2 tokens -----------------------------------------------------------------------


class TokenError(Exception):
    """An OAuth2 error (RFC 6749 §5.2): `code` is the `error` value of the answer."""

    def __init__(self, code: str, description: str):
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str
    expires_in: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_credentials_check(client_id: str, client_secret: str) -> None:
    """Raise TokenError unless these are `SANDBOX_PM_CLIENT_ID`/`_SECRET`."""
    expected = (settings.SANDBOX_PM_CLIENT_ID, settings.SANDBOX_PM_CLIENT_SECRET)
    matches = secrets.compare_digest(client_id.encode(), expected[0].encode())
    matches &= secrets.compare_digest(client_secret.encode(), expected[1].encode())
    if not matches:
        raise TokenError("invalid_client", "Unknown client_id or wrong client_secret.")


def token_issue() -> IssuedToken:
    """A fresh pair: the access token lives SANDBOX_PM_TOKEN_TTL_SECONDS, the refresh
    token 30 days or until it is used once (refreshing rotates both)."""
    now = timezone.now()
    ttl = settings.SANDBOX_PM_TOKEN_TTL_SECONDS
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    AccessToken.objects.filter(refresh_expires_at__lt=now).delete()
    AccessToken.objects.create(
        access_digest=_digest(access),
        refresh_digest=_digest(refresh),
        expires_at=now + timedelta(seconds=ttl),
        refresh_expires_at=now + REFRESH_TOKEN_TTL,
    )
    return IssuedToken(access_token=access, refresh_token=refresh, expires_in=ttl)


@transaction.atomic(using=SANDBOX_DATABASE)
def token_refresh(*, refresh_token: str) -> IssuedToken:
    spent = AccessToken.objects.filter(
        refresh_digest=_digest(refresh_token), refresh_expires_at__gt=timezone.now()
    ).delete()[0]
    if not spent:
        raise TokenError("invalid_grant", "The refresh token is unknown, used or expired.")
    return token_issue()


def token_is_valid(access_token: str) -> bool:
    return AccessToken.objects.filter(
        access_digest=_digest(access_token), expires_at__gt=timezone.now()
    ).exists()
