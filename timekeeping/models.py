import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

# Hours are kept to two decimal places, rounded half up (0.005 h -> 0.01 h). This is
# the one place the rule is written; everything that computes hours quantizes here.
HOURS_QUANTUM = Decimal("0.01")
MONEY_QUANTUM = Decimal("0.01")


def round_hours(value: Decimal) -> Decimal:
    return Decimal(value).quantize(HOURS_QUANTUM, rounding=ROUND_HALF_UP)


def round_money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP)


class Timekeeper(models.Model):
    """A person who records time. Matched across systems by email (ARCHITECTURE §2)."""

    name = models.CharField(max_length=200)
    email = models.EmailField()
    pm_user_id = models.CharField("PM user id", max_length=64, null=True, blank=True)
    la_fee_earner_id = models.CharField("LA fee-earner id", max_length=64, null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="timekeeper_email_unique_ci"),
            models.UniqueConstraint(fields=["pm_user_id"], name="timekeeper_pm_user_id_unique"),
            models.UniqueConstraint(
                fields=["la_fee_earner_id"], name="timekeeper_la_fee_earner_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BillingBatch(models.Model):
    """One "send for billing" request: a durable job that tasks carry out.

    The request that makes it claims its entries (they turn `queued`, pointing at the
    batch) and answers at once; tasks send them under a lease on the batch. A batch
    whose lease lapsed (its worker died) or whose retry time came is taken up again by
    the sweep, and LA's batch create dedupes on each entry's external id, so a retry
    creates nothing twice. Every claimed entry ends sent, error with its reason, or
    back to unsent (the batch cancelled).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to send"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Waiting to retry"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    entry_count = models.PositiveIntegerField(default=0, help_text="Entries it claimed.")
    sent_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(
        default=list,
        blank=True,
        help_text="Entries asked for but not claimed: [{entry, reason}] (sent or queued).",
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "billing batches"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"Billing batch {self.created_at:%Y-%m-%d %H:%M} ({self.entry_count} entries)"


class TimeEntry(models.Model):
    """Time recorded in PM, sent to LA for billing (ARCHITECTURE §2 "Time")."""

    class BillingBehaviour(models.TextChoices):
        BILL = "bill", "Bill"
        HIDE = "hide", "Hide"
        NO_CHARGE = "no_charge", "No charge"

    class BillingStatus(models.TextChoices):
        UNSENT = "unsent", "Unsent"
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        BILLED = "billed", "Billed"
        ERROR = "error", "Error"

    matter = models.ForeignKey("matters.Matter", on_delete=models.PROTECT, related_name="time")
    timekeeper = models.ForeignKey(Timekeeper, on_delete=models.PROTECT, related_name="time")
    date = models.DateField(db_index=True)
    description = models.TextField(blank=True)
    actual_hours = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("0"))
    billable_hours = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("0"))
    rate = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    billing_behaviour = models.CharField(
        max_length=10, choices=BillingBehaviour.choices, default=BillingBehaviour.BILL
    )
    billing_status = models.CharField(
        max_length=10, choices=BillingStatus.choices, default=BillingStatus.UNSENT, db_index=True
    )
    changed_after_sending = models.BooleanField(
        default=False,
        help_text="Edited in PM after it was sent: correct it in Legal Accounting.",
    )
    batch = models.ForeignKey(
        BillingBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    billed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "pk"]
        verbose_name_plural = "time entries"
        permissions = [("send_time_for_billing", "Can send time entries to LA for billing")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(actual_hours__gte=0) & models.Q(billable_hours__gte=0),
                name="time_entry_hours_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} · {self.billable_hours} h"
