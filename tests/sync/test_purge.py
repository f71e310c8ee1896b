"""Disconnect and purge, then `link_existing`: every record in PM and LA is linked again,
and neither system holds a duplicate. Over real HTTP against the sandbox."""

from io import StringIO

import pytest
import responses
from django.core.management import call_command

from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.models import Link, LinkStatus, PmConnection, RecordType, SyncEvent
from sync.services import link_sync, links_collected
from sync.services.connection import sandbox_connect
from sync.services.purge import FORGOTTEN, links_purge, purge_counts
from tests.sync.conftest import INTEGRATION_USER_EMAIL
from tests.sync.helpers import pm_matter, sync_everything

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def linked_firm(firm):
    """Contacts made in PM and in LA, and two matters, all synced both ways."""
    pm_services.participant_create(first_name="Carla", last_name="Mendes", email="c@m.test")
    la_services.contact_create(data={"first_name": "Li", "last_name": "Wei", "kind": "client"})
    client = pm_services.participant_create(first_name="Dev", last_name="Patel")
    pm_matter("Lease of 5 Queen St", client=client, assigned=firm["user"])
    sync_everything()
    sync_everything()  # LA's contact reaches PM; its number comes back
    assert not Link.objects.exclude(status=LinkStatus.SYNCED).exists()
    return firm


def counts() -> dict[str, int]:
    return {
        "pm participants": pm.Participant.objects.count(),
        "pm actions": pm.Action.objects.count(),
        "la contacts": la.Contact.objects.count(),
        "la files": la.File.objects.count(),
    }


def relink() -> None:
    """What the purge page tells a person to do: connect, then link_existing."""
    sandbox_connect(user_email=INTEGRATION_USER_EMAIL)
    with links_collected() as queued:
        call_command("link_existing", stdout=StringIO(), stderr=StringIO())
    for link_id in queued:
        link_sync(link_id=link_id)


def test_purge_then_link_existing_links_every_record_again_with_no_duplicates(
    linked_firm, admin_user
):
    before = counts()
    people = set(pm.User.objects.values_list("pk", flat=True))
    history = SyncEvent.objects.count()

    with responses.RequestsMock():  # the purge itself writes nothing to PM or LA
        forgotten = links_purge(user=admin_user)

    assert forgotten.total == Link.objects.count() > 0
    assert not Link.objects.filter(pm_id__isnull=False).exists()
    assert not Link.objects.filter(la_id__isnull=False).exists()
    assert set(Link.objects.values_list("error_code", flat=True)) == {FORGOTTEN}
    assert SyncEvent.objects.count() == history  # the history stays
    assert PmConnection.objects.get().state == PmConnection.State.NOT_CONNECTED
    assert purge_counts().with_pm_id == 0

    relink()
    sync_everything()  # and the regular sync goes on from there

    assert counts() == before  # no duplicate in PM or LA
    contact_ids = set(
        Link.objects.filter(record_type=RecordType.CONTACT, status=LinkStatus.SYNCED).values_list(
            "pm_id", "la_id"
        )
    )
    pm_contacts = {
        str(pk) for pk in pm.Participant.objects.exclude(pk__in=people).values_list("pk", flat=True)
    }
    assert {pm_id for pm_id, _ in contact_ids} == pm_contacts
    assert {la_id for _, la_id in contact_ids} == {
        str(pk) for pk in la.Contact.objects.values_list("pk", flat=True)
    }
    matter_ids = set(
        Link.objects.filter(record_type=RecordType.MATTER, status=LinkStatus.SYNCED).values_list(
            "pm_id", "la_id"
        )
    )
    assert {pm_id for pm_id, _ in matter_ids} == {
        str(pk) for pk in pm.Action.objects.values_list("pk", flat=True)
    }
    assert {la_id for _, la_id in matter_ids} == {
        str(pk) for pk in la.File.objects.values_list("pk", flat=True)
    }
    # LA still knows each PM twin, as before the purge.
    for contact in la.Contact.objects.all():
        assert Link.objects.filter(
            record_type=RecordType.CONTACT, la_id=str(contact.pk), pm_id=contact.pm_contact_id
        ).exists()


def test_after_relinking_a_change_in_pm_reaches_la_once(linked_firm, admin_user):
    links_purge(user=admin_user)
    relink()
    carla = pm.Participant.objects.get(last_name="Mendes")

    pm_services.participant_update(carla, email="carla@mendes.test")
    sync_everything()

    assert la.Contact.objects.filter(last_name="Mendes").count() == 1
    assert la.Contact.objects.get(last_name="Mendes").email == "carla@mendes.test"
    assert pm.Participant.objects.filter(last_name="Mendes").count() == 1
