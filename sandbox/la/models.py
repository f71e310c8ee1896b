"""The emulated Legal Accounting (LA) system's records, kept in the `sandbox` database.

Decisions:

- Numbers (contact numbers, file numbers, invoice numbers) are handed out from
  `NumberSequence` rows locked with `select_for_update`; the unique constraints on the
  numbered columns are the final guard (ARCHITECTURE §4.1 "No duplicates").
- Foreign ids (`pm_contact_id`, `pm_matter_id`, a time entry's `external_id`) are text,
  so LA does not care how the other system spells its ids, and unique whenever set.
- Money and hours are `Decimal` with two places; the rounding rules live in `amounts.py`.
- `modified_at` is indexed: every list can be filtered by `modified_since`, which is how
  the hub's polling pass catches webhooks it missed (ARCHITECTURE §4.2).
- Nothing here references the hub's apps or `auth.User`: the hub reaches LA over HTTP only.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

MONEY = {"max_digits": 14, "decimal_places": 2}


class LASettings(models.Model):
    """LA's firm-wide settings: one row (pk 1), changeable while the sandbox runs."""

    class FileNumbering(models.TextChoices):
        FIRM_WIDE = "firm_wide", "Firm-wide (000123)"
        PER_CLIENT = "per_client", "Per client (25-001)"

    file_numbering = models.CharField(
        max_length=12, choices=FileNumbering.choices, default=FileNumbering.FIRM_WIDE
    )
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code.")
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "LA settings"
        verbose_name_plural = "LA settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="la_settings_singleton")]

    def __str__(self) -> str:
        return "LA settings"

    @classmethod
    def load(cls) -> "LASettings":
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings


class NumberSequence(models.Model):
    """The last number handed out by one sequence (`contact:client`, `file:firm`, …)."""

    name = models.CharField(max_length=100, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_value}"


class FeeEarner(models.Model):
    """A timekeeper. Time from PM is matched to a fee earner by email (ARCHITECTURE §2)."""

    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="la_fee_earner_email_unique_ci")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Contact(models.Model):
    """A client, vendor or other contact, with the fields mapped from PM (ARCHITECTURE §2).

    `gl_account`, `is_1099` and `billing_rate` are LA's billing defaults and vendor
    details: they never sync.
    """

    class Kind(models.TextChoices):
        CLIENT = "client", "Client"
        VENDOR = "vendor", "Vendor"
        OTHER = "other", "Other"

    contact_number = models.CharField(
        max_length=50,
        unique=True,
        blank=True,
        help_text="Leave blank and LA assigns the next number of the contact's kind.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CLIENT)
    is_company = models.BooleanField("company", default=False)
    company_name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=30, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    suffix = models.CharField(max_length=30, blank=True)
    alias = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True)

    main_line1 = models.CharField("main address line 1", max_length=200, blank=True)
    main_line2 = models.CharField("main address line 2", max_length=200, blank=True)
    main_city = models.CharField(max_length=100, blank=True)
    main_state = models.CharField(max_length=100, blank=True)
    main_post_code = models.CharField(max_length=20, blank=True)
    main_country = models.CharField(max_length=100, blank=True)
    additional_line1 = models.CharField("additional address line 1", max_length=200, blank=True)
    additional_line2 = models.CharField("additional address line 2", max_length=200, blank=True)
    additional_city = models.CharField(max_length=100, blank=True)
    additional_state = models.CharField(max_length=100, blank=True)
    additional_post_code = models.CharField(max_length=20, blank=True)
    additional_country = models.CharField(max_length=100, blank=True)

    phone_work = models.CharField(max_length=40, blank=True)
    phone_mobile = models.CharField(max_length=40, blank=True)
    phone_home = models.CharField(max_length=40, blank=True)
    phone_other = models.CharField(max_length=40, blank=True)
    phone_fax = models.CharField(max_length=40, blank=True)

    pm_contact_id = models.CharField(
        "PM contact id", max_length=64, null=True, blank=True, help_text="The PM participant id."
    )

    gl_account = models.CharField("GL account", max_length=20, blank=True)
    is_1099 = models.BooleanField("1099 vendor", default=False)
    billing_rate = models.DecimalField(**MONEY, null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pm_contact_id"],
                condition=Q(pm_contact_id__isnull=False),
                name="la_contact_pm_contact_id_unique",
            )
        ]
        indexes = [models.Index(Lower("email"), name="la_contact_email_ci")]

    def __str__(self) -> str:
        return f"{self.contact_number} {self.display_name}".strip()

    @property
    def display_name(self) -> str:
        """`Company` for a company, `Last, First` for a person (how LA lists contacts)."""
        if self.is_company and self.company_name:
            return self.company_name
        if self.last_name and self.first_name:
            return f"{self.last_name}, {self.first_name}"
        return self.last_name or self.first_name or self.company_name


class File(models.Model):
    """A matter ("file" in LA), created from a PM matter (ARCHITECTURE §2 "Matters")."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="files")
    file_number = models.CharField(
        max_length=60,
        unique=True,
        blank=True,
        help_text="Leave blank and LA assigns the next number (see LA settings).",
    )
    description = models.CharField(max_length=300)
    pm_matter_id = models.CharField("PM matter id", max_length=64, null=True, blank=True)
    assigned_fee_earner = models.ForeignKey(
        FeeEarner, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responsible_fee_earner = models.ForeignKey(
        FeeEarner, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lead_fee_earner = models.ForeignKey(
        FeeEarner, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    open_date = models.DateField(default=timezone.localdate)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True, db_index=True)
    # When a figure of `GET /files/{id}/balance` may last have changed: a time entry,
    # bill or ledger movement of the file (services stamp it). `GET /balances` filters on
    # it (`changed_since`) so a client asks for changed balances only.
    balance_changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pm_matter_id"],
                condition=Q(pm_matter_id__isnull=False),
                name="la_file_pm_matter_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_number} {self.description}"


class Invoice(models.Model):
    """A bill: the snapshot of what `file_bill` billed. Immutable once issued."""

    file = models.ForeignKey(File, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=30, unique=True)
    issued_on = models.DateField()
    total = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.number


class LedgerTransaction(models.Model):
    """A movement on a file's ledger or trust account. Amounts are always positive;
    the kind says which way it moves (the balance arithmetic is in `services.file_balance`).
    """

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        DISBURSEMENT = "disbursement", "Disbursement"
        TRUST_DEPOSIT = "trust_deposit", "Trust deposit"
        TRUST_WITHDRAWAL = "trust_withdrawal", "Trust withdrawal"
        CREDIT = "credit", "Credit (general retainer)"

    file = models.ForeignKey(File, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    applied_amount = models.DecimalField(
        **MONEY, default=0, help_text="Payments only: the part applied to accounts receivable."
    )
    date = models.DateField(default=timezone.localdate)
    description = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disbursements",
        help_text="Disbursements only: the invoice that billed it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = "transaction"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="la_transaction_positive"),
            models.CheckConstraint(
                condition=Q(applied_amount__gte=0, applied_amount__lte=models.F("amount")),
                name="la_transaction_applied_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} on {self.file_id}"

    @property
    def unallocated_amount(self):
        if self.kind == self.Kind.PAYMENT:
            return self.amount - self.applied_amount
        if self.kind == self.Kind.CREDIT:
            return self.amount
        return Decimal("0.00")


class TimeEntry(models.Model):
    """Time sent from PM for billing. Once billed it is locked (ARCHITECTURE §2 "Time")."""

    class BillingBehaviour(models.TextChoices):
        BILL = "bill", "Bill"
        HIDE = "hide", "Hide"
        NO_CHARGE = "no_charge", "No charge"

    class Status(models.TextChoices):
        UNBILLED = "unbilled", "Unbilled"
        BILLED = "billed", "Billed"

    file = models.ForeignKey(File, on_delete=models.PROTECT, related_name="time_entries")
    fee_earner = models.ForeignKey(FeeEarner, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    description = models.TextField(blank=True)
    hours = models.DecimalField(max_digits=8, decimal_places=2)
    rate = models.DecimalField(**MONEY)
    amount = models.DecimalField(**MONEY)
    billing_behaviour = models.CharField(
        max_length=10, choices=BillingBehaviour.choices, default=BillingBehaviour.BILL
    )
    external_id = models.CharField(
        max_length=64, null=True, blank=True, help_text="The PM time entry id (idempotency key)."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNBILLED)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="time_entries"
    )
    billed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "time entries"
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="la_time_entry_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(hours__gte=0), name="la_time_entry_hours_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.hours} h on {self.date}"

    @property
    def is_locked(self) -> bool:
        return self.status == self.Status.BILLED


class InvoiceLine(models.Model):
    """One billed time entry or disbursement, with the amount it was billed at."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    time_entry = models.OneToOneField(
        TimeEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_line"
    )
    disbursement = models.OneToOneField(
        LedgerTransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_line",
    )
    description = models.TextField(blank=True)
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(time_entry__isnull=True) ^ Q(disbursement__isnull=True),
                name="la_invoice_line_bills_one_thing",
            )
        ]

    def __str__(self) -> str:
        return f"{self.description} {self.amount}"


class Webhook(models.Model):
    """A subscription: LA POSTs the listed events to `url`, signed (see `webhooks.py`)."""

    class Event(models.TextChoices):
        CONTACT_CREATED = "contact.created"
        CONTACT_UPDATED = "contact.updated"
        TIME_ENTRIES_BILLED = "time_entries.billed"
        TIME_ENTRY_UPDATED = "time_entry.updated"

    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one webhook: what was sent and how it went."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField()
    event = models.CharField(max_length=40)
    body = models.TextField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    attempted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class IdempotencyKey(models.Model):
    """A POST's `Idempotency-Key` and the response it got, replayed on a repeat.

    The row is written in the same transaction as the work and its response, so no one
    ever sees a key without its response. The unique constraint on `key` is what stops
    two concurrent requests with the same key from both running: the second insert
    waits for the first transaction and then fails (see `idempotency.py`).
    """

    key = models.CharField(max_length=255, unique=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key
