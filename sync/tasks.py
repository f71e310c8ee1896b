"""django-q2 tasks: thin wrappers that take ids and call services (ARCHITECTURE §4 rule 7).

Each says at what priority its requests draw on the shared request budget
(sync/budget.py): live changes first, then retries and polls, then bulk backfill, then
background refreshes."""

import dataclasses

from matters.services import matter_balances_refresh_all
from timekeeping.services import billing_batches_sweep

from . import services
from .budget import Priority, budget_priority
from .services import changes, runner, subscriptions, time_entries
from .services.subscriptions import connection_resumed


def link_sync_task(link_id: int) -> bool:
    return services.link_sync(link_id=link_id)


def links_run_task(index: int = 0) -> int:
    return runner.links_run(index)


def webhook_receipt_task(receipt_id: int) -> None:
    changes.webhook_receipt_handle(receipt_id=receipt_id)


def poll_task() -> dict:
    return subscriptions.poll_chain_start()


def poll_continue_task(token: str, step: int, people_read: bool) -> dict:
    return subscriptions.poll_chain_continue(token, step, people_read)


def sweep_task() -> dict:
    with budget_priority(Priority.RETRY):
        return {
            "links": changes.links_sweep(),
            "webhook receipts": changes.webhook_receipts_sweep(),
            "billing batches": billing_batches_sweep(),
        }


def balances_refresh_task() -> dict:
    with budget_priority(Priority.BACKGROUND):
        return dataclasses.asdict(matter_balances_refresh_all())


def time_entries_reconcile_task() -> dict:
    with budget_priority(Priority.BACKGROUND):
        return time_entries.time_entries_reconcile()


def webhook_receipts_prune_task() -> int:
    return changes.webhook_receipts_prune()


def connection_resumed_task() -> dict:
    return connection_resumed()


def matching_run_task(run_id: int) -> dict:
    from .services.matching import matching_run

    return {"state": matching_run(run_id=run_id).state}
