"""The "Integration admins" group whose members get the alert digests, and the schedule
that runs the digest every minute (it sends at most one per ALERT_DIGEST_MINUTES)."""

from django.conf import settings
from django.db import migrations

SCHEDULE = "Email the link error digest"


def add(apps, schema_editor):
    alias = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Group.objects.using(alias).get_or_create(name=settings.ALERT_GROUP)
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(alias).update_or_create(
        name=SCHEDULE,
        defaults={
            "func": "sync.alerts.tasks.alert_digest_task",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


def remove(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(name=SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sync_alerts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(add, remove)]
