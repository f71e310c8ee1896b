"""OpenAPI hooks for drf-spectacular."""


def only_api_v1(endpoints):
    """The schema describes the hub's API only, not the sandbox's emulated systems
    (their contracts are docs/legal-accounting-api.md and the Actionstep reference)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
