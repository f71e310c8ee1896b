from django.core.management.base import BaseCommand

from sync.models import PollCursor
from sync.services import link_sync, links_collected
from sync.services.changes import links_sweep
from sync.services.subscriptions import poll_pass


class Command(BaseCommand):
    help = (
        "Run one full sync pass in this process: check the webhook registrations, poll "
        "both systems, retry what is due, and sync every link that needs it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--full",
            action="store_true",
            help="Read every record again, not only what changed since the last poll "
            "(after records were added with past dates, as sandbox_seed does).",
        )

    def handle(self, *args, full, **options):
        if full:
            PollCursor.objects.update(modified_since=None)
        with links_collected() as queued:
            seen = poll_pass()
            due = links_sweep()
        for name, count in seen.items():
            self.stdout.write(f"Read {count} {name}")
        self.stdout.write(f"{due} links due for a retry")
        unique = list(dict.fromkeys(queued))
        for number, link_id in enumerate(unique, start=1):
            link_sync(link_id=link_id)
            if number % 100 == 0:
                self.stdout.write(f"Synced {number}/{len(unique)}")
        self.stdout.write(self.style.SUCCESS(f"Synced {len(unique)} links."))
