"""The hub's connection to PM: connect, refresh, report trouble, disconnect.

Actionstep grants tokens only through the OAuth2 authorization-code flow: a person of
the firm consents, and the hub keeps the grant (docs/actionstep-fidelity.md). Rules kept
here:

- **One grant, in the database.** The tokens live on the one `PmConnection` row,
  encrypted; a process keeps a copy of the access token in memory for speed but re-reads
  the row at least every `RECHECK_SECONDS`, so a disconnect or a reconnect reaches every
  worker within that time.
- **Refresh under a lock.** Every refresh answers a new refresh token and spends the old
  one, so two processes refreshing at once would lock the firm out. A refresh takes the
  row with `select_for_update` (on SQLite the IMMEDIATE transaction does the same), reads
  it again, and refreshes only if nobody did meanwhile.
- **Trouble is the connection's, not the records'.** Not connected, a refused refresh
  (the grant was revoked or lapsed), a missing scope: the connection's state says so with
  one message, `ConnectorError(kind=CONNECTION)` tells the engine to leave links as they
  are, and reconnecting queues everything that waited.
- **Kept alive.** A refresh token lapses after 21 days unused; the poll pass refreshes
  once half of that has gone, and the health page warns when it is close.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from sync.connectors.actionstep.oauth import SCOPES, ActionstepOAuth, Credentials, TokenGrant
from sync.connectors.base import ConnectorError, ErrorKind
from sync.models import PmConnection

logger = logging.getLogger(__name__)

State = PmConnection.State

# Refresh this long before the access token runs out rather than collect a 401 for it.
EXPIRY_MARGIN = timedelta(seconds=60)
# How stale a process's copy of the connection may be.
RECHECK_SECONDS = 30.0
# An authorization must come back within this long of being started.
AUTHORIZATION_WINDOW = timedelta(minutes=10)
REFRESH_BACKOFF_CAP = timedelta(minutes=15)
# Warn on the health page and in the banner when the refresh token lapses this soon.
LAPSE_WARNING = timedelta(days=3)

USABLE_STATES = {State.CONNECTED, State.REFRESH_FAILING}


class AuthorizationFailed(Exception):
    """The authorization could not be completed; the message says why, for a person."""


def oauth() -> ActionstepOAuth:
    return ActionstepOAuth(
        authorize_url=settings.PM_AUTHORIZE_URL,
        token_url=settings.PM_TOKEN_URL,
        client_id=settings.PM_CLIENT_ID,
        client_secret=settings.PM_CLIENT_SECRET,
        redirect_uri=settings.PM_REDIRECT_URI,
        timeout=settings.SYNC_HTTP_TIMEOUT,
        pkce=settings.PM_OAUTH_PKCE,
    )


def pm_connection() -> PmConnection:
    """The connection row, made (not connected) on first use."""
    connection, _ = PmConnection.objects.get_or_create(pk=1)
    return connection


def pm_connection_read() -> PmConnection:
    """The connection as stored, or an unsaved one (not connected) before the first
    connect: for pages, which read and never write."""
    return PmConnection.objects.filter(pk=1).first() or PmConnection(pk=1)


def _update(**fields) -> None:
    PmConnection.objects.filter(pk=1).update(**fields, updated_at=timezone.now())
    _cache.forget()


def _state_fields(state: str, message: str) -> dict:
    return {"state": state, "message": message, "state_changed_at": timezone.now()}


# Connecting -----------------------------------------------------------------------------


def connection_start(*, user=None) -> str:
    """Begin an authorization: remember a fresh `state` (and PKCE verifier) and answer the
    PM address to send the person to. Starting again replaces an unfinished one."""
    pm_connection()
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64) if settings.PM_OAUTH_PKCE else ""
    _update(
        pending_state=state,
        pending_verifier=verifier,
        pending_started_by=user,
        pending_started_at=timezone.now(),
    )
    return oauth().authorization_url(state=state, code_verifier=verifier or None)


def connection_complete(*, code: str, state: str, error: str = "", user=None) -> PmConnection:
    """Finish an authorization PM redirected back with: check `state`, exchange the code,
    store the grant, and queue what waited for the connection.

    Raises AuthorizationFailed with a person's reason when the answer is refused,
    unexpected, too old or an error; nothing is stored then.
    """
    connection = pm_connection()
    expected = connection.pending_state
    started = connection.pending_started_at
    if not expected or not secrets.compare_digest(state.encode(), expected.encode()):
        raise AuthorizationFailed(
            "This answer from Practice Management does not match a connection started here. "
            "Press Connect again."
        )
    _update(pending_state="", pending_verifier="", pending_started_at=None)
    if error:
        raise AuthorizationFailed(
            f"Practice Management did not grant access ({error}). Nothing was changed."
        )
    if started is None or timezone.now() - started > AUTHORIZATION_WINDOW:
        raise AuthorizationFailed("The connection took too long. Press Connect again.")
    if not code:
        raise AuthorizationFailed("Practice Management answered without a code.")
    try:
        grant = oauth().token_from_code(
            code=code, code_verifier=connection.pending_verifier or None
        )
    except ConnectorError as failure:
        raise AuthorizationFailed(failure.message) from failure
    now = timezone.now()
    with transaction.atomic():
        locked = PmConnection.objects.select_for_update().get(pk=1)
        _store_grant(locked, grant, now=now)
        locked.connected_by = user if getattr(user, "pk", None) else None
        locked.connected_at = now
        locked.scopes = " ".join(SCOPES)
        locked.save()
        transaction.on_commit(connection_resumed_queue)
    _cache.forget()
    logger.info("Practice Management connected (org %s).", grant.orgkey or "unknown")
    return pm_connection()


def _store_grant(connection: PmConnection, grant: TokenGrant, *, now: datetime) -> None:
    was = connection.state
    connection.access_token = grant.access_token
    connection.access_expires_at = now + timedelta(seconds=grant.expires_in)
    if grant.refresh_token:
        connection.refresh_token = grant.refresh_token
        connection.refresh_expires_at = now + timedelta(days=settings.PM_REFRESH_TOKEN_DAYS)
    connection.api_endpoint = grant.api_endpoint
    connection.orgkey = grant.orgkey
    connection.token_version += 1
    connection.last_refreshed_at = now
    connection.refresh_failures = 0
    connection.refresh_retry_at = None
    connection.state = State.CONNECTED
    connection.message = ""
    if was != State.CONNECTED:
        connection.state_changed_at = now


def connection_resumed_queue() -> None:
    """After connecting: register the resthooks, poll, and re-queue what waited."""
    async_task("sync.tasks.connection_resumed_task", task_name="pm-connection-resumed")


def connection_disconnect(*, user=None) -> None:
    """Forget the grant: syncs with PM pause, links stay as they are.

    Actionstep publishes no endpoint to revoke a grant; the firm removes the app's access
    in Actionstep itself if it wants the grant gone there too (README).
    """
    who = getattr(user, "get_username", lambda: "")() or "someone"
    _update(
        access_token="",
        refresh_token="",
        access_expires_at=None,
        refresh_expires_at=None,
        resthook_secret="",
        pending_state="",
        pending_verifier="",
        **_state_fields(
            State.NOT_CONNECTED,
            f"Disconnected by {who} on {timezone.now():%Y-%m-%d %H:%M} UTC. "
            "Syncs with Practice Management are paused; press Connect to resume.",
        ),
    )


# Trouble --------------------------------------------------------------------------------


def connection_trouble(state: str, message: str) -> ConnectorError:
    """Record that the connection needs a person, and the error that pauses the sync."""
    current = PmConnection.objects.filter(pk=1).values_list("state", "message").first()
    if current != (state, message):
        _update(**_state_fields(state, message))
    logger.warning("Practice Management connection: %s", message)
    return ConnectorError(message=message, kind=ErrorKind.CONNECTION, system="pm", code=state)


def scope_missing(message: str) -> ConnectorError:
    return connection_trouble(
        State.MISSING_SCOPE,
        f"Practice Management refused a request for lack of permission: {message} "
        "Ask Actionstep to grant the scopes listed on this page to the hub's client, make "
        "sure the connecting user may see those records, then Reconnect.",
    )


def connection_problem(connection: PmConnection | None = None) -> str:
    """What is wrong with the connection, for the admin banner; "" when all is well."""
    if connection is None:
        connection = PmConnection.objects.filter(pk=1).first()
    if connection is None or connection.state == State.NOT_CONNECTED:
        return (connection.message if connection else "") or (
            "Practice Management is not connected: nothing syncs with it until an "
            "administrator connects it."
        )
    if connection.state == State.CONNECTED:
        return refresh_lapse_warning(connection)
    return connection.message


def refresh_lapse_warning(connection: PmConnection) -> str:
    lapses = connection.refresh_expires_at
    if connection.state != State.CONNECTED or lapses is None:
        return ""
    if lapses - timezone.now() > LAPSE_WARNING:
        return ""
    return (
        f"The Practice Management grant lapses on {lapses:%Y-%m-%d %H:%M} UTC unless the hub "
        "refreshes it: check that the task cluster is running, or Reconnect."
    )


# Tokens ---------------------------------------------------------------------------------


class _ProcessCache:
    """This process's copy of the connection's credentials (the database is the truth)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.credentials: Credentials | None = None
        self.checked = 0.0

    def forget(self) -> None:
        with self.lock:
            self.credentials = None
            self.checked = 0.0

    def fresh(self) -> Credentials | None:
        credentials = self.credentials
        if credentials is None or time.monotonic() - self.checked > RECHECK_SECONDS:
            return None
        if credentials.expires_at - EXPIRY_MARGIN <= timezone.now():
            return None
        return credentials

    def keep(self, credentials: Credentials) -> Credentials:
        with self.lock:
            self.credentials = credentials
            self.checked = time.monotonic()
        return credentials


_cache = _ProcessCache()


def _credentials_of(connection: PmConnection) -> Credentials | None:
    if not (connection.access_token and connection.access_expires_at):
        return None
    if connection.access_expires_at - EXPIRY_MARGIN <= timezone.now():
        return None
    return Credentials(
        access_token=connection.access_token,
        api_endpoint=connection.api_endpoint,
        expires_at=connection.access_expires_at,
        version=connection.token_version,
    )


def _paused(connection: PmConnection | None) -> ConnectorError | None:
    if connection is None or connection.state == State.NOT_CONNECTED:
        message = (connection.message if connection else "") or (
            "Practice Management is not connected."
        )
        return ConnectorError(
            message=message, kind=ErrorKind.CONNECTION, system="pm", code=State.NOT_CONNECTED
        )
    if connection.state not in USABLE_STATES:
        return ConnectorError(
            message=connection.message,
            kind=ErrorKind.CONNECTION,
            system="pm",
            code=connection.state,
        )
    return None


def pm_credentials(*, refused: str | None = None) -> Credentials:
    """A usable access token and the REST endpoint it is for.

    `refused` is a token PM has just answered 401 to: a token other than that one is
    taken from the row if another process refreshed meanwhile, else this one refreshes.
    Raises ConnectorError(kind=CONNECTION) when the connection needs a person.
    """
    if refused is None:
        cached = _cache.fresh()
        if cached is not None:
            return cached
    connection = PmConnection.objects.filter(pk=1).first()
    paused = _paused(connection)
    if paused is not None:
        _cache.forget()
        raise paused
    credentials = _credentials_of(connection)
    if credentials is not None and credentials.access_token != refused:
        return _cache.keep(credentials)
    return _cache.keep(_refresh(refused=refused))


def _refresh(*, refused: str | None) -> Credentials:
    now = timezone.now()
    failure: ConnectorError | None = None
    with transaction.atomic():
        connection = PmConnection.objects.select_for_update().get(pk=1)
        paused = _paused(connection)
        if paused is not None:
            raise paused
        credentials = _credentials_of(connection)
        if credentials is not None and credentials.access_token != refused:
            return credentials  # another process refreshed while this one waited
        if connection.refresh_retry_at and connection.refresh_retry_at > now:
            raise ConnectorError(
                message=connection.message,
                kind=ErrorKind.CONNECTION,
                system="pm",
                code=State.REFRESH_FAILING,
            )
        if not connection.refresh_token:
            failure = _needs_reauthorisation(
                connection, "the hub holds no refresh token (or cannot decrypt it)"
            )
        else:
            try:
                grant = oauth().token_refreshed(refresh_token=connection.refresh_token)
            except ConnectorError as error:
                failure = _refresh_failed(connection, error, now=now)
            else:
                _store_grant(connection, grant, now=now)
                connection.save()
                return _credentials_of(connection)
    _cache.forget()
    raise failure


def _needs_reauthorisation(connection: PmConnection, why: str) -> ConnectorError:
    message = (
        f"Practice Management needs to be connected again: {why}. Syncs with it are paused "
        "and no link was changed; press Reconnect."
    )
    PmConnection.objects.filter(pk=connection.pk).update(
        access_token="", refresh_token="", **_state_fields(State.NEEDS_REAUTHORISATION, message)
    )
    return ConnectorError(
        message=message, kind=ErrorKind.CONNECTION, system="pm", code=State.NEEDS_REAUTHORISATION
    )


def _refresh_failed(connection: PmConnection, error: ConnectorError, *, now) -> ConnectorError:
    if error.kind in (ErrorKind.AUTH, ErrorKind.PERMANENT):
        return _needs_reauthorisation(connection, f"it refused the refresh token ({error.message})")
    failures = connection.refresh_failures + 1
    wait = min(REFRESH_BACKOFF_CAP, timedelta(seconds=5 * 2 ** min(failures, 10)))
    message = (
        f"Practice Management could not refresh the hub's access: {error.message} "
        f"Trying again at {now + wait:%H:%M:%S} UTC; syncs with it wait meanwhile."
    )
    PmConnection.objects.filter(pk=connection.pk).update(
        refresh_failures=failures,
        refresh_retry_at=now + wait,
        **_state_fields(State.REFRESH_FAILING, message),
    )
    return ConnectorError(
        message=message, kind=ErrorKind.CONNECTION, system="pm", code=State.REFRESH_FAILING
    )


def token_rejected() -> ConnectorError:
    """PM answered 401 to a token it had just issued: the grant is no longer valid."""
    failure = _needs_reauthorisation(pm_connection(), "it refused a freshly issued access token")
    _cache.forget()
    return failure


class HubTokenSource:
    """What the PM connector asks for its tokens (`sync.connectors.actionstep.client`)."""

    def credentials(self, *, refused: str | None = None) -> Credentials:
        return pm_credentials(refused=refused)

    def scope_missing(self, message: str) -> ConnectorError:
        return scope_missing(message)

    def token_rejected(self) -> ConnectorError:
        return token_rejected()


def connection_keep_alive() -> bool:
    """Refresh when half the refresh token's life has gone, so an idle hub never lets
    the grant lapse; True when it refreshed."""
    connection = PmConnection.objects.filter(pk=1).first()
    if connection is None or connection.state != State.CONNECTED:
        return False
    lapses = connection.refresh_expires_at
    half_life = timedelta(days=settings.PM_REFRESH_TOKEN_DAYS) / 2
    if lapses is None or lapses - timezone.now() > half_life:
        return False
    pm_credentials(refused=connection.access_token)
    return True


def pm_connected() -> bool:
    """Whether syncs with PM may run now (the connection is usable)."""
    if _cache.fresh() is not None:
        return True
    connection = PmConnection.objects.filter(pk=1).first()
    return _paused(connection) is None


def credentials_forget() -> None:
    """Drop this process's copy (tests, after settings change)."""
    _cache.forget()


def sandbox_connect(*, user_email: str | None = None) -> PmConnection:
    """Connect to the sandbox's PM through the same authorization-code flow a person
    follows: start, consent on the sandbox's page (as its first user, or `user_email`),
    and complete with the code it redirects back with. For `make run` and tests; a
    firm's real org is connected from the admin page."""
    from urllib.parse import parse_qs, urlsplit

    from sandbox.pm.consent import approve

    location = approve(connection_start(), user_email=user_email)
    answer = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    return connection_complete(
        code=answer.get("code", ""), state=answer.get("state", ""), error=answer.get("error", "")
    )
