"""The onboarding page: permission, the matching job, decisions, go live and
pause, and the switch on the health page and in the banner."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from sync.models import AmbiguousMatch, AmbiguousRecord, Link, LinkStatus, MatchingRun, SyncSwitch
from sync.services.switch import sync_live, sync_pause

pytestmark = pytest.mark.django_db

PAGE = "admin:sync_onboarding"


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user(username="staff", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_link"))
    client.force_login(user)
    return client


@pytest.fixture
def paused(db):
    return sync_pause(reason="Connected to systems that already hold records.")


def test_staff_without_the_switch_permission_get_403(staff_client, paused):
    assert staff_client.get(reverse(PAGE)).status_code == 403
    assert staff_client.post(reverse("admin:sync_onboarding_go_live")).status_code == 403
    assert staff_client.post(reverse("admin:sync_onboarding_pause")).status_code == 403
    assert not sync_live()


def test_the_page_shows_the_switch_paused_and_the_banner_says_so(admin_client, paused):
    page = admin_client.get(reverse(PAGE))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="switch-state">paused<' in html
    assert "sync-paused-banner" in html
    health = admin_client.get(reverse("admin:sync_health")).content.decode()
    assert 'id="health-switch-state">paused<' in health


def test_starting_matching_queues_one_run_at_a_time(
    admin_client, paused, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        "sync.services.matching.async_task", lambda *args, **kwargs: queued.append(args)
    )

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse(PAGE), {"action": "match"})
        admin_client.post(reverse(PAGE), {"action": "match"})

    assert MatchingRun.objects.count() == 1
    run = MatchingRun.objects.get()
    assert queued == [("sync.tasks.matching_run_task", run.pk)]
    page = admin_client.get(reverse(PAGE)).content.decode()
    assert 'http-equiv="refresh"' in page  # it follows the run's progress


def test_a_finished_run_shows_its_counts(admin_client, paused):
    MatchingRun.objects.create(
        state=MatchingRun.State.DONE,
        report={
            "contacts": {
                "read": {"pm": 5, "la": 4},
                "matched": {"foreign id": 0, "contact number": 2, "email and name": 1},
                "only_in_pm": 1,
                "only_in_la": 0,
                "ambiguous": [{"rule": "email and name", "pm": [], "la": []}],
            },
            "matters": {"read": {"pm": 1, "la": 1}, "matched": {"file number": 1}},
        },
    )

    html = admin_client.get(reverse(PAGE)).content.decode()

    assert 'id="counts-contacts"' in html
    assert '<td class="matched">2</td><td class="matched">1</td>' in html
    assert 'http-equiv="refresh"' not in html


def test_different_records_release_the_held_links(admin_client, paused):
    from tests.factories import ContactLinkFactory

    link = ContactLinkFactory(pm_id="41", la_id=None, status=LinkStatus.PENDING)
    Link.objects.filter(pk=link.pk).update(needs_decision=True, error_code="needs_decision")
    case = AmbiguousMatch.objects.create(
        record_type="contact",
        rule="email and name",
        candidates={
            "pm": [{"id": "41", "name": "Doe, Jane", "email": "j@x", "number": "", "address": ""}],
            "la": [
                {
                    "id": "7",
                    "name": "Doe, Jane",
                    "email": "j@x",
                    "number": "J-1",
                    "address": "1 A St",
                },
                {"id": "8", "name": "Doe, Jane", "email": "j@x", "number": "J-2", "address": ""},
            ],
        },
    )
    AmbiguousRecord.objects.create(match=case, record_type="contact", system="pm", record_id="41")
    page = admin_client.get(reverse(PAGE)).content.decode()
    assert f'id="case-{case.pk}"' in page and "1 A" in page and "J-2" in page

    admin_client.post(reverse(PAGE), {"action": "different", "case": case.pk})

    case.refresh_from_db()
    assert case.decision == AmbiguousMatch.Decision.DIFFERENT
    link.refresh_from_db()
    assert not link.needs_decision and link.error_code == ""
    assert link.status == LinkStatus.PENDING


def test_twins_need_one_record_of_each_side(admin_client, paused):
    case = AmbiguousMatch.objects.create(record_type="contact", rule="contact number")

    admin_client.post(reverse(PAGE), {"action": "twins", "case": case.pk, "twin_pm": "1"})

    assert AmbiguousMatch.objects.get(pk=case.pk).decision == "undecided"


def test_go_live_asks_first_then_flips_the_switch(admin_client, paused):
    from tests.factories import ContactLinkFactory

    ContactLinkFactory(pm_id="5", la_id=None, status=LinkStatus.PENDING)
    ContactLinkFactory(pm_id=None, la_id="6", status=LinkStatus.PENDING)

    confirm = admin_client.get(reverse("admin:sync_onboarding_go_live"))

    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert '<td id="create-in-la"><strong>1</strong>' in html
    assert '<td id="create-in-pm"><strong>1</strong>' in html
    assert not sync_live()

    done = admin_client.post(reverse("admin:sync_onboarding_go_live"))

    assert done.status_code == 302 and done.url == reverse("admin:sync_health")
    assert SyncSwitch.objects.get().state == SyncSwitch.State.LIVE
    assert sync_live()
    admin_client.post(reverse("admin:sync_onboarding_pause"))
    assert not sync_live()
    assert admin_client.get(reverse("admin:sync_onboarding_pause")).status_code == 405


def test_the_matching_task_writes_its_progress_as_it_goes(monkeypatch):
    from sync.services import matching

    seen = []

    class Report:
        def as_dict(self):
            return {"contacts": {}, "matters": {}}

    def fake_matching(*, dry_run, progress):
        assert dry_run is False
        progress("PM contacts read", 3, 6)
        seen.append(MatchingRun.objects.values_list("state", "step", "done", "total").get())
        return Report()

    monkeypatch.setattr(matching, "existing_records_link", fake_matching)
    run = MatchingRun.objects.create()

    finished = matching.matching_run(run_id=run.pk)

    assert seen == [(MatchingRun.State.RUNNING, "PM contacts read", 3, 6)]
    assert finished.state == MatchingRun.State.DONE
    assert finished.report == {"contacts": {}, "matters": {}}


def test_a_matching_run_that_fails_says_why(monkeypatch):
    from sync.connectors.base import ConnectorError, ErrorKind
    from sync.services import matching

    def refused(**kwargs):
        raise ConnectorError(message="LA is unreachable", kind=ErrorKind.TRANSIENT, system="la")

    monkeypatch.setattr(matching, "existing_records_link", refused)
    run = MatchingRun.objects.create()

    finished = matching.matching_run(run_id=run.pk)

    assert finished.state == MatchingRun.State.FAILED
    assert finished.error == "Stopped: LA is unreachable"


def test_the_sweep_leaves_a_held_record_waiting_for_its_decision(pm_connection_up):
    from datetime import timedelta

    from django.utils import timezone

    from sync.services.changes import links_sweep
    from tests.factories import ContactLinkFactory

    long_ago = timezone.now() - timedelta(hours=1)
    held = ContactLinkFactory(la_id=None, status=LinkStatus.PENDING)
    lost = ContactLinkFactory(la_id=None, status=LinkStatus.PENDING)
    Link.objects.filter(pk=held.pk).update(
        needs_decision=True, error_code="needs_decision", status_changed_at=long_ago
    )
    Link.objects.filter(pk=lost.pk).update(status_changed_at=long_ago)

    links_sweep()

    assert Link.objects.get(pk=held.pk).next_retry_at is None
    assert Link.objects.get(pk=lost.pk).next_retry_at is not None


def test_a_decision_after_the_last_run_asks_to_match_again(admin_client, paused):
    from django.utils import timezone

    MatchingRun.objects.create(state=MatchingRun.State.DONE, report={})
    page = admin_client.get(reverse(PAGE)).content.decode()
    assert 'id="match-again-note"' not in page

    AmbiguousMatch.objects.create(
        record_type="contact",
        rule="email and name",
        decision="different",
        decided_at=timezone.now(),
    )

    page = admin_client.get(reverse(PAGE)).content.decode()
    assert 'id="match-again-note"' in page


def test_the_contact_list_shows_held_records_amber_and_filters_them(admin_client):
    from tests.factories import ContactLinkFactory

    held = ContactLinkFactory(la_id=None, status=LinkStatus.PENDING)
    Link.objects.filter(pk=held.pk).update(
        needs_decision=True, error_code="needs_decision", message="Needs a decision: LA 7, LA 8"
    )
    ContactLinkFactory(status=LinkStatus.PENDING)

    page = admin_client.get(
        reverse("admin:contacts_contact_changelist"), {"link_status": "needs_decision"}
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("link-badge--needs-decision") == 1
    assert html.count("link-badge--pending") == 0
    assert 'title="Needs a decision: LA 7, LA 8"' in html
