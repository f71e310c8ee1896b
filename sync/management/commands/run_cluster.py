import signal
import time

from django.core.management.base import BaseCommand

from sync.processes import (
    child_start,
    children_stop,
    cluster_grace_seconds,
    manage_command,
)


class Command(BaseCommand):
    help = (
        "Run django-q2's task cluster (qcluster) and stop it for sure: on SIGTERM or "
        "SIGINT it is told to stop, and whatever of it is left after the task timeout "
        "is killed. Use this, not qcluster, under a process supervisor."
    )

    def handle(self, *args, **options):
        stopping = []
        signal.signal(signal.SIGINT, lambda signum, frame: stopping.append(signum))
        signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
        cluster = child_start(manage_command("qcluster"))
        while not stopping and cluster.poll() is None:
            time.sleep(0.3)
        children_stop([cluster], grace=cluster_grace_seconds())
        self.stdout.write("The task cluster has stopped.")
