"""Records of the emulated Practice Management system (Actionstep-shaped).

Decisions (sources: docs/actionstep-fidelity.md):

- **Users are participants.** Real Actionstep: a user has `links.participant` (wiki
  "Users", PHP SDK Users.php) and `actions.assignedTo` is a participant id (dbc-tech
  samples/action.json link templates). The emulator chooses to make a `User`'s primary key
  *be* its participant's id, so one number serves as both.
- **No contact Reference.** Real Actionstep participants have no `reference` property
  (participants OpenAPI file); the only reference-like property is
  `importExternalReference`, "Import reference" in Actionstep's UI (support article
  150000026252). The sandbox keeps the firm's contact Reference there. Rules about the
  Reference (no `*`, no spaces, unique) are Legal Accounting's and the hub's, not PM's.
- **Title and Alias** of the domain rules are Actionstep's `salutation` and
  `preferredName`; countries are two-letter ISO codes (participants OpenAPI `links`).
- **modifiedTimestamp** is `modified_at`, set by the services (not `auto_now`) so that
  the seed can backdate records it bulk-creates. Time entries have none: real Actionstep
  time entries have `createdTimestamp` only (timeentries OpenAPI file, wiki Time Entries).
- **Participant types** are per organisation in real Actionstep (ids 27 and 31 in the
  wiki examples, names not fixed); the emulator seeds "Staff", "Client" and "Other side"
  in that order, so the Client type's id is not 1 and a client must look it up by name.
- **Action participants** (real Actionstep: `actionparticipants`, composite id
  `action--participantType--participant`, forsyteco schemas) link a participant to an
  action in a role. An action's `primaryParticipants` are those whose type is its action
  type's primary participant type (PHP SDK example `actionType[primaryParticipantType]`),
  in the order they were added: the first is the client Legal Accounting treats as the
  matter's primary contact (emulator choice).
- **Matter Date** (Open Date in LA) is the action's `createdTimestamp`, which real
  Actionstep answers date-only (dbc-tech samples/action.json).
- **Time** is in hours as `Decimal` with two places (the files' `multipleOf: 0.01`);
  a calculated billable amount is `billableHours x rateUnitPrice`, rounded half up to
  the cent. That rule lives in `services.time_entry_amount`.
- **OAuth2** (wiki Authorization page): a user's consent creates a `Grant`; codes and
  tokens hang off it and are stored only as SHA-256 digests. Revoking the grant ends
  them all.
"""

import hashlib
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

country_code = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO country code, e.g. NZ.")
hours = [MinValueValidator(0), MaxValueValidator(24)]

CLIENT_PARTICIPANT_TYPE = "Client"


def token_digest(token: str) -> str:
    """What is stored of a code or token: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def validate_target_url(value: str) -> None:
    """http(s) with a host; unlike URLValidator it allows single-label hosts such as `hub`."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an absolute http or https URL.", code="invalid_url")


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

    import_external_reference = models.CharField(
        "import reference (Reference)",
        max_length=100,
        blank=True,
        db_index=True,
        help_text="Actionstep's importExternalReference; the sandbox keeps the firm's contact "
        "Reference (Legal Accounting's Contact Number) here.",
    )
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

    @property
    def has_authority(self) -> bool:
        """Actionstep's `hasAuthority` (wiki "Users"); its meaning is UNKNOWN in public
        sources, so every sandbox user has it."""
        return True


class ParticipantType(models.Model):
    """A role a participant plays on an action (Client, Other side, ...).

    Properties after the PHP SDK's field map (`name`, `description`, `companyFlag`,
    `isBaseParticipantType`); read-only through the API.
    """

    name = models.CharField(max_length=50, unique=True)
    description = models.CharField(max_length=255, blank=True)
    company_flag = models.BooleanField(default=False)
    is_base_participant_type = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


def client_participant_type_id() -> int:
    """The id of the "Client" type, the default primary participant type of an action
    type; created if a reset emptied the table (its id then differs again)."""
    client, _ = ParticipantType.objects.get_or_create(
        name=CLIENT_PARTICIPANT_TYPE,
        defaults={"description": "The firm's client on the matter."},
    )
    return client.pk


class ActionType(models.Model):
    """A kind of matter (Actionstep's action type); `actioncreate` needs one."""

    name = models.CharField(max_length=100, unique=True)
    primary_participant_type = models.ForeignKey(
        ParticipantType,
        on_delete=models.PROTECT,
        related_name="+",
        default=client_participant_type_id,
        help_text="Participants of this type are an action's primaryParticipants.",
    )

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
    import_external_reference = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.name

    @property
    def primary_participant_ids(self) -> list[int]:
        """Participants of the action type's primary participant type, in the order they
        were added; reads the prefetched links (and the selected action type) when there
        are any."""
        primary_type_id = self.action_type.primary_participant_type_id
        return [
            link.participant_id
            for link in self.participant_links.all()
            if link.participant_type_id == primary_type_id
        ]


class ActionParticipant(models.Model):
    """A participant in a role on an action; `participant_number` is the order added."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="participant_links")
    participant_type = models.ForeignKey(
        ParticipantType, on_delete=models.PROTECT, related_name="+"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="action_links"
    )
    participant_number = models.PositiveIntegerField(editable=False)

    class Meta:
        ordering = ["participant_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "participant_type", "participant"],
                name="sandbox_pm_one_action_participant_per_role",
            )
        ]

    def __str__(self) -> str:
        return self.composite_id

    @property
    def composite_id(self) -> str:
        """Actionstep's id: `<action>--<participantType>--<participant>`."""
        return f"{self.action_id}--{self.participant_type_id}--{self.participant_id}"


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
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "time entries"

    def __str__(self) -> str:
        return f"{self.actual_hours}h on {self.timestamp_date}"

    @property
    def is_billable(self) -> bool:
        return self.billing_behavior == self.BillingBehavior.BILL


class RestHook(models.Model):
    """A registration: POST `event_name` notifications to `target_url`.

    Real Actionstep (docs.actionstep.com/webhooks; demo-app page; old wiki REST Hooks):
    a delivery answered 401 deletes the hook, any other answer but 200 disables it, and
    either way it receives nothing until the client registers it again.
    """

    class Event(models.TextChoices):
        """The 21 "Supported Events" of docs.actionstep.com/webhooks, verbatim."""

        ACTION_CREATED = "ActionCreated"
        ACTION_UPDATED = "ActionUpdated"
        ACTION_DOCUMENT_CREATED = "ActionDocumentCreated"
        ACTION_DOCUMENT_UPDATED = "ActionDocumentUpdated"
        ACTION_DOCUMENT_DELETED = "ActionDocumentDeleted"
        ACTION_PARTICIPANT_ADDED = "ActionParticipantAdded"
        ACTION_PARTICIPANT_DELETED = "ActionParticipantDeleted"
        DATA_COLLECTION_RECORD_UPDATED = "DataCollectionRecordUpdated"
        DATA_COLLECTION_RECORD_DELETED = "DataCollectionRecordDeleted"
        DATA_COLLECTION_RECORD_VALUE_UPDATED = "DataCollectionRecordValueUpdated"
        DISBURSEMENT_CREATED = "DisbursementCreated"
        DISBURSEMENT_UPDATED = "DisbursementUpdated"
        FILE_NOTE_CREATED = "FileNoteCreated"
        FILE_NOTE_UPDATED = "FileNoteUpdated"
        PARTICIPANT_CREATED = "ParticipantCreated"
        PARTICIPANT_UPDATED = "ParticipantUpdated"
        STEP_CHANGED = "StepChanged"
        TASK_CREATED = "TaskCreated"
        TASK_UPDATED = "TaskUpdated"
        TIME_ENTRY_CREATED = "TimeEntryCreated"
        TIME_ENTRY_UPDATED = "TimeEntryUpdated"

    class Status(models.TextChoices):
        """The RESTHook `status` enum of the OpenAPI file."""

        ACTIVE = "Active"
        DISABLED = "Disabled"
        DELETED = "Deleted"

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


class Grant(models.Model):
    """A user's consent to one client, for some scopes (the authorize page's "Allow")."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="grants")
    client_id = models.CharField(max_length=100)
    scopes = models.CharField(max_length=500, help_text="Space-separated scope names.")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.client_id} for {self.user_id} ({self.scopes})"


class AuthorizationCode(models.Model):
    """A single-use code from the authorize page; only its SHA-256 digest is stored."""

    digest = models.CharField(max_length=64, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="codes")
    redirect_uri = models.CharField(max_length=1000)
    code_challenge = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Code {self.pk} (expires {self.expires_at:%Y-%m-%d %H:%M})"


class AccessToken(models.Model):
    """A bearer token; only its SHA-256 digest is stored, the raw token is shown once."""

    digest = models.CharField(max_length=64, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="access_tokens")
    scopes = models.CharField(max_length=500)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Access token {self.pk} (expires {self.expires_at:%Y-%m-%d %H:%M})"


class RefreshToken(models.Model):
    """Trades once for a new token pair (the row is deleted when spent)."""

    digest = models.CharField(max_length=64, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="refresh_tokens")
    scopes = models.CharField(max_length=500)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Refresh token {self.pk} (expires {self.expires_at:%Y-%m-%d %H:%M})"


# Data collections ------------------------------------------------------------------------
#
# Custom matter data (docs/actionstep-fidelity.md; forsyteco `src/clients/datacollection*/
# schemas.gen.ts`; Actionstep's demo app `ActionstepApi.cs`, `Pages/Matters.razor.cs`):
# a collection belongs to an action type and declares fields; a record of it belongs to
# one action and holds one value per field, as a string (`stringValue`). Ids of fields
# and values are composite: `<collection>--<field name>` and
# `<collection>--<field name>--<record>`.

FIELD_NAME = RegexValidator(
    r"^[A-Za-z][A-Za-z0-9_]*$",
    "Start with a letter; use letters, digits and underscores (the name is part of "
    "composite ids, which '--' separates).",
)


class DataCollection(models.Model):
    """A set of custom fields for the actions of one action type."""

    name = models.CharField(max_length=100, validators=[FIELD_NAME])
    label = models.CharField(max_length=255, blank=True)
    description = models.TextField()
    multiple_records = models.BooleanField(
        default=False, help_text="Whether an action may hold several records of it."
    )
    order = models.PositiveIntegerField(default=0)
    always_show_descriptions = models.BooleanField(default=False)
    action_type = models.ForeignKey(
        ActionType, on_delete=models.PROTECT, related_name="data_collections"
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["action_type", "name"], name="sandbox_pm_data_collection_name_per_type"
            )
        ]

    def __str__(self) -> str:
        return self.label or self.name


class DataCollectionField(models.Model):
    """One field of a collection; its name is fixed once created (forsyteco
    CreateDataCollectionField: "the name cannot be changed")."""

    class DataType(models.TextChoices):
        """The `dataType` enum of the forsyteco schemas, verbatim."""

        APPOINTMENT = "Appointment"
        AUTO_NUMBER = "AutoNumber"
        AUTO_NUMBER_DC = "AutoNumberDC"
        BOOLEAN = "Boolean"
        DATE = "Date"
        DATE_NM = "DateNM"
        DATE_TIME = "DateTime"
        DATE_TIME_NM = "DateTimeNM"
        DROP_DOWN = "DropDown"
        DROP_DOWN_MULTI = "DropDownMulti"
        HTML_READ_ONLY = "HtmlReadOnly"
        MONEY = "Money"
        NUMBER = "Number"
        PARTICIPANT = "Participant"
        STR255 = "Str255"
        STR255_PROTECTED = "Str255Protected"
        TEXT_AREA = "TextArea"

    data_collection = models.ForeignKey(
        DataCollection, on_delete=models.CASCADE, related_name="fields"
    )
    name = models.CharField(max_length=100, validators=[FIELD_NAME])
    data_type = models.CharField(max_length=20, choices=DataType.choices)
    label = models.CharField(max_length=255, blank=True)
    form_order = models.PositiveIntegerField(default=0)
    list_order = models.PositiveIntegerField(default=0)
    required = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    custom_html_below = models.TextField(blank=True)
    custom_html_above = models.TextField(blank=True)
    tag = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["form_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["data_collection", "name"], name="sandbox_pm_field_name_per_collection"
            )
        ]

    def __str__(self) -> str:
        return self.label or self.name

    @property
    def composite_id(self) -> str:
        """Actionstep's id: `<data collection>--<field name>`."""
        return f"{self.data_collection_id}--{self.name}"


class DataCollectionRecord(models.Model):
    """One action's record of a collection: the values of its fields."""

    data_collection = models.ForeignKey(
        DataCollection, on_delete=models.CASCADE, related_name="records"
    )
    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="data_collection_records"
    )
    can_write = models.BooleanField(default=True)
    can_delete = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.data_collection} of action {self.action_id}"


class DataCollectionRecordValue(models.Model):
    """A field's value in a record, always a string (`stringValue`)."""

    record = models.ForeignKey(
        DataCollectionRecord, on_delete=models.CASCADE, related_name="values"
    )
    field = models.ForeignKey(DataCollectionField, on_delete=models.CASCADE, related_name="+")
    string_value = models.TextField(blank=True)
    modified_at = models.DateTimeField(default=timezone.now)
    modified_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["record_id", "field__form_order", "field_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "field"], name="sandbox_pm_one_value_per_field_and_record"
            )
        ]

    def __str__(self) -> str:
        return self.composite_id

    @property
    def composite_id(self) -> str:
        """Actionstep's id: `<data collection>--<field name>--<record>`."""
        return f"{self.field.data_collection_id}--{self.field.name}--{self.record_id}"

    @property
    def field_key(self) -> str:
        return self.field.composite_id

    @property
    def action_id(self) -> int:
        return self.record.action_id

    @property
    def data_collection_id(self) -> int:
        return self.record.data_collection_id
