"""What a person should do about a link's error: one table of error codes → advice.

The codes are the ones the engine and services write on a link (`Link.error_code`):
the hub's own checks (`SyncBlocked`, the billing prerequisites, the correction rule),
Legal Accounting's refusals (409 `already_assigned`, 422 `invalid`, …), Practice
Management's refusals (a 500 with an Actionstep code, docs/actionstep-fidelity.md), the
connection's states (sync/services/connection.py) and the connectors' own codes for a
failure without a code of the system's (`rate_limited`, `server_error`, `http_404`, or
the kind: `transient`, `unreachable`, …). A code this table does not know gets `DEFAULT`.

Each entry says, in plain words, what to do; `short` is the list column's reason;
`field` is the hub field to fix when the error does not name one itself; `fix` names the
record to open when the fault is in another record (a matter's client); `waits` is True
when nobody needs to act: the hub retries by itself.

The admin shows the advice at the top of a red record's page, and the API returns it as
`link.advice` (sync/serializers.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .links import NEEDS_DECISION
from .models import Link, LinkStatus, SyncEvent


@dataclass(frozen=True)
class Advice:
    short: str
    what_to_do: str
    field: str = ""
    fix: str = ""  # "client": the matter's client contact; "matter": the entry's matter
    waits: bool = False

    def field_of(self, record_type: str) -> str:
        """The hub field this advice points at, for a record of `record_type`."""
        if self.field == NUMBER:
            return NUMBER_FIELDS.get(record_type, "")
        return self.field


# The field holding the number LA assigns: a contact's Reference, a matter's File Reference.
NUMBER = "<number>"
NUMBER_FIELDS = {"contact": "reference", "matter": "file_reference"}


RESYNC = "then save the record here (saving queues a sync) or resync it."
READ_HISTORY = "The sync history below shows every attempt with the system's answer."

ADVICE: dict[str, Advice] = {
    # The hub's own checks -------------------------------------------------------------
    "invalid_reference": Advice(
        short="Reference has * or spaces",
        what_to_do="A Reference may not contain '*' or spaces. Remove them from the "
        "Reference below and save; the sync runs again by itself.",
        field="reference",
    ),
    "client_not_linked": Advice(
        short="Client contact in error",
        what_to_do="This matter waits for its client contact, which is in error. Open "
        "the client, follow the advice there and save it; then resync this matter.",
        fix="client",
    ),
    "client_pending": Advice(
        short="Waiting for its client",
        what_to_do="The client contact is still being synced. Nothing to do: this "
        "matter is synced as soon as its client is. If the client turns red, fix the "
        "client first.",
        fix="client",
        waits=True,
    ),
    "no_client": Advice(
        short="No client in PM",
        what_to_do="The matter has no client in Practice Management. Add the client as "
        "a participant of the matter in PM; the hub takes it in on its next poll.",
    ),
    "matter_unknown": Advice(
        short="Matter not in the hub",
        what_to_do="The time entry's matter is not in the hub yet. Make sure the matter "
        "syncs (open it and check its Link Indicator); the entry follows.",
        fix="matter",
    ),
    "no_timekeeper": Advice(
        short="Timekeeper unknown",
        what_to_do="The person who recorded this time is not a known timekeeper. Give "
        "them the same email address in PM and in LA; the next poll matches them.",
    ),
    "prerequisite": Advice(
        short="Not ready for billing",
        what_to_do="Fix what the message names, then send the entry again: the matter "
        "must be green and in LA, PM's File Reference must equal LA's matter number, "
        "and the timekeeper must have the same email address in both systems.",
        fix="matter",
    ),
    "changed_after_sending": Advice(
        short="Changed in PM after sending",
        what_to_do="This entry was edited in PM after it was sent to LA, so the hub did "
        "not push the change. Make the correction in Legal Accounting (or undo the edit "
        "in PM). The PM values are kept in the sync history.",
    ),
    "deleted_after_sending": Advice(
        short="Deleted in PM after sending",
        what_to_do="This entry was deleted in PM after it was sent to LA. Delete or "
        "correct the entry in Legal Accounting; only LA can take back sent time.",
    ),
    "refused": Advice(
        short="LA refused the entry",
        what_to_do="Legal Accounting refused this entry. Correct what its message "
        "names, then send the entry again.",
    ),
    # Legal Accounting's refusals -----------------------------------------------------
    "already_assigned": Advice(
        short="Number already used in LA",
        what_to_do="Legal Accounting already uses this number for another record (named "
        "in the message). Change it below to a number that is free, or clear it so LA "
        "assigns the next one, and save.",
        field=NUMBER,
    ),
    "invalid": Advice(
        short="LA refused a value",
        what_to_do="Legal Accounting refused a value (the message names it). Correct "
        "the marked field below and save.",
    ),
    "required": Advice(
        short="LA needs a value",
        what_to_do="Legal Accounting needs a value the record does not have (the message "
        "names it). Fill in the marked field below and save.",
    ),
    "does_not_exist": Advice(
        short="LA record missing",
        what_to_do="The record refers to something Legal Accounting does not have (a "
        "contact, a fee earner). Make sure that record exists in LA, " + RESYNC,
    ),
    "not_found": Advice(
        short="Gone from LA",
        what_to_do="Legal Accounting no longer has the linked record. Check whether it "
        "was deleted or merged in LA; " + RESYNC,
    ),
    "locked": Advice(
        short="Billed in LA: locked",
        what_to_do="Legal Accounting has billed this record, so it can no longer be "
        "changed. Make any correction in LA (a credit note or an adjustment).",
    ),
    "nothing_to_bill": Advice(
        short="Nothing to bill",
        what_to_do="Legal Accounting found nothing to bill on this matter. Check its "
        "unbilled time in LA.",
    ),
    "insufficient_trust_funds": Advice(
        short="Not enough trust funds",
        what_to_do="The trust account of this matter does not hold enough money for the "
        "transaction. Deposit funds or change the amount in Legal Accounting.",
    ),
    "too_many": Advice(
        short="Batch too large",
        what_to_do="Legal Accounting refused a batch that was too large. Send the time "
        "again in smaller batches.",
    ),
    "bad_request": Advice(
        short="LA refused the request",
        what_to_do="Legal Accounting could not read the hub's request. This is most "
        "likely the hub's fault: note the message and the time, and report it; " + READ_HISTORY,
    ),
    "idempotency_key_reused": Advice(
        short="Repeated request refused",
        what_to_do="Legal Accounting refused a repeated request with different data. "
        "Resync the record: a fresh attempt uses a fresh key.",
    ),
    # Practice Management's refusals (a 500 with an Actionstep code) --------------------
    "1300": Advice(
        short="PM refused a value",
        what_to_do="Practice Management refused the record (the message says why). "
        "Correct the value here or in PM, and save.",
    ),
    "A01": Advice(
        short="PM refused the status",
        what_to_do="Practice Management refused the matter's status. Choose Active, "
        "Inactive or Closed, and save.",
        field="status",
    ),
    "A02": Advice(
        short="PM refused the priority",
        what_to_do="Practice Management refused the matter's priority (it must be a "
        "number). Correct it in PM; the hub takes it in on its next poll.",
    ),
    "P01": Advice(
        short="PM refused the company flag",
        what_to_do="Practice Management refused the company flag. Tick or untick "
        "“company” below and save.",
        field="is_company",
    ),
    "TR03": Advice(
        short="Owner not a PM user",
        what_to_do="Practice Management says the time entry's owner is not one of its "
        "users. Record the time under a PM user.",
    ),
    "no_participant_type": Advice(
        short="No Client participant type",
        what_to_do="Practice Management has no participant type with the name the hub "
        "uses for clients (PM_CLIENT_PARTICIPANT_TYPE). Ask your administrator to set "
        "it to the name your Actionstep org uses, " + RESYNC,
    ),
    "no_action_id": Advice(
        short="PM did not say the matter's id",
        what_to_do="Practice Management created the matter but did not return its id. "
        "Resync the record: the hub finds the matter by its import reference instead of "
        "creating it again.",
    ),
    # The connection (it pauses syncs; the banner across the admin says the same) -------
    "not_connected": Advice(
        short="PM not connected",
        what_to_do="Practice Management is not connected. Open Sync > Practice "
        "Management connection and press Connect; everything that waited is synced then.",
        waits=True,
    ),
    "needs_reauthorisation": Advice(
        short="PM needs reconnecting",
        what_to_do="Practice Management no longer accepts the hub's grant. Open Sync > "
        "Practice Management connection and press Reconnect.",
        waits=True,
    ),
    "refresh_failing": Advice(
        short="PM sign-in failing",
        what_to_do="The hub could not renew its access to Practice Management and keeps "
        "trying. If it lasts, open Sync > Practice Management connection and press "
        "Reconnect.",
        waits=True,
    ),
    "missing_scope": Advice(
        short="PM permission missing",
        what_to_do="Practice Management refused a request for lack of permission. Ask "
        "Actionstep to grant the scopes listed on the connection page, check the "
        "integration user's permissions in PM, then Reconnect.",
        waits=True,
    ),
    "forbidden": Advice(
        short="PM permission missing",
        what_to_do="Practice Management refused access. Check the integration user's "
        "permissions in PM, then Reconnect on the connection page.",
        waits=True,
    ),
    "unauthorised": Advice(
        short="Credentials refused",
        what_to_do="The system refused the hub's credentials. Check the connection page "
        "(PM) or the LA_API_TOKEN setting (LA). The hub retries by itself meanwhile.",
        waits=True,
    ),
    "auth": Advice(
        short="Credentials refused",
        what_to_do="The system refused the hub's credentials. Check the connection page "
        "(PM) or the LA_API_TOKEN setting (LA). The hub retries by itself meanwhile.",
        waits=True,
    ),
    # Passing faults: the hub retries with backoff ---------------------------------------
    "rate_limited": Advice(
        short="System asked to slow down",
        what_to_do="The system asked the hub to slow down. Nothing to do: the hub "
        "retries after the time the system asked for.",
        waits=True,
    ),
    "server_error": Advice(
        short="System failed",
        what_to_do="The system failed while answering. Nothing to do: the hub retries "
        "with backoff. If it lasts for hours, check that system's status.",
        waits=True,
    ),
    "transient": Advice(
        short="Passing failure",
        what_to_do="A passing failure. Nothing to do: the hub retries with backoff.",
        waits=True,
    ),
    "unreachable": Advice(
        short="System unreachable",
        what_to_do="The system did not answer. Nothing to do: the hub retries with "
        "backoff. If it lasts, check the system's address settings and its status.",
        waits=True,
    ),
    # The hub's own state --------------------------------------------------------------
    "forgotten": Advice(
        short="Link forgotten",
        what_to_do="This record's link was forgotten (a purge or 'forget link'): the hub "
        "no longer knows its twins in PM and LA and will not sync it. Run manage.py "
        "link_existing to link PM's and LA's records again, then connect Practice "
        "Management.",
        waits=True,
    ),
    "needs_decision": Advice(
        short="Needs a decision",
        what_to_do="Onboarding found more than one record in the other system that may be "
        "this one, so the hub neither links it nor creates it there. On the onboarding "
        "page (Sync health → Onboarding), pick its twin, or mark the records different: "
        "different records are then created in the other system.",
    ),
    "foreign_link": Advice(
        short="Link to another host refused",
        what_to_do="The system answered with a link to another host, which the hub does "
        "not follow. Check PM_* / LA_API_URL settings; report it if they are right.",
    ),
}

# Codes that name the HTTP status of a refusal without a code of the system's own.
HTTP_CODE = re.compile(r"^http_(\d{3})$")
NUMERIC_PM_CODE = re.compile(r"^1\d{3}$")  # Actionstep's groups 1100-1500 (wiki Error Codes)

DEFAULT = Advice(
    short="Sync failed",
    what_to_do="Read the message above: it is the system's own answer. Correct what it "
    "names here (or in the system it names), " + RESYNC + " " + READ_HISTORY,
)


def advice_for(code: str) -> Advice:
    """The advice for an error code; `DEFAULT` for a code nobody wrote down."""
    if code in ADVICE:
        return ADVICE[code]
    if NUMERIC_PM_CODE.match(code or ""):
        return ADVICE["1300"]
    match = HTTP_CODE.match(code or "")
    if match and match.group(1) == "404":
        return ADVICE["not_found"]
    return DEFAULT


# Codes an unsynced link carries that still need a person.
UNSYNCED_WITH_ADVICE = frozenset({"forgotten"})


def link_advice(link: Link | None) -> Advice | None:
    """The advice for a link that needs it (red, or yellow: the state can't be told, or
    forgotten); None for a link that is fine or on its way."""
    if link is None:
        return None
    if link.status in (LinkStatus.ERROR, LinkStatus.UNKNOWN):
        return advice_for(link.error_code)
    if link.status == LinkStatus.UNSYNCED and link.error_code in UNSYNCED_WITH_ADVICE:
        return ADVICE[link.error_code]
    if link.status == LinkStatus.PENDING and link.error_code == NEEDS_DECISION:
        return ADVICE[NEEDS_DECISION]
    return None


def link_advice_text(link: Link | None) -> str:
    advice = link_advice(link)
    return advice.what_to_do if advice else ""


@dataclass(frozen=True)
class LinkProblem:
    """A link that needs a person: the system's message, the advice, and the hub field
    the refusal names (or the advice points at), "" when none."""

    link: Link
    advice: Advice
    field: str
    system_field: str


def link_problem(link: Link | None) -> LinkProblem | None:
    """What a red (or yellow) record's page shows at its top. The field comes from the
    refusal itself where the engine kept it (`SyncEvent.details["field"]`, e.g. LA's
    clash naming `contact_number`), mapped to the hub's form field; else from the advice.
    One query, for the newest failed attempt."""
    from .mapping_table import hub_field_for

    advice = link_advice(link)
    if advice is None:
        return None
    details = (
        SyncEvent.objects.filter(
            link=link, outcome__in=[SyncEvent.Outcome.ERROR, SyncEvent.Outcome.RETRY]
        )
        .order_by("-occurred_at", "-pk")
        .values_list("details", flat=True)
        .first()
    ) or {}
    system_field = str(details.get("field") or "") if isinstance(details, dict) else ""
    system = (details.get("system") if isinstance(details, dict) else "") or link.error_system
    field = hub_field_for(link.record_type, system, system_field) or ""
    return LinkProblem(
        link=link,
        advice=advice,
        field=field or advice.field_of(link.record_type),
        system_field=system_field,
    )
