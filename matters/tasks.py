"""django-q2 tasks of matters: thin wrappers that take ids and call services."""

from sync.budget import Priority, budget_priority

from .models import MatterBalance
from .services import matter_balance_write_to_pm, matter_balances_write_many


def matter_balances_write_chunk_task(matter_ids: list[int]) -> int:
    """One chunk of the scheduled pass's writes into PM (matters.services.balance_write_plan)."""
    with budget_priority(Priority.BACKGROUND):
        return matter_balances_write_many(matter_ids=matter_ids)


def matter_balance_write_to_pm_task(balance_id: int) -> str:
    """Write one matter's balances into PM after a refresh a person asked for."""
    balance = MatterBalance.objects.filter(pk=balance_id).first()
    if balance is None:
        return "gone"
    with budget_priority(Priority.BACKGROUND):
        return matter_balance_write_to_pm(balance=balance)
