"""PM resthooks and LA webhooks are registered, and PM's disabled hooks replaced."""

from io import StringIO

import pytest
from django.core.management import call_command

from sandbox.la import models as la
from sandbox.pm import models as pm
from sync.models import PmConnection
from sync.services.subscriptions import poll_pass

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def active_hooks():
    return pm.RestHook.objects.filter(status=pm.RestHook.Status.ACTIVE)


def test_register_webhooks_subscribes_to_every_event_once_at_a_secret_url(systems):
    out = StringIO()
    call_command("register_webhooks", stdout=out)

    hooks = active_hooks()
    assert sorted(hooks.values_list("event_name", flat=True)) == sorted(
        [
            "ParticipantCreated",
            "ParticipantUpdated",
            "ActionCreated",
            "ActionUpdated",
            "ActionParticipantAdded",
            "ActionParticipantDeleted",
            "TimeEntryCreated",
            "TimeEntryUpdated",
        ]
    )
    secret = PmConnection.objects.get().resthook_secret
    assert len(secret) >= 40
    for hook in hooks:
        assert hook.target_url == f"{systems.url}/webhooks/pm/{hook.event_name}/{secret}/"
    subscription = la.Webhook.objects.get(url=f"{systems.url}/webhooks/la/")
    assert set(subscription.events) == {
        "contact.created",
        "contact.updated",
        "time_entries.billed",
        "time_entry.updated",
    }


def test_registering_again_makes_a_new_secret_and_replaces_every_hook(systems):
    call_command("register_webhooks", stdout=StringIO())
    first_secret = PmConnection.objects.get().resthook_secret
    first_hooks = set(active_hooks().values_list("pk", flat=True))

    call_command("register_webhooks", stdout=StringIO())

    assert PmConnection.objects.get().resthook_secret != first_secret
    assert not first_hooks & set(active_hooks().values_list("pk", flat=True))
    assert active_hooks().count() == 8


def test_a_hook_pm_disabled_is_replaced_by_the_next_polling_pass(systems):
    call_command("register_webhooks", stdout=StringIO())
    secret = PmConnection.objects.get().resthook_secret
    disabled = pm.RestHook.objects.get(event_name="ParticipantCreated", status="Active")
    disabled.status = pm.RestHook.Status.DISABLED
    disabled.save()

    poll_pass()

    hooks = active_hooks().filter(event_name="ParticipantCreated")
    assert hooks.count() == 1
    assert hooks.get().pk != disabled.pk
    assert secret in hooks.get().target_url  # the other hooks' secret still stands
    assert active_hooks().count() == 8


def test_a_delivery_from_the_sandbox_reaches_the_hub_unsigned_and_is_taken_in(systems):
    from sandbox.pm import services as pm_services
    from sync.models import WebhookReceipt

    call_command("register_webhooks", stdout=StringIO())

    participant = pm_services.participant_create(
        first_name="Via", last_name="Hook", display_name="Hook, Via"
    )

    receipt = WebhookReceipt.objects.get(event="ParticipantCreated")
    assert receipt.payload == {"ids": [str(participant.pk)]}
    assert receipt.processed_at is not None
