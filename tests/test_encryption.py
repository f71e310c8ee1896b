"""Secrets at rest: PM's tokens and the resthook secret are stored encrypted, and the key
can be rotated."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from sync.models import PmConnection

pytestmark = pytest.mark.django_db


def stored(column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM sync_pmconnection WHERE id = 1")
        return cursor.fetchone()[0]


def test_tokens_are_stored_encrypted_and_read_back_plain():
    PmConnection.objects.create(pk=1, access_token="plain-access", refresh_token="plain-refresh")

    assert "plain-access" not in stored("access_token")
    assert "plain-refresh" not in stored("refresh_token")
    row = PmConnection.objects.get(pk=1)
    assert (row.access_token, row.refresh_token) == ("plain-access", "plain-refresh")


def test_a_value_no_key_opens_reads_as_empty_instead_of_failing(settings):
    PmConnection.objects.create(pk=1, refresh_token="plain-refresh")
    settings.HUB_ENCRYPTION_KEY = [Fernet.generate_key().decode()]

    assert PmConnection.objects.get(pk=1).refresh_token == ""


def test_rotation_reencrypts_with_the_new_key_so_the_old_one_can_go(settings):
    old = settings.HUB_ENCRYPTION_KEY[0]
    new = Fernet.generate_key().decode()
    PmConnection.objects.create(pk=1, refresh_token="plain-refresh", resthook_secret="hook")
    settings.HUB_ENCRYPTION_KEY = [new, old]

    call_command("encryption_rotate", stdout=io.StringIO())

    settings.HUB_ENCRYPTION_KEY = [new]
    row = PmConnection.objects.get(pk=1)
    assert (row.refresh_token, row.resthook_secret) == ("plain-refresh", "hook")


def test_a_new_key_is_a_valid_fernet_key(capsys):
    call_command("encryption_key_new")

    Fernet(capsys.readouterr().out.strip().encode())
