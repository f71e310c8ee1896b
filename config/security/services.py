from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from knox.models import get_digest_token
from knox.settings import CONSTANTS

from .models import ApiToken


def api_token_create(
    *, user: AbstractBaseUser, expires_at: datetime | None
) -> tuple[ApiToken, str]:
    """A new API token for `user`, and its key. Only a hash of the key is stored, so this
    is the one time it can be shown (docs/security.md)."""
    digest, key = get_digest_token()
    token = ApiToken(
        digest=digest,
        token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
        user=user,
        expiry=expires_at,
    )
    token.save(force_insert=True)
    return token, key
