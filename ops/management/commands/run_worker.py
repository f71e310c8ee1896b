import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ops.metrics import exporter_start


class Command(BaseCommand):
    help = (
        "A task host's process: `run_cluster` (django-q2's cluster, stopped for sure on "
        "SIGTERM), and while it runs the cluster's metrics on METRICS_PORT, to the "
        "metrics token. What `deploy/entrypoint.sh worker` runs."
    )

    def handle(self, *args, **options):
        port = settings.METRICS_PORT
        if port and settings.METRICS_TOKEN:
            if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                # The workers are other processes: without a shared directory this
                # exporter would answer its own (empty) counts.
                raise CommandError(
                    "METRICS_PORT needs PROMETHEUS_MULTIPROC_DIR (deploy/entrypoint.sh sets it)."
                )
            exporter_start(settings.METRICS_HOST, port)
            self.stdout.write(f"Metrics on http://{settings.METRICS_HOST}:{port}/metrics")
        call_command("run_cluster", stdout=self.stdout, stderr=self.stderr)
