"""LA's API authentication: one shared API token, as `Bearer <token>` or `Token <token>`.

A missing or wrong token answers 401 with the API's error body (api.py).
"""

import hmac

from django.conf import settings
from rest_framework import authentication, exceptions

SCHEMES = ("bearer", "token")


def token_is_valid(header: str) -> bool:
    """Whether an `Authorization` header value carries LA's API token."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in SCHEMES or not token.strip():
        return False
    return hmac.compare_digest(token.strip().encode(), settings.SANDBOX_LA_API_TOKEN.encode())


class LAClient:
    """Whoever holds the API token. LA has no users; the token is the whole identity."""

    is_authenticated = True
    is_anonymous = False

    def __str__(self) -> str:
        return "LA API client"


class LATokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        if not token_is_valid(header):
            raise exceptions.AuthenticationFailed("the API token is missing or wrong")
        return LAClient(), None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="la"'
