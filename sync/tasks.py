"""django-q2 tasks: thin wrappers that take ids and call services (ARCHITECTURE §4 rule 7)."""

from matters.services import matter_balances_refresh_all
from timekeeping.services import billing_batches_sweep

from . import services
from .services import changes, subscriptions, time_entries
from .services.subscriptions import connection_resumed


def link_sync_task(link_id: int) -> bool:
    return services.link_sync(link_id=link_id)


def webhook_receipt_task(receipt_id: int) -> None:
    changes.webhook_receipt_handle(receipt_id=receipt_id)


def poll_task() -> dict:
    return subscriptions.poll_pass()


def sweep_task() -> dict:
    return {
        "links": changes.links_sweep(),
        "webhook receipts": changes.webhook_receipts_sweep(),
        "billing batches": billing_batches_sweep(),
    }


def balances_refresh_task() -> int:
    return matter_balances_refresh_all()


def time_entries_reconcile_task() -> dict:
    return time_entries.time_entries_reconcile()


def webhook_receipts_prune_task() -> int:
    return changes.webhook_receipts_prune()


def connection_resumed_task() -> dict:
    return connection_resumed()
