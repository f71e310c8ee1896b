"""Records of the emulated Practice Management system (Actionstep-shaped).

Decisions where the Actionstep reference files are silent (ARCHITECTURE.md section 5):

- **Users are participants.** As in Actionstep, every user is also a participant: a
  `User`'s primary key *is* its participant's id, so `links.assignedTo` on an action and
  `links.owner` on a time entry carry one number that is both the user id and the
  participant id.
- **Reference.** Participants carry `reference`, the contact Reference that Legal
  Accounting knows as the Contact Number (ARCHITECTURE.md section 2). It may be blank; it
  may not contain `*` or any whitespace. PM does not require it to be unique: uniqueness
  is Legal Accounting's rule, and a clash is what the hub must report.
- **Title and Alias** of the domain rules are Actionstep's `salutation` and
  `preferredName`; countries are two-letter ISO codes, as the files' `links` say.
- **modifiedTimestamp** is `modified_at`, set by the services (not `auto_now`) so that
  the seed can backdate records it bulk-creates.
- **Primary participants** are ordered: the first is the client Legal Accounting treats
  as the matter's primary contact.
- **Matter Date** (Open Date in LA) is the action's `createdTimestamp`.
- **Time** is in hours as `Decimal` with two places (the files' `multipleOf: 0.01`);
  a calculated billable amount is `billableHours x rateUnitPrice`, rounded half up to
  the cent. That rule lives in `services.time_entry_amount`.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

country_code = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO country code, e.g. NZ.")
hours = [MinValueValidator(0), MaxValueValidator(24)]


def validate_target_url(value: str) -> None:
    """http(s) with a host; unlike URLValidator it allows single-label hosts such as `hub`."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an absolute http or https URL.", code="invalid_url")


def validate_reference(value: str) -> None:
    """A Reference may not contain `*` or spaces (ARCHITECTURE.md section 2, Contacts)."""
    if "*" in value or any(character.isspace() for character in value):
        raise ValidationError(
            "A Reference may not contain '*' or spaces.", code="invalid_reference"
        )


class Participant(models.Model):
    """A contact: a person or a company, a client or one of the firm's users."""

    display_name = models.CharField(
        max_length=255, blank=True, help_text="Derived from the names when left blank."
    )
    display_initials = models.CharField(max_length=10, blank=True)
    is_company = models.BooleanField(default=False)
    company_name = models.CharField(max_length=255, blank=True)
    salutation = models.CharField("title", max_length=30, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    suffix = models.CharField(max_length=30, blank=True)
    preferred_name = models.CharField("alias", max_length=100, blank=True)
    reference = models.CharField(
        max_length=50,
        blank=True,
        db_index=True,
        validators=[validate_reference],
        help_text="Legal Accounting's Contact Number. No '*' and no spaces.",
    )

    physical_address_line1 = models.CharField(max_length=255, blank=True)
    physical_address_line2 = models.CharField(max_length=255, blank=True)
    physical_city = models.CharField(max_length=100, blank=True)
    physical_state_province = models.CharField(max_length=100, blank=True)
    physical_county = models.CharField(max_length=100, blank=True)
    physical_post_code = models.CharField(max_length=20, blank=True)
    physical_country = models.CharField(max_length=2, blank=True, validators=[country_code])
    mailing_address_line1 = models.CharField(max_length=255, blank=True)
    mailing_address_line2 = models.CharField(max_length=255, blank=True)
    mailing_city = models.CharField(max_length=100, blank=True)
    mailing_state_province = models.CharField(max_length=100, blank=True)
    mailing_county = models.CharField(max_length=100, blank=True)
    mailing_post_code = models.CharField(max_length=20, blank=True)
    mailing_country = models.CharField(max_length=2, blank=True, validators=[country_code])

    phone1_label = models.CharField(max_length=50, blank=True)
    phone1_country = models.PositiveIntegerField(null=True, blank=True)
    phone1_area = models.PositiveIntegerField(null=True, blank=True)
    phone1_number = models.CharField(max_length=30, blank=True)
    phone1_notes = models.CharField(max_length=255, blank=True)
    phone2_label = models.CharField(max_length=50, blank=True)
    phone2_country = models.PositiveIntegerField(null=True, blank=True)
    phone2_area = models.PositiveIntegerField(null=True, blank=True)
    phone2_number = models.CharField(max_length=30, blank=True)
    phone2_notes = models.CharField(max_length=255, blank=True)
    phone3_label = models.CharField(max_length=50, blank=True)
    phone3_country = models.PositiveIntegerField(null=True, blank=True)
    phone3_area = models.PositiveIntegerField(null=True, blank=True)
    phone3_number = models.CharField(max_length=30, blank=True)
    phone3_notes = models.CharField(max_length=255, blank=True)
    phone4_label = models.CharField(max_length=50, blank=True)
    phone4_country = models.PositiveIntegerField(null=True, blank=True)
    phone4_area = models.PositiveIntegerField(null=True, blank=True)
    phone4_number = models.CharField(max_length=30, blank=True)
    phone4_notes = models.CharField(max_length=255, blank=True)
    fax = models.CharField(max_length=30, blank=True)
    sms = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    website = models.CharField(max_length=255, blank=True)
    occupation = models.CharField(max_length=100, blank=True)

    import_external_reference = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.display_name or f"Participant {self.pk}"

    def clean(self) -> None:
        if not (self.display_name or self.last_name or self.first_name or self.company_name):
            raise ValidationError(
                {"display_name": "Give a last name, a company name or a display name."}
            )


class User(models.Model):
    """A person who works in PM (a timekeeper); matched to LA's fee earners by email."""

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, primary_key=True, related_name="user"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    hourly_rate = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text="Default rateUnitPrice of this user's time entries.",
    )

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ActionType(models.Model):
    """A kind of matter (Actionstep's action type); `actioncreate` needs one."""

    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class Action(models.Model):
    """A matter. `reference` is the File Reference (LA's matter number)."""

    class Status(models.TextChoices):
        ACTIVE = "Active"
        INACTIVE = "Inactive"
        TEMPLATE = "Template"
        CLOSED = "Closed"

    name = models.CharField(max_length=255)
    reference = models.CharField("file reference", max_length=50, blank=True, db_index=True)
    priority = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    action_type = models.ForeignKey(ActionType, on_delete=models.PROTECT, related_name="+")
    assigned_to = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="assigned_actions"
    )
    primary_participants = models.ManyToManyField(
        Participant, through="PrimaryParticipant", related_name="client_actions"
    )
    import_external_reference = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.name

    @property
    def primary_participant_ids(self) -> list[int]:
        """In client order; reads the prefetched links when there are any."""
        return [link.participant_id for link in self.client_links.all()]


class PrimaryParticipant(models.Model):
    """A client of an action, in order: position 0 is the primary client."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="client_links")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "participant"], name="sandbox_pm_one_client_link_per_pair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} on {self.action_id}"


class TimeEntry(models.Model):
    class BillingBehavior(models.TextChoices):
        BILL = "Bill"
        HIDE = "Hide"
        NO_CHARGE = "No charge"

    class AmountType(models.TextChoices):
        CALCULATED = "Calculated"
        FIXED = "Fixed"

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="time_entries")
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="time_entries")
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    timestamp_date = models.DateField(default=timezone.localdate)
    description = models.TextField(blank=True)
    actual_hours = models.DecimalField(max_digits=5, decimal_places=2, validators=hours)
    billable_hours = models.DecimalField(max_digits=5, decimal_places=2, validators=hours)
    billing_behavior = models.CharField(
        max_length=10, choices=BillingBehavior.choices, default=BillingBehavior.BILL
    )
    rate_unit_price = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    billable_amount_type = models.CharField(
        max_length=10, choices=AmountType.choices, default=AmountType.CALCULATED
    )
    billable_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    import_external_reference = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "time entries"

    def __str__(self) -> str:
        return f"{self.actual_hours}h on {self.timestamp_date}"

    @property
    def is_billable(self) -> bool:
        return self.billing_behavior == self.BillingBehavior.BILL


class RestHook(models.Model):
    """A registration: POST `event_name` notifications to `target_url`.

    As in Actionstep, a delivery answered with anything but 200 (or not answered)
    disables the hook; it stays disabled until the client registers again.
    """

    class Event(models.TextChoices):
        PARTICIPANT_CREATED = "ParticipantCreated"
        PARTICIPANT_UPDATED = "ParticipantUpdated"
        ACTION_CREATED = "ActionCreated"
        ACTION_UPDATED = "ActionUpdated"
        TIME_ENTRY_CREATED = "TimeEntryCreated"
        TIME_ENTRY_UPDATED = "TimeEntryUpdated"
        TIME_ENTRY_DELETED = "TimeEntryDeleted"

    class Status(models.TextChoices):
        ACTIVE = "Active"
        DISABLED = "Disabled"

    event_name = models.CharField(max_length=40, choices=Event.choices)
    target_url = models.CharField(max_length=500, validators=[validate_target_url])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    triggered_count = models.PositiveIntegerField(default=0)
    triggered_last_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "REST hook"
        indexes = [models.Index(fields=["event_name", "status"])]

    def __str__(self) -> str:
        return f"{self.event_name} → {self.target_url}"


class AccessToken(models.Model):
    """An OAuth2 token pair. Only SHA-256 digests are stored; the raw tokens are shown once."""

    access_digest = models.CharField(max_length=64, unique=True)
    refresh_digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    refresh_expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Token {self.pk} (expires {self.expires_at:%Y-%m-%d %H:%M})"
