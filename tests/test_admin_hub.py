"""The hub's own admin: its name, its root, the sandbox on a site of its own, times in the
firm's zone, money with its currency, red records first with their reason and advice,
time entries read as billing, read-only pages without Save, "forget link" and purge."""

import datetime
import re
from decimal import Decimal

import pytest
import responses
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django_q.models import Task

from sync.models import Link, LinkStatus, PmConnection, SyncEvent
from sync.services.purge import FORGOTTEN
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    MatterBalanceFactory,
    MatterFactory,
    MatterLinkFactory,
    SyncEventFactory,
    TimeEntryFactory,
    TimeEntryLinkFactory,
)
from timekeeping.models import TimeEntry

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

CONTACTS = reverse("admin:contacts_contact_changelist")
TIME = reverse("admin:timekeeping_timeentry_changelist")


def staff_with(django_user_model, *codenames, username="staff"):
    user = django_user_model.objects.create_user(username=username, password="pw", is_staff=True)
    for codename in codenames:
        app_label, name = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=name)
        )
    return user


# The site -----------------------------------------------------------------------------


def test_the_admin_carries_the_product_s_name_and_the_root_leads_to_it(client, admin_client):
    assert client.get("/").headers["Location"] == reverse("admin:index")
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert '<div id="site-name"><a href="/admin/">PM ⇄ LA integration hub</a></div>' in page
    assert "<title>Contacts, matters and time linked between PM and LA | PM ⇄ LA" in page


def test_the_sandbox_is_on_its_own_site_and_not_in_the_hub_s_sidebar_or_index(admin_client):
    hub = admin_client.get(reverse("admin:index")).content.decode()
    sidebar = admin_client.get(CONTACTS).content.decode()
    sandbox = admin_client.get("/sandbox/admin/").content.decode()

    for page in (hub, sidebar):
        assert "sandbox_pm" not in page and "sandbox_la" not in page
        assert "Sandbox: Practice Management" not in page
    assert 'href="/sandbox/admin/" class="sandbox-admin-link"' in hub
    assert "/sandbox/admin/sandbox_pm/participant/" in sandbox
    assert "/sandbox/admin/sandbox_la/contact/" in sandbox
    assert 'href="/admin/" class="hub-admin-link"' in sandbox
    assert "pm-connection-banner" not in sandbox


def test_the_sandbox_s_site_asks_for_a_staff_login(client):
    response = client.get("/sandbox/admin/sandbox_pm/participant/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sandbox/admin/login/")


def test_times_show_in_the_firm_s_zone_with_the_zone_named(admin_client, settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    timezone.deactivate()
    link = ContactLinkFactory(
        last_synced_at=datetime.datetime(2026, 1, 15, 1, 30, tzinfo=datetime.UTC)
    )
    SyncEventFactory(link=link)

    page = admin_client.get(reverse("admin:contacts_contact_change", args=[link.contact_id]))

    body = page.content.decode()
    assert "2026-01-15 14:30 NZDT" in body  # 01:30 UTC in Auckland's summer
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d NZ[DS]T", body)  # the history's times


def test_money_shows_with_its_currency(admin_client):
    TimeEntryFactory(amount=Decimal("1250.5"), currency="NZD")
    MatterBalanceFactory(trust=Decimal("987654.32"), currency="AUD")

    time_page = admin_client.get(TIME).content.decode()
    balances = admin_client.get(reverse("admin:matters_matterbalance_changelist")).content.decode()

    assert "1,250.50 NZD" in time_page
    assert "987,654.32 AUD" in balances


# Red records ------------------------------------------------------------------------------


def test_the_list_puts_red_then_yellow_first_with_a_short_reason_and_keeps_the_filter(
    admin_client,
):
    ContactLinkFactory(status=LinkStatus.SYNCED, contact__last_name="Aaron")
    ContactLinkFactory(
        status=LinkStatus.UNKNOWN, error_code="unreachable", contact__last_name="Young"
    )
    ContactLinkFactory(
        status=LinkStatus.ERROR,
        error_code="already_assigned",
        message="contact number 1001 is already assigned to Holder, Ann",
        contact__last_name="Zed",
    )

    response = admin_client.get(CONTACTS)
    filtered = admin_client.get(CONTACTS, {"link_status": "synced"})
    sorted_by_name = admin_client.get(CONTACTS, {"o": "1"})

    names = [c.last_name for c in response.context["cl"].result_list]
    assert names == ["Zed", "Young", "Aaron"]
    page = response.content.decode()
    assert '<th scope="col" class="column-link_reason">' in page
    assert (
        '<span class="link-reason" title="contact number 1001 is already assigned to '
        'Holder, Ann">Number already used in LA</span>' in page
    )
    assert [c.last_name for c in filtered.context["cl"].result_list] == ["Aaron"]
    assert [c.last_name for c in sorted_by_name.context["cl"].result_list] == [
        "Aaron",
        "Young",
        "Zed",
    ]


def test_a_red_contact_s_page_opens_with_the_message_the_advice_and_the_field_marked(
    admin_client,
):
    link = ContactLinkFactory(
        status=LinkStatus.ERROR,
        error_code="already_assigned",
        error_system="la",
        message="contact number 1001 is already assigned to Holder, Ann",
        contact__reference="1001",
    )
    SyncEventFactory(
        link=link,
        outcome="error",
        details={"field": "contact_number", "system": "la", "code": "already_assigned"},
    )

    page = admin_client.get(reverse("admin:contacts_contact_change", args=[link.contact_id]))

    body = page.content.decode()
    banner = body[body.index('id="link-problem"') : body.index('id="contact_form"') + 2000]
    assert "Legal Accounting says:" in banner
    assert "contact number 1001 is already assigned to Holder, Ann" in banner
    assert "What to do:</strong> Legal Accounting already uses this number" in banner
    assert '<a href="#id_reference">Reference</a>' in banner
    assert "calls it <code>contact_number</code>" in banner
    assert re.search(r'<input[^>]+aria-invalid="true"[^>]+id="id_reference"', body)
    assert 'class="link-problem-help">Fix this: contact number 1001' in body
    assert body.index('id="link-problem"') < body.index('id="id_reference"')


def test_a_matter_waiting_for_its_red_client_links_to_the_client(admin_client):
    client_link = ContactLinkFactory(status=LinkStatus.ERROR, error_code="already_assigned")
    link = MatterLinkFactory(
        status=LinkStatus.ERROR,
        error_code="client_not_linked",
        error_system="hub",
        message="client contact not linked: contact number 1001 is already assigned",
        matter__client=client_link.contact,
    )

    body = admin_client.get(
        reverse("admin:matters_matter_change", args=[link.matter_id])
    ).content.decode()

    client_url = reverse("admin:contacts_contact_change", args=[client_link.contact_id])
    assert f'<a href="{client_url}" class="link-problem__fix-link">Open the client' in body
    assert "The hub says:" in body


def test_a_green_record_has_no_banner(admin_client):
    link = ContactLinkFactory(status=LinkStatus.SYNCED)
    body = admin_client.get(
        reverse("admin:contacts_contact_change", args=[link.contact_id])
    ).content.decode()
    assert 'id="link-problem"' not in body
    assert "aria-invalid" not in body


def test_the_change_page_costs_the_same_queries_red_or_green(
    admin_client, django_assert_max_num_queries
):
    red = ContactLinkFactory(status=LinkStatus.ERROR, error_code="already_assigned")
    with django_assert_max_num_queries(20):
        assert (
            admin_client.get(
                reverse("admin:contacts_contact_change", args=[red.contact_id])
            ).status_code
            == 200
        )


# Time entries ---------------------------------------------------------------------------


def test_time_entries_read_as_billing_with_the_link_only_when_it_says_something(admin_client):
    unsent = TimeEntryLinkFactory(status=LinkStatus.UNSYNCED).time_entry
    sent = TimeEntryLinkFactory(status=LinkStatus.SYNCED).time_entry
    queued = TimeEntryLinkFactory(status=LinkStatus.PENDING).time_entry
    corrected = TimeEntryLinkFactory(
        status=LinkStatus.ERROR, error_code="changed_after_sending", message="changed"
    ).time_entry
    TimeEntry.objects.filter(pk=sent.pk).update(billing_status="sent")
    TimeEntry.objects.filter(pk=queued.pk).update(billing_status="queued")
    TimeEntry.objects.filter(pk=corrected.pk).update(
        billing_status="sent", changed_after_sending=True
    )

    response = admin_client.get(TIME)

    page = response.content.decode()
    rows = {
        entry.pk: row
        for entry in (unsent, sent, queued, corrected)
        for row in re.findall(r"<tr>.*?</tr>", page, re.S)
        if f'value="{entry.pk}"' in row
    }
    assert "billing-badge--unsent" in rows[unsent.pk] and "link-badge" not in rows[unsent.pk]
    assert "billing-badge--sent" in rows[sent.pk] and "link-badge" not in rows[sent.pk]
    assert "billing-badge--queued" in rows[queued.pk] and "link-badge--pending" in rows[queued.pk]
    assert "Needs correction" in rows[corrected.pk]
    assert "link-badge--error" in rows[corrected.pk]
    assert "Changed in PM after sending" in rows[corrected.pk]
    first = response.context["cl"].result_list[0]
    assert first.pk == corrected.pk  # what needs a person comes first


def test_the_billing_filter_finds_entries_that_need_correction(admin_client):
    flagged = TimeEntryLinkFactory(
        status=LinkStatus.ERROR, error_code="deleted_after_sending"
    ).time_entry
    TimeEntryFactory()

    found = admin_client.get(TIME, {"billing": "needs_correction"}).context["cl"].result_list

    assert list(found) == [flagged]


def test_good_news_is_not_a_red_cross(admin_client):
    entry = TimeEntryFactory()

    body = admin_client.get(
        reverse("admin:timekeeping_timeentry_change", args=[entry.pk])
    ).content.decode()

    field = body[body.index("field-changed_after_sending_text") :][:600]
    assert "icon-no" not in field and "hub-bad-news" not in field
    assert ">No</div>" in field
    TimeEntry.objects.filter(pk=entry.pk).update(changed_after_sending=True)
    flagged = admin_client.get(
        reverse("admin:timekeeping_timeentry_change", args=[entry.pk])
    ).content.decode()
    assert '<strong class="hub-bad-news">Yes: correct it in Legal Accounting</strong>' in flagged


# Read-only pages ---------------------------------------------------------------------------


def test_read_only_records_have_no_save_or_delete(admin_client):
    now = timezone.now()
    failed = Task.objects.create(
        id="f" * 32, name="failed", func="math.floor", started=now, stopped=now, success=False
    )
    done = Task.objects.create(
        id="d" * 32, name="done", func="math.floor", started=now, stopped=now, success=True
    )
    link = ContactLinkFactory()
    pages = [
        reverse("admin:django_q_failure_change", args=[failed.pk]),
        reverse("admin:django_q_success_change", args=[done.pk]),
        reverse("admin:sync_link_change", args=[link.pk]),
        reverse("admin:sync_syncevent_change", args=[SyncEventFactory().pk]),
        reverse("admin:matters_matterbalance_change", args=[MatterBalanceFactory().pk]),
    ]
    for url in pages:
        body = admin_client.get(url).content.decode()
        assert 'name="_save"' not in body, url
        assert 'class="deletelink"' not in body, url


# Forget link ------------------------------------------------------------------------------


def test_forget_link_asks_first_then_forgets_the_ids_and_keeps_record_and_history(admin_client):
    link = ContactLinkFactory(pm_id="77", la_id="88", status=LinkStatus.SYNCED)
    event = SyncEventFactory(link=link)
    url = reverse("admin:sync_link_forget", args=[link.pk])

    link_page = admin_client.get(reverse("admin:sync_link_change", args=[link.pk])).content.decode()
    asked = admin_client.get(url)
    with responses.RequestsMock():  # any call to PM or LA would fail the test
        done = admin_client.post(url)

    assert f'href="{url}" class="forget-link-button"' in link_page
    assert (
        "will forget that" in asked.content.decode() and "PM 77 and LA 88" in asked.content.decode()
    )
    assert done.status_code == 302
    link.refresh_from_db()
    assert (link.pm_id, link.la_id, link.status, link.error_code) == (
        None,
        None,
        LinkStatus.UNSYNCED,
        FORGOTTEN,
    )
    assert "it was PM id 77, LA id 88" in link.message
    assert SyncEvent.objects.filter(pk=event.pk).exists()
    assert link.contact is not None


def test_only_a_superuser_may_forget_a_link(client, django_user_model):
    link = ContactLinkFactory(pm_id="77")
    client.force_login(staff_with(django_user_model, "sync.view_link", "sync.change_link"))

    assert client.get(reverse("admin:sync_link_forget", args=[link.pk])).status_code == 403
    assert client.post(reverse("admin:sync_link_forget", args=[link.pk])).status_code == 403
    page = client.get(reverse("admin:sync_link_change", args=[link.pk])).content.decode()
    assert "forget-link-button" not in page
    link.refresh_from_db()
    assert link.pm_id == "77"


def test_a_forgotten_record_is_neither_resynced_nor_queued_when_saved(
    admin_client, django_capture_on_commit_callbacks
):
    link = ContactLinkFactory(pm_id="5")
    admin_client.post(reverse("admin:sync_link_forget", args=[link.pk]))
    contact = link.contact
    data = {f: getattr(contact, f) for f in ["reference", "kind", "first_name", "last_name"]}

    with django_capture_on_commit_callbacks() as queued:
        resync = admin_client.post(
            reverse("admin:contacts_contact_resync", args=[contact.pk]), follow=True
        )
        saved = admin_client.post(
            reverse("admin:contacts_contact_change", args=[contact.pk]), data, follow=True
        )

    assert queued == []
    assert "the link was forgotten" in resync.content.decode()
    assert "the link was forgotten" in saved.content.decode()
    assert Link.objects.get(pk=link.pk).status == LinkStatus.UNSYNCED


# Disconnect and purge ---------------------------------------------------------------------


def test_the_purge_page_counts_first_and_changes_nothing(admin_client, pm_connection_up):
    ContactLinkFactory.create_batch(3)
    MatterLinkFactory()

    page = admin_client.get(reverse("admin:sync_purge"))
    wrong_word = admin_client.post(reverse("admin:sync_purge"), {"confirm": "purge please"})

    body = page.content.decode()
    assert "<strong>4 links</strong>" in body  # 3 contacts and a matter
    assert "Disconnect and forget 4 links" in body
    assert "Type PURGE to confirm; nothing was changed." in wrong_word.content.decode()
    assert Link.objects.filter(pm_id__isnull=False).count() == 4
    assert PmConnection.objects.get().state == PmConnection.State.CONNECTED


def test_purge_disconnects_and_forgets_every_link_keeping_records_and_history(
    admin_client, pm_connection_up
):
    links = [ContactLinkFactory(), MatterLinkFactory(), TimeEntryLinkFactory()]
    SyncEventFactory(link=links[0])
    balance = MatterBalanceFactory(matter=links[1].matter, pm_record_id="9", pm_written={"A": "1"})

    with responses.RequestsMock():  # nothing is written to PM or LA
        response = admin_client.post(reverse("admin:sync_purge"), {"confirm": "PURGE"}, follow=True)

    assert "Purged: " in response.content.decode()
    assert not Link.objects.filter(Q_ids()).exists()
    assert set(Link.objects.values_list("error_code", flat=True)) == {FORGOTTEN}
    assert SyncEvent.objects.count() == 1
    assert PmConnection.objects.get().state == PmConnection.State.NOT_CONNECTED
    balance.refresh_from_db()
    assert (balance.pm_record_id, balance.pm_written) == ("", {})


def Q_ids():
    from django.db.models import Q

    return Q(pm_id__isnull=False) | Q(la_id__isnull=False)


def test_only_a_superuser_may_open_or_run_the_purge(client, django_user_model):
    ContactLinkFactory()
    client.force_login(staff_with(django_user_model, "sync.view_link", "sync.resync_link"))

    assert client.get(reverse("admin:sync_purge")).status_code == 403
    assert client.post(reverse("admin:sync_purge"), {"confirm": "PURGE"}).status_code == 403
    assert "sync-purge-link" not in client.get(reverse("admin:index")).content.decode()
    assert Link.objects.filter(pm_id__isnull=False).exists()


def test_new_pages_answer_for_a_superuser(admin_client):
    ContactFactory()
    MatterFactory()
    for name in ["admin:sync_mapping", "admin:sync_purge", "admin:sync_health"]:
        assert admin_client.get(reverse(name)).status_code == 200, name
