"""Two workers syncing the same records at once create nothing twice (ARCHITECTURE §4.1).

Real concurrency needs a database with real row locking and concurrent writers, so
this runs on PostgreSQL (CI runs the suite there too) and is skipped on SQLite.
"""

import threading

import pytest
from django.db import connection, connections
from django.db.models import Count

from sandbox.la import models as la
from sandbox.pm import services as pm_services
from sync.models import Link, LinkStatus
from sync.services import link_sync, links_collected
from sync.services.changes import poll_all

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "sandbox"]),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]


def test_two_workers_syncing_the_same_links_create_each_record_once(systems):
    for n in range(12):
        pm_services.participant_create(first_name=f"Con{n}", last_name="Current")
    with links_collected() as queued:
        poll_all()
    link_ids = list(dict.fromkeys(queued))
    assert len(link_ids) == 12
    start = threading.Barrier(2)
    errors = []

    def worker(order):
        try:
            start.wait()
            for link_id in order:
                link_sync(link_id=link_id)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(link_ids,)),
        threading.Thread(target=worker, args=(list(reversed(link_ids)),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # A link the other worker held was marked dirty and re-run by its holder; run
    # anything still pending once more, as the queue would.
    for link_id in Link.objects.exclude(status=LinkStatus.SYNCED).values_list("pk", flat=True):
        link_sync(link_id=link_id)

    assert errors == []
    assert la.Contact.objects.filter(pm_contact_id__isnull=False).count() == 12
    assert not la.Contact.objects.values("pm_contact_id").annotate(n=Count("pk")).filter(n__gt=1)
    assert Link.objects.filter(status=LinkStatus.SYNCED).count() == 12
