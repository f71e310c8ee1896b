"""The admin's access rules that model permissions alone would get wrong: django-q2's
pages for superusers only, read-only admins read-only whatever a user holds, links never
deleted from the admin, ids that are not ids a 404, and no weak first admin password."""

from itertools import chain, combinations

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task
from django_q.signing import SignedPackage

from sync.models import Link, LinkStatus, SyncEvent
from tests.factories import (
    ContactLinkFactory,
    MatterBalanceFactory,
    MatterFactory,
    SyncEventFactory,
)

pytestmark = pytest.mark.django_db


def staff_holding(django_user_model, permissions, username="staff"):
    user = django_user_model.objects.create_user(username=username, password="pw", is_staff=True)
    user.user_permissions.set(permissions)
    return user


def model_permissions(app_label: str, model: str):
    return list(
        Permission.objects.filter(content_type__app_label=app_label, content_type__model=model)
    )


def every_combination(items):
    return chain.from_iterable(combinations(items, size) for size in range(len(items) + 1))


def django_q_rows() -> dict[str, object]:
    now = timezone.now()
    task = {"func": "math.floor", "started": now, "stopped": now, "args": (1.5,), "kwargs": {}}
    return {
        "schedule": Schedule.objects.create(func="math.floor", args="1.5"),
        "success": Task.objects.create(id="a" * 32, name="ok", success=True, **task),
        "failure": Task.objects.create(id="b" * 32, name="failed", success=False, **task),
        "ormq": OrmQ.objects.create(
            key="hub",
            lock=now,
            payload=SignedPackage.dumps({"id": "c" * 32, "name": "queued", "func": "math.floor"}),
        ),
    }


def django_q_pages(rows) -> list[str]:
    pages = []
    for model, row in rows.items():
        pages.append(reverse(f"admin:django_q_{model}_changelist"))
        pages.append(reverse(f"admin:django_q_{model}_change", args=[row.pk]))
    pages.append(reverse("admin:django_q_schedule_add"))
    return pages


def test_a_staff_user_holding_every_django_q_permission_is_refused_every_page(
    client, django_user_model
):
    rows = django_q_rows()
    everything = Permission.objects.filter(content_type__app_label="django_q")
    client.force_login(staff_holding(django_user_model, everything))

    for page in django_q_pages(rows):
        assert client.get(page).status_code == 403, page
    schedule_add = reverse("admin:django_q_schedule_add")
    created = client.post(
        schedule_add,
        {"func": "subprocess.getoutput", "args": "'id'", "schedule_type": "O", "repeats": "-1"},
    )
    assert created.status_code == 403
    assert not Schedule.objects.filter(func="subprocess.getoutput").exists()
    assert "django_q" not in client.get(reverse("admin:index")).content.decode()


def test_a_superuser_opens_every_django_q_page(admin_client):
    for page in django_q_pages(django_q_rows()):
        assert admin_client.get(page).status_code == 200, page


# (admin url name, factory, the one permission that shows it, the model's permissions)
READ_ONLY = [
    ("matters_matterbalance", MatterBalanceFactory, "view_matter_balance", "matterbalance"),
    ("sync_link", ContactLinkFactory, "view_link", "link"),
    ("sync_syncevent", SyncEventFactory, "view_syncevent", "syncevent"),
]


def read_only_answers(client, url_name, row) -> dict[str, int]:
    changelist = reverse(f"admin:{url_name}_changelist")
    change = reverse(f"admin:{url_name}_change", args=[row.pk])
    return {
        "changelist": client.get(changelist).status_code,
        "change": client.get(change).status_code,
        "save": client.post(change, {}).status_code,
        "add": client.get(reverse(f"admin:{url_name}_add")).status_code,
        "delete": client.post(
            reverse(f"admin:{url_name}_delete", args=[row.pk]), {"post": "yes"}
        ).status_code,
        "bulk delete": client.post(
            changelist, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
        ).status_code,
    }


@pytest.mark.parametrize(("url_name", "factory", "view", "model"), READ_ONLY)
def test_a_read_only_admin_answers_the_same_for_every_permission_combination(
    client, django_user_model, url_name, factory, view, model
):
    """Only the view permission opens it; add, change and delete open nothing."""
    row = factory()
    app_label = url_name.split("_")[0]
    permissions = model_permissions(app_label, model)
    user = staff_holding(django_user_model, [])
    client.force_login(user)
    refused = {"save": 403, "add": 403, "delete": 403}

    for held in every_combination(permissions):
        user.user_permissions.set(held)
        codenames = sorted(permission.codename for permission in held)
        shown = view in codenames
        answers = read_only_answers(client, url_name, row)
        bulk_delete = answers.pop("bulk delete")
        assert answers == {
            "changelist": 200 if shown else 403,
            "change": 200 if shown else 403,
            **refused,
        }, codenames
        assert bulk_delete == (200 if shown else 403), codenames
        assert type(row).objects.filter(pk=row.pk).exists(), codenames


@pytest.mark.parametrize(("url_name", "factory", "view", "model"), READ_ONLY)
def test_a_superuser_cannot_change_or_delete_in_a_read_only_admin_either(
    admin_client, url_name, factory, view, model
):
    row = factory()
    answers = read_only_answers(admin_client, url_name, row)
    assert answers.pop("bulk delete") == 200  # the list again: no such action
    assert answers == {"changelist": 200, "change": 200, "save": 403, "add": 403, "delete": 403}
    assert type(row).objects.filter(pk=row.pk).exists()


def test_links_are_not_bulk_deleted_from_the_changelist(admin_client):
    links = [ContactLinkFactory() for _ in range(3)]
    changelist = reverse("admin:sync_link_changelist")

    page = admin_client.get(changelist).content.decode()
    admin_client.post(
        changelist,
        {
            "action": "delete_selected",
            "_selected_action": [link.pk for link in links],
            "post": "yes",
        },
    )

    assert 'value="delete_selected"' not in page
    assert Link.objects.count() == 3


def test_trust_balances_are_hidden_from_a_user_with_only_the_default_change_permission(
    client, django_user_model
):
    MatterBalanceFactory(trust="987654.32")
    only_change = Permission.objects.filter(codename="change_matterbalance")
    client.force_login(staff_holding(django_user_model, only_change))

    response = client.get(reverse("admin:matters_matterbalance_changelist"))

    assert response.status_code == 403
    assert "987654.32" not in response.content.decode()


def test_nothing_changes_a_balance_in_the_admin_even_with_every_permission(
    client, django_user_model
):
    balance = MatterBalanceFactory(trust="100.00")
    client.force_login(
        staff_holding(django_user_model, model_permissions("matters", "matterbalance"))
    )
    change = reverse("admin:matters_matterbalance_change", args=[balance.pk])

    page = client.get(change)
    saved = client.post(change, {"trust": "0.00", "matter": balance.matter.pk, "currency": "AUD"})

    assert page.status_code == 200
    assert 'name="trust"' not in page.content.decode()
    assert saved.status_code == 403
    balance.refresh_from_db()
    assert str(balance.trust) == "100.00"


def test_sync_history_is_never_deleted_from_the_admin(admin_client):
    event = SyncEventFactory()
    admin_client.post(reverse("admin:sync_syncevent_delete", args=[event.pk]), {"post": "yes"})
    admin_client.post(reverse("admin:sync_link_delete", args=[event.link.pk]), {"post": "yes"})
    assert SyncEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "url_name",
    ["contacts_contact_resync", "matters_matter_resync", "matters_matter_refresh_balance"],
)
def test_an_admin_action_on_an_id_that_is_not_a_number_is_404(admin_client, url_name):
    response = admin_client.post(reverse(f"admin:{url_name}", args=["abc"]))
    assert response.status_code == 404


def test_resync_of_an_unknown_id_is_404_and_of_a_known_one_still_works(admin_client):
    matter = MatterFactory()
    missing = admin_client.post(reverse("admin:matters_matter_resync", args=[matter.pk + 1000]))
    found = admin_client.post(reverse("admin:matters_matter_resync", args=[matter.pk]))
    assert missing.status_code == 404
    assert found.status_code == 302
    assert Link.objects.get(matter=matter).status == LinkStatus.PENDING


def test_ensure_admin_refuses_a_password_that_fails_the_validators(monkeypatch, django_user_model):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a")

    with pytest.raises(CommandError) as refused:
        call_command("ensure_admin")

    assert "DJANGO_SUPERUSER_PASSWORD is refused" in str(refused.value)
    assert "too short" in str(refused.value)
    assert not django_user_model.objects.exists()


def test_ensure_admin_accepts_a_strong_password(monkeypatch, django_user_model):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "firm-admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct horse battery staple 42")

    call_command("ensure_admin")

    assert django_user_model.objects.get(username="firm-admin").is_superuser
