"""/api/v1/contacts/: read, create, change, filter and resync contacts."""

import pytest

from contacts.models import Contact
from sync.advice import advice_for
from sync.models import Link, LinkStatus
from tests.factories import ContactFactory, ContactLinkFactory

from .conftest import ids, queries_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"
VIEW = "contacts.view_contact"


def detail(contact) -> str:
    return f"{URL}{contact.pk}/"


def test_it_lists_contacts_with_their_link_indicator(api_with):
    link = ContactLinkFactory(
        status=LinkStatus.ERROR,
        error_code="already_assigned",
        message="contact number already assigned",
        error_system="la",
        attempts=2,
    )

    response = api_with(VIEW).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == link.contact_id
    assert row["display_name"] == link.contact.display_name
    assert row["link"] == {
        "status": "error",
        "message": "contact number already assigned",
        "error_code": "already_assigned",
        "error_system": "la",
        "last_synced_at": None,
        "pm_id": link.pm_id,
        "la_id": link.la_id,
        "attempts": 2,
        "next_retry_at": None,
        "advice": advice_for("already_assigned").what_to_do,
    }


def test_a_contact_with_no_link_yet_shows_an_unsynced_link_block(api_with):
    contact = ContactFactory()

    response = api_with(VIEW).get(detail(contact))

    assert response.status_code == 200
    assert response.json()["link"] == {
        "status": "unsynced",
        "message": "",
        "error_code": "",
        "error_system": "",
        "last_synced_at": None,
        "pm_id": None,
        "la_id": None,
        "attempts": 0,
        "next_retry_at": None,
        "advice": "",
    }


def test_it_shows_one_contact_with_every_mapped_field(api_with):
    contact = ContactFactory(reference="C-7", physical_city="Auckland", phone_mobile="021 555")

    body = api_with(VIEW).get(detail(contact)).json()

    assert body["id"] == contact.pk
    assert body["reference"] == "C-7"
    assert body["physical_city"] == "Auckland"
    assert body["phone_mobile"] == "021 555"
    assert body["link"]["status"] == "unsynced"


def test_it_creates_a_contact_and_queues_its_sync(api_with, django_capture_on_commit_callbacks):
    client = api_with("contacts.add_contact")

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            URL,
            {"first_name": "Jane", "last_name": "Doe", "reference": "C-1", "kind": "vendor"},
            format="json",
        )

    assert response.status_code == 201, response.content
    contact = Contact.objects.get(pk=response.json()["id"])
    assert (contact.first_name, contact.reference, contact.kind) == ("Jane", "C-1", "vendor")
    assert response.json()["link"]["status"] == "pending"
    assert Link.objects.get(contact=contact).status == LinkStatus.PENDING
    assert len(callbacks) == 1


def test_it_replaces_a_contact_with_put_and_queues_its_sync(
    api_with, django_capture_on_commit_callbacks
):
    contact = ContactFactory(first_name="Jane", last_name="Doe")
    client = api_with("contacts.change_contact")

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.put(
            detail(contact),
            {"first_name": "Janet", "last_name": "Dough", "email": "janet@example.com"},
            format="json",
        )

    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.email) == (
        "Janet",
        "Dough",
        "janet@example.com",
    )
    assert response.json()["link"]["status"] == "pending"
    assert len(callbacks) == 1


def test_patch_changes_only_the_fields_sent(api_with, django_capture_on_commit_callbacks):
    link = ContactLinkFactory(contact__first_name="Jane", contact__last_name="Doe")
    client = api_with("contacts.change_contact")

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.patch(detail(link.contact), {"phone_mobile": "021 1"}, format="json")

    assert response.status_code == 200, response.content
    contact = Contact.objects.get(pk=link.contact_id)
    assert (contact.first_name, contact.last_name, contact.phone_mobile) == ("Jane", "Doe", "021 1")
    link.refresh_from_db()
    assert link.status == LinkStatus.PENDING
    assert response.json()["link"]["pm_id"] == link.pm_id
    assert len(callbacks) == 1


@pytest.mark.parametrize("reference", ["A B", "A*B", "A\tB"])
def test_it_refuses_a_reference_with_a_star_or_spaces_and_names_the_field(api_with, reference):
    response = api_with("contacts.add_contact").post(
        URL, {"last_name": "Doe", "reference": reference}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == "reference: A reference may not contain '*' or spaces."
    assert list(error["fields"]) == ["reference"]
    assert not Contact.objects.exists()


def test_a_change_to_a_bad_reference_is_refused_and_nothing_is_queued(api_with):
    contact = ContactFactory(reference="C-1")

    response = api_with("contacts.change_contact").patch(
        detail(contact), {"reference": "C 1"}, format="json"
    )

    assert response.status_code == 400
    assert "reference" in response.json()["error"]["fields"]
    contact.refresh_from_db()
    assert contact.reference == "C-1"
    assert not Link.objects.exists()


def test_a_person_needs_a_first_or_last_name(api_with):
    response = api_with("contacts.add_contact").post(URL, {"email": "x@example.com"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "last_name": ["A person needs a first or last name."]
    }


def test_a_company_needs_a_company_name(api_with):
    response = api_with("contacts.add_contact").post(URL, {"is_company": True}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["company_name"]


def test_a_patch_checks_the_name_rule_against_the_saved_contact(api_with):
    contact = ContactFactory(first_name="", last_name="Doe")

    response = api_with("contacts.change_contact").patch(
        detail(contact), {"last_name": ""}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["last_name"]


@pytest.mark.parametrize("status", [LinkStatus.ERROR, LinkStatus.PENDING, LinkStatus.SYNCED])
def test_it_filters_by_link_status(api_with, status):
    wanted = ContactLinkFactory(status=status).contact
    ContactLinkFactory(status=LinkStatus.UNKNOWN)
    ContactFactory()

    assert ids(api_with(VIEW).get(URL, {"link_status": status})) == {wanted.pk}


def test_unsynced_includes_contacts_that_have_no_link_yet(api_with):
    unlinked = ContactFactory()
    unsynced = ContactLinkFactory(status=LinkStatus.UNSYNCED, pm_id=None, la_id=None).contact
    ContactLinkFactory(status=LinkStatus.SYNCED)

    assert ids(api_with(VIEW).get(URL, {"link_status": "unsynced"})) == {unlinked.pk, unsynced.pk}


def test_it_filters_by_error_code(api_with):
    clash = ContactLinkFactory(status=LinkStatus.ERROR, error_code="already_assigned").contact
    ContactLinkFactory(status=LinkStatus.ERROR, error_code="invalid_reference")
    ContactFactory()

    assert ids(api_with(VIEW).get(URL, {"error_code": "already_assigned"})) == {clash.pk}


def test_it_filters_by_the_system_a_contact_is_linked_in(api_with):
    both = ContactLinkFactory().contact
    pm_only = ContactLinkFactory(la_id=None).contact
    la_only = ContactLinkFactory(pm_id=None).contact
    ContactFactory()
    client = api_with(VIEW)

    assert ids(client.get(URL, {"system": "pm"})) == {both.pk, pm_only.pk}
    assert ids(client.get(URL, {"system": "la"})) == {both.pk, la_only.pk}


@pytest.mark.parametrize("term", ["jan", "DOE", "middle", "Acme", "Jd", "C-42", "jane.doe@"])
def test_search_matches_names_reference_and_email(api_with, term):
    jane = ContactFactory(
        first_name="Jane",
        last_name="Doe",
        middle_name="Middleton",
        alias="JD",
        company_name="Acme Ltd",
        reference="C-42",
        email="jane.doe@example.com",
    )
    ContactFactory(first_name="Bob", last_name="Smith", email="bob@example.com", reference="B-1")

    assert ids(api_with(VIEW).get(URL, {"search": term})) == {jane.pk}


def test_empty_filter_values_are_ignored(api_with):
    ContactFactory.create_batch(2)

    assert len(ids(api_with(VIEW).get(URL, {"link_status": "", "search": ""}))) == 2


@pytest.mark.parametrize(("name", "value"), [("link_status", "purple"), ("system", "xero")])
def test_an_unknown_filter_value_is_a_400_naming_the_parameter(api_with, name, value):
    response = api_with(VIEW).get(URL, {name: value})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"].startswith(f"{name}: ")
    assert list(error["fields"]) == [name]


def test_resync_queues_a_fresh_sync_and_answers_202_with_the_pending_link(
    api_with, django_capture_on_commit_callbacks
):
    link = ContactLinkFactory(status=LinkStatus.ERROR, error_code="already_assigned", attempts=3)

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_with(VIEW, "sync.resync_link").post(f"{detail(link.contact)}resync/")

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    assert response.json()["error_code"] == ""
    assert response.json()["attempts"] == 0
    link.refresh_from_db()
    assert (link.status, link.attempts) == (LinkStatus.PENDING, 0)
    assert len(callbacks) == 1


def test_resync_without_the_view_permission_answers_the_status_alone(
    api_with, django_capture_on_commit_callbacks
):
    link = ContactLinkFactory(status=LinkStatus.ERROR, pm_id="4711", la_id="C-88", message="no")

    with django_capture_on_commit_callbacks():
        response = api_with("sync.resync_link").post(f"{detail(link.contact)}resync/")

    assert response.status_code == 202
    assert response.json() == {"status": "pending"}
    assert "4711" not in response.content.decode()
    assert "C-88" not in response.content.decode()


def test_resync_with_the_links_view_permission_answers_the_whole_indicator(
    api_with, django_capture_on_commit_callbacks
):
    link = ContactLinkFactory(status=LinkStatus.ERROR, pm_id="4711", la_id="C-88")

    with django_capture_on_commit_callbacks():
        client = api_with("sync.view_link", "sync.resync_link")
        response = client.post(f"{detail(link.contact)}resync/")

    assert (response.json()["pm_id"], response.json()["la_id"]) == ("4711", "C-88")


def test_resync_links_a_contact_that_had_no_link(api_with, django_capture_on_commit_callbacks):
    contact = ContactFactory()

    with django_capture_on_commit_callbacks():
        response = api_with("sync.resync_link").post(f"{detail(contact)}resync/")

    assert response.status_code == 202
    assert Link.objects.get(contact=contact).status == LinkStatus.PENDING


def test_resync_needs_the_resync_permission(api_with):
    link = ContactLinkFactory(status=LinkStatus.ERROR)
    client = api_with(VIEW, "contacts.change_contact", "contacts.add_contact")

    response = client.post(f"{detail(link.contact)}resync/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    link.refresh_from_db()
    assert link.status == LinkStatus.ERROR


def test_resync_of_an_unknown_contact_is_404(api_with):
    response = api_with("sync.resync_link").post(f"{URL}999999/resync/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("get", "{id}/"),
        ("post", ""),
        ("put", "{id}/"),
        ("patch", "{id}/"),
        ("post", "{id}/resync/"),
    ],
)
def test_anonymous_callers_get_401(api, method, path):
    contact = ContactFactory()

    response = getattr(api, method)(URL + path.format(id=contact.pk), {}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("path", ["", "{id}/"])
def test_reading_needs_the_view_permission(api_with, path):
    contact = ContactFactory()
    url = URL + path.format(id=contact.pk)

    assert api_with("contacts.change_contact").get(url).status_code == 403
    assert api_with(VIEW).get(url).status_code == 200


def test_creating_needs_the_add_permission(api_with, django_capture_on_commit_callbacks):
    payload = {"last_name": "Doe"}

    refused = api_with(VIEW, "contacts.change_contact").post(URL, payload, format="json")
    with django_capture_on_commit_callbacks():
        created = api_with("contacts.add_contact").post(URL, payload, format="json")

    assert refused.status_code == 403
    assert created.status_code == 201
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("method", ["put", "patch"])
def test_changing_needs_the_change_permission(api_with, django_capture_on_commit_callbacks, method):
    contact = ContactFactory(last_name="Doe")
    payload = {"last_name": "Dough"}

    refused = getattr(api_with(VIEW, "contacts.add_contact"), method)(
        detail(contact), payload, format="json"
    )
    with django_capture_on_commit_callbacks():
        changed = getattr(api_with("contacts.change_contact"), method)(
            detail(contact), payload, format="json"
        )

    assert refused.status_code == 403
    assert changed.status_code == 200
    contact.refresh_from_db()
    assert contact.last_name == "Dough"


def test_listing_contacts_costs_the_same_queries_for_3_or_30(api_with):
    client = api_with(VIEW)
    ContactLinkFactory.create_batch(2)
    ContactFactory()
    few = queries_for(client, URL)

    ContactLinkFactory.create_batch(17)
    ContactFactory.create_batch(10)
    many = queries_for(client, URL)

    assert few == many


def test_it_filters_contacts_by_the_system_their_failure_came_from(api_with):
    from_la = ContactLinkFactory(status="error", error_code="already_assigned", error_system="la")
    ContactLinkFactory(status="error", error_code="invalid_reference", error_system="hub")

    response = api_with(VIEW).get(URL, {"error_system": "la"})

    assert ids(response) == {from_la.contact_id}
