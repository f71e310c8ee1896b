from django.db import models


class AlertDigest(models.Model):
    """One email digest of links that turned red: what it covered and who got it.

    `since` is where the digest's window starts, the end of the one before (or the
    epoch, for the first): unique, so two workers that run the digest at once can't both
    send the same window.
    """

    since = models.DateTimeField(unique=True, help_text="Links that turned red after this…")
    covered_until = models.DateTimeField(help_text="…and up to this time are in the digest.")
    sent_at = models.DateTimeField(auto_now_add=True)
    new_errors = models.PositiveIntegerField(help_text="Links that turned red in the window.")
    total_errors = models.PositiveIntegerField(help_text="Links in error when it was sent.")
    recipients = models.TextField(blank=True)
    subject = models.CharField(max_length=200)

    class Meta:
        ordering = ["-covered_until"]
        verbose_name = "alert digest"

    def __str__(self) -> str:
        return self.subject
