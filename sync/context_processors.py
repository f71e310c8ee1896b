"""What every admin page needs to know about the sync: the PM connection's trouble."""

from django.utils.functional import SimpleLazyObject


def pm_connection(request):
    """`pm_connection_problem`: "" when PM is connected, else what to do. Read only when a
    page shows it (one query), so pages without the admin banner pay nothing."""
    from sync.services.connection import connection_problem

    return {"pm_connection_problem": SimpleLazyObject(lambda: str(connection_problem()))}
