"""How fast the API may be called, and who the caller is when counting.

Callers without valid credentials are counted by address at the `anon` rate, signed-in
users by user at the `user` rate (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, from
API_THROTTLE_ANON_RATE and API_THROTTLE_USER_RATE). Past its rate a caller gets a 429 in
the API's error body with `Retry-After`.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, BaseThrottle, UserRateThrottle


def client_address(request) -> str:
    """The caller's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front,
    the address the outermost of them saw (from X-Forwarded-For). The admin login's
    lockout counts by it too (AXES_CLIENT_IP_CALLABLE)."""
    return BaseThrottle().get_ident(request)


class RateFromSettings:
    """DRF binds the rates when its throttles are imported; these read them per request,
    so a change of settings (and a test's `override_settings`) takes effect."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class AnonymousRateThrottle(RateFromSettings, AnonRateThrottle):
    """Callers without valid credentials, by address."""


class SignedInRateThrottle(RateFromSettings, UserRateThrottle):
    """Signed-in callers, by user."""


API_THROTTLES = [AnonymousRateThrottle, SignedInRateThrottle]
