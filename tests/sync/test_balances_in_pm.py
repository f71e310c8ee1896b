"""Matter balances written into the matter in PM (Actionstep data collections), over real
HTTP against the sandbox; and the scheduled pass: changed balances from LA, writes into PM
in bounded chunks."""

import ast
import datetime
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.security.models import ApiToken
from matters.models import Matter, MatterBalance
from matters.services import (
    CHANGE_WRITE_REQUESTS,
    FIRST_WRITE_REQUESTS,
    PM_WRITE_RETRY,
    REFRESH_INTERVAL,
    WRITE_CHUNK_TASK,
    _writes_queue,
    balance_write_plan,
    matter_balance_refresh,
    matter_balances_refresh_all,
)
from sandbox.la import models as la
from sandbox.pm import models as pm
from sync.connectors.actionstep import datacollections, oauth
from sync.connectors.base import JsonHttpClient
from sync.services import connection
from sync.services.balances_in_pm import COLLECTION_NAME, balance_string_values
from tests.factories import MatterBalanceFactory, MatterLinkFactory
from tests.sandbox.test_pm_support import _validate
from tests.sync.conftest import INTEGRATION_USER_EMAIL
from tests.sync.helpers import hub_entry_after_sync, send

MONEY = {
    "TrustBalance": "trust",
    "UnbilledFees": "wip_fees",
    "UnbilledDisbursements": "wip_disbursements",
    "Receivables": "accounts_receivable",
    "UnallocatedCredit": "unallocated_credit",
}
integration = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def datacollection_scopes(systems):
    """The hub connected as it asks to be: with the data collection scopes."""
    assert set(datacollections.SCOPES) <= set(oauth.SCOPES)
    return systems


@pytest.fixture
def pm_requests(monkeypatch):
    """Every request the hub sends PM: (method, resource path, JSON body)."""
    sent = []
    original = JsonHttpClient.send

    def recording(client, method, path, **kwargs):
        if client.system == "pm":
            resource = urlsplit(client.url(path)).path.split("/rest/", 1)[1]
            sent.append((method, resource, kwargs.get("json")))
        return original(client, method, path, **kwargs)

    monkeypatch.setattr(JsonHttpClient, "send", recording)
    return sent


def values_in_pm(action: pm.Action) -> dict[str, str]:
    record = pm.DataCollectionRecord.objects.get(
        action=action, data_collection__name=COLLECTION_NAME
    )
    return {value.field.name: value.string_value for value in record.values.select_related("field")}


@integration
def test_after_a_refresh_the_pm_matter_holds_the_figures_the_balance_api_answers(
    datacollection_scopes, firm, admin_user
):
    send(hub_entry_after_sync(firm, hours="2.00"))  # 600.00 of unbilled time in LA
    matter = Matter.objects.get(link__pm_id=str(firm["action"].pk))
    _, key = ApiToken.objects.create(user=admin_user)

    answer = requests.get(
        f"{datacollection_scopes.url}/api/v1/matters/{matter.pk}/balance/",
        params={"refresh": "true"},
        headers={"Authorization": f"Token {key}"},
        timeout=10,
    )

    assert answer.status_code == 200, answer.text
    figures = answer.json()
    in_pm = values_in_pm(firm["action"])
    assert Decimal(figures["wip_fees"]) == Decimal("600.00")
    for name, attribute in MONEY.items():
        assert Decimal(in_pm[name]) == Decimal(figures[attribute]), name
    assert in_pm["Currency"] == figures["currency"]
    assert parse_datetime(in_pm["AsOf"]) == parse_datetime(figures["as_of"]).replace(microsecond=0)
    collection = pm.DataCollection.objects.get(name=COLLECTION_NAME)
    assert collection.action_type_id == firm["action"].action_type_id
    assert collection.label == "Legal Accounting balances"
    assert not collection.multiple_records


@integration
def test_only_changed_figures_are_written_and_an_unchanged_matter_costs_pm_nothing(
    datacollection_scopes, firm, pm_requests
):
    entry = hub_entry_after_sync(firm, hours="1.00")
    send(entry)
    matter = entry.matter
    pm_requests.clear()
    matter_balance_refresh(matter=matter, write_to_pm="now")
    first = list(pm_requests)
    pm_requests.clear()

    matter_balance_refresh(matter=matter, write_to_pm="now")
    unchanged = list(pm_requests)
    send(hub_entry_after_sync(firm, hours="0.50"))
    pm_requests.clear()
    matter_balance_refresh(matter=matter, write_to_pm="now")
    after_more_time = list(pm_requests)

    # The first write reads the matter's action type, makes the collection, its seven
    # fields and the record, and writes every figure.
    made = [path for method, path, _ in first if method == "POST"]
    assert made == [
        "datacollections",
        *["datacollectionfields"] * 7,
        "datacollectionrecords",
    ]
    assert len([path for method, path, _ in first if method == "PUT"]) == 7
    assert unchanged == []
    assert [(method, path.rsplit("--", 2)[1]) for method, path, _ in after_more_time] == [
        ("PUT", "UnbilledFees"),
        ("PUT", "AsOf"),
    ]
    assert values_in_pm(firm["action"])["UnbilledFees"] == "450.00"
    assert pm.DataCollectionRecord.objects.count() == 1
    for method, path, body in first + after_more_time:
        if body is not None:
            assert_fits_supplement(method, path, body)


@integration
def test_a_pm_without_the_data_collection_scopes_keeps_syncing_and_the_matter_says_why(
    systems, firm, monkeypatch
):
    """The connection asked for no data collection scope: PM answers 403, the balance
    keeps the reason, and the connection stays connected (contacts and matters sync)."""
    monkeypatch.setattr(
        oauth, "SCOPES", tuple(s for s in oauth.SCOPES if "datacollection" not in s)
    )
    monkeypatch.setattr(connection, "SCOPES", oauth.SCOPES)
    connection.sandbox_connect(user_email=INTEGRATION_USER_EMAIL)
    entry = hub_entry_after_sync(firm)
    send(entry)

    balance = matter_balance_refresh(matter=entry.matter, write_to_pm="now")

    balance.refresh_from_db()
    assert balance.as_of is not None  # read from LA all the same
    assert "datacollections" in balance.pm_error
    assert connection.pm_connection().state == "connected"
    assert not pm.DataCollectionRecord.objects.exists()


def assert_fits_supplement(method: str, path: str, body: dict) -> None:
    schemas = {
        ("POST", "datacollections"): "CreateDataCollectionRequest",
        ("POST", "datacollectionfields"): "CreateDataCollectionFieldRequest",
        ("POST", "datacollectionrecords"): "CreateDataCollectionRecordRequest",
        ("PUT", "datacollectionrecordvalues"): "UpdateDataCollectionRecordValueRequest",
    }
    resource = path.split("/")[0]
    _validate(body, "users", schemas[(method, resource)])  # "users": the supplement's file


# The scheduled pass: changed balances from LA, writes into PM in bounded chunks --------


def written_balances(count: int, **fields) -> list[MatterBalance]:
    """Linked matters whose figures were read and written into PM as they stand."""
    balances = []
    for _ in range(count):
        balance = MatterBalanceFactory(
            matter=MatterLinkFactory().matter, as_of=timezone.now(), pm_record_id="r"
        )
        balance.pm_written = balance_string_values(balance)
        for name, value in fields.items():
            setattr(balance, name, value)
        balance.save()
        balances.append(balance)
    return balances


@pytest.mark.django_db
def test_the_write_plan_takes_what_changed_longest_unwritten_first_in_spaced_chunks(settings):
    settings.PM_REQUESTS_PER_MINUTE, settings.BALANCE_REFRESH_BUDGET_SHARE = 120, 0.25
    now = timezone.now()
    unchanged = written_balances(3)
    never = written_balances(10, pm_record_id="", pm_written={})
    moved = written_balances(60, trust=Decimal("1.00"))
    for minutes, balance in enumerate(reversed(moved)):  # the first, written longest ago
        balance.pm_written_at = now - datetime.timedelta(minutes=minutes + 1)
        balance.save()
    failed_now = written_balances(2, trust=Decimal("2.00"), pm_error="403", pm_error_at=now)
    failed_before = written_balances(
        1, trust=Decimal("3.00"), pm_error="403", pm_error_at=now - PM_WRITE_RETRY * 2
    )
    written_balances(1, as_of=None, pm_record_id="")  # never read from LA: nothing to write

    plan = balance_write_plan(now=now)

    ordered = [pk for chunk in plan for pk in chunk.matter_ids]
    assert set(ordered[:11]) == {b.matter_id for b in never + failed_before}
    assert ordered[11:] == [b.matter_id for b in moved]
    assert not {b.matter_id for b in unchanged + failed_now} & set(ordered)
    assert [len(chunk.matter_ids) for chunk in plan] == [25, 25, 21]
    # PM's share is 30 requests a minute, one every two seconds. The first chunk holds the
    # ten first writes (10 requests each) and 15 changes (2 each): 130 requests, 260 s.
    assert [(chunk.run_at - now).total_seconds() for chunk in plan] == [0, 260, 360]


@pytest.mark.django_db
@pytest.mark.parametrize("pm_rate", [12, 120, 6000])
def test_the_write_plan_never_asks_more_than_pms_share_in_one_interval(settings, pm_rate):
    settings.PM_REQUESTS_PER_MINUTE, settings.BALANCE_REFRESH_BUDGET_SHARE = pm_rate, 0.25
    written_balances(100, pm_record_id="", pm_written={})  # first writes
    written_balances(100, trust=Decimal("1.00"))  # a changed figure each
    share = 0.25 * pm_rate * REFRESH_INTERVAL.total_seconds() / 60

    plan = balance_write_plan()

    planned = [pk for chunk in plan for pk in chunk.matter_ids]
    first = set(MatterBalance.objects.filter(pm_record_id="").values_list("matter_id", flat=True))
    requests = sum(FIRST_WRITE_REQUESTS if pk in first else CHANGE_WRITE_REQUESTS for pk in planned)
    assert requests <= share
    assert len(planned) == 200 or share - requests < FIRST_WRITE_REQUESTS  # it is full
    per_request = 60 / (0.25 * pm_rate)
    last = plan[-1]
    last_requests = sum(
        FIRST_WRITE_REQUESTS if pk in first else CHANGE_WRITE_REQUESTS for pk in last.matter_ids
    )
    finish = (last.run_at - plan[0].run_at).total_seconds() + last_requests * per_request
    assert finish <= REFRESH_INTERVAL.total_seconds()


@pytest.mark.django_db
def test_the_first_write_chunk_is_queued_now_and_the_others_scheduled(settings, monkeypatch):
    from django_q.models import Schedule

    settings.PM_REQUESTS_PER_MINUTE, settings.BALANCE_REFRESH_BUDGET_SHARE = 120, 0.25
    written_balances(60, trust=Decimal("1.00"))
    queued = []
    monkeypatch.setattr(
        "matters.services.async_task", lambda func, ids, **options: queued.append((func, ids))
    )
    now = timezone.now()

    count = _writes_queue(balance_write_plan(now=now), now=now)

    assert count == 60
    assert [(func, len(ids)) for func, ids in queued] == [(WRITE_CHUNK_TASK, 25)]
    later = Schedule.objects.filter(func=WRITE_CHUNK_TASK)
    assert sorted(len(ast.literal_eval(s.args)) for s in later) == [10, 25]
    assert all(s.schedule_type == Schedule.ONCE and s.repeats == -1 for s in later)


def la_requests(calls) -> list[tuple[str, str]]:
    return [(method, path.split("/api/v1/")[1]) for system, method, path in calls if system == "la"]


@integration
def test_a_quiet_pass_costs_la_one_request_and_pm_nothing(datacollection_scopes, firm, calls):
    entry = hub_entry_after_sync(firm)
    send(entry)
    MatterBalance.objects.filter(matter=entry.matter).delete()
    # Some minutes pass after the last change in LA (further back than the clocks' margin).
    la.File.objects.update(balance_changed_at=timezone.now() - datetime.timedelta(minutes=5))
    calls.clear()

    first = matter_balances_refresh_all()
    first_calls = la_requests(calls)
    from matters.tasks import matter_balances_write_chunk_task

    assert matter_balances_write_chunk_task([entry.matter_id]) == 1
    read = MatterBalance.objects.get(matter=entry.matter)
    calls.clear()
    second = matter_balances_refresh_all()

    assert (first.read, first.changed, first.writes_queued) == (1, 0, 1)
    assert first_calls == [("GET", "balances")]  # the never-read matter, by file__in
    assert read.wip_fees == Decimal("450.00")
    assert values_in_pm(firm["action"])["UnbilledFees"] == "450.00"
    assert (second.read, second.changed, second.confirmed, second.writes_queued) == (0, 0, 1, 0)
    assert calls == [("la", "GET", "/sandbox/la/api/v1/balances")]  # changed_since
    assert MatterBalance.objects.get(matter=entry.matter).as_of > read.as_of


@integration
def test_a_pass_finds_the_balance_that_moved_and_writes_it_into_pm(
    datacollection_scopes, firm, calls
):
    from matters.tasks import matter_balances_write_chunk_task

    entry = hub_entry_after_sync(firm)
    send(entry)
    matter_balances_refresh_all()
    matter_balances_write_chunk_task([entry.matter_id])
    send(hub_entry_after_sync(firm, hours="0.50"))  # LA's unbilled time moves
    calls.clear()

    report = matter_balances_refresh_all()

    assert (report.changed, report.confirmed, report.writes_queued) == (1, 0, 1)
    assert la_requests(calls) == [("GET", "balances")]
    assert matter_balances_write_chunk_task([entry.matter_id]) == 1
    assert values_in_pm(firm["action"])["UnbilledFees"] == "600.00"


@integration
def test_a_pass_that_cannot_reach_la_confirms_nothing(datacollection_scopes, firm, faults):
    entry = hub_entry_after_sync(firm)
    send(entry)
    matter_balances_refresh_all()
    before = MatterBalance.objects.get(matter=entry.matter)
    faults("la", error_rate=1.0)

    report = matter_balances_refresh_all()

    faults("la", error_rate=0)
    after = MatterBalance.objects.get(matter=entry.matter)
    assert report.errors and report.confirmed == 0
    assert after.as_of == before.as_of
