"""The matter types a fresh PM offers, so `actioncreate` works before anyone seeds."""

from django.db import migrations

DEFAULT_ACTION_TYPES = [
    "General Matter",
    "Conveyancing - Purchase",
    "Conveyancing - Sale",
    "Litigation",
    "Family Law",
    "Wills and Estates",
    "Commercial",
    "Employment",
]


def create_action_types(apps, schema_editor):
    ActionType = apps.get_model("sandbox_pm", "ActionType")
    ActionType.objects.using(schema_editor.connection.alias).bulk_create(
        [ActionType(name=name) for name in DEFAULT_ACTION_TYPES], ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [("sandbox_pm", "0001_initial")]

    operations = [migrations.RunPython(create_action_types, migrations.RunPython.noop)]
