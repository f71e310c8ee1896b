from django.conf import settings
from django.db import models
from django.db.models import Q

from .encryption import EncryptedTextField


class LinkStatus(models.TextChoices):
    """The Link Indicator: exactly these five states (ARCHITECTURE §2 "Linking")."""

    SYNCED = "synced", "Synced"
    UNSYNCED = "unsynced", "Unsynced"
    PENDING = "pending", "Pending"
    UNKNOWN = "unknown", "Unknown"
    ERROR = "error", "Error"


class RecordType(models.TextChoices):
    CONTACT = "contact", "Contact"
    MATTER = "matter", "Matter"
    TIME_ENTRY = "time_entry", "Time entry"


class System(models.TextChoices):
    PM = "pm", "Practice Management"
    LA = "la", "Legal Accounting"


RECORD_FIELDS = {
    RecordType.CONTACT: "contact",
    RecordType.MATTER: "matter",
    RecordType.TIME_ENTRY: "time_entry",
}


def _only(record_type: str) -> Q:
    """The check that a link of `record_type` points at exactly that one record."""
    condition = Q(record_type=record_type)
    for kind, field in RECORD_FIELDS.items():
        condition &= Q(**{f"{field}__isnull": kind != record_type})
    return condition


class Link(models.Model):
    """The tie between one hub record and its twins in PM and LA, with its indicator.

    The PM id and LA id of a contact, matter or time entry live here and only here.
    A record has at most one link (one-to-one), and a foreign id belongs to at most one
    link of its record type (partial unique constraints).
    """

    record_type = models.CharField(max_length=12, choices=RecordType.choices)
    contact = models.OneToOneField(
        "contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="link"
    )
    matter = models.OneToOneField(
        "matters.Matter", null=True, blank=True, on_delete=models.CASCADE, related_name="link"
    )
    time_entry = models.OneToOneField(
        "timekeeping.TimeEntry",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="link",
    )
    pm_id = models.CharField("PM id", max_length=64, null=True, blank=True)
    la_id = models.CharField("LA id", max_length=64, null=True, blank=True)
    # What the hub wrote into a record it is creating in PM to know it again (a contact's
    # Reference, a matter's import reference), kept from just before the create until PM's
    # id is stored: a create whose answer was lost, or whose resthook comes first, is then
    # recognised instead of copied. PM's POST is not idempotent.
    pm_create_marker = models.CharField(max_length=100, blank=True, editable=False)
    # The newest copy of the record a poll or a delivery read since the last sync, with
    # the record's own modification stamp: the next sync uses it instead of reading the
    # record again when it is newer than what the last sync read or wrote
    # (`*_synced_modified`). Every sync's end clears it (sync/links.py).
    pm_seen = models.JSONField(null=True, blank=True, editable=False)
    la_seen = models.JSONField(null=True, blank=True, editable=False)
    pm_seen_modified = models.DateTimeField(null=True, blank=True, editable=False)
    la_seen_modified = models.DateTimeField(null=True, blank=True, editable=False)
    pm_synced_modified = models.DateTimeField(null=True, blank=True, editable=False)
    la_synced_modified = models.DateTimeField(null=True, blank=True, editable=False)
    # LA was searched for this record's PM id when a poll took it in (a page of records at
    # a time) and held none; cleared just before the hub first tries to create it in LA,
    # so any later attempt searches again for a create whose answer was lost.
    la_absent_checked = models.BooleanField(default=False, editable=False)
    # Onboarding found this record ambiguous (several candidates in the other system)
    # and no admin has decided yet: the engine never creates it in the other system
    # (sync/services/onboarding.py, docs/decisions.md 64).
    needs_decision = models.BooleanField(default=False, editable=False)

    status = models.CharField(
        max_length=10, choices=LinkStatus.choices, default=LinkStatus.UNSYNCED
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_system = models.CharField(
        max_length=3,
        blank=True,
        choices=[*System.choices, ("hub", "Hub")],
        help_text="Where the last failure came from: PM, LA, or the hub's own checks.",
    )
    message = models.TextField(blank=True, help_text="Why the link is in this state.")
    status_changed_at = models.DateTimeField(auto_now_add=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Failed attempts since the last success."
    )
    next_retry_at = models.DateTimeField(null=True, blank=True)

    # What each side held after the last successful sync, in the hub's field names:
    # the base for field-by-field merges and for skipping no-op writes.
    pm_snapshot = models.JSONField(null=True, blank=True)
    la_snapshot = models.JSONField(null=True, blank=True)
    pm_hash = models.CharField(max_length=64, blank=True)
    la_hash = models.CharField(max_length=64, blank=True)

    # A lease, not a row lock: a worker holds the link for the length of its HTTP calls
    # without keeping a database transaction open. A change that arrives while the link
    # is leased sets `dirty`, and the holder runs once more before letting go.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    dirty = models.BooleanField(default=False, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("resync_link", "Can resync records with PM and LA")]
        constraints = [
            models.CheckConstraint(
                condition=_only(RecordType.CONTACT)
                | _only(RecordType.MATTER)
                | _only(RecordType.TIME_ENTRY),
                name="link_points_at_one_record_of_its_type",
            ),
            models.UniqueConstraint(
                fields=["record_type", "pm_id"],
                condition=Q(pm_id__isnull=False),
                name="link_pm_id_unique_per_record_type",
            ),
            models.UniqueConstraint(
                fields=["record_type", "la_id"],
                condition=Q(la_id__isnull=False),
                name="link_la_id_unique_per_record_type",
            ),
            models.CheckConstraint(
                condition=Q(status__in=LinkStatus.values), name="link_status_is_known"
            ),
        ]
        indexes = [
            models.Index(fields=["record_type", "status"]),
            models.Index(fields=["status", "next_retry_at"]),
            models.Index(fields=["error_code"]),
            models.Index(fields=["error_system", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_record_type_display()} link #{self.pk}"

    @property
    def record(self):
        return getattr(self, RECORD_FIELDS[self.record_type])


class SyncEvent(models.Model):
    """One attempt to sync a link: the history behind the Link Indicator."""

    class Direction(models.TextChoices):
        PM_TO_LA = "pm_to_la", "PM → LA"
        LA_TO_PM = "la_to_pm", "LA → PM"
        PM_TO_HUB = "pm_to_hub", "PM → hub"
        LA_TO_HUB = "la_to_hub", "LA → hub"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        SKIPPED = "skipped", "Skipped (nothing changed)"
        CONFLICT = "conflict", "Conflict resolved"
        RETRY = "retry", "Failed, will retry"
        ERROR = "error", "Failed"

    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField(auto_now_add=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    action = models.CharField(max_length=32, help_text="create, update, write_back, …")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    message = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["link", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.action}: {self.get_outcome_display()}"


class PollCursor(models.Model):
    """How far polling has read one resource of one system (`modified since`)."""

    system = models.CharField(max_length=2, choices=System.choices)
    resource = models.CharField(max_length=32)
    modified_since = models.DateTimeField(null=True, blank=True)
    # A pass cut into bounded tasks: where the next task picks it up, and when the pass
    # began (what `modified_since` becomes once it ends).
    resume_url = models.TextField(blank=True)
    pass_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "resource"], name="poll_cursor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_system_display()} {self.resource}"


class WebhookReceipt(models.Model):
    """A verified webhook as it arrived, kept so nothing it announced is lost."""

    system = models.CharField(max_length=2, choices=System.choices)
    event = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # A digest of the delivery: the same delivery sent twice is stored once.
    dedupe_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Records a fault kept out are read again: how often so far, and when next.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["system", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.get_system_display()} {self.event}"


class PmConnection(models.Model):
    """The hub's connection to PM: the OAuth2 grant one person of the firm consented to.

    One row (pk 1). Actionstep grants tokens only through the authorization-code flow and
    answers every refresh with a new refresh token, so the tokens live here, encrypted,
    where every process of the hub sees the same ones, and are refreshed under a lock on
    this row (sync/services/connection.py).
    """

    class State(models.TextChoices):
        NOT_CONNECTED = "not_connected", "Not connected"
        CONNECTED = "connected", "Connected"
        REFRESH_FAILING = "refresh_failing", "Refresh failing"
        NEEDS_REAUTHORISATION = "needs_reauthorisation", "Needs re-authorisation"
        MISSING_SCOPE = "missing_scope", "Missing scope"

    state = models.CharField(max_length=24, choices=State.choices, default=State.NOT_CONNECTED)
    message = models.TextField(blank=True, help_text="What is wrong, and what to do.")
    state_changed_at = models.DateTimeField(null=True, blank=True)

    access_token = EncryptedTextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token = EncryptedTextField(blank=True)
    refresh_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the refresh token lapses unless it is used."
    )
    api_endpoint = models.CharField(max_length=500, blank=True)
    orgkey = models.CharField(max_length=200, blank=True)
    scopes = models.CharField(max_length=1000, blank=True, help_text="The scopes asked for.")
    # Bumped with every token stored: a process compares it with the copy it holds.
    token_version = models.PositiveIntegerField(default=0)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_failures = models.PositiveIntegerField(default=0)
    refresh_retry_at = models.DateTimeField(null=True, blank=True)

    # The authorization under way: its `state` value, PKCE verifier, who started it, when.
    pending_state = models.CharField(max_length=100, blank=True)
    pending_verifier = EncryptedTextField(blank=True)
    pending_started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    pending_started_at = models.DateTimeField(null=True, blank=True)

    # The secret carried in the targetUrl of every resthook the hub registers in PM:
    # Actionstep signs nothing, so a delivery is known to be PM's by this alone.
    resthook_secret = EncryptedTextField(blank=True)

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Practice Management connection"
        verbose_name_plural = "Practice Management connection"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="pm_connection_one_row")]

    def __str__(self) -> str:
        return f"Practice Management: {self.get_state_display()}"


class RequestBudget(models.Model):
    """The shared request budget of one system when the hub has no Redis: a token bucket
    every process of the hub draws from (sync/budget.py)."""

    system = models.CharField(max_length=2, choices=System.choices, primary_key=True)
    tokens = models.FloatField(default=0)
    updated = models.FloatField(default=0, help_text="Unix time of the last draw.")

    def __str__(self) -> str:
        return f"{self.get_system_display()} request budget"


class WorkLease(models.Model):
    """A named job that one worker at a time may run (the scheduled poll): taken with a
    conditional UPDATE and lapsing, so a dead worker's job is taken up again (sync/work.py)."""

    name = models.CharField(max_length=40, primary_key=True)
    token = models.UUIDField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(
        null=True, blank=True, help_text="Its schedule fires earlier to no effect."
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a task was queued to take it up."
    )

    def __str__(self) -> str:
        return self.name


class SyncSwitch(models.Model):
    """Whether the hub writes to PM and LA: live, or paused for onboarding (one row).

    A hub connected for the first time to systems that already hold records starts
    paused (sync/services/switch.py): polls and deliveries are still taken in, but no
    sync writes to either system until an admin has matched the records and goes live.
    """

    class State(models.TextChoices):
        PAUSED = "paused", "Paused"
        LIVE = "live", "Live"

    state = models.CharField(max_length=8, choices=State.choices, default=State.PAUSED)
    reason = models.TextField(blank=True, help_text="Why the switch is in this state.")
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "sync switch"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="sync_switch_one_row")]

    def __str__(self) -> str:
        return f"Sync {self.get_state_display().lower()}"


class AmbiguousMatch(models.Model):
    """Records of PM and LA that onboarding found matching each other, but not one to
    one, and what an admin decided about them: which two are twins, or that they are
    different records. Undecided, none of them is created in the other system."""

    class Decision(models.TextChoices):
        UNDECIDED = "undecided", "Needs a decision"
        TWINS = "twins", "Twins linked"
        DIFFERENT = "different", "Different records"

    record_type = models.CharField(max_length=12, choices=RecordType.choices)
    rule = models.CharField(max_length=32, help_text="The matching rule they met.")
    # Each side's records as the report names them: id, name, email, number, address.
    candidates = models.JSONField(default=dict)
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.UNDECIDED)
    twin_pm_id = models.CharField("PM twin", max_length=64, blank=True)
    twin_la_id = models.CharField("LA twin", max_length=64, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["record_type", "pk"]
        indexes = [models.Index(fields=["decision", "record_type"])]

    def __str__(self) -> str:
        return f"Ambiguous {self.get_record_type_display().lower()}s #{self.pk}"


class AmbiguousRecord(models.Model):
    """One record of an ambiguous match, by its system and id (a record is in one)."""

    match = models.ForeignKey(AmbiguousMatch, on_delete=models.CASCADE, related_name="records")
    record_type = models.CharField(max_length=12, choices=RecordType.choices)
    system = models.CharField(max_length=2, choices=System.choices)
    record_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "system", "record_id"], name="ambiguous_record_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system.upper()} {self.record_type} {self.record_id}"


class MatchingRun(models.Model):
    """One run of onboarding's matching in the background, started from the onboarding
    page: its progress as it goes, and its report when done (sync/services/matching.py)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    step = models.CharField(max_length=64, blank=True, help_text="What it is doing now.")
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Matching run #{self.pk}: {self.get_state_display()}"
