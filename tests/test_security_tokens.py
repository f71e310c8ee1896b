"""API tokens: only a hash is stored, the key is shown once, and the tokens DRF kept in
plain text before keep working after the migration that hashes them."""

import importlib
import secrets
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from config.security.models import ApiToken
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("config.security.migrations.0002_plain_tokens_hashed")
CONTACTS = "/api/v1/contacts/"


def reader(django_user_model, username="reader"):
    user = django_user_model.objects.create_user(username=username, password="pw")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="contacts", codename="view_contact")
    )
    return user


def reads_contacts(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(CONTACTS).status_code


def every_value_in_the_database() -> str:
    """Every row of every table the hub's database holds, as text."""
    text = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            text.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(text)


def plain_token_table(*rows: tuple[str, int, datetime]) -> None:
    """DRF's `authtoken_token` as a database made before the change holds it."""
    stamp = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(
            f'CREATE TABLE authtoken_token ("key" varchar(40) NOT NULL PRIMARY KEY, '
            f"created {stamp} NOT NULL, user_id integer NOT NULL UNIQUE)"
        )
        for row in rows:
            cursor.execute(
                'INSERT INTO authtoken_token ("key", user_id, created) VALUES (%s, %s, %s)', row
            )


def plain_tokens_hash() -> None:
    MIGRATION.plain_tokens_hash(apps, SimpleNamespace(connection=connection))


def test_an_existing_plain_token_still_authenticates_after_the_migration(django_user_model):
    ContactFactory()
    key = secrets.token_hex(20)  # what DRF's Token.generate_key makes
    user = reader(django_user_model)
    made = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)
    plain_token_table((key, user.pk, made))

    plain_tokens_hash()

    assert reads_contacts(key) == 200
    token = AuthToken.objects.get(user=user)
    assert (token.created, token.expiry) == (made, None)
    assert reads_contacts(key[:-1] + ("0" if key[-1] != "0" else "1")) == 401


def test_after_the_migration_the_database_holds_no_raw_token(django_user_model):
    keys = [secrets.token_hex(20), secrets.token_hex(20)]
    users = [reader(django_user_model, "one"), reader(django_user_model, "two")]
    now = datetime.now(UTC)
    plain_token_table(*((key, user.pk, now) for key, user in zip(keys, users, strict=True)))

    plain_tokens_hash()

    stored = every_value_in_the_database()
    assert [key for key in keys if key in stored] == []
    assert [reads_contacts(key) for key in keys] == [200, 200]


def test_the_migration_does_nothing_on_a_database_that_never_had_plain_tokens():
    assert "authtoken_token" not in connection.introspection.table_names()
    plain_tokens_hash()
    assert not AuthToken.objects.exists()


def make_token_in_admin(client, user, expiry=("", "")):
    return client.post(
        reverse("admin:security_apitoken_add"),
        {"user": user.pk, "expiry_0": expiry[0], "expiry_1": expiry[1]},
    )


def test_the_admin_shows_a_new_token_once_and_stores_only_its_hash(admin_client, admin_user):
    ContactFactory()
    made = make_token_in_admin(admin_client, admin_user)

    key = made.context["key"]
    assert made.status_code == 200
    assert key in made.content.decode()
    assert reads_contacts(key) == 200
    assert key not in every_value_in_the_database()
    token = ApiToken.objects.get()
    page = admin_client.get(reverse("admin:security_apitoken_change", args=[token.pk]))
    assert key not in page.content.decode()
    assert key[:15] not in page.content.decode()


def test_the_admin_list_shows_no_key(admin_client, admin_user):
    _, key = ApiToken.objects.create(user=admin_user)

    page = admin_client.get(reverse("admin:security_apitoken_changelist")).content.decode()

    assert str(admin_user) in page
    assert key not in page
    assert key[:15] not in page


def test_no_other_admin_lists_tokens():
    registered = {model._meta.label for model in admin.site._registry}
    assert "authtoken.TokenProxy" not in registered
    assert "knox.AuthToken" not in registered
    assert "security.ApiToken" in registered


def test_a_token_expires_when_the_admin_said(admin_client, admin_user):
    made = make_token_in_admin(admin_client, admin_user, ("2099-01-01", "00:00:00"))
    token = ApiToken.objects.get()

    assert made.status_code == 200
    assert token.expiry == datetime(2099, 1, 1, tzinfo=UTC)
    past = make_token_in_admin(admin_client, admin_user, ("2001-01-01", "00:00:00"))
    assert past.status_code == 200
    assert "Choose a time in the future." in past.content.decode()
    assert ApiToken.objects.count() == 1


def test_a_staff_user_makes_tokens_only_for_themselves_and_sees_only_theirs(
    client, django_user_model, admin_user
):
    ApiToken.objects.create(user=admin_user)
    staff = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["add_apitoken", "view_apitoken"])
    )
    client.force_login(staff)

    for_admin = make_token_in_admin(client, admin_user)
    for_self = make_token_in_admin(client, staff)
    listed = client.get(reverse("admin:security_apitoken_changelist")).context["cl"].result_list

    assert "Select a valid choice" in for_admin.content.decode()
    assert reads_contacts(for_self.context["key"]) == 403  # signed in; not allowed contacts
    assert [token.user for token in listed] == [staff]
    assert ApiToken.objects.filter(user=admin_user).count() == 1


def test_deleting_a_token_revokes_it(admin_client, admin_user):
    token, key = ApiToken.objects.create(user=admin_user)

    admin_client.post(reverse("admin:security_apitoken_delete", args=[token.pk]), {"post": "yes"})

    assert reads_contacts(key) == 401
