import random

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers import sort_dependencies
from django.db import transaction

from sandbox.la import services as la_services
from sandbox.la.models import FeeEarner
from sandbox.la.seed import seed_la
from sandbox.overlap import overlap_seed
from sandbox.pm.models import User
from sandbox.pm.seed import seed_pm
from sandbox.routers import SANDBOX_APP_LABELS, SANDBOX_DATABASE

CLASHES = 3


def sandbox_empty() -> None:
    """Delete every row of both emulators, referring rows first (no TRUNCATE, which
    PostgreSQL refuses inside a transaction with deferred constraints pending)."""
    app_list = [(apps.get_app_config(label), None) for label in sorted(SANDBOX_APP_LABELS)]
    with transaction.atomic(using=SANDBOX_DATABASE):
        for model in reversed(sort_dependencies(app_list, allow_cycles=True)):
            model.objects.all().delete()


def _fee_earners_ensure() -> int:
    """Each PM user a fee earner in LA by the same email (time needs it); answers how
    many were made."""
    earners = 0
    for user in User.objects.all():
        if not FeeEarner.objects.filter(email__iexact=user.email).exists():
            la_services.fee_earner_create(name=user.name, email=user.email)
            earners += 1
    return earners


class Command(BaseCommand):
    help = (
        "Fill both emulated systems with realistic demo data: contacts, matters and time "
        "by several timekeepers in PM, LA-only contacts and the same timekeepers as fee "
        "earners in LA, and a few PM contacts whose Reference (kept in Actionstep's "
        "importExternalReference) is a number LA already uses (so red Link Indicators appear)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--size", type=int, default=300, help="PM contacts; the rest scale from it."
        )
        parser.add_argument("--contacts", type=int, help="PM contacts (default: size).")
        parser.add_argument("--matters", type=int, help="PM matters (default: 2/3 of size).")
        parser.add_argument("--time-entries", type=int, help="PM time entries (default: 2 x size).")
        parser.add_argument("--la-contacts", type=int, help="LA-only contacts (default: size/5).")
        parser.add_argument("--users", type=int, default=5, help="Timekeepers.")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed.")
        parser.add_argument(
            "--reset", action="store_true", help="Empty both emulated systems first."
        )
        parser.add_argument(
            "--overlap",
            type=int,
            metavar="N",
            help="Seed N people both systems hold as a firm's do (matching numbers, same "
            "name and email, near-miss ambiguous twins, one-sided), and the timekeepers, "
            "instead of the usual demo data: for onboarding (README, first run).",
        )

    def handle(self, *args, **options):
        size = options["size"]
        if size < 1:
            raise CommandError("--size must be at least 1.")
        rng = random.Random(options["seed"])
        if options["reset"]:
            sandbox_empty()
            self.stdout.write("Emptied the PM and LA sandboxes.")
        if options["overlap"] is not None:
            self.overlap(options["overlap"], users=options["users"], rng=rng)
            return
        la_contacts = options["la_contacts"] if options["la_contacts"] is not None else size // 5
        la = seed_la(contacts=max(la_contacts, CLASHES), fee_earners=[], rng=rng)
        clashing = la["contact_numbers"][:CLASHES]
        pm = seed_pm(
            contacts=options["contacts"] if options["contacts"] is not None else size,
            matters=options["matters"] if options["matters"] is not None else size * 2 // 3,
            time_entries=(
                options["time_entries"] if options["time_entries"] is not None else size * 2
            ),
            users=options["users"],
            rng=rng,
            clashing_references=clashing,
        )
        earners = _fee_earners_ensure()
        self.stdout.write(
            self.style.SUCCESS(
                f"PM: {pm['contacts']} contacts, {pm['matters']} matters, "
                f"{pm['time_entries']} time entries, {pm['users']} users. "
                f"LA: {len(la['contact_ids'])} contacts, {earners} fee earners. "
                f"Clashing references: {', '.join(clashing)}."
            )
        )

    def overlap(self, n: int, *, users: int, rng: random.Random) -> None:
        if n < 1:
            raise CommandError("--overlap must be at least 1.")
        seed_pm(contacts=0, matters=0, time_entries=0, users=users, rng=rng)
        earners = _fee_earners_ensure()
        made = overlap_seed(n, rng=rng)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {n} people both systems hold as a firm's do: "
                f"{made['numbered']} with matching numbers (and a matter each), "
                f"{made['named']} with the same name and email, "
                f"{made['near_miss']} near misses (ambiguous), "
                f"{made['pm_only']} in PM only (with a matter), {made['la_only']} in LA only. "
                f"{users} users, {earners} fee earners."
            )
        )
