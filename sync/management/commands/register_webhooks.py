from django.core.management.base import BaseCommand

from sync.services.subscriptions import hub_url, la_webhooks_ensure, pm_resthooks_ensure


class Command(BaseCommand):
    help = (
        "Register PM resthooks and LA webhooks pointing at this hub (HUB_BASE_URL), "
        "replacing any PM hook that PM has disabled. Safe to run again."
    )

    def handle(self, *args, **options):
        pm = pm_resthooks_ensure()
        la = la_webhooks_ensure()
        self.stdout.write(
            f"PM resthooks → {hub_url('webhook-pm')}: " + (", ".join(pm) or "all active")
        )
        self.stdout.write(
            f"LA webhooks → {hub_url('webhook-la')}: " + (", ".join(la) or "all subscribed")
        )
