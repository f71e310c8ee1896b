"""The hub's connection to PM: the authorization-code grant, refresh under a lock,
trouble that pauses the sync without touching links, and reconnecting with nothing lost.
Against the sandbox's PM over real HTTP."""

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sandbox.pm.consent import approve
from sync.connectors import pm_client
from sync.connectors.base import ConnectorError, ErrorKind
from sync.models import Link, LinkStatus, PmConnection, RecordType
from sync.services import link_sync
from sync.services.changes import poll_all
from sync.services.connection import (
    AuthorizationFailed,
    connection_complete,
    connection_keep_alive,
    connection_problem,
    connection_start,
    credentials_forget,
    pm_connected,
    pm_credentials,
    sandbox_connect,
)
from tests.sync.conftest import INTEGRATION_USER_EMAIL
from tests.sync.helpers import sync_everything

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

State = PmConnection.State


def connection() -> PmConnection:
    return PmConnection.objects.get(pk=1)


def expire_access_token() -> None:
    PmConnection.objects.filter(pk=1).update(access_expires_at=timezone.now() - timedelta(1))
    credentials_forget()


def test_connecting_stores_the_grant_and_the_orgs_api_endpoint(systems):
    stored = connection()

    assert stored.state == State.CONNECTED
    assert stored.api_endpoint == f"{systems.url}/sandbox/pm/api/"
    assert stored.orgkey
    assert stored.access_token and stored.refresh_token
    assert stored.refresh_expires_at > timezone.now() + timedelta(days=20)
    assert pm_client().get("users", "current") is not None


def test_the_callback_refuses_an_answer_to_an_authorization_it_did_not_start(systems):
    connection_start()

    with pytest.raises(AuthorizationFailed, match="does not match"):
        connection_complete(code="made-up", state="not-the-state-we-sent")


def test_a_person_who_denies_access_changes_nothing(pm_not_connected):
    pm_services.user_create(first_name="In", last_name="Tegration", email=INTEGRATION_USER_EMAIL)
    location = approve(connection_start(), decision="deny")
    answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    with pytest.raises(AuthorizationFailed, match="access_denied"):
        connection_complete(code="", state=answer["state"], error=answer["error"])

    assert connection().state == State.NOT_CONNECTED
    assert not connection().access_token


def test_an_expired_access_token_is_refreshed_and_the_new_refresh_token_kept(systems):
    before = connection()
    expire_access_token()

    assert pm_client().get("users", "current") is not None

    after = connection()
    assert after.token_version == before.token_version + 1
    assert after.refresh_token != before.refresh_token
    assert after.access_token != before.access_token


def test_a_token_another_process_already_replaced_is_not_refreshed_again(systems):
    first = pm_credentials()
    replaced = pm_credentials(refused=first.access_token)  # "another process" refreshed
    version = connection().token_version

    # This process still held the first token and met a 401 with it.
    again = pm_credentials(refused=first.access_token)

    assert again.access_token == replaced.access_token
    assert connection().token_version == version


def test_revoking_the_grant_pauses_the_sync_and_leaves_every_link_as_it_was(systems):
    participant = pm_services.participant_create(
        first_name="Kept", last_name="Asis", display_name="Asis, Kept"
    )
    sync_everything()
    link = Link.objects.get(record_type=RecordType.CONTACT, pm_id=str(participant.pk))
    assert link.status == LinkStatus.SYNCED
    la_contact = la_services.contact_update(
        contact=la.Contact.objects.get(pk=int(link.la_id)), data={"email": "changed@example.test"}
    )

    for grant in pm.Grant.objects.filter(revoked_at__isnull=True):
        pm_services.grant_revoke(grant)
    expire_access_token()
    sync_everything()  # LA's change is taken in; the PM write cannot happen

    stored = connection()
    assert stored.state == State.NEEDS_REAUTHORISATION
    assert "Reconnect" in stored.message
    assert connection_problem() == stored.message
    link.refresh_from_db()
    assert link.status == LinkStatus.PENDING  # waiting, not red
    assert not Link.objects.filter(status=LinkStatus.ERROR).exists()
    assert not pm_connected()

    sandbox_connect(user_email=INTEGRATION_USER_EMAIL)  # queues what waited (tasks run inline)

    link.refresh_from_db()
    participant.refresh_from_db()
    assert connection().state == State.CONNECTED
    assert link.status == LinkStatus.SYNCED
    assert participant.email == la_contact.email == "changed@example.test"


def test_a_missing_scope_is_the_connections_trouble_not_the_records(systems, firm):
    from tests.sync.helpers import hub_entry, record_time

    for grant in pm.Grant.objects.all():
        grant.scopes = " ".join(s for s in grant.scopes.split() if s != "timeentries")
        grant.save()
    pm.AccessToken.objects.update(scopes=pm.Grant.objects.first().scopes)
    entry = record_time(firm)

    with pytest.raises(ConnectorError) as caught:
        pm_client().get("timeentries", str(entry.pk))

    assert caught.value.kind == ErrorKind.CONNECTION
    stored = connection()
    assert stored.state == State.MISSING_SCOPE
    assert "scope" in stored.message
    assert not pm_connected()
    with pytest.raises(Exception):  # noqa: B017 - nothing was taken in
        hub_entry(entry)


def test_while_pm_is_not_connected_la_is_still_read_and_its_changes_wait(pm_not_connected):
    la_services.contact_create(data={"first_name": "Waits", "last_name": "ForPm"})

    counts = poll_all()

    assert set(counts) == {"la contacts", "la time entries"}
    link = Link.objects.get(record_type=RecordType.CONTACT)
    assert link.status == LinkStatus.PENDING
    assert link_sync(link_id=link.pk) is False
    link.refresh_from_db()
    assert link.status == LinkStatus.PENDING
    assert "not connected" in connection_problem()


def test_the_grant_is_refreshed_once_half_its_life_is_gone(systems, settings):
    before = connection()
    assert connection_keep_alive() is False

    PmConnection.objects.filter(pk=1).update(
        refresh_expires_at=timezone.now() + timedelta(days=settings.PM_REFRESH_TOKEN_DAYS / 2 - 1)
    )

    assert connection_keep_alive() is True
    after = connection()
    assert after.refresh_token != before.refresh_token
    assert after.refresh_expires_at > timezone.now() + timedelta(days=20)


def test_a_grant_close_to_lapsing_is_warned_about(systems):
    PmConnection.objects.filter(pk=1).update(refresh_expires_at=timezone.now() + timedelta(days=1))

    assert "lapses" in connection_problem()


def test_a_refused_refresh_names_the_fix_and_is_not_retried(systems):
    PmConnection.objects.filter(pk=1).update(refresh_token="spent-or-made-up")
    expire_access_token()

    with pytest.raises(ConnectorError) as caught:
        pm_client().get("users", "current")

    assert caught.value.kind == ErrorKind.CONNECTION
    assert connection().state == State.NEEDS_REAUTHORISATION
    assert not connection().refresh_token


REFRESHER = """
from sync.connectors import pm_client
from sync.services.connection import pm_credentials

result = {"error": None, "calls_ok": 0}
try:
    for _ in range(5):
        held = pm_credentials()
        pm_credentials(refused=held.access_token)  # as after a 401: refresh, unless done
        if pm_client().get("users", "current") is not None:
            result["calls_ok"] += 1
except Exception as error:
    result["error"] = f"{type(error).__name__}: {error}"
print(json.dumps(result))
"""


@pytest.mark.skipif(
    "db_connection.vendor != 'postgresql'",
    reason="processes share the test database only on PostgreSQL (SQLite's lives in memory)",
)
def test_processes_refreshing_at_once_end_with_one_valid_refresh_token(systems):
    from tests.sync.processes import run_in_processes

    results = run_in_processes(
        REFRESHER, base_url=systems.url, database=db_connection.settings_dict, processes=4
    )

    assert [result["error"] for result in results] == [None] * 4
    assert all(result["calls_ok"] == 5 for result in results)
    stored = connection()
    assert stored.state == State.CONNECTED
    # Every refresh spent the token it used: one is left, and it is the hub's.
    live = pm.RefreshToken.objects.all()
    assert live.count() == 1
    assert live.get().digest == hashlib.sha256(stored.refresh_token.encode()).hexdigest()
    expire_access_token()
    assert pm_client().get("users", "current") is not None  # the stored one still works
