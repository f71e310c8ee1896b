"""/api/v1/matters/: read, create, change, filter and resync matters."""

import datetime

import pytest

from matters.models import Matter
from sync.models import Link, LinkStatus
from tests.factories import (
    ContactFactory,
    MatterFactory,
    MatterLinkFactory,
    TimekeeperFactory,
)

from .conftest import ids, queries_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/matters/"
VIEW = "matters.view_matter"


def detail(matter) -> str:
    return f"{URL}{matter.pk}/"


def test_it_lists_matters_with_client_assignee_and_link(api_with):
    link = MatterLinkFactory(matter__file_reference="000123", status=LinkStatus.SYNCED)
    matter = link.matter

    response = api_with(VIEW).get(URL)

    assert response.status_code == 200
    row = response.json()["results"][0]
    assert row["name"] == matter.name
    assert row["file_reference"] == "000123"
    assert row["client"] == {
        "id": matter.client_id,
        "display_name": matter.client.display_name,
        "reference": "",
    }
    assert row["assigned_to"]["id"] == matter.assigned_to_id
    assert row["open_date"] == "2026-01-05"
    assert row["status"] == "active"
    assert row["link"]["status"] == "synced"
    assert row["link"]["pm_id"] == link.pm_id
    assert row["link"]["la_id"] == link.la_id


def test_a_matter_with_no_link_yet_shows_an_unsynced_link_block(api_with):
    matter = MatterFactory(assigned_to=None)

    body = api_with(VIEW).get(detail(matter)).json()

    assert body["assigned_to"] is None
    assert body["link"]["status"] == "unsynced"
    assert body["link"]["pm_id"] is None
    assert body["link"]["la_id"] is None


def test_it_creates_a_matter_and_queues_its_sync(api_with, django_capture_on_commit_callbacks):
    client_contact = ContactFactory()
    lawyer = TimekeeperFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_with("matters.add_matter").post(
            URL,
            {
                "name": "Purchase of 222 Beach Rd",
                "client": client_contact.pk,
                "assigned_to": lawyer.pk,
                "open_date": "2026-03-01",
            },
            format="json",
        )

    assert response.status_code == 201, response.content
    matter = Matter.objects.get(pk=response.json()["id"])
    assert matter.client == client_contact
    assert matter.assigned_to == lawyer
    assert matter.open_date == datetime.date(2026, 3, 1)
    assert matter.status == Matter.Status.ACTIVE
    assert matter.file_reference == ""
    assert response.json()["link"]["status"] == "pending"
    assert Link.objects.get(matter=matter).status == LinkStatus.PENDING
    assert len(callbacks) == 1


def test_a_matter_needs_a_name_and_an_existing_client(api_with):
    response = api_with("matters.add_matter").post(URL, {"client": 999999}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"name", "client"}
    assert error["message"].startswith("name: ")
    assert not Matter.objects.exists()


def test_an_unknown_status_is_refused(api_with):
    matter = MatterFactory()

    response = api_with("matters.change_matter").patch(
        detail(matter), {"status": "archived"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["status"]


def test_it_replaces_a_matter_with_put(api_with, django_capture_on_commit_callbacks):
    matter = MatterFactory()
    other_client = ContactFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_with("matters.change_matter").put(
            detail(matter),
            {"name": "Sale of 3 Hill St", "client": other_client.pk, "assigned_to": None},
            format="json",
        )

    assert response.status_code == 200, response.content
    matter.refresh_from_db()
    assert (matter.name, matter.client, matter.assigned_to) == (
        "Sale of 3 Hill St",
        other_client,
        None,
    )
    assert len(callbacks) == 1


def test_patch_changes_only_the_fields_sent_and_queues_a_sync(
    api_with, django_capture_on_commit_callbacks
):
    link = MatterLinkFactory(matter__name="Lease", status=LinkStatus.ERROR, attempts=4)

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_with("matters.change_matter").patch(
            detail(link.matter), {"file_reference": "25-001"}, format="json"
        )

    assert response.status_code == 200, response.content
    matter = Matter.objects.get(pk=link.matter_id)
    assert (matter.name, matter.file_reference) == ("Lease", "25-001")
    assert response.json()["link"]["status"] == "pending"
    assert response.json()["link"]["attempts"] == 0
    assert len(callbacks) == 1


@pytest.mark.parametrize("status", [LinkStatus.ERROR, LinkStatus.UNKNOWN])
def test_it_filters_by_link_status(api_with, status):
    wanted = MatterLinkFactory(status=status).matter
    MatterLinkFactory(status=LinkStatus.SYNCED)
    MatterFactory()

    assert ids(api_with(VIEW).get(URL, {"link_status": status})) == {wanted.pk}


def test_unsynced_includes_matters_that_have_no_link_yet(api_with):
    unlinked = MatterFactory()
    MatterLinkFactory(status=LinkStatus.SYNCED)

    assert ids(api_with(VIEW).get(URL, {"link_status": "unsynced"})) == {unlinked.pk}


def test_it_filters_by_error_code(api_with):
    wanted = MatterLinkFactory(status=LinkStatus.ERROR, error_code="client_not_linked").matter
    MatterLinkFactory(status=LinkStatus.ERROR, error_code="already_assigned")

    assert ids(api_with(VIEW).get(URL, {"error_code": "client_not_linked"})) == {wanted.pk}


def test_it_filters_by_the_system_a_matter_is_linked_in(api_with):
    pm_only = MatterLinkFactory(la_id=None, status=LinkStatus.PENDING).matter
    both = MatterLinkFactory().matter
    MatterFactory()
    client = api_with(VIEW)

    assert ids(client.get(URL, {"system": "pm"})) == {pm_only.pk, both.pk}
    assert ids(client.get(URL, {"system": "la"})) == {both.pk}


@pytest.mark.parametrize("term", ["beach", "AB8383"])
def test_search_matches_the_name_and_file_reference(api_with, term):
    wanted = MatterFactory(name="Purchase of 222 Beach Rd", file_reference="AB8383/GD")
    MatterFactory(name="Estate of J Smith", file_reference="000900")

    assert ids(api_with(VIEW).get(URL, {"search": term})) == {wanted.pk}


def test_an_unknown_filter_value_is_a_400_naming_the_parameter(api_with):
    response = api_with(VIEW).get(URL, {"system": "both"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"].keys() == {"system"}


def test_resync_queues_a_fresh_sync_and_answers_202(api_with, django_capture_on_commit_callbacks):
    link = MatterLinkFactory(status=LinkStatus.ERROR, error_code="client_not_linked", attempts=1)

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_with(VIEW, "sync.resync_link").post(f"{detail(link.matter)}resync/")

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert response.json()["la_id"] == link.la_id
    link.refresh_from_db()
    assert link.status == LinkStatus.PENDING
    assert len(callbacks) == 1


def test_resync_without_the_view_permission_reveals_no_pm_or_la_id(
    api_with, django_capture_on_commit_callbacks
):
    link = MatterLinkFactory(status=LinkStatus.ERROR, pm_id="113", la_id="F-9")

    with django_capture_on_commit_callbacks():
        response = api_with("sync.resync_link").post(f"{detail(link.matter)}resync/")

    assert response.status_code == 202
    assert response.json() == {"status": "pending"}


def test_resync_needs_the_resync_permission(api_with):
    matter = MatterFactory()

    response = api_with(VIEW, "matters.change_matter").post(f"{detail(matter)}resync/")

    assert response.status_code == 403
    assert not Link.objects.exists()


def test_anonymous_callers_get_401(api):
    matter = MatterFactory()

    assert api.get(URL).status_code == 401
    assert api.get(detail(matter)).status_code == 401
    assert api.post(URL, {}, format="json").status_code == 401
    assert api.patch(detail(matter), {}, format="json").status_code == 401
    assert api.post(f"{detail(matter)}resync/").status_code == 401


def test_each_operation_needs_its_permission(api_with, django_capture_on_commit_callbacks):
    matter = MatterFactory()
    payload = {"name": "Lease", "client": matter.client_id}
    nobody = api_with("contacts.view_contact")

    assert nobody.get(URL).status_code == 403
    assert nobody.get(detail(matter)).status_code == 403
    assert nobody.post(URL, payload, format="json").status_code == 403
    assert nobody.patch(detail(matter), payload, format="json").status_code == 403
    with django_capture_on_commit_callbacks():
        assert api_with(VIEW).get(URL).status_code == 200
        assert api_with("matters.add_matter").post(URL, payload, format="json").status_code == 201
        changer = api_with("matters.change_matter")
        assert changer.patch(detail(matter), payload, format="json").status_code == 200


def test_listing_matters_costs_the_same_queries_for_3_or_30(api_with):
    client = api_with(VIEW)
    MatterLinkFactory.create_batch(2)
    MatterFactory(assigned_to=None)
    few = queries_for(client, URL)

    MatterLinkFactory.create_batch(17)
    MatterFactory.create_batch(10)
    many = queries_for(client, URL)

    assert few == many
