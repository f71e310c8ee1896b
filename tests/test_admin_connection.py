"""The Practice Management connection page: who may see it, who may connect, and the
banner every admin page shows while the connection needs a person."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from sync.models import PmConnection

pytestmark = pytest.mark.django_db

PAGE = "admin:sync_pmconnection_changelist"


@pytest.fixture
def staff_client(client, django_user_model):
    def login(*codenames):
        user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        client.force_login(user)
        return client

    return login


def test_the_page_shows_the_state_the_scopes_and_the_redirect_uri(admin_client, settings):
    response = admin_client.get(reverse(PAGE))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Not connected" in body
    assert settings.PM_REDIRECT_URI in body
    assert "participants actions actioncreate" in body
    assert 'class="button default pm-connect">Connect<' in body
    assert not PmConnection.objects.exists()  # reading the page writes nothing


def test_connect_sends_the_person_to_pm_with_a_state_it_remembers(admin_client, settings):
    response = admin_client.post(reverse("admin:sync_pmconnection_connect"))

    assert response.status_code == 302
    assert response["Location"].startswith(settings.PM_AUTHORIZE_URL + "?response_type=code")
    state = PmConnection.objects.get().pending_state
    assert f"state={state}" in response["Location"]


def test_a_callback_with_a_state_the_hub_did_not_send_stores_nothing(admin_client):
    admin_client.post(reverse("admin:sync_pmconnection_connect"))

    response = admin_client.get(
        reverse("admin:sync_pmconnection_callback"), {"code": "c", "state": "forged"}, follow=True
    )

    assert "does not match a connection started here" in response.content.decode()
    assert PmConnection.objects.get().state == PmConnection.State.NOT_CONNECTED


def test_viewing_needs_the_view_permission(staff_client):
    assert staff_client().get(reverse(PAGE)).status_code == 403


def test_connecting_and_disconnecting_need_the_change_permission(staff_client):
    client = staff_client("view_pmconnection")

    assert client.get(reverse(PAGE)).status_code == 200
    assert client.post(reverse("admin:sync_pmconnection_connect")).status_code == 403
    assert client.post(reverse("admin:sync_pmconnection_disconnect")).status_code == 403
    assert client.get(reverse("admin:sync_pmconnection_callback")).status_code == 403
    assert "button default pm-connect" not in client.get(reverse(PAGE)).content.decode()


def test_connect_and_disconnect_answer_only_post(admin_client):
    assert admin_client.get(reverse("admin:sync_pmconnection_connect")).status_code == 405
    assert admin_client.get(reverse("admin:sync_pmconnection_disconnect")).status_code == 405


def test_every_admin_page_carries_the_banner_while_the_connection_needs_a_person(admin_client):
    PmConnection.objects.create(
        pk=1,
        state=PmConnection.State.NEEDS_REAUTHORISATION,
        message="Practice Management needs to be connected again: it refused the refresh.",
    )

    for url in (reverse("admin:index"), reverse("admin:contacts_contact_changelist")):
        body = admin_client.get(url).content.decode()
        assert "pm-connection-banner" in body
        assert "it refused the refresh" in body


def test_no_banner_while_connected(admin_client, pm_connection_up):
    assert "pm-connection-banner" not in admin_client.get(reverse("admin:index")).content.decode()
