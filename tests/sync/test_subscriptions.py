"""PM resthooks and LA webhooks are registered, and PM's disabled hooks replaced."""

from io import StringIO

import pytest
from django.core.management import call_command

from sandbox.la import models as la
from sandbox.pm import models as pm
from sync.services.subscriptions import poll_pass

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_register_webhooks_subscribes_to_every_event_once(systems):
    out = StringIO()
    call_command("register_webhooks", stdout=out)
    call_command("register_webhooks", stdout=out)

    hooks = pm.RestHook.objects.filter(target_url=f"{systems.url}/webhooks/pm/")
    assert sorted(hooks.values_list("event_name", flat=True)) == sorted(
        [
            "ParticipantCreated",
            "ParticipantUpdated",
            "ActionCreated",
            "ActionUpdated",
            "TimeEntryCreated",
            "TimeEntryUpdated",
            "TimeEntryDeleted",
        ]
    )
    subscription = la.Webhook.objects.get(url=f"{systems.url}/webhooks/la/")
    assert set(subscription.events) == {
        "contact.created",
        "contact.updated",
        "time_entries.billed",
        "time_entry.updated",
    }
    assert "all active" in out.getvalue()


def test_a_hook_pm_disabled_is_replaced_by_the_next_polling_pass(systems):
    call_command("register_webhooks", stdout=StringIO())
    disabled = pm.RestHook.objects.get(event_name="ParticipantCreated")
    disabled.status = pm.RestHook.Status.DISABLED
    disabled.save()

    poll_pass()

    hooks = pm.RestHook.objects.filter(event_name="ParticipantCreated")
    assert list(hooks.values_list("status", flat=True)) == [pm.RestHook.Status.ACTIVE]
    assert not hooks.filter(pk=disabled.pk).exists()
