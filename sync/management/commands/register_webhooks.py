from django.conf import settings
from django.core.management.base import BaseCommand

from sync.services.subscriptions import hub_url, la_webhooks_ensure, pm_resthooks_ensure
from sync.webhooks import PM_RECEIVER_PATH


class Command(BaseCommand):
    help = (
        "Register PM resthooks and LA webhooks pointing at this hub (HUB_BASE_URL). PM's "
        "hooks are registered afresh under a new secret, replacing the hub's old ones. "
        "Safe to run again."
    )

    def handle(self, *args, **options):
        pm = pm_resthooks_ensure(renew=True)
        la = la_webhooks_ensure()
        self.stdout.write(
            f"PM resthooks → {settings.HUB_BASE_URL.rstrip('/')}{PM_RECEIVER_PATH}"
            "<event>/<secret>/: " + ", ".join(pm)
        )
        self.stdout.write(
            f"LA webhooks → {hub_url('webhook-la')}: " + (", ".join(la) or "all subscribed")
        )
