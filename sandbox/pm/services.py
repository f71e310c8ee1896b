"""Every change to the emulated PM's records goes through these functions.

The API views, the admin (`save_model`, `save_formset`, actions) and tests call them,
so validation, `modifiedTimestamp` and REST hooks behave the same everywhere. They take
model attribute names (`owner_id`, `primary_participant_ids`) and raise Django's
`ValidationError` keyed by model field. Only the seed bypasses them, to bulk-create
thousands of rows without announcing each one.

An update that changes nothing is not a change: `modifiedTimestamp` stays and no hook
fires, so a client writing back what it just read does not start an echo.

The OAuth2 part follows the wiki Authorization page (authorization-code grant only:
"Actionstep supports the Authorization grant type only") and RFC 6749 where the wiki is
silent; the sources are in docs/actionstep-fidelity.md.
"""

import base64
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from sandbox.routers import SANDBOX_DATABASE

from .hooks import resthooks_announce
from .models import (
    CLIENT_PARTICIPANT_TYPE,
    AccessToken,
    Action,
    ActionParticipant,
    AuthorizationCode,
    DataCollection,
    DataCollectionField,
    DataCollectionRecord,
    DataCollectionRecordValue,
    Grant,
    Participant,
    ParticipantType,
    RefreshToken,
    RestHook,
    TimeEntry,
    User,
    token_digest,
)
from .selectors import ALL_SCOPES

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
    """Create a contact. A given displayName is kept; else it is derived from the names
    (the API requires one, as CreateParticipant does; the admin and tests need not)."""
    participant = Participant()
    _assign(participant, fields)
    _participant_derive_names(participant, keep_display_name="display_name" in fields)
    participant.full_clean()
    participant.save()
    resthooks_announce(RestHook.Event.PARTICIPANT_CREATED, "participants", participant.pk)
    return participant


@transaction.atomic(using=SANDBOX_DATABASE)
def participant_update(participant: Participant, **fields: Any) -> Participant:
    """A name change re-derives displayName unless the same write changes displayName too
    (the API never sends displayName on update: UpdateParticipant has none)."""
    renamed = fields.get("display_name", participant.display_name) != participant.display_name
    if not _assign(participant, fields):
        return participant
    if NAME_FIELDS & fields.keys():
        _participant_derive_names(participant, keep_display_name=renamed)
    participant.modified_at = timezone.now()
    participant.full_clean()
    participant.save()
    resthooks_announce(RestHook.Event.PARTICIPANT_UPDATED, "participants", participant.pk)
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


# Participant types -----------------------------------------------------------------

DEFAULT_PARTICIPANT_TYPES = {
    "Staff": {"description": "A member of the firm working on the matter."},
    CLIENT_PARTICIPANT_TYPE: {"description": "The firm's client on the matter."},
    "Other side": {"description": "The party opposing the client."},
}


def participant_types_create_defaults() -> dict[str, ParticipantType]:
    """The types a fresh PM has (migration 0004 creates them too), in that order so the
    Client type's id is not 1; for a database a reset or a test flush emptied."""
    return {
        name: ParticipantType.objects.get_or_create(name=name, defaults=defaults)[0]
        for name, defaults in DEFAULT_PARTICIPANT_TYPES.items()
    }


# Actions (matters) -------------------------------------------------------------------


def _action_touch(action_id: int) -> None:
    """A change to an action's primaryParticipants is a change to the action: its
    modifiedTimestamp moves and ActionUpdated fires (whether real Actionstep fires
    ActionUpdated then is UNKNOWN; the emulator keeps "modifiedTimestamp moved" and
    "ActionUpdated fired" together)."""
    Action.objects.filter(pk=action_id).update(modified_at=timezone.now())
    resthooks_announce(RestHook.Event.ACTION_UPDATED, "actions", action_id)


def _participants_attach(action: Action, pairs: list[tuple[int, int]]) -> list[ActionParticipant]:
    type_ids = {type_id for type_id, _ in pairs}
    participant_ids = {participant_id for _, participant_id in pairs}
    known_types = set(ParticipantType.objects.filter(pk__in=type_ids).values_list("pk", flat=True))
    known = set(Participant.objects.filter(pk__in=participant_ids).values_list("pk", flat=True))
    problems = [f"No participant type with id {pk}." for pk in sorted(type_ids - known_types)]
    problems += [f"No participant with id {pk}." for pk in sorted(participant_ids - known)]
    if len(set(pairs)) != len(pairs):
        problems.append("A participant is listed twice for the same participant type.")
    if problems:
        raise ValidationError({"participants": problems})
    return ActionParticipant.objects.bulk_create(
        ActionParticipant(
            action=action,
            participant_type_id=type_id,
            participant_id=participant_id,
            participant_number=number,
        )
        for number, (type_id, participant_id) in enumerate(pairs, start=1)
    )


@transaction.atomic(using=SANDBOX_DATABASE)
def action_create(
    *,
    primary_participant_ids: Iterable[int] = (),
    participants: Iterable[tuple[int, int]] = (),
    **fields: Any,
) -> Action:
    """Create a matter (Actionstep's `actioncreate`).

    `participants` are `(participant type id, participant id)` pairs, as
    `links.participantType<N>` gives them; `primary_participant_ids` is a shorthand for
    pairs of the action type's primary participant type (the first is the primary
    client). Each becomes an action participant, numbered in that order.
    """
    action = Action()
    _assign(action, fields)
    action.full_clean()
    action.save()
    primary_type_id = action.action_type.primary_participant_type_id
    pairs = [(primary_type_id, pk) for pk in primary_participant_ids] + list(participants)
    links = _participants_attach(action, pairs)
    resthooks_announce(RestHook.Event.ACTION_CREATED, "actions", action.pk)
    for link in links:
        resthooks_announce(RestHook.Event.ACTION_PARTICIPANT_ADDED, "actionparticipants", link.pk)
    return action


@transaction.atomic(using=SANDBOX_DATABASE)
def action_update(action: Action, **fields: Any) -> Action:
    """Change a matter's own properties; its participants change through
    `action_participant_create` / `_delete`."""
    status = action.status
    if not _assign(action, fields):
        return action
    now = timezone.now()
    if action.status != status:
        action.status_changed_at = now
    action.modified_at = now
    action.full_clean()
    action.save()
    resthooks_announce(RestHook.Event.ACTION_UPDATED, "actions", action.pk)
    return action


@transaction.atomic(using=SANDBOX_DATABASE)
def action_participant_create(
    *, action_id: int, participant_type_id: int, participant_id: int
) -> ActionParticipant:
    """Add a participant to an action in a role; numbered after the action's last one.
    The same participant twice in the same role is refused (the composite id would
    clash)."""
    link = ActionParticipant(
        action_id=action_id, participant_type_id=participant_type_id, participant_id=participant_id
    )
    link.participant_number = 0
    link.full_clean(validate_constraints=False)
    if ActionParticipant.objects.filter(
        action_id=action_id, participant_type_id=participant_type_id, participant_id=participant_id
    ).exists():
        raise ValidationError(
            f"Participant {participant_id} already has participant type "
            f"{participant_type_id} on action {action_id}."
        )
    action = Action.objects.select_for_update().select_related("action_type").get(pk=action_id)
    last = action.participant_links.aggregate(last=Max("participant_number"))["last"] or 0
    link.participant_number = last + 1
    link.save()
    resthooks_announce(RestHook.Event.ACTION_PARTICIPANT_ADDED, "actionparticipants", link.pk)
    if participant_type_id == action.action_type.primary_participant_type_id:
        _action_touch(action_id)
    return link


@transaction.atomic(using=SANDBOX_DATABASE)
def action_participant_delete(link: ActionParticipant) -> None:
    """Remove a participant from an action (ActionParticipantDeleted carries the record
    as it was)."""
    resthooks_announce(RestHook.Event.ACTION_PARTICIPANT_DELETED, "actionparticipants", link.pk)
    primary_type_id = (
        Action.objects.filter(pk=link.action_id)
        .values_list("action_type__primary_participant_type_id", flat=True)
        .get()
    )
    link.delete()
    if link.participant_type_id == primary_type_id:
        _action_touch(link.action_id)


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
    """Record time. `owner` and `createdBy` must be users (wiki TR03: "The owner must be
    a system user"). Billable hours default to actual hours, the rate to the owner's
    rate, `createdBy` to the owner (the API requires it, as the OpenAPI file does); a
    given `billableAmount` makes the amount Fixed."""
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
    resthooks_announce(RestHook.Event.TIME_ENTRY_CREATED, "timeentries", entry.pk)
    return entry


@transaction.atomic(using=SANDBOX_DATABASE)
def time_entry_update(time_entry: TimeEntry, **fields: Any) -> TimeEntry:
    if not _assign(time_entry, fields):
        return time_entry
    _time_entry_price(time_entry, fields)
    time_entry.full_clean()
    time_entry.save()
    resthooks_announce(RestHook.Event.TIME_ENTRY_UPDATED, "timeentries", time_entry.pk)
    return time_entry


@transaction.atomic(using=SANDBOX_DATABASE)
def time_entry_delete(time_entry: TimeEntry) -> None:
    """Delete time; nothing is announced, as real Actionstep has no time-entry deletion
    event (docs.actionstep.com/webhooks)."""
    time_entry.delete()


# REST hooks --------------------------------------------------------------------------


def resthook_create(*, event_name: str, target_url: str) -> RestHook:
    """Register a hook for one of the 21 documented events. Registering again is how a
    client revives a disabled or deleted hook (demo-app page)."""
    hook = RestHook(event_name=event_name, target_url=target_url)
    hook.full_clean()
    hook.save()
    return hook


def resthook_update(hook: RestHook, **fields: Any) -> RestHook:
    """PUT: change `eventName`/`targetUrl`. Whether a PUT revives a disabled hook is
    UNKNOWN; the emulator chooses yes: any PUT sets the status back to Active."""
    _assign(hook, {**fields, "status": RestHook.Status.ACTIVE})
    hook.full_clean()
    hook.save()
    return hook


def resthook_delete(hook: RestHook) -> None:
    hook.delete()


# OAuth2 ------------------------------------------------------------------------------

# Each REST resource's own name (real Actionstep: docs.actionstep.com/api-scopes, wiki
# resource pages' "Scope Parameter") plus `all`; only these exist in the sandbox. Whether
# `users` and `resthooks` are scopes of their own is UNKNOWN (the public table is cut
# off); the emulator treats them like every other resource.
SCOPES = frozenset(
    {
        ALL_SCOPES,
        "actioncreate",
        "actionparticipants",
        "actions",
        "actiontypes",
        "datacollectionfields",
        "datacollectionrecords",
        "datacollectionrecordvalues",
        "datacollections",
        "participants",
        "participanttypes",
        "resthooks",
        "timeentries",
        "users",
    }
)
AUTHORIZATION_CODE_LIFETIME = timedelta(minutes=10)
PKCE_VALUE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


class AuthorizeError(Exception):
    """An authorize request refused (RFC 6749 §4.1.2.1). `redirectable` is False when the
    client or redirect_uri cannot be trusted: then the user sees an error page instead."""

    def __init__(self, code: str, description: str, *, redirectable: bool = True):
        super().__init__(description)
        self.code, self.description, self.redirectable = code, description, redirectable


class TokenError(Exception):
    """An OAuth2 error (RFC 6749 §5.2): `code` is the `error` value of the answer."""

    def __init__(self, code: str, description: str):
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    code_challenge: str


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str
    expires_in: int


def _setting_names(value: str | Iterable[str]) -> set[str]:
    """A list setting given as a list or as a comma- or space-separated string."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return {name.strip() for name in value if name.strip()}


def client_authenticate(client_id: str, client_secret: str) -> None:
    """Raise TokenError unless these are `SANDBOX_PM_CLIENT_ID`/`_SECRET` (the sandbox
    has one client, as a firm's sandbox from Actionstep support does)."""
    expected = (settings.SANDBOX_PM_CLIENT_ID, settings.SANDBOX_PM_CLIENT_SECRET)
    matches = secrets.compare_digest(client_id.encode(), expected[0].encode())
    matches &= secrets.compare_digest(client_secret.encode(), expected[1].encode())
    if not matches:
        raise TokenError("invalid_client", "Unknown client_id or wrong client_secret.")


def authorization_request_check(
    *,
    response_type: str,
    client_id: str,
    redirect_uri: str,
    scope: str,
    state: str = "",
    code_challenge: str = "",
    code_challenge_method: str = "",
) -> AuthorizationRequest:
    """The authorize request's rules, in RFC 6749 §4.1.2.1's order: an unknown client or
    a redirect_uri whose host is not in SANDBOX_PM_REDIRECT_HOSTS (standing in for the
    redirect URIs a firm registers) cannot redirect; then `response_type` must be `code`
    and `scope` must name known scopes the client was pre-granted
    (SANDBOX_PM_CLIENT_SCOPES; "they will ask you which of the following scopes ... you
    require", docs.actionstep.com/api-scopes). The wiki: "Actionstep requires the use of
    the scope argument". PKCE (RFC 7636) is UNKNOWN for real Actionstep: the emulator
    takes an S256 challenge when sent and never requires one."""
    if not secrets.compare_digest(client_id.encode(), settings.SANDBOX_PM_CLIENT_ID.encode()):
        raise AuthorizeError("invalid_client", "Unknown client_id.", redirectable=False)
    parts = urlsplit(redirect_uri)
    allowed_hosts = _setting_names(settings.SANDBOX_PM_REDIRECT_HOSTS)
    if parts.scheme not in ("http", "https") or parts.fragment or parts.hostname is None:
        raise AuthorizeError(
            "invalid_request", "redirect_uri must be an absolute http(s) URL.", redirectable=False
        )
    if parts.hostname not in allowed_hosts:
        raise AuthorizeError(
            "invalid_request",
            f"redirect_uri's host {parts.hostname} is not registered for this client.",
            redirectable=False,
        )
    if response_type != "code":
        raise AuthorizeError("unsupported_response_type", "Only response_type=code is supported.")
    scopes = tuple(dict.fromkeys(scope.split()))
    if not scopes:
        raise AuthorizeError("invalid_scope", "scope is required.")
    unknown = [name for name in scopes if name not in SCOPES]
    if unknown:
        raise AuthorizeError("invalid_scope", f"Unknown scope: {' '.join(unknown)}.")
    granted = _setting_names(settings.SANDBOX_PM_CLIENT_SCOPES)
    if ALL_SCOPES not in granted:
        refused = [name for name in scopes if name not in granted]
        if refused:
            raise AuthorizeError(
                "invalid_scope", f"Scope not granted to this client: {' '.join(refused)}."
            )
    if code_challenge_method and code_challenge_method != "S256":
        raise AuthorizeError("invalid_request", "code_challenge_method must be S256.")
    if code_challenge and not (code_challenge_method and PKCE_VALUE.match(code_challenge)):
        raise AuthorizeError("invalid_request", "Send an S256 code_challenge of 43-128 chars.")
    if code_challenge_method and not code_challenge:
        raise AuthorizeError("invalid_request", "code_challenge_method needs a code_challenge.")
    return AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        code_challenge=code_challenge,
    )


def grant_create(*, user: User, client_id: str, scopes: Iterable[str]) -> Grant:
    return Grant.objects.create(user=user, client_id=client_id, scopes=" ".join(scopes))


def grant_revoke(grant: Grant) -> None:
    """End a user's consent: its access tokens answer 401 from now on, its refresh tokens
    and unused codes invalid_grant. (Actionstep users revoke an app in Actionstep's own
    settings; how that shows on the API is UNKNOWN beyond a refused token.)"""
    Grant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    grant.refresh_from_db(fields=["revoked_at"])


@transaction.atomic(using=SANDBOX_DATABASE)
def authorization_code_issue(*, request: AuthorizationRequest, user: User) -> str:
    """The user allowed the request: a Grant and a single-use code, valid 10 minutes
    (RFC 6749 §4.1.2 recommends at most 10). Returns the raw code, shown once."""
    if not user.is_active:
        raise ValidationError({"user": "Choose an active user."})
    grant = grant_create(user=user, client_id=request.client_id, scopes=request.scopes)
    code = secrets.token_urlsafe(32)
    AuthorizationCode.objects.create(
        digest=token_digest(code),
        grant=grant,
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        expires_at=timezone.now() + AUTHORIZATION_CODE_LIFETIME,
    )
    return code


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _pkce_verified(verifier: str, challenge: str) -> bool:
    if not PKCE_VALUE.match(verifier):
        return False
    return secrets.compare_digest(pkce_challenge(verifier), challenge)


@transaction.atomic(using=SANDBOX_DATABASE)
def token_issue(*, grant: Grant) -> IssuedToken:
    """A new access token (SANDBOX_PM_ACCESS_TOKEN_SECONDS; the wiki: "Access Tokens have
    a 60 minute lifespan", while `expires_in: 28800` was observed in 2024) and a new
    refresh token (SANDBOX_PM_REFRESH_TOKEN_DAYS; the wiki: "a Refresh Token which has a
    21 day lifespan. A Refresh Token is returned with every Access Token issued")."""
    now = timezone.now()
    lifetime = settings.SANDBOX_PM_ACCESS_TOKEN_SECONDS
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    AccessToken.objects.filter(expires_at__lt=now).delete()
    RefreshToken.objects.filter(expires_at__lt=now).delete()
    AccessToken.objects.create(
        digest=token_digest(access),
        grant=grant,
        scopes=grant.scopes,
        expires_at=now + timedelta(seconds=lifetime),
    )
    RefreshToken.objects.create(
        digest=token_digest(refresh),
        grant=grant,
        scopes=grant.scopes,
        expires_at=now + timedelta(days=settings.SANDBOX_PM_REFRESH_TOKEN_DAYS),
    )
    return IssuedToken(access_token=access, refresh_token=refresh, expires_in=lifetime)


def _spend(model: type[models.Model], token: str):
    """Find an unexpired code or refresh token and delete it in one step, outside any
    transaction, so that it stays spent whatever the caller refuses next."""
    found = (
        model.objects.select_related("grant")
        .filter(digest=token_digest(token), expires_at__gt=timezone.now())
        .first()
    )
    if found is None or not model.objects.filter(pk=found.pk).delete()[0]:
        return None
    return found


def token_from_authorization_code(
    *, client_id: str, code: str, redirect_uri: str, code_verifier: str = ""
) -> IssuedToken:
    """Trade a code once (RFC 6749 §4.1.3): it must be unexpired, of an unrevoked grant
    to this client, asked with the same redirect_uri, and match its PKCE challenge."""
    found = _spend(AuthorizationCode, code)
    if found is None:
        raise TokenError("invalid_grant", "The code is unknown, used or expired.")
    if found.grant.revoked_at is not None or found.grant.client_id != client_id:
        raise TokenError("invalid_grant", "The code was not issued to this client.")
    if found.redirect_uri != redirect_uri:
        raise TokenError("invalid_grant", "redirect_uri differs from the authorize request's.")
    if found.code_challenge and not _pkce_verified(code_verifier, found.code_challenge):
        raise TokenError("invalid_grant", "code_verifier does not match code_challenge.")
    return token_issue(grant=found.grant)


def token_refresh(*, client_id: str, refresh_token: str) -> IssuedToken:
    """Rotate: the refresh token is spent at once (a second use is invalid_grant) and a
    new pair is issued for the same grant. Real Actionstep returns a new refresh token
    each time (wiki) and its clients keep the newest (demo ActionstepApi.cs); whether it
    refuses the old one is UNKNOWN. The old access token stays valid until it expires
    (also UNKNOWN for real Actionstep)."""
    found = _spend(RefreshToken, refresh_token)
    if found is None:
        raise TokenError("invalid_grant", "The refresh token is unknown, used or expired.")
    if found.grant.revoked_at is not None:
        raise TokenError("invalid_grant", "Access was revoked.")
    if found.grant.client_id != client_id:
        raise TokenError("invalid_grant", "The refresh token was not issued to this client.")
    return token_issue(grant=found.grant)


# Data collections --------------------------------------------------------------------
#
# Real Actionstep (docs/actionstep-fidelity.md, "Data collections"): a collection
# belongs to an action type;
# a record belongs to one action and one collection; each value is a string, its id
# `<collection>--<field name>--<record>`. Actionstep's demo app creates a record, then
# PUTs the value "the server created along with the record" on that composite id: the
# emulator creates one empty value per field with the record (and one per record when
# a field is added), so every such id exists. POST on values, with all four links, is
# also taken (the spec's CreateDataCollectionRecordValue) for a value not there yet.
#
# Hooks (docs.actionstep.com/webhooks): DataCollectionRecordValueUpdated when a value
# changes, DataCollectionRecordUpdated with it (its record changed), and
# DataCollectionRecordDeleted. There is no "created" event: creating a record announces
# nothing (emulator choice; real behaviour UNKNOWN).


def _data_collection_of(pk: int | None) -> DataCollection:
    found = DataCollection.objects.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise ValidationError({"data_collection": f"No data collection with id {pk}."})
    return found


def data_collection_create(**fields: Any) -> DataCollection:
    """A collection for one action type; its name is unique within the type."""
    collection = DataCollection()
    _assign(collection, fields)
    collection.full_clean()
    collection.save()
    return collection


def data_collection_update(collection: DataCollection, **fields: Any) -> DataCollection:
    if _assign(collection, fields):
        collection.full_clean()
        collection.save()
    return collection


@transaction.atomic(using=SANDBOX_DATABASE)
def data_collection_delete(collection: DataCollection) -> None:
    """Deleting a collection deletes its fields, records and values with it."""
    for record in collection.records.all():
        data_collection_record_delete(record)
    collection.delete()


@transaction.atomic(using=SANDBOX_DATABASE)
def data_collection_field_create(**fields: Any) -> DataCollectionField:
    """A field of a collection, and an empty value of it in every existing record."""
    field = DataCollectionField()
    _assign(field, fields)
    field.full_clean()
    field.save()
    DataCollectionRecordValue.objects.bulk_create(
        DataCollectionRecordValue(record=record, field=field)
        for record in field.data_collection.records.all()
    )
    return field


def data_collection_field_update(field: DataCollectionField, **fields: Any) -> DataCollectionField:
    """The name is fixed once created (forsyteco UpdateDataCollectionField has none)."""
    fields.pop("name", None)
    if _assign(field, fields):
        field.full_clean()
        field.save()
    return field


def data_collection_field_delete(field: DataCollectionField) -> None:
    field.delete()


@transaction.atomic(using=SANDBOX_DATABASE)
def data_collection_record_create(
    *, action_id: int | None, data_collection_id: int | None, **fields: Any
) -> DataCollectionRecord:
    """A record of a collection on an action of the collection's action type; a
    collection without `multipleRecords` takes one record per action."""
    collection = _data_collection_of(data_collection_id)
    action = Action.objects.filter(pk=action_id).first() if action_id is not None else None
    if action is None:
        raise ValidationError({"action": f"No action with id {action_id}."})
    if action.action_type_id != collection.action_type_id:
        raise ValidationError(
            {
                "data_collection": f"Data collection {collection.pk} belongs to action type "
                f"{collection.action_type_id}, not to action {action.pk}'s type "
                f"{action.action_type_id}."
            }
        )
    existing = DataCollection.objects.select_for_update().filter(pk=collection.pk)
    existing.get()  # one record at a time per collection: the check below holds
    if not collection.multiple_records and collection.records.filter(action=action).exists():
        raise ValidationError(
            {
                "data_collection": f"Action {action.pk} already has a record of data "
                f"collection {collection.pk}, which takes one record per action."
            }
        )
    record = DataCollectionRecord(data_collection=collection, action=action)
    _assign(record, fields)
    record.save()
    DataCollectionRecordValue.objects.bulk_create(
        DataCollectionRecordValue(record=record, field=field) for field in collection.fields.all()
    )
    return record


@transaction.atomic(using=SANDBOX_DATABASE)
def data_collection_record_delete(record: DataCollectionRecord) -> None:
    resthooks_announce(
        RestHook.Event.DATA_COLLECTION_RECORD_DELETED, "datacollectionrecords", record.pk
    )
    record.delete()


def data_collection_value_check(field: DataCollectionField, value: str) -> None:
    """A value as its field's data type takes it (emulator choice: what real Actionstep
    refuses is UNKNOWN); an empty string clears any field."""
    if value == "":
        return
    kind = DataCollectionField.DataType
    problem = ""
    if field.data_type in (kind.MONEY, kind.NUMBER):
        try:
            number = Decimal(value)
        except ArithmeticError:
            number = None
        if number is None or not number.is_finite():
            problem = "a number, e.g. 1250.50"
    elif field.data_type in (kind.DATE, kind.DATE_NM):
        if parse_date(value) is None:
            problem = "a date, e.g. 2024-05-01"
    elif field.data_type in (kind.DATE_TIME, kind.DATE_TIME_NM):
        if parse_datetime(value) is None and parse_date(value) is None:
            problem = "a date and time, e.g. 2024-05-01T14:30:00+12:00"
    elif field.data_type == kind.BOOLEAN:
        if value not in ("T", "F"):
            problem = "T or F"
    elif field.data_type in (kind.STR255, kind.STR255_PROTECTED) and len(value) > 255:
        problem = "at most 255 characters"
    if problem:
        raise ValidationError(
            {"string_value": f"{field.name} is a {field.data_type} field: send {problem}."}
        )


def _record_value_announce(value: DataCollectionRecordValue, *, existed: bool) -> None:
    if existed:
        resthooks_announce(
            RestHook.Event.DATA_COLLECTION_RECORD_VALUE_UPDATED,
            "datacollectionrecordvalues",
            value.pk,
        )
    resthooks_announce(
        RestHook.Event.DATA_COLLECTION_RECORD_UPDATED, "datacollectionrecords", value.record_id
    )


@transaction.atomic(using=SANDBOX_DATABASE)
def data_collection_value_create(
    *,
    action_id: int | None,
    field_key: str,
    record_id: int | None,
    data_collection_id: int | None,
    string_value: str,
    user_id: int | None = None,
) -> DataCollectionRecordValue:
    """POST with all four links: they must agree with each other, and the record must
    not hold a value of that field yet (PUT changes one)."""
    collection = _data_collection_of(data_collection_id)
    record = DataCollectionRecord.objects.filter(pk=record_id).first()
    if record is None or record.data_collection_id != collection.pk:
        raise ValidationError(
            {"record": f"No record {record_id} of data collection {collection.pk}."}
        )
    if record.action_id != action_id:
        raise ValidationError(
            {"action": f"Record {record.pk} belongs to action {record.action_id}."}
        )
    collection_part, _, name = field_key.partition("--")
    field = collection.fields.filter(name=name).first()
    if field is None or collection_part != str(collection.pk):
        raise ValidationError(
            {"field_key": f"No field {field_key} in data collection {collection.pk}."}
        )
    if DataCollectionRecordValue.objects.filter(record=record, field=field).exists():
        raise ValidationError(
            {"field_key": f"Record {record.pk} has a value of {field.name} already: PUT it."}
        )
    data_collection_value_check(field, string_value)
    value = DataCollectionRecordValue.objects.create(
        record=record, field=field, string_value=string_value, modified_by_id=user_id
    )
    _record_value_announce(value, existed=False)
    return value


@transaction.atomic(using=SANDBOX_DATABASE)
def data_collection_value_update(
    value: DataCollectionRecordValue, *, string_value: str | None = None, user_id: int | None = None
) -> DataCollectionRecordValue:
    """PUT: the new string (UpdateDataCollectionRecordValue requires stringValue); the
    same string again changes nothing and fires nothing."""
    if string_value is None:
        raise ValidationError({"string_value": "This property is required."})
    if value.string_value == string_value:
        return value
    data_collection_value_check(value.field, string_value)
    value.string_value = string_value
    value.modified_at = timezone.now()
    value.modified_by_id = user_id
    value.save()
    _record_value_announce(value, existed=True)
    return value
