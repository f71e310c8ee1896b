"""What every admin page needs to know about the sync: the PM connection's trouble, and
whether the sync is paused."""

from django.utils.functional import SimpleLazyObject


def pm_connection(request):
    """`pm_connection_problem`: "" when PM is connected, else what to do. Read only when a
    page shows it (one query), so pages without the admin banner pay nothing."""
    from sync.services.connection import connection_problem
    from sync.services.switch import sync_live

    return {
        "pm_connection_problem": SimpleLazyObject(lambda: str(connection_problem())),
        # Lazy: a bool-like read only when a page shows the banner.
        "sync_paused": SimpleLazyObject(lambda: "paused" if not sync_live(fresh=True) else ""),
    }
