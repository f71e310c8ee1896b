"""What the action participants and Actionstep's real properties replace (schema, part 2):
PrimaryParticipant, the participant `reference` (real Actionstep has none; the Reference
lives in importExternalReference) and a time entry's `modified_at` (real Actionstep time
entries have no modifiedTimestamp). Also the 21 documented REST hook events and the
`Deleted` hook status.
"""

import django.db.models.deletion
import django.utils.timezone
import sandbox.pm.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sandbox_pm", "0004_default_participant_types")]

    operations = [
        migrations.RemoveField(model_name="action", name="primary_participants"),
        migrations.DeleteModel(name="PrimaryParticipant"),
        migrations.AlterField(
            model_name="actiontype",
            name="primary_participant_type",
            field=models.ForeignKey(
                default=sandbox.pm.models.client_participant_type_id,
                help_text="Participants of this type are an action's primaryParticipants.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sandbox_pm.participanttype",
            ),
        ),
        migrations.RemoveField(model_name="participant", name="reference"),
        migrations.AlterField(
            model_name="participant",
            name="import_external_reference",
            field=models.CharField(
                blank=True,
                db_index=True,
                help_text="Actionstep's importExternalReference; the sandbox keeps the firm's "
                "contact Reference (Legal Accounting's Contact Number) here.",
                max_length=100,
                verbose_name="import reference (Reference)",
            ),
        ),
        migrations.RemoveField(model_name="timeentry", name="modified_at"),
        migrations.AlterField(
            model_name="timeentry",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="resthook",
            name="event_name",
            field=models.CharField(
                choices=[
                    ("ActionCreated", "Action Created"),
                    ("ActionUpdated", "Action Updated"),
                    ("ActionDocumentCreated", "Action Document Created"),
                    ("ActionDocumentUpdated", "Action Document Updated"),
                    ("ActionDocumentDeleted", "Action Document Deleted"),
                    ("ActionParticipantAdded", "Action Participant Added"),
                    ("ActionParticipantDeleted", "Action Participant Deleted"),
                    ("DataCollectionRecordUpdated", "Data Collection Record Updated"),
                    ("DataCollectionRecordDeleted", "Data Collection Record Deleted"),
                    ("DataCollectionRecordValueUpdated", "Data Collection Record Value Updated"),
                    ("DisbursementCreated", "Disbursement Created"),
                    ("DisbursementUpdated", "Disbursement Updated"),
                    ("FileNoteCreated", "File Note Created"),
                    ("FileNoteUpdated", "File Note Updated"),
                    ("ParticipantCreated", "Participant Created"),
                    ("ParticipantUpdated", "Participant Updated"),
                    ("StepChanged", "Step Changed"),
                    ("TaskCreated", "Task Created"),
                    ("TaskUpdated", "Task Updated"),
                    ("TimeEntryCreated", "Time Entry Created"),
                    ("TimeEntryUpdated", "Time Entry Updated"),
                ],
                max_length=40,
            ),
        ),
        migrations.AlterField(
            model_name="resthook",
            name="status",
            field=models.CharField(
                choices=[("Active", "Active"), ("Disabled", "Disabled"), ("Deleted", "Deleted")],
                default="Active",
                max_length=10,
            ),
        ),
    ]
