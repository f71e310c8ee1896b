import pytest


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(
        username="admin", email="admin@example.com", password="password"
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def pm_connection_up(db):
    """A PM connection in the connected state, for tests that make no call to PM but
    whose code checks that syncs may run (sync/services/connection.py)."""
    from datetime import timedelta

    from django.utils import timezone

    from sync.models import PmConnection
    from sync.services.connection import credentials_forget

    credentials_forget()
    connection, _ = PmConnection.objects.update_or_create(
        pk=1,
        defaults={
            "state": PmConnection.State.CONNECTED,
            "access_token": "unit-test-token",
            "access_expires_at": timezone.now() + timedelta(hours=1),
            "api_endpoint": "https://pm.invalid/api/",
        },
    )
    yield connection
    credentials_forget()


@pytest.fixture(autouse=True)
def sync_switch_reading_forgotten():
    """Each test reads the sync switch from its own database, not a reading an earlier
    test left in this process (sync/services/switch.py keeps one for a few seconds)."""
    from sync.services.switch import sync_switch_forget

    sync_switch_forget()
    yield
    sync_switch_forget()
