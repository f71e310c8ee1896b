import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from django.core.management.base import BaseCommand, CommandError

from sync.connectors.base import ConnectorError
from sync.services.onboarding import existing_records_link, onboarding_report_lines


class ProgressBar:
    """`[#####.....] 1200/5000 PM contacts read` on one line, redrawn at most ten times a
    second, and always when a step starts or ends."""

    WIDTH = 30
    INTERVAL_SECONDS = 0.1

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.clock = clock
        self.what: str | None = None
        self.state: tuple[int, int | None] = (0, None)
        self.drawn_at = float("-inf")
        self.undrawn = False

    def __call__(self, what: str, done: int, total: int | None) -> None:
        if what != self.what:
            self.close()
            self.what = what
            self.drawn_at = float("-inf")
        self.state = (done, total)
        self.undrawn = True
        now = self.clock()
        if now - self.drawn_at >= self.INTERVAL_SECONDS or done == total:
            self.drawn_at = now
            self.draw()

    def draw(self) -> None:
        done, total = self.state
        if total is not None:
            filled = min(self.WIDTH, self.WIDTH * done // total) if total else self.WIDTH
            text = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} {self.what}"
        else:
            text = f"{done} {self.what}"
        self.stream.write("\r" + text)
        self.stream.flush()
        self.undrawn = False

    def close(self) -> None:
        """Leave the finished step's line in place and start a fresh one."""
        if self.what is not None:
            if self.undrawn:
                self.draw()
            self.stream.write("\n")
            self.stream.flush()
            self.what = None


class Command(BaseCommand):
    help = (
        "Link the contacts and matters that PM and LA already both hold, for a firm whose "
        "systems have data before the hub starts: by stored foreign id, then contact or "
        "file number, then (contacts) email and name. Ambiguous matches are listed and "
        "held, never guessed, until an admin decides on the onboarding page (decisions "
        "made there are honoured here). Each new link's sync is queued; while the sync is "
        "paused it waits for going live."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Link nothing and write nothing; print what would be linked.",
        )
        parser.add_argument(
            "--json", dest="json_path", metavar="PATH", help="Also write the report as JSON."
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            help="Draw a progress bar on stderr even when it is not a terminal.",
        )

    def handle(self, *args, dry_run, json_path, progress, verbosity, **options):
        bar = None
        if progress or self.stderr.isatty():
            bar = ProgressBar(_Plain(self.stderr))
        try:
            report = existing_records_link(dry_run=dry_run, progress=bar)
        except ConnectorError as error:
            raise CommandError(f"Stopped: {error.message}") from error
        finally:
            if bar is not None:
                bar.close()
        list_matches = not dry_run or verbosity >= 2
        for line in onboarding_report_lines(report=report, list_matches=list_matches):
            self.stdout.write(line)
        if json_path:
            text = json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"
            Path(json_path).write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote the report to {json_path}")


class _Plain:
    """The command's stderr without its colouring and line endings."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, style_func=lambda x: x, ending="")

    def flush(self) -> None:
        self.wrapper.flush()
