"""Refresh LA's matter balances every 15 minutes."""

from django.db import migrations

NAME = "Refresh matter balances from LA"


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).update_or_create(
        name=NAME,
        defaults={
            "func": "sync.tasks.balances_refresh_task",
            "schedule_type": "I",
            "minutes": 15,
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("sync", "0004_link_resync_permission")]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
