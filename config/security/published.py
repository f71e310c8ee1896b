"""Secrets published in this repository: the sandbox's credentials and the development keys.

`local.py` and `test.py` use them as defaults, so a fresh clone runs end to end with no
configuration. Anyone can read them here, so production has no default for any secret
and its deploy check refuses each of these values (`config/security/checks.py`).
"""

SANDBOX_PM_CLIENT_ID = "sandbox-client"
SANDBOX_PM_CLIENT_SECRET = "sandbox-secret"
SANDBOX_LA_API_TOKEN = "sandbox-la-token"
SANDBOX_LA_WEBHOOK_SECRET = "sandbox-la-webhook-secret"

LOCAL_SECRET_KEY = "local-development-key-not-for-production"
LOCAL_ENCRYPTION_KEY = "bG9jYWwtZGV2ZWxvcG1lbnQta2V5LW5vdC1wcm9kISE="
TEST_SECRET_KEY = "test-key-not-for-production"
TEST_ENCRYPTION_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS1ub3QtZm9yLXByb2Q="

PUBLISHED_SECRETS = frozenset(
    {
        SANDBOX_PM_CLIENT_ID,
        SANDBOX_PM_CLIENT_SECRET,
        SANDBOX_LA_API_TOKEN,
        SANDBOX_LA_WEBHOOK_SECRET,
        LOCAL_SECRET_KEY,
        LOCAL_ENCRYPTION_KEY,
        TEST_SECRET_KEY,
        TEST_ENCRYPTION_KEY,
    }
)
