"""The sync health page, "Resync all errors", and links to a record in the other systems."""

import datetime
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Task

from sync import health
from sync.models import Link, LinkStatus, PollCursor, RecordType, SyncEvent, WebhookReceipt
from sync.services.changes import links_sweep
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    MatterFactory,
    MatterLinkFactory,
    SyncEventFactory,
    TimeEntryFactory,
    TimeEntryLinkFactory,
)

pytestmark = pytest.mark.django_db

HEALTH = "admin:sync_health"
RESYNC_ERRORS = "admin:sync_health_resync_errors"
LINK_FACTORIES = [ContactLinkFactory, MatterLinkFactory, TimeEntryLinkFactory]


def staff_with(django_user_model, *codenames, username="staff"):
    user = django_user_model.objects.create_user(username=username, password="pw", is_staff=True)
    for codename in codenames:
        app_label, name = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=name)
        )
    return user


def counts_of(record_type: str) -> dict[str, int]:
    row = next(c for c in health.link_counts() if c.record_type == record_type)
    return {state.status.value: state.count for state in row.states}


def health_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(HEALTH))
    assert response.status_code == 200
    return len(queries)


def links_of_every_kind(count: int) -> None:
    """`count` links spread over the three record types and all five states."""
    statuses = list(LinkStatus)
    for n in range(count):
        LINK_FACTORIES[n % 3](status=statuses[n % 5], message=f"Reason {n}", error_code="x")


# Access -------------------------------------------------------------------------------


def test_the_page_answers_for_staff_and_is_linked_from_the_index_and_the_link_list(
    admin_client,
):
    response = admin_client.get(reverse(HEALTH))
    assert response.status_code == 200
    assert "Sync health" in response.content.decode()
    health_url = reverse(HEALTH)
    assert health_url in admin_client.get(reverse("admin:index")).content.decode()
    assert health_url in admin_client.get(reverse("admin:sync_link_changelist")).content.decode()


def test_an_anonymous_visitor_and_a_non_staff_user_are_sent_to_the_login(client, django_user_model):
    response = client.get(reverse(HEALTH))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]

    client.force_login(django_user_model.objects.create_user(username="plain", password="pw"))
    response = client.get(reverse(HEALTH))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_staff_who_may_not_view_links_are_refused(client, django_user_model):
    client.force_login(staff_with(django_user_model, "contacts.view_contact"))
    assert client.get(reverse(HEALTH)).status_code == 403


def test_staff_who_may_view_links_see_the_page_without_the_resync_buttons(
    client, django_user_model
):
    ContactLinkFactory(status=LinkStatus.ERROR)
    client.force_login(staff_with(django_user_model, "sync.view_link"))
    page = client.get(reverse(HEALTH)).content.decode()
    assert "Latest errors" in page
    assert "Resync all" not in page
    assert reverse(RESYNC_ERRORS) not in page


# Counts -------------------------------------------------------------------------------


def test_it_counts_each_state_per_record_type_with_unlinked_records_as_unsynced():
    for status in [LinkStatus.SYNCED, LinkStatus.SYNCED, LinkStatus.ERROR]:
        ContactLinkFactory(status=status)
    ContactLinkFactory(status=LinkStatus.UNSYNCED)
    ContactFactory.create_batch(4)  # no link row yet
    MatterLinkFactory(status=LinkStatus.PENDING)  # its client contact has no link
    TimeEntryLinkFactory(status=LinkStatus.UNKNOWN)  # its matter and client have none

    assert counts_of(RecordType.CONTACT) == {
        "synced": 2,
        "unsynced": 1 + 4 + 1 + 1,
        "pending": 0,
        "unknown": 0,
        "error": 1,
    }
    assert counts_of(RecordType.MATTER) == {
        "synced": 0,
        "unsynced": 1,
        "pending": 1,
        "unknown": 0,
        "error": 0,
    }
    assert counts_of(RecordType.TIME_ENTRY) == {
        "synced": 0,
        "unsynced": 0,
        "pending": 0,
        "unknown": 1,
        "error": 0,
    }


def test_the_bars_use_the_badge_colours_and_link_to_the_filtered_record_list(admin_client):
    ContactLinkFactory(status=LinkStatus.SYNCED)
    ContactLinkFactory(status=LinkStatus.ERROR)
    ContactFactory()

    page = admin_client.get(reverse(HEALTH)).content.decode()

    contacts = reverse("admin:contacts_contact_changelist")
    for status, colour in [("synced", "#2e7d32"), ("unsynced", "#9e9e9e"), ("error", "#c62828")]:
        assert (
            f'<a href="{contacts}?link_status={status}" class="health-segment '
            f'health-segment--{status}" title="{status.capitalize()}: 1" '
            f'style="width: 33.33%; background: {colour}">' in page
        )
    assert "health-segment--pending" not in page  # nothing pending: no segment


def test_the_latest_errors_show_message_code_system_time_and_the_record_link(admin_client):
    link = ContactLinkFactory(
        status=LinkStatus.ERROR,
        message="Contact number 1001 is already assigned to Ann Holder.",
        error_code="already_assigned",
        error_system="la",
    )
    ContactLinkFactory(status=LinkStatus.SYNCED, message="Fine")

    page = admin_client.get(reverse(HEALTH)).content.decode()

    assert "Contact number 1001 is already assigned to Ann Holder." in page
    assert "<code>already_assigned</code>" in page
    assert "Legal Accounting" in page
    assert f"{timezone.localtime(link.status_changed_at):%Y-%m-%d %H:%M:%S}" in page
    assert reverse("admin:contacts_contact_change", args=[link.contact.pk]) in page
    assert reverse("admin:sync_link_change", args=[link.pk]) in page
    assert "Fine" not in page


def test_only_the_newest_errors_are_listed():
    old = timezone.now() - datetime.timedelta(days=1)
    for n in range(health.LATEST_ERRORS + 5):
        ContactLinkFactory(status=LinkStatus.ERROR, message=f"Error {n}")
    Link.objects.filter(message="Error 0").update(status_changed_at=old)

    errors = health.latest_errors()

    assert len(errors) == health.LATEST_ERRORS
    assert "Error 0" not in {link.message for link in errors}


def test_it_shows_the_queue_depth_last_task_and_when_each_system_was_heard_from(admin_client):
    get_broker().enqueue("a queued task")
    get_broker().enqueue("another")
    finished = timezone.now() - datetime.timedelta(minutes=3)
    Task.objects.create(
        id=uuid.uuid4().hex,
        name="link-1",
        func="sync.tasks.link_sync_task",
        started=finished,
        stopped=finished,
        success=True,
    )
    polled = timezone.now() - datetime.timedelta(minutes=1)
    PollCursor.objects.create(system="pm", resource="participants", last_success_at=polled)
    PollCursor.objects.create(system="pm", resource="actions", last_success_at=finished)
    WebhookReceipt.objects.create(system="la", event="contact.updated")

    response = admin_client.get(reverse(HEALTH))

    page = response.content.decode()
    assert response.context["queue"].size == 2
    assert "<tr><th>Queued tasks</th><td>2</td></tr>" in page
    assert f"{timezone.localtime(finished):%Y-%m-%d %H:%M:%S}" in page
    activity = {a.system.value: a for a in response.context["systems"]}
    assert activity["pm"].last_poll_at == polled
    assert activity["pm"].last_webhook_at is None
    assert activity["la"].last_poll_at is None
    assert activity["la"].last_webhook_at is not None


def test_an_unreachable_broker_is_shown_not_raised(admin_client, monkeypatch):
    class DownBroker:
        def queue_size(self):
            raise ConnectionError("Connection refused")

        def get_stats(self, pattern):
            raise ConnectionError("Connection refused")

    monkeypatch.setattr(health, "get_broker", DownBroker)

    response = admin_client.get(reverse(HEALTH))

    assert response.status_code == 200
    assert "Broker unreachable: ConnectionError: Connection refused" in response.content.decode()


def test_the_page_costs_the_same_queries_at_3_and_30_links_and_with_many_unlinked(
    admin_client,
):
    links_of_every_kind(3)
    at_three = health_queries(admin_client)

    links_of_every_kind(27)
    ContactFactory.create_batch(40)
    MatterFactory.create_batch(5)
    TimeEntryFactory.create_batch(5)

    assert health_queries(admin_client) == at_three
    # 15: the page shows the sync switch too, one row read once.
    assert at_three <= 15, "the page should read aggregates only"


# Resync all errors --------------------------------------------------------------------


def test_resync_all_errors_turns_that_type_s_errors_pending_for_the_sweep(
    admin_client, monkeypatch, pm_connection_up
):
    errors = [ContactLinkFactory(status=LinkStatus.ERROR, attempts=5) for _ in range(3)]
    synced = ContactLinkFactory(status=LinkStatus.SYNCED)
    matter_error = MatterLinkFactory(status=LinkStatus.ERROR, attempts=2)

    response = admin_client.post(reverse(RESYNC_ERRORS), {"record_type": "contact"}, follow=True)

    assert response.redirect_chain == [(reverse(HEALTH), 302)]
    assert "Resync requested for 3 contact links in error" in response.content.decode()
    for link in errors:
        link.refresh_from_db()
        assert (link.status, link.attempts, link.message, link.error_code) == (
            LinkStatus.PENDING,
            0,
            "Resync requested for all errors.",
            "",
        )
        assert link.next_retry_at <= timezone.now()
    synced.refresh_from_db()
    matter_error.refresh_from_db()
    assert synced.status == LinkStatus.SYNCED
    assert (matter_error.status, matter_error.attempts) == (LinkStatus.ERROR, 2)

    from sync.services import runner

    queued = []
    monkeypatch.setattr(runner, "async_task", lambda *args, **kwargs: queued.append(args))
    assert links_sweep() == 3
    assert links_sweep() == 3  # still due: the runner queued once works through them
    assert queued == [("sync.tasks.links_run_task", 0)]


def test_resync_all_errors_is_one_update_whatever_the_number_of_errors(
    django_assert_num_queries,
):
    for _ in range(40):
        ContactLinkFactory(status=LinkStatus.ERROR)

    with django_assert_num_queries(1) as captured:
        count = health.links_resync_errors(record_type=RecordType.CONTACT)

    assert count == 40
    assert captured.captured_queries[0]["sql"].lstrip().upper().startswith("UPDATE")
    assert not Link.objects.filter(status=LinkStatus.ERROR).exists()


def test_resyncing_time_entries_in_error_sends_them_again_as_one_batch(
    django_capture_on_commit_callbacks,
):
    from timekeeping.models import BillingBatch, TimeEntry

    failed = [TimeEntryLinkFactory(status=LinkStatus.ERROR) for _ in range(3)]
    TimeEntry.objects.update(billing_status=TimeEntry.BillingStatus.ERROR)
    flagged = TimeEntryLinkFactory(status=LinkStatus.ERROR)  # changed after it was sent
    TimeEntry.objects.filter(pk=flagged.time_entry_id).update(
        billing_status=TimeEntry.BillingStatus.SENT, changed_after_sending=True
    )

    with django_capture_on_commit_callbacks() as queued:
        count = health.links_resync_errors(record_type=RecordType.TIME_ENTRY)

    assert count == 3 and len(queued) == 1
    batch = BillingBatch.objects.get()
    claimed = set(batch.entries.values_list("pk", flat=True))
    assert claimed == {link.time_entry_id for link in failed}
    assert set(
        Link.objects.filter(pk__in=[link.pk for link in failed]).values_list("status", flat=True)
    ) == {LinkStatus.PENDING}
    flagged.refresh_from_db()
    assert flagged.status == LinkStatus.ERROR


def test_resync_all_errors_costs_the_same_queries_at_3_and_30_errors(admin_client):
    def post_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.post(reverse(RESYNC_ERRORS), {"record_type": "matter"})
        assert response.status_code == 302
        return len(queries)

    for _ in range(3):
        MatterLinkFactory(status=LinkStatus.ERROR)
    at_three = post_queries()
    for _ in range(30):
        MatterLinkFactory(status=LinkStatus.ERROR)
    assert post_queries() == at_three


def test_resync_all_errors_with_none_in_error_says_so(admin_client):
    response = admin_client.post(reverse(RESYNC_ERRORS), {"record_type": "matter"}, follow=True)
    assert "No matter links are in error." in response.content.decode()


def test_resync_all_errors_refuses_without_the_permission(client, django_user_model):
    link = ContactLinkFactory(status=LinkStatus.ERROR, attempts=3)
    client.force_login(staff_with(django_user_model, "sync.view_link", "sync.change_link"))

    assert client.post(reverse(RESYNC_ERRORS), {"record_type": "contact"}).status_code == 403

    link.refresh_from_db()
    assert (link.status, link.attempts) == (LinkStatus.ERROR, 3)


def test_resync_all_errors_takes_only_a_post_with_a_known_record_type(admin_client):
    ContactLinkFactory(status=LinkStatus.ERROR)
    assert admin_client.get(reverse(RESYNC_ERRORS)).status_code == 405
    assert admin_client.post(reverse(RESYNC_ERRORS), {"record_type": "x"}).status_code == 400
    assert Link.objects.get().status == LinkStatus.ERROR


def test_resync_all_errors_needs_the_csrf_token(django_user_model):
    link = ContactLinkFactory(status=LinkStatus.ERROR)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(
        django_user_model.objects.create_superuser(username="root", password="pw", email="r@x.t")
    )

    assert strict.post(reverse(RESYNC_ERRORS), {"record_type": "contact"}).status_code == 403
    link.refresh_from_db()
    assert link.status == LinkStatus.ERROR


def test_the_button_shows_with_the_permission_and_only_where_there_are_errors(
    client, django_user_model
):
    ContactLinkFactory(status=LinkStatus.ERROR)
    ContactLinkFactory(status=LinkStatus.ERROR)
    MatterLinkFactory(status=LinkStatus.SYNCED)
    client.force_login(staff_with(django_user_model, "sync.view_link", "sync.resync_link"))

    page = client.get(reverse(HEALTH)).content.decode()

    assert "Resync all errors (2)" in page
    assert '<input type="hidden" name="record_type" value="contact">' in page
    assert '<input type="hidden" name="record_type" value="matter">' not in page


# Links to the record in the other systems -------------------------------------------------


def test_the_record_page_links_to_the_same_record_in_pm_and_la(admin_client, settings):
    settings.PM_RECORD_URLS = {"matter": "https://pm.example.test/actions/{id}"}
    settings.LA_RECORD_URLS = {"matter": "https://la.example.test/files/{id}/view"}
    link = MatterLinkFactory(pm_id="113", la_id="77")

    page = admin_client.get(reverse("admin:matters_matter_change", args=[link.matter.pk]))

    content = page.content.decode()
    assert 'href="https://pm.example.test/actions/113"' in content
    assert 'href="https://la.example.test/files/77/view"' in content
    assert "open in PM" in content and "open in LA" in content


def test_without_a_url_or_a_foreign_id_only_the_id_is_shown(admin_client, settings):
    settings.PM_RECORD_URLS = {}
    settings.LA_RECORD_URLS = {"time_entry": "https://la.example.test/time/{id}"}
    link = TimeEntryLinkFactory(pm_id="55", la_id=None)

    content = admin_client.get(
        reverse("admin:timekeeping_timeentry_change", args=[link.time_entry.pk])
    ).content.decode()

    assert "<dt>PM id</dt><dd>55</dd>" in content
    assert "<dt>LA id</dt><dd>—</dd>" in content
    assert "la.example.test" not in content


def test_the_default_record_urls_are_the_sandbox_admin_pages(settings):
    base = settings.HUB_BASE_URL
    expected = {
        "PM_RECORD_URLS": {
            "contact": reverse("sandbox_admin:sandbox_pm_participant_change", args=[7]),
            "matter": reverse("sandbox_admin:sandbox_pm_action_change", args=[7]),
            "time_entry": reverse("sandbox_admin:sandbox_pm_timeentry_change", args=[7]),
        },
        "LA_RECORD_URLS": {
            "contact": reverse("sandbox_admin:sandbox_la_contact_change", args=[7]),
            "matter": reverse("sandbox_admin:sandbox_la_file_change", args=[7]),
            "time_entry": reverse("sandbox_admin:sandbox_la_timeentry_change", args=[7]),
        },
    }
    for name, paths in expected.items():
        urls = getattr(settings, name)
        assert {kind: url.replace("{id}", "7") for kind, url in urls.items()} == {
            kind: f"{base}{path}" for kind, path in paths.items()
        }


def test_the_other_system_links_are_escaped(admin_client, settings):
    settings.PM_RECORD_URLS = {"contact": 'https://pm.example.test/"><script>x()</script>/{id}'}
    settings.LA_RECORD_URLS = {"contact": "https://la.example.test/c/{id}"}
    link = ContactLinkFactory(pm_id="9", la_id='1"><script>alert(1)</script>')

    content = admin_client.get(
        reverse("admin:contacts_contact_change", args=[link.contact.pk])
    ).content.decode()

    assert "<script>x()" not in content and "<script>alert(1)" not in content
    assert 'href="https://pm.example.test/&quot;&gt;&lt;script&gt;x()&lt;/script&gt;/9"' in content
    assert 'href="https://la.example.test/c/1%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"' in (
        content
    )
    assert "1&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in content


# Safety -------------------------------------------------------------------------------


def test_names_and_messages_with_markup_are_escaped_on_the_health_and_record_pages(
    admin_client,
):
    contact = ContactFactory(first_name="<script>alert('name')</script>", last_name="Evil")
    link = ContactLinkFactory(
        contact=contact,
        status=LinkStatus.ERROR,
        message="<script>alert('message')</script> clashes",
        error_code="<b>code</b>",
    )

    pages = [
        admin_client.get(reverse(HEALTH)).content.decode(),
        admin_client.get(
            reverse("admin:contacts_contact_change", args=[contact.pk])
        ).content.decode(),
        admin_client.get(reverse("admin:sync_link_changelist")).content.decode(),
    ]

    for page in pages:
        assert "<script>alert(" not in page
        assert "&lt;script&gt;alert(&#x27;message&#x27;)&lt;/script&gt; clashes" in page
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in pages[0]
    assert "&lt;b&gt;code&lt;/b&gt;" in pages[0]
    assert reverse("admin:contacts_contact_change", args=[link.contact.pk]) in pages[0]


# The page people check every morning ------------------------------------------------------


@pytest.fixture(autouse=True)
def no_cluster_reported(settings):
    """The clusters' status cache (a folder of this test process's own) starts empty
    (with Redis the stats live there, under keys that expire in three seconds)."""
    from django.core.cache import caches

    name = settings.Q_CLUSTER.get("cache")
    if name in settings.CACHES:
        caches[name].clear()
    yield
    if name in settings.CACHES:
        caches[name].clear()


@pytest.fixture(autouse=True)
def la_answers(monkeypatch):
    """LA's cheap check (ops/health.py), answered here rather than over the network."""
    from ops import health as ops_health

    answer = {"ok": True, "detail": "answered"}
    monkeypatch.setattr(
        ops_health, "la_check", lambda: ops_health.CheckResult("la", answer["ok"], answer["detail"])
    )
    return answer


def event_at(link, when, outcome="success"):
    event = SyncEventFactory(link=link, outcome=outcome)
    SyncEvent.objects.filter(pk=event.pk).update(occurred_at=when)
    return event


def test_the_trends_count_syncs_and_failures_per_record_type_by_hour_and_day():
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    contact = ContactLinkFactory()
    matter = MatterLinkFactory()
    event_at(contact, now - datetime.timedelta(minutes=5))
    event_at(contact, now - datetime.timedelta(minutes=10), "skipped")
    event_at(contact, now - datetime.timedelta(minutes=20), "error")
    event_at(contact, now - datetime.timedelta(hours=3), "retry")
    event_at(matter, now - datetime.timedelta(days=3))
    event_at(matter, now - datetime.timedelta(days=9))  # outside both windows

    trends = {trend.record_type: trend for trend in health.sync_trends(now=now)}

    contacts = trends[RecordType.CONTACT]
    assert len(contacts.hours) == 24 and len(contacts.days) == 7
    assert (contacts.hours[-1].synced, contacts.hours[-1].failed) == (2, 1)
    assert (contacts.hours[-4].synced, contacts.hours[-4].failed) == (0, 1)
    assert contacts.totals == (2, 2)
    matters = trends[RecordType.MATTER]
    assert sum(day.synced for day in matters.days) == 1
    assert matters.totals == (0, 0)
    assert trends[RecordType.TIME_ENTRY].totals == (0, 0)


def test_the_page_draws_the_trends_as_inline_svg_and_refreshes_itself(admin_client):
    link = ContactLinkFactory()
    event_at(link, timezone.now(), "error")

    page = admin_client.get(reverse(HEALTH)).content.decode()

    assert '<meta http-equiv="refresh" content="60">' in page
    row = page[page.index('id="health-trend-contact"') :][:6000]
    content = page[page.index('id="content-main"') :]
    assert row.count("<svg") == 2 and "<script" not in content
    assert 'aria-label="Contact, last 24 hours by hour: 0 synced, 1 failed"' in row
    assert ": 0 synced, 1 failed</title>" in row
    assert "cdn" not in page.lower()


def test_the_page_shows_a_running_cluster_from_django_q_s_own_status(admin_client):
    """A cluster saves its `Stat` every half second where the broker keeps stats: with
    the ORM broker, the file cache every process of the machine shares (settings)."""
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage
    from django_q.status import Stat, Status

    status = Status(pid=4242, cluster_id="test-cluster")
    status.host, status.status, status.workers = "worker-1", "Idle", [11, 12]
    status.tob = timezone.now() - datetime.timedelta(hours=1)
    get_broker().set_stat(Stat.get_key("test-cluster"), SignedPackage.dumps(status, True), 3)

    page = admin_client.get(reverse(HEALTH)).content.decode()

    cluster = page[page.index('id="health-clusters"') :][:600]
    assert "<strong>worker-1</strong> · Idle · 2 workers · up since" in cluster


def test_no_running_cluster_is_a_warning(admin_client):
    page = admin_client.get(reverse(HEALTH)).content.decode()
    assert "none: no cluster reported in the last seconds" in page


def test_failed_tasks_are_counted_and_linked_for_a_superuser_only(admin_client, django_user_model):
    now = timezone.now()
    for n, success in enumerate([False, False, True]):
        Task.objects.create(
            id=f"{n}" * 32,
            name=f"t{n}",
            func="math.floor",
            started=now,
            stopped=now,
            success=success,
        )
    staff = Client()
    staff.force_login(staff_with(django_user_model, "sync.view_link"))

    as_admin = admin_client.get(reverse(HEALTH)).content.decode()
    as_staff = staff.get(reverse(HEALTH)).content.decode()

    failures = reverse("admin:django_q_failure_changelist")
    assert '<span class="health-warning">2</span>' in as_admin
    assert f'<a href="{failures}" class="health-failures-link">' in as_admin
    assert '<span class="health-warning">2</span>' in as_staff
    assert failures not in as_staff


def test_the_page_says_whether_la_answers(admin_client, la_answers):
    assert "la-connection-state--ok" in admin_client.get(reverse(HEALTH)).content.decode()

    la_answers.update(ok=False, detail="unreachable")
    page = admin_client.get(reverse(HEALTH)).content.decode()

    assert '<strong class="health-warning la-connection-state--down">unreachable</strong>' in page


def test_the_latest_errors_say_why_in_plain_words(admin_client):
    ContactLinkFactory(status=LinkStatus.ERROR, error_code="already_assigned", message="clash")

    page = admin_client.get(reverse(HEALTH)).content.decode()

    assert ">Number already used in LA</td>" in page
