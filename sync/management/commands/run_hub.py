import signal
import time

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from sync.processes import child_start, children_stop, cluster_grace_seconds, manage_command


class Command(BaseCommand):
    help = "Start the web server and a django-q2 cluster together; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument(
            "--onboarding",
            action="store_true",
            help="With the sandbox: leave the first connection to decide the sync switch "
            "(paused when the sandbox holds records: README, first run for a firm with "
            "data). Without it the sandbox demo goes live by itself.",
        )

    def handle(self, *args, host, port, onboarding, **options):
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        # Handle both signals explicitly: a process started in the background inherits
        # an ignored SIGINT, and a supervisor stops us with SIGTERM.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        processes = [
            child_start(manage_command("runserver", f"{host}:{port}", "--noreload")),
            child_start(manage_command("qcluster")),
        ]
        self.stdout.write(f"Serving http://{host}:{port}/admin/ with a task cluster. Ctrl-C stops.")
        if settings.PM_CONNECT_SANDBOX_ON_START:
            self.connect_sandbox(
                f"http://{host}:{port}/admin/login/", stopping, processes, onboarding=onboarding
            )
        while not stopping and all(process.poll() is None for process in processes):
            time.sleep(0.3)
        # The cluster's workers are in its process group: they stop with it, or are
        # killed after the grace period, never left behind.
        children_stop(processes, grace=cluster_grace_seconds())
        self.stdout.write("Stopped the web server and the task cluster.")

    def connect_sandbox(
        self, login_url: str, stopping: list, processes: list, *, onboarding: bool
    ) -> None:
        """Once the web server answers, connect to the sandbox's PM the way a person
        would (sync/services/connection.py `sandbox_connect`), unless it is connected."""
        deadline = time.monotonic() + 30
        while not stopping and time.monotonic() < deadline:
            if any(process.poll() is not None for process in processes):
                return
            try:
                requests.get(login_url, timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.3)
        try:
            extra = ["--onboarding"] if onboarding else []
            call_command("pm_connect_sandbox", *extra, stdout=self.stdout)
        except CommandError as failure:
            self.stderr.write(f"Could not connect to the sandbox's PM: {failure}")
