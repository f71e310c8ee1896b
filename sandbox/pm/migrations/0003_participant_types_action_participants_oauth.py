"""Participant types, action participants and the OAuth2 grant records (schema, part 1).

The primary participants move to action participants in 0004; 0005 drops what they
replace. The sandbox holds throwaway demo data, so old tokens are simply dropped.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sandbox_pm", "0002_default_action_types")]

    operations = [
        migrations.CreateModel(
            name="ParticipantType",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=50, unique=True)),
                ("description", models.CharField(blank=True, max_length=255)),
                ("company_flag", models.BooleanField(default=False)),
                ("is_base_participant_type", models.BooleanField(default=False)),
            ],
        ),
        migrations.AddField(
            model_name="actiontype",
            name="primary_participant_type",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sandbox_pm.participanttype",
            ),
        ),
        migrations.CreateModel(
            name="ActionParticipant",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("participant_number", models.PositiveIntegerField(editable=False)),
                ("action", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="participant_links", to="sandbox_pm.action")),
                ("participant", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="action_links", to="sandbox_pm.participant")),
                ("participant_type", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="sandbox_pm.participanttype")),
            ],
            options={"ordering": ["participant_number", "id"]},
        ),
        migrations.AddConstraint(
            model_name="actionparticipant",
            constraint=models.UniqueConstraint(
                fields=("action", "participant_type", "participant"),
                name="sandbox_pm_one_action_participant_per_role",
            ),
        ),
        migrations.DeleteModel(name="AccessToken"),
        migrations.CreateModel(
            name="Grant",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("client_id", models.CharField(max_length=100)),
                ("scopes", models.CharField(help_text="Space-separated scope names.", max_length=500)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="grants", to="sandbox_pm.user")),
            ],
        ),
        migrations.CreateModel(
            name="AuthorizationCode",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("redirect_uri", models.CharField(max_length=1000)),
                ("code_challenge", models.CharField(blank=True, max_length=128)),
                ("expires_at", models.DateTimeField()),
                ("grant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="codes", to="sandbox_pm.grant")),
            ],
        ),
        migrations.CreateModel(
            name="AccessToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("scopes", models.CharField(max_length=500)),
                ("expires_at", models.DateTimeField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("grant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="access_tokens", to="sandbox_pm.grant")),
            ],
        ),
        migrations.CreateModel(
            name="RefreshToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("scopes", models.CharField(max_length=500)),
                ("expires_at", models.DateTimeField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("grant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="refresh_tokens", to="sandbox_pm.grant")),
            ],
        ),
    ]
