"""Under injected faults on both systems a batch still converges: everything linked,
nothing created twice (ARCHITECTURE §4 rules 1, 2 and 5)."""

import pytest
from django.db.models import Count

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.models import Link, LinkStatus
from sync.services import link_sync, links_collected
from sync.services.changes import poll_all
from tests.sync.helpers import pm_matter

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

MAX_ROUNDS = 25


def test_a_batch_converges_without_duplicates_under_every_fault(systems, faults, settings):
    settings.SYNC_HTTP_TIMEOUT = 0.5
    from sync.connectors import clients_reset

    clients_reset()
    for n in range(10):
        pm_services.participant_create(first_name=f"Pm{n}", last_name="Person")
    for n in range(4):
        la_services.contact_create(data={"first_name": f"La{n}", "last_name": "Person"})
    for n in range(3):
        pm_matter(f"Matter {n}")
    planned = {"pm participants": 10 + 3 + 4, "la contacts": 10 + 3 + 4, "la files": 3}

    for system in ("pm", "la"):
        faults(
            system,
            seed=42,
            error_rate=0.12,
            rate_limit_rate=0.08,
            retry_after_seconds=0,
            hang_rate=0.03,
            drop_rate=0.12,
            hang_seconds=0.8,
        )

    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        with links_collected() as queued:
            poll_all()
        pending = set(queued) | set(
            Link.objects.exclude(status=LinkStatus.SYNCED).values_list("pk", flat=True)
        )
        for link_id in pending:
            link_sync(link_id=link_id)
        if (
            Link.objects.count() == planned["la contacts"] + planned["la files"]
            and not Link.objects.exclude(status=LinkStatus.SYNCED).exists()
        ):
            break
    faults("pm", error_rate=0, rate_limit_rate=0, hang_rate=0, drop_rate=0)
    faults("la", error_rate=0, rate_limit_rate=0, hang_rate=0, drop_rate=0)

    print(f"converged in {rounds} rounds")
    assert rounds < MAX_ROUNDS
    assert pm.Participant.objects.filter(user__isnull=True).count() == planned["pm participants"]
    assert la.Contact.objects.count() == planned["la contacts"]
    assert la.File.objects.count() == planned["la files"]
    assert not la.Contact.objects.filter(pm_contact_id__isnull=True).exists()
    assert not la.Contact.objects.values("pm_contact_id").annotate(n=Count("pk")).filter(n__gt=1)
    assert (
        not pm.Participant.objects.exclude(import_external_reference="")
        .values("import_external_reference")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert Link.objects.filter(status=LinkStatus.SYNCED).count() == 20
