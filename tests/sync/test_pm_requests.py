"""Every request the PM connector sends in a full sync fits Actionstep's own description
of it (the OpenAPI files in sandbox/pm/openapi/, and our supplement for the resources
those files lack): the emulator's answers are held to the same files by tests/sandbox.
Over real HTTP against the sandbox."""

from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from contacts.models import Contact
from matters.models import Matter
from sandbox.la import models as la
from sandbox.la import services as la_services
from sandbox.pm import models as pm
from sandbox.pm import services as pm_services
from sync.connectors.base import JsonHttpClient
from sync.models import Link, LinkStatus
from sync.services import link_sync, record_create
from tests.sandbox.test_pm_support import _components, _validate
from tests.sync.helpers import pm_matter, sync_everything

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

# (method, resource) → (the file's resource key, the request schema, the wrapper key).
REQUEST_SCHEMAS = {
    ("POST", "participants"): ("participants", "CreateParticipant", "participants"),
    ("PUT", "participants"): ("participants", "UpdateParticipant", "participants"),
    ("PATCH", "actions"): ("actions", "UpdateAction", "actions"),
    ("POST", "resthooks"): ("resthooks", "CreateRESTHook", "resthooks"),
    ("POST", "actioncreate"): ("actioncreate", "ActionCreateRequest", None),
    ("POST", "actionparticipants"): ("actionparticipants", "CreateActionParticipant", None),
}


@pytest.fixture
def sent(monkeypatch):
    """Every request the PM connector sends: (method, resource, JSON body)."""
    requests: list[tuple[str, str, object]] = []
    original = JsonHttpClient.send

    def recording(client, method, path, **kwargs):
        if client.system == "pm":
            resource = urlsplit(client.url(path)).path.split("/rest/", 1)[1].split("/")[0]
            requests.append((method, resource, kwargs.get("json")))
        return original(client, method, path, **kwargs)

    monkeypatch.setattr(JsonHttpClient, "send", recording)
    return requests


def assert_fits(method: str, resource: str, body: dict) -> None:
    """Actionstep's files describe the record inside its `{"<resource>": ...}` wrapper;
    our supplement describes the whole body."""
    spec_resource, schema, wrapper = REQUEST_SCHEMAS[(method, resource)]
    record = body[wrapper] if wrapper else body[resource]
    _validate(record if wrapper else body, spec_resource, schema)
    properties = _components(spec_resource)["schemas"][schema]["properties"]
    if wrapper is None:
        properties = properties[resource]["properties"]
    assert set(record) <= set(properties), f"{method} {resource}: {set(record) - set(properties)}"


def test_every_write_of_a_full_sync_fits_actionsteps_request_schemas(lawyer, sent, settings):
    user, _ = lawyer
    settings.PM_ACTION_TYPE_ID = pm.ActionType.objects.get_or_create(name="General Matter")[0].pk
    call_command("register_webhooks", stdout=StringIO())
    # A contact and a matter made in PM, a contact made in LA.
    action = pm_matter(assigned=user)
    la_services.contact_create(data={"first_name": "Li", "last_name": "Wei", "kind": "client"})
    sync_everything()
    # An edit in LA reaches PM as an update.
    contact = Contact.objects.get(last_name="Wei")
    la_contact = la.Contact.objects.get(pk=int(contact.link.la_id))
    la_services.contact_update(contact=la_contact, data={"email": "li@example.test"})
    sync_everything()
    # A matter made in the hub is created in PM through actioncreate, with its client.
    matter = record_create(Matter, {"name": "Made in the hub", "client": contact})
    link_sync(link_id=matter.link.pk)

    writes = [(method, resource, body) for method, resource, body in sent if body is not None]
    assert {(method, resource) for method, resource, _ in writes} == set(REQUEST_SCHEMAS)
    for method, resource, body in writes:
        assert_fits(method, resource, body)
    # And what they did: the hub's matter is an action in PM with its client and number.
    matter.link.refresh_from_db()
    assert matter.link.status == LinkStatus.SYNCED
    made = pm.Action.objects.get(pk=matter.link.pm_id)
    assert made.primary_participant_ids == [int(contact.link.pm_id)]
    matter.refresh_from_db()
    assert made.reference == matter.file_reference != ""
    assert Link.objects.filter(record_type="matter", pm_id=str(action.pk)).exists()


def test_the_client_of_a_matter_made_in_the_hub_is_attached_when_its_first_try_failed(
    lawyer, settings, monkeypatch
):
    """An actioncreate whose client link was lost is found by its import reference and
    finished, not created again."""
    from sync.connectors.actionstep.client import ActionstepClient

    settings.PM_ACTION_TYPE_ID = pm.ActionType.objects.get_or_create(name="General Matter")[0].pk
    client = pm_services.participant_create(first_name="Cli", last_name="Ent")
    sync_everything()
    contact = Contact.objects.get(link__pm_id=str(client.pk))
    original, failures = ActionstepClient.action_client_add, []

    def failing_once(self, action_id, participant_id):
        if not failures:
            failures.append(action_id)
            raise ConnectionError("lost")
        return original(self, action_id, participant_id)

    monkeypatch.setattr(ActionstepClient, "action_client_add", failing_once)
    with pytest.raises(ConnectionError):  # the queued sync runs at once in tests
        record_create(Matter, {"name": "Retried", "client": contact})
    matter = Matter.objects.get(name="Retried")
    link_sync(link_id=matter.link.pk)

    assert pm.Action.objects.filter(name="Retried").count() == 1
    made = pm.Action.objects.get(name="Retried")
    assert made.primary_participant_ids == [client.pk]
    matter.link.refresh_from_db()
    assert (matter.link.status, matter.link.pm_id) == (LinkStatus.SYNCED, str(made.pk))
