"""Secrets the hub keeps at rest — PM's OAuth tokens, the resthook URL secret — encrypted
with Fernet (AES-128-CBC with an HMAC, from `cryptography`).

`HUB_ENCRYPTION_KEY` holds one or more Fernet keys, comma-separated. The first encrypts;
every one decrypts (MultiFernet), so a key is rotated by putting a new key first, running
`manage.py encryption_rotate` (which re-encrypts every stored secret with it), and then
dropping the old key. Production refuses to start without a key (config/settings).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("HUB_ENCRYPTION_KEY is not set.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "HUB_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
            "comma-separated; make one with `manage.py encryption_key_new`."
        ) from error


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.HUB_ENCRYPTION_KEY))


def encrypt(text: str) -> str:
    return cipher().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """The plain text; raises InvalidToken when no configured key opened it."""
    return cipher().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same secret encrypted with the first key (MultiFernet.rotate)."""
    return cipher().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python sees plain text.

    The empty string stays empty (nothing to hide, and "is it set?" needs no key). A value
    no configured key can open reads as "" and is logged: the row stays usable, and the
    code that needed the secret reports it missing (e.g. "reconnect PM") instead of the
    page failing. Encryption is randomised, so the column can't be filtered on.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return decrypt(value)
        except InvalidToken:
            logger.error(
                "%s.%s could not be decrypted with HUB_ENCRYPTION_KEY; treating it as unset.",
                self.model.__name__,
                self.name,
            )
            return ""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)
