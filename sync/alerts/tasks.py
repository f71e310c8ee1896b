"""django-q2 task of the alerts: a thin wrapper that calls the service."""

from .services import alert_digest_send


def alert_digest_task() -> str:
    digest = alert_digest_send()
    return digest.subject if digest else "nothing new"
