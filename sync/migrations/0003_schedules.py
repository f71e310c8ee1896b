"""Schedule polling and the retry sweep with django-q2 (every minute each)."""

from django.db import migrations

SCHEDULES = [
    ("Poll PM and LA for changes", "sync.tasks.poll_task"),
    ("Re-queue due and stuck links", "sync.tasks.sweep_task"),
]


def add_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES:
        Schedule.objects.using(schema_editor.connection.alias).update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1}
        )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    names = [name for name, _ in SCHEDULES]
    Schedule.objects.using(schema_editor.connection.alias).filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0002_link_lease_poll_cursor_webhook_receipt"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
