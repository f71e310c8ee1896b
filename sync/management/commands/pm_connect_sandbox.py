import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.pm.consent import ConsentError
from sync.connectors.base import ConnectorError
from sync.models import PmConnection
from sync.services.connection import AuthorizationFailed, pm_connection, sandbox_connect

INTEGRATION_USER_EMAIL = "integration@sandbox-firm.example"


class Command(BaseCommand):
    help = (
        "Connect the hub to the sandbox's Practice Management through the OAuth2 "
        "authorization-code flow (consenting as the sandbox's first user). Does nothing "
        "when PM is already connected."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Connect again anyway.")
        parser.add_argument(
            "--onboarding",
            action="store_true",
            help="Leave the first connection to decide the sync switch: paused when the "
            "sandbox holds records (README, first run for a firm with data). Without it a "
            "hub with no switch yet goes live, so the sandbox demo syncs by itself.",
        )

    def handle(self, *args, force, onboarding, **options):
        if not settings.SANDBOX_ENABLED:
            raise CommandError("The sandbox is off; connect your PM org from the admin.")
        if pm_connection().state == PmConnection.State.CONNECTED and not force:
            self.stdout.write("Practice Management is already connected.")
            return
        if not onboarding:
            demo_live()
        consenting = _sandbox_user_email()
        try:
            connection = sandbox_connect(user_email=consenting)
        except (AuthorizationFailed, ConsentError, ConnectorError) as failure:
            raise CommandError(str(failure)) from failure
        except requests.RequestException as failure:
            raise CommandError(
                f"The sandbox's PM did not answer at {settings.PM_AUTHORIZE_URL} "
                f"(is HUB_BASE_URL, {settings.HUB_BASE_URL}, where the hub is served?): "
                f"{failure}"
            ) from failure
        self.stdout.write(
            f"Connected to the sandbox's Practice Management (org {connection.orgkey}) "
            f"as {consenting}."
        )


def _sandbox_user_email() -> str:
    """The sandbox PM user who consents: its first active user, or, in a sandbox with no
    users yet (a fresh clone), the firm's integration user, made for the purpose — as a
    firm connects real Actionstep with a dedicated integration user."""
    from sandbox.pm import services
    from sandbox.pm.models import User

    user = User.objects.filter(is_active=True).order_by("pk").first()
    if user is None:
        user = services.user_create(
            first_name="Integration", last_name="User", email=INTEGRATION_USER_EMAIL
        )
    return user.email


def demo_live() -> None:
    """The sandbox demo syncs by itself: a hub that has no sync switch yet goes live
    before connecting, instead of pausing for onboarding because the sandbox was seeded
    (docs/decisions.md 68). A switch already set is left as it is."""
    from sync.services.switch import sync_go_live, sync_switch_read

    if sync_switch_read() is None:
        sync_go_live(reason="The sandbox demo goes live by itself (--onboarding does not).")
