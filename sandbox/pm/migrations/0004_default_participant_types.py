"""The participant types a fresh PM offers, every action type's primary participant type
set to "Client", and the old primary participants moved to Client action participants.

"Staff" is created first so that the Client type's id is not 1: in real Actionstep its
id differs per organisation, and a client must look it up by name.
"""

from django.db import migrations

DEFAULT_PARTICIPANT_TYPES = [
    ("Staff", "A member of the firm working on the matter."),
    ("Client", "The firm's client on the matter."),
    ("Other side", "The party opposing the client."),
]


def create_participant_types(apps, schema_editor):
    alias = schema_editor.connection.alias
    ParticipantType = apps.get_model("sandbox_pm", "ParticipantType")
    ActionType = apps.get_model("sandbox_pm", "ActionType")
    PrimaryParticipant = apps.get_model("sandbox_pm", "PrimaryParticipant")
    ActionParticipant = apps.get_model("sandbox_pm", "ActionParticipant")
    types = {
        name: ParticipantType.objects.using(alias).get_or_create(
            name=name, defaults={"description": description}
        )[0]
        for name, description in DEFAULT_PARTICIPANT_TYPES
    }
    client = types["Client"]
    ActionType.objects.using(alias).filter(primary_participant_type__isnull=True).update(
        primary_participant_type=client
    )
    ActionParticipant.objects.using(alias).bulk_create(
        ActionParticipant(
            action_id=link.action_id,
            participant_type=client,
            participant_id=link.participant_id,
            participant_number=link.position + 1,
        )
        for link in PrimaryParticipant.objects.using(alias).order_by("action_id", "position", "id")
    )


class Migration(migrations.Migration):
    dependencies = [("sandbox_pm", "0003_participant_types_action_participants_oauth")]

    operations = [migrations.RunPython(create_participant_types, migrations.RunPython.noop)]
