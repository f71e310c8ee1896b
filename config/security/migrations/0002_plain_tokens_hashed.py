"""Every API token DRF's `rest_framework.authtoken` kept in plain text becomes a
django-rest-knox token that keeps working with the same key, and the plain copy is
deleted. knox finds a token by its first 15 characters and checks the SHA-512 of the
whole key, so a 40-character DRF key authenticates unchanged.

DRF's app is no longer installed, so its table is read with SQL when it is there (a
database made before this change); a new database has none and nothing happens. The
emptied table is left in place, with DRF's rows in django_migrations. On PostgreSQL the
deleted rows stay in the table's file until it is vacuumed (docs/security.md).
"""

from datetime import UTC

from django.db import migrations
from django.utils.dateparse import parse_datetime
from knox.crypto import hash_token
from knox.settings import CONSTANTS

PLAIN_TABLE = "authtoken_token"


def aware(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # Django stores UTC
    return value


def plain_tokens_hash(apps, schema_editor):
    connection = schema_editor.connection
    if PLAIN_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    table = connection.ops.quote_name(PLAIN_TABLE)
    key = connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key}, user_id, created FROM {table}")  # noqa: S608
        rows = cursor.fetchall()
        tokens = [
            AuthToken(
                digest=hash_token(plain_key),
                token_key=plain_key[: CONSTANTS.TOKEN_KEY_LENGTH],
                user_id=user_id,
                expiry=None,  # DRF's tokens never expired; revoke one by deleting it
            )
            for plain_key, user_id, _ in rows
        ]
        AuthToken.objects.bulk_create(tokens)
        # `created` is auto_now_add: written again afterwards to keep DRF's date.
        for token, (_, _, created) in zip(tokens, rows, strict=True):
            token.created = aware(created)
        AuthToken.objects.bulk_update(tokens, ["created"])
        if connection.vendor == "sqlite":
            # Overwrite the deleted rows in the file too, not only unlink them.
            cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0001_initial"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    # Hashing can't be undone: going back leaves the knox tokens as they are.
    operations = [migrations.RunPython(plain_tokens_hash, migrations.RunPython.noop)]
