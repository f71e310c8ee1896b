"""Schedule the time-entry reconciliation (every 30 minutes) and the pruning of old
webhook receipts (daily) with django-q2."""

from django.db import migrations

SCHEDULES = [
    # Actionstep's time entries have no modifiedTimestamp and no deletion event.
    ("Reconcile PM time entries", "sync.tasks.time_entries_reconcile_task", 30),
    ("Prune old webhook receipts", "sync.tasks.webhook_receipts_prune_task", 24 * 60),
]


def add_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, minutes in SCHEDULES:
        Schedule.objects.using(schema_editor.connection.alias).update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1},
        )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    names = [name for name, _, _ in SCHEDULES]
    Schedule.objects.using(schema_editor.connection.alias).filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("sync", "0007_pm_connection_and_shared_budget")]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
