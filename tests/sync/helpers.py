"""Helpers for integration tests: drive the engine in-process against the sandbox."""

from decimal import Decimal

from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.services import link_sync, links_collected
from sync.services.changes import poll_all
from timekeeping.models import TimeEntry
from timekeeping.services import time_entries_send_for_billing


def sync_everything() -> list[int]:
    """One polling pass, then every queued link synced in this process."""
    with links_collected() as queued:
        poll_all()
    for link_id in dict.fromkeys(queued):
        link_sync(link_id=link_id)
    return queued


def pm_matter(name="Purchase of 222 Beach Rd", *, client=None, assigned=None, **fields):
    client = client or pm_services.participant_create(first_name="Cli", last_name="Ent")
    return pm_services.action_create(
        name=name,
        action_type_id=pm.ActionType.objects.get_or_create(name="Conveyancing")[0].pk,
        assigned_to=assigned,
        primary_participant_ids=[client.pk],
        **fields,
    )


def record_time(firm, hours="1.50", *, owner=None, action=None, behaviour="Bill", **fields):
    return pm_services.time_entry_create(
        action=action or firm["action"],
        owner=owner or firm["user"],
        actual_hours=Decimal(hours),
        billing_behavior=behaviour,
        rate_unit_price=Decimal("300.00"),
        description=fields.pop("description", "Drafting"),
        **fields,
    )


def hub_entry(pm_entry) -> TimeEntry:
    return TimeEntry.objects.get(link__pm_id=str(pm_entry.pk))


def hub_entry_after_sync(firm, **fields) -> TimeEntry:
    pm_entry = record_time(firm, **fields)
    sync_everything()
    return hub_entry(pm_entry)


def send(*entries):
    return time_entries_send_for_billing(
        entries=TimeEntry.objects.filter(pk__in=[e.pk for e in entries])
    )
