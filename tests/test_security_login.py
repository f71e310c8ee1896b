"""The admin login locks a username out of an address after ADMIN_LOGIN_FAILURE_LIMIT
wrong passwords (django-axes), for ADMIN_LOGIN_COOLOFF_MINUTES, even with the right one."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login") + "?next=/admin/"
PASSWORD = "password"  # the root conftest's admin_user


def log_in(client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_nth_wrong_password_locks_the_login_even_for_the_right_password(client, admin_user):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert log_in(client, "admin", "wrong").status_code == 200  # the form again

    assert log_in(client, "admin", "wrong").status_code == 429
    refused = log_in(client, "admin", PASSWORD)

    assert refused.status_code == 429
    assert not signed_in(client)


def test_the_lock_is_per_username_and_address(client, admin_user, django_user_model):
    django_user_model.objects.create_superuser("other", "o@example.com", PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "admin", "wrong")

    assert log_in(client, "admin", PASSWORD, address="198.51.100.9").status_code == 302
    client.logout()
    assert log_in(client, "other", PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, admin_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "admin", "wrong")
    cooled_off = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - cooled_off
        )

    assert log_in(client, "admin", PASSWORD).status_code == 302
    assert signed_in(client)


def test_a_success_clears_the_count(client, admin_user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "admin", "wrong")
    assert log_in(client, "admin", PASSWORD).status_code == 302
    client.logout()

    assert log_in(client, "admin", "wrong").status_code == 200


def test_a_forwarded_for_header_does_not_change_the_address_counted(client, admin_user):
    for number in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "admin", "password": "wrong"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}",
        )

    assert log_in(client, "admin", PASSWORD).status_code == 429


def test_force_login_is_not_affected(client, admin_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "admin", "wrong")
    client.force_login(admin_user)

    assert client.get(reverse("admin:index")).status_code == 200
