from django.contrib import admin

from config.admin_access import ReadOnlyAdmin

from .models import AlertDigest


@admin.register(AlertDigest)
class AlertDigestAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """The digests sent: what each covered and who got it (history, never changed)."""

    list_display = ["sent_at", "subject", "new_errors", "total_errors", "recipients"]
    readonly_fields = [
        "sent_at",
        "subject",
        "since",
        "covered_until",
        "new_errors",
        "total_errors",
        "recipients",
    ]
    date_hierarchy = "sent_at"
