"""API token authentication: `Authorization: Token <key>`, checked against the hash that
django-rest-knox stores; the key itself is never stored (docs/security.md)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from rest_framework import exceptions


class TokenAuthentication(auth.TokenAuthentication):
    """knox's, refusing a key that is not text (knox would fail decoding it: a 500)."""

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        return super().authenticate_credentials(token)


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the class above (knox's extension names knox's own)."""

    target_class = "config.authentication.TokenAuthentication"
    name = "tokenAuth"
