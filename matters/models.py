from decimal import Decimal

from django.db import models


class Matter(models.Model):
    """A matter: created in PM (an action), mirrored to LA (a file). ARCHITECTURE §2."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        CLOSED = "closed", "Closed"

    name = models.CharField("matter name", max_length=300)
    file_reference = models.CharField(
        max_length=50,
        blank=True,
        db_index=True,
        help_text="LA's matter number. Leave blank and LA generates it.",
    )
    client = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="matters")
    assigned_to = models.ForeignKey(
        "timekeeping.Timekeeper",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="matters",
    )
    open_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.file_reference} {self.name}".strip()


def money_field(label: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=14, decimal_places=2, default=Decimal("0"))


class MatterBalance(models.Model):
    """LA's balances of one matter, read-only, as of the time they were read."""

    matter = models.OneToOneField(Matter, on_delete=models.CASCADE, related_name="balance")
    trust = money_field("trust balance")
    wip_fees = money_field("unbilled time (WIP fees)")
    wip_disbursements = money_field("unbilled disbursements")
    accounts_receivable = money_field("accounts receivable")
    unallocated_credit = money_field("unallocated credit")
    currency = models.CharField(max_length=3, default="USD")
    as_of = models.DateTimeField(
        null=True, blank=True, help_text="When these figures were read from LA."
    )
    last_error = models.TextField(blank=True, help_text="Why the last refresh failed.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    # When the hub last asked LA, whatever the answer: scheduled refreshes go oldest first.
    last_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # What the hub last wrote into the matter in PM (an Actionstep data collection record,
    # sync/services/balances_in_pm.py), so that only a figure that changed is written.
    pm_data_collection_id = models.CharField(max_length=64, blank=True)
    pm_record_id = models.CharField(max_length=64, blank=True)
    pm_written = models.JSONField(
        default=dict, blank=True, help_text="Each PM field's value as last written."
    )
    pm_written_at = models.DateTimeField(null=True, blank=True)
    pm_error = models.TextField(blank=True, help_text="Why the last write into PM failed.")
    pm_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("view_matter_balance", "Can view matter balances from LA")]

    def __str__(self) -> str:
        return f"Balance of {self.matter}"
