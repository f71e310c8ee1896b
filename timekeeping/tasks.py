"""django-q2 tasks of the time app: thin wrappers that take ids and call services."""

from .services import billing_batch_send


def billing_batch_send_task(batch_id: str) -> dict:
    batch = billing_batch_send(batch_id=batch_id)
    if batch is None:
        return {}
    return {"status": batch.status, "sent": batch.sent_count, "errors": batch.error_count}
