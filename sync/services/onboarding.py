"""Onboarding a firm whose two systems already hold data: link what is already there.

ARCHITECTURE §2 "Linking": records are linked by their ids. A firm that has used PM and
LA side by side holds many records twice without any link; the regular sync would copy
each into the other system a second time. `existing_records_link` pairs them first:

- Contacts, rule by rule: (1) a stored foreign id — LA's `pm_contact_id`; (2) PM's
  Reference (`PM_CONTACT_REFERENCE_FIELD`) equal to LA's Contact Number;
  (3) email (ignoring case) and name (first and last, or the company name, ignoring case
  and spacing) both equal.
- Matters: (1) LA's `pm_matter_id`, or PM's `importExternalReference` `LA:<id>`;
  (2) PM's File Reference equal to LA's File Number. A pair is linked only when its
  client contacts are linked to each other (matters need their client first, §2).
- A record with candidates on the other side at a rule is settled at that rule: linked
  when it and its candidate have exactly each other, otherwise listed as ambiguous, for
  a person to decide, and never linked by a later rule. Records already linked are left
  as they are.
- Each pair gets a hub record and a link holding both ids and both sides' values as the
  last-synced snapshots, and its sync is queued: the engine then writes the merged values
  to both systems and gives LA the PM id (sync/services/engine.py).

The hub record takes each field from the side that owns it (sync/fields.py: LA for the
numbers it assigns, PM for the rest) and, where that side holds nothing, from the other
side, an address as a whole, so the first sync copies data into the gaps instead of
blanking what one system alone holds.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q

from contacts.models import Contact
from matters.models import Matter
from sync.connectors import la_client, pm_client
from sync.connectors.actionstep import mapping as pm_mapping
from sync.fields import CONTACT_FIELDS, LA, MATTER_FIELDS, PM, SharedField, field_names
from sync.links import NEEDS_DECISION, seen_fields, snapshot_hash
from sync.models import (
    RECORD_FIELDS,
    AmbiguousMatch,
    AmbiguousRecord,
    Link,
    LinkStatus,
    RecordType,
)

from . import contacts, link_enqueue, matters
from .engine import ADAPTERS, LA_ID_PREFIX, SyncBlocked
from .timekeepers import timekeepers_refresh

LINKED_MESSAGE = "Linked by link_existing; sync queued."

BY_FOREIGN_ID = "foreign id"
BY_CONTACT_NUMBER = "contact number"
BY_EMAIL_AND_NAME = "email and name"
BY_FILE_NUMBER = "file number"
CONTACT_RULES = (BY_FOREIGN_ID, BY_CONTACT_NUMBER, BY_EMAIL_AND_NAME)
MATTER_RULES = (BY_FOREIGN_ID, BY_FILE_NUMBER)

# An address is taken whole from one side: mixing a street from PM with a city from LA
# would make an address neither system holds.
ADDRESS_GROUPS = ("physical_", "mailing_")
BOTH = frozenset({PM, LA})

Progress = Callable[[str, int, int | None], None]
"""Called as records are read and linked: (what, how many so far, how many in all)."""


# The report --------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """One record as the report names it: its system, id, name and number."""

    system: str
    id: str
    name: str
    number: str = ""
    email: str = ""
    address: str = ""

    def label(self) -> str:
        text = f'{self.system.upper()} {self.id} "{self.name}"'
        if self.number:
            text += f" no. {self.number}"
        if self.email:
            text += f" <{self.email}>"
        return text

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "number": self.number,
            "email": self.email,
            "address": self.address,
        }


@dataclass
class Pair:
    """A PM record and an LA record found to be the same, and by which rule."""

    rule: str
    pm: Party
    la: Party
    link_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "pm": self.pm.as_dict(),
            "la": self.la.as_dict(),
            "link_id": self.link_id,
        }


@dataclass
class Ambiguity:
    """Records that match each other at `rule` but not one to one: a person decides."""

    rule: str
    pm: list[Party]
    la: list[Party]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "pm": [party.as_dict() for party in self.pm],
            "la": [party.as_dict() for party in self.la],
        }


@dataclass
class Held:
    """A matter pair that waits for its client contacts to be linked to each other."""

    pair: Pair
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.pair.as_dict(), "reason": self.reason}


@dataclass
class RecordTypeReport:
    """What onboarding found (and did) for one record type."""

    name: str
    rules: tuple[str, ...]
    read_pm: int = 0
    read_la: int = 0
    firm_users_skipped: int = 0
    already_linked: int = 0
    decided: int = 0  # records an admin decided about earlier, left to that decision
    only_in_pm: int = 0
    only_in_la: int = 0
    matches: list[Pair] = field(default_factory=list)
    ambiguous: list[Ambiguity] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)

    def matched_by_rule(self) -> dict[str, int]:
        counts = dict.fromkeys(self.rules, 0)
        for pair in self.matches:
            counts[pair.rule] += 1
        return counts

    @property
    def linked(self) -> list[Pair]:
        return [pair for pair in self.matches if pair.link_id is not None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": {"pm": self.read_pm, "la": self.read_la},
            "firm_users_skipped": self.firm_users_skipped,
            "matched": self.matched_by_rule(),
            "linked": len(self.linked),
            "already_linked": self.already_linked,
            "decided": self.decided,
            "only_in_pm": self.only_in_pm,
            "only_in_la": self.only_in_la,
            "matches": [pair.as_dict() for pair in self.matches],
            "ambiguous": [case.as_dict() for case in self.ambiguous],
            "held": [held.as_dict() for held in self.held],
        }


@dataclass
class TimeEntriesReport:
    """Time entries are matched by their PM id, which LA keeps as `external_id`: one in
    LA already is never sent again (LA answers `exists` to a send, and the hub marks it
    sent), so onboarding only counts them."""

    in_la: int = 0  # PM time entries the hub knows that LA holds already
    only_in_pm: int = 0  # the hub's unsent entries LA does not hold: sent when a person sends
    only_in_la: int = 0  # LA entries with a PM id the hub has not seen (yet)

    def as_dict(self) -> dict[str, int]:
        return {"in_la": self.in_la, "only_in_pm": self.only_in_pm, "only_in_la": self.only_in_la}


@dataclass
class OnboardingReport:
    dry_run: bool
    contacts: RecordTypeReport
    matters: RecordTypeReport
    time_entries: TimeEntriesReport = field(default_factory=TimeEntriesReport)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "contacts": self.contacts.as_dict(),
            "matters": self.matters.as_dict(),
            "time_entries": self.time_entries.as_dict(),
        }


# Matching ----------------------------------------------------------------------------

Records = dict[str, dict]
Edges = set[tuple[str, str]]
EdgeRule = Callable[[Records, Records], Edges]


@dataclass
class MatchResult:
    pairs: list[tuple[str, str, str]]  # (rule, pm id, la id)
    ambiguous: list[tuple[str, list[str], list[str]]]  # (rule, pm ids, la ids)
    pm_left: set[str]
    la_left: set[str]


def _id_order(record_id: str) -> tuple[int, int, str]:
    return (0, int(record_id), "") if record_id.isdigit() else (1, 0, record_id)


def _components(edges: Edges) -> Iterator[tuple[list[str], list[str]]]:
    """The groups of records that the edges connect, as (pm ids, la ids)."""
    pm_side: dict[str, set[str]] = defaultdict(set)
    la_side: dict[str, set[str]] = defaultdict(set)
    for pm_id, la_id in edges:
        pm_side[pm_id].add(la_id)
        la_side[la_id].add(pm_id)
    seen: set[str] = set()
    for start in sorted(pm_side, key=_id_order):
        if start in seen:
            continue
        pm_ids, la_ids, waiting = {start}, set(), [start]
        while waiting:
            for la_id in pm_side[waiting.pop()] - la_ids:
                la_ids.add(la_id)
                for pm_id in la_side[la_id] - pm_ids:
                    pm_ids.add(pm_id)
                    waiting.append(pm_id)
        seen |= pm_ids
        yield sorted(pm_ids, key=_id_order), sorted(la_ids, key=_id_order)


def records_match(
    *, pm: Records, la: Records, rules: Iterable[tuple[str, EdgeRule]]
) -> MatchResult:
    """Pair PM and LA records rule by rule; each record is settled at its first rule.

    At each rule only records not yet settled take part. Records connected one to one
    are a pair; any larger group is ambiguous and all its records stay unlinked (a person
    decides; a later, weaker rule must not guess for them).
    """
    pm_left, la_left = set(pm), set(la)
    result = MatchResult(pairs=[], ambiguous=[], pm_left=pm_left, la_left=la_left)
    for rule, edges_of in rules:
        edges = edges_of({k: pm[k] for k in pm_left}, {k: la[k] for k in la_left})
        for pm_ids, la_ids in _components(edges):
            if len(pm_ids) == 1 and len(la_ids) == 1:
                result.pairs.append((rule, pm_ids[0], la_ids[0]))
            else:
                result.ambiguous.append((rule, pm_ids, la_ids))
            pm_left.difference_update(pm_ids)
            la_left.difference_update(la_ids)
    return result


def _stored_la_id(pm_raw: dict) -> str:
    reference = pm_raw.get("importExternalReference") or ""
    if not reference.startswith(LA_ID_PREFIX):
        return ""
    return reference.removeprefix(LA_ID_PREFIX).strip()


def _foreign_id_edges(la_pm_id_field: str) -> EdgeRule:
    """LA holds the PM id in `la_pm_id_field`; PM holds the LA id as `LA:<id>`."""

    def edges(pm: Records, la: Records) -> Edges:
        found = set()
        for la_id, raw in la.items():
            pm_id = str(raw.get(la_pm_id_field) or "")
            if pm_id in pm:
                found.add((pm_id, la_id))
        for pm_id, raw in pm.items():
            la_id = _stored_la_id(raw)
            if la_id in la:
                found.add((pm_id, la_id))
        return found

    return edges


def _equal_key_edges(pm_key: Callable[[dict], Any], la_key: Callable[[dict], Any]) -> EdgeRule:
    """Pairs whose keys are equal; a record whose key is empty matches nothing."""

    def edges(pm: Records, la: Records) -> Edges:
        index: dict[Any, list[str]] = defaultdict(list)
        for la_id, raw in la.items():
            key = la_key(raw)
            if key:
                index[key].append(la_id)
        return {
            (pm_id, la_id)
            for pm_id, raw in pm.items()
            if (key := pm_key(raw))
            for la_id in index.get(key, ())
        }

    return edges


def _text(value: Any) -> str:
    return str(value or "").strip()


def _folded(*parts: Any) -> str:
    return " ".join(" ".join(_text(part) for part in parts).split()).casefold()


def _name_key(*, is_company: bool, company: Any, first: Any, last: Any) -> tuple[str, str] | None:
    name = _folded(company) if is_company else _folded(first, last)
    return ("company" if is_company else "person", name) if name else None


def _pm_email_and_name(raw: dict) -> tuple[str, tuple[str, str]] | None:
    email = _folded(raw.get("email"))
    name = _name_key(
        is_company=raw.get("isCompany") == "T",
        company=raw.get("companyName"),
        first=raw.get("firstName"),
        last=raw.get("lastName"),
    )
    return (email, name) if email and name else None


def _la_email_and_name(raw: dict) -> tuple[str, tuple[str, str]] | None:
    email = _folded(raw.get("email"))
    name = _name_key(
        is_company=bool(raw.get("is_company")),
        company=raw.get("company_name"),
        first=raw.get("first_name"),
        last=raw.get("last_name"),
    )
    return (email, name) if email and name else None


def _field(name: str) -> Callable[[dict], str]:
    return lambda raw: _text(raw.get(name))


CONTACT_EDGES: tuple[tuple[str, EdgeRule], ...] = (
    (BY_FOREIGN_ID, _foreign_id_edges("pm_contact_id")),
    (
        BY_CONTACT_NUMBER,
        _equal_key_edges(pm_mapping.participant_reference, _field("contact_number")),
    ),
    (BY_EMAIL_AND_NAME, _equal_key_edges(_pm_email_and_name, _la_email_and_name)),
)

MATTER_EDGES: tuple[tuple[str, EdgeRule], ...] = (
    (BY_FOREIGN_ID, _foreign_id_edges("pm_matter_id")),
    (BY_FILE_NUMBER, _equal_key_edges(_field("reference"), _field("file_number"))),
)


# Naming records in the report --------------------------------------------------------


def _pm_contact_party(raw: dict) -> Party:
    name = _text(raw.get("displayName")) or (
        _text(raw.get("companyName"))
        if raw.get("isCompany") == "T"
        else ", ".join(p for p in (_text(raw.get("lastName")), _text(raw.get("firstName"))) if p)
    )
    return Party(
        system=PM,
        id=str(raw["id"]),
        name=name,
        number=pm_mapping.participant_reference(raw),
        email=_text(raw.get("email")),
        address=_address_line(contacts.pm_remote(raw).values),
    )


def _la_contact_party(raw: dict) -> Party:
    return Party(
        system=LA,
        id=str(raw["id"]),
        name=_text(raw.get("display_name")),
        number=_text(raw.get("contact_number")),
        email=_text(raw.get("email")),
        address=_address_line(contacts.la_remote(raw).values),
    )


def _address_line(values: dict) -> str:
    """The physical address on one line, for a person telling two records apart."""
    parts = ("line1", "line2", "city", "state", "post_code", "country")
    found = (_text(values.get(f"physical_{part}")) for part in parts)
    return ", ".join(part for part in found if part)


def _pm_matter_party(raw: dict) -> Party:
    return Party(
        system=PM,
        id=str(raw["id"]),
        name=_text(raw.get("name")),
        number=_text(raw.get("reference")),
    )


def _la_matter_party(raw: dict) -> Party:
    return Party(
        system=LA,
        id=str(raw["id"]),
        name=_text(raw.get("description")),
        number=_text(raw.get("file_number")),
    )


# Reading -----------------------------------------------------------------------------


def _pm_count(resource: str) -> int | None:
    body = pm_client().call("GET", resource, params={"pageSize": 1}) or {}
    paging = ((body.get("meta") or {}).get("paging") or {}).get(resource) or {}
    return paging.get("recordCount")


def _la_count(path: str) -> int | None:
    return (la_client().call("GET", path, params={"page_size": 1}) or {}).get("count")


def _read(
    records: Iterable[dict],
    *,
    what: str,
    total: Callable[[], int | None],
    progress: Progress | None,
) -> Records:
    """Every record by its id, reading page by page; the total is asked only for a bar."""
    known_total = total() if progress else None
    if progress:
        progress(what, 0, known_total)
    found: Records = {}
    for raw in records:
        found[str(raw["id"])] = raw
        if progress:
            progress(what, len(found), known_total)
    return found


def _firm_people_read() -> set[str]:
    """The participant ids of PM's users, read without touching the hub's timekeepers."""
    return {
        str((user.get("links") or {}).get("participant") or user["id"])
        for user in pm_client().list_all("users")
    }


# Hub values --------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _group(name: str) -> str:
    return next((prefix for prefix in ADDRESS_GROUPS if name.startswith(prefix)), name)


def hub_values_merge(
    *, fields: tuple[SharedField, ...], pm: dict[str, Any], la: dict[str, Any]
) -> dict[str, Any]:
    """The hub's values for a newly linked pair: each shared field from its owner
    (sync/fields.py), or from the other side where the owner holds nothing; an address
    comes whole from the side that holds any part of it, its owner's first. A field only
    one system has (a county, LA's kind) comes from that system."""
    sides = {PM: pm, LA: la}
    groups: dict[str, list[SharedField]] = defaultdict(list)
    for shared in fields:
        groups[_group(shared.name)].append(shared)
    values: dict[str, Any] = {}
    for members in groups.values():
        owner = members[0].owner
        chosen = next(
            (
                system
                for system in (owner, LA if owner == PM else PM)
                if any(
                    shared.systems == BOTH and not _blank(sides[system].get(shared.name))
                    for shared in members
                )
            ),
            owner,
        )
        for shared in members:
            source = chosen if chosen in shared.systems else next(iter(shared.systems))
            values[shared.name] = sides[source].get(shared.name)
    return values


def _snapshot(fields: tuple[SharedField, ...], system: str, values: dict) -> dict:
    return {name: values.get(name) for name in field_names(fields, system)}


# Linking -----------------------------------------------------------------------------


def _settled(link: Link, now: datetime.datetime) -> bool:
    """Whether a link settles its records: it holds both ids, or a sync is at work on it
    (which may be creating the twin). A one-sided link that waits — taken in by a poll
    while paused, held, or red (a number LA already holds) — is onboarding's to pair."""
    both = link.pm_id is not None and link.la_id is not None
    return both or (link.lease_expires_at is not None and link.lease_expires_at > now)


def _pair_link(
    *,
    record_type: str,
    pm_id: str,
    la_id: str,
    la_raw: dict,
    values: dict[str, Any],
    pm_snapshot: dict,
    la_snapshot: dict,
    record_make: Callable[[dict[str, Any]], Any],
) -> int | None:
    """Link a matched pair and queue its sync, reusing the one-sided links a poll made
    for either record: the PM side's link (and hub record, which a matter may name as
    its client) takes the LA id; an LA side's own link and hub record, never synced, go.
    None when either record is settled by another link meanwhile (§4 rule 1)."""
    now = datetime.datetime.now(tz=datetime.UTC)
    pair = {
        "la_id": la_id,
        "pm_snapshot": pm_snapshot,
        "la_snapshot": la_snapshot,
        "pm_hash": snapshot_hash(pm_snapshot),
        "la_hash": snapshot_hash(la_snapshot),
        "la_absent_checked": False,
        "needs_decision": False,
        "attempts": 0,
        **seen_fields(LA, la_raw),
    }
    try:
        with transaction.atomic():
            waiting = list(
                Link.objects.select_for_update()
                .filter(record_type=record_type)
                .filter(Q(pm_id=pm_id) | Q(la_id=la_id))
            )
            if any(_settled(link, now) for link in waiting):
                return None
            by_pm = next((link for link in waiting if link.pm_id == pm_id), None)
            by_la = next((link for link in waiting if link.la_id == la_id), None)
            if by_la is not None:
                by_la.record.delete()  # its link goes with it
            if by_pm is not None:
                record = by_pm.record
                for name, value in values.items():
                    setattr(record, name, value)
                record.save()
                Link.objects.filter(pk=by_pm.pk).update(**pair)
                link = by_pm
            else:
                link = Link.objects.create(
                    record_type=record_type,
                    pm_id=pm_id,
                    **pair,
                    **{RECORD_FIELDS[record_type]: record_make(values)},
                )
            link_enqueue(link, message=LINKED_MESSAGE)
    except (IntegrityError, ProtectedError):
        return None
    return link.pk


def contact_pair_link(*, pm_raw: dict, la_raw: dict) -> int | None:
    """Make (or reuse) the hub contact and its link for a matched pair, and queue its
    sync. None when one of the two ids was linked meanwhile (the regular sync linked it):
    that link stands, and nothing is made twice (ARCHITECTURE §4 rule 1)."""
    pm, la = contacts.pm_remote(pm_raw), contacts.la_remote(la_raw)
    return _pair_link(
        record_type=RecordType.CONTACT,
        pm_id=pm.id,
        la_id=la.id,
        la_raw=la_raw,
        values=hub_values_merge(fields=CONTACT_FIELDS, pm=pm.values, la=la.values),
        pm_snapshot=_snapshot(CONTACT_FIELDS, PM, pm.values),
        la_snapshot=_snapshot(CONTACT_FIELDS, LA, la.values),
        record_make=lambda values: Contact.objects.create(**values),
    )


def matter_pair_link(*, pm_raw: dict, la_raw: dict) -> int | None:
    """Make (or reuse) the hub matter and its link for a matched pair, and queue its sync.

    Its client contacts must be linked to each other already (checked by the caller),
    so reading the pair resolves the client from the hub without calling either system.
    """
    pm, la = matters.pm_remote(pm_raw), matters.la_remote(la_raw)
    values = hub_values_merge(fields=MATTER_FIELDS, pm=pm.values, la=la.values)
    open_date = values.pop("open_date")
    values["open_date"] = datetime.date.fromisoformat(open_date) if open_date else None
    return _pair_link(
        record_type=RecordType.MATTER,
        pm_id=pm.id,
        la_id=la.id,
        la_raw=la_raw,
        values=values,
        pm_snapshot=_snapshot(MATTER_FIELDS, PM, pm.values),
        la_snapshot=_snapshot(MATTER_FIELDS, LA, la.values),
        record_make=lambda values: Matter.objects.create(**values),
    )


def _linked_ids(record_type: str) -> tuple[dict[str, int], dict[str, int]]:
    """The links that settle their records (`_settled`): {PM id: link id}, {LA id: link id}."""
    now = datetime.datetime.now(tz=datetime.UTC)
    by_pm: dict[str, int] = {}
    by_la: dict[str, int] = {}
    links = Link.objects.filter(record_type=record_type).filter(
        Q(pm_id__isnull=False, la_id__isnull=False) | Q(lease_expires_at__gt=now)
    )
    for link in links.only("pk", "pm_id", "la_id", "lease_expires_at"):
        if link.pm_id is not None:
            by_pm[link.pm_id] = link.pk
        if link.la_id is not None:
            by_la[link.la_id] = link.pk
    return by_pm, by_la


def _decided_ids(record_type: str) -> tuple[set[str], set[str]]:
    """PM and LA ids of the records an admin decided about (sync/models.py AmbiguousMatch):
    onboarding leaves them to that decision."""
    rows = (
        AmbiguousRecord.objects.filter(record_type=record_type)
        .exclude(match__decision=AmbiguousMatch.Decision.UNDECIDED)
        .values_list("system", "record_id")
    )
    decided: dict[str, set[str]] = {PM: set(), LA: set()}
    for system, record_id in rows:
        decided[system].add(record_id)
    return decided[PM], decided[LA]


def _contact_pairs() -> dict[str, str]:
    """{PM participant id: LA contact id} of the contacts linked on both sides."""
    return dict(
        Link.objects.filter(
            record_type=RecordType.CONTACT, pm_id__isnull=False, la_id__isnull=False
        ).values_list("pm_id", "la_id")
    )


def _report_matching(
    report: RecordTypeReport,
    *,
    record_type: str,
    pm: Records,
    la: Records,
    rules: tuple[tuple[str, EdgeRule], ...],
    pm_party: Callable[[dict], Party],
    la_party: Callable[[dict], Party],
) -> None:
    """Match the records that have no link yet, and count the rest into the report."""
    by_pm, by_la = _linked_ids(record_type)
    linked = {by_pm[k] for k in pm if k in by_pm} | {by_la[k] for k in la if k in by_la}
    report.already_linked = len(linked)
    decided_pm, decided_la = _decided_ids(record_type)
    pm = {k: v for k, v in pm.items() if k not in by_pm}
    la = {k: v for k, v in la.items() if k not in by_la}
    report.decided = len(decided_pm & set(pm)) + len(decided_la & set(la))
    result = records_match(
        pm={k: v for k, v in pm.items() if k not in decided_pm},
        la={k: v for k, v in la.items() if k not in decided_la},
        rules=rules,
    )
    report.matches = [
        Pair(rule=rule, pm=pm_party(pm[pm_id]), la=la_party(la[la_id]))
        for rule, pm_id, la_id in result.pairs
    ]
    report.ambiguous = [
        Ambiguity(
            rule=rule,
            pm=[pm_party(pm[k]) for k in pm_ids],
            la=[la_party(la[k]) for k in la_ids],
        )
        for rule, pm_ids, la_ids in result.ambiguous
    ]
    report.only_in_pm = len(result.pm_left)
    report.only_in_la = len(result.la_left)


def _client_problem(
    *, pm_raw: dict, la_raw: dict, pairs: dict[str, str], clients: dict[str, Party]
) -> str:
    """Why a matter pair can't be linked yet because of its clients; "" when it can."""
    pm_client_id = _text(pm_mapping.action_from_pm(pm_raw)["client"])
    la_contact_id = str(la_raw.get("contact") or "")
    if not pm_client_id:
        return "the PM matter has no client"
    label = clients[pm_client_id].label() if pm_client_id in clients else f"PM {pm_client_id}"
    if pm_client_id not in pairs:
        return f"its client {label} is not linked to an LA contact"
    if pairs[pm_client_id] != la_contact_id:
        return (
            f"its client {label} is linked to LA contact {pairs[pm_client_id]}, "
            f"but the LA file belongs to LA contact {la_contact_id}"
        )
    return ""


def _apply(
    pairs: list[Pair],
    *,
    pm: Records,
    la: Records,
    link: Callable[..., int | None],
    what: str,
    progress: Progress | None,
) -> None:
    if progress:
        progress(what, 0, len(pairs))
    for number, pair in enumerate(pairs, start=1):
        pair.link_id = link(pm_raw=pm[pair.pm.id], la_raw=la[pair.la.id])
        if progress:
            progress(what, number, len(pairs))


# Ambiguous records: kept for an admin, held until decided -------------------------------

DIFFERENT_MESSAGE = "Decided: different records; sync queued."


def _reason(case: Ambiguity, party: Party) -> str:
    others = case.la if party.system == PM else case.pm
    names = "; ".join(other.label() for other in others)
    return (
        f"Needs a decision: the other system holds {len(others)} records that may be this "
        f"one (by {case.rule}): {names}. Pick its twin, or mark them different records, on "
        "the onboarding page."
    )


def _ambiguity_keep(record_type: str, case: Ambiguity) -> AmbiguousMatch:
    """The admin's case for these records: the one they are in already (an earlier run's,
    joined by any new candidate), or a new one."""
    members = [(PM, party.id) for party in case.pm] + [(LA, party.id) for party in case.la]
    wanted = Q()
    for system, record_id in members:
        wanted |= Q(system=system, record_id=record_id)
    with transaction.atomic():
        known = {
            (row.system, row.record_id): row
            for row in AmbiguousRecord.objects.select_related("match")
            .filter(record_type=record_type)
            .filter(wanted)
        }
        if known:
            match = next(iter(known.values())).match
        else:
            match = AmbiguousMatch.objects.create(record_type=record_type, rule=case.rule)
        if match.decision == AmbiguousMatch.Decision.UNDECIDED:
            match.rule, match.candidates = case.rule, case.as_dict()
            match.save(update_fields=["rule", "candidates"])
        AmbiguousRecord.objects.bulk_create(
            AmbiguousRecord(
                match=match, record_type=record_type, system=system, record_id=record_id
            )
            for system, record_id in members
            if (system, record_id) not in known
        )
    return match


def _record_hold(record_type: str, party: Party, raw: dict, reason: str) -> None:
    """Make sure the record has its hub link (as a poll would have made it) and hold it:
    amber, never created in the other system until an admin decides. LA's files are
    never created in PM, so only records that could be copied are held."""
    if record_type == RecordType.CONTACT:
        remote = (contacts.pm_remote if party.system == PM else contacts.la_remote)(raw)
        link, _ = contacts.contact_ingest(system=party.system, remote=remote)
    elif party.system == PM:
        try:
            link, _ = matters.matter_ingest(remote=matters.pm_remote(raw))
        except SyncBlocked:
            return  # a matter with no client is not taken in at all
    else:
        return
    Link.objects.filter(
        pk=link.pk, **{f"{LA if party.system == PM else PM}_id__isnull": True}
    ).update(
        needs_decision=True,
        status=LinkStatus.PENDING,
        error_code=NEEDS_DECISION,
        error_system="hub",
        message=reason,
        next_retry_at=None,
    )


def _ambiguities_hold(
    found: RecordTypeReport, *, record_type: str, pm: Records, la: Records
) -> None:
    for case in found.ambiguous:
        match = _ambiguity_keep(record_type, case)
        if match.decision != AmbiguousMatch.Decision.UNDECIDED:
            continue
        for party in (*case.pm, *case.la):
            raw = (pm if party.system == PM else la)[party.id]
            _record_hold(record_type, party, raw, _reason(case, party))


def _waiting_matters_hold(held: list[Held], *, pm: Records) -> None:
    """A matched matter whose client waits for an admin's decision is held too: going
    live would otherwise create the PM matter in LA beside the file it matched. Matching
    again after the client is decided links the pair."""
    undecided = set(
        Link.objects.filter(
            record_type=RecordType.CONTACT, needs_decision=True, pm_id__isnull=False
        ).values_list("pm_id", flat=True)
    )
    for waiting in held:
        raw = pm[waiting.pair.pm.id]
        if _text(pm_mapping.action_from_pm(raw)["client"]) not in undecided:
            continue
        reason = (
            f"Needs a decision: its client waits for one. Decide the client on the "
            f"onboarding page, then press Match again to link this matter to "
            f"{waiting.pair.la.label()}."
        )
        _record_hold(RecordType.MATTER, waiting.pair.pm, raw, reason)


class DecisionRefused(Exception):
    """The decision can't be applied; the message says why, for the admin."""


def _member_ids(match: AmbiguousMatch, system: str) -> list[str]:
    return [party["id"] for party in match.candidates.get(system, [])]


def ambiguous_match_decide(
    *, match_id: int, user=None, twin_pm_id: str = "", twin_la_id: str = ""
) -> AmbiguousMatch:
    """An admin's decision on ambiguous records. With a PM and an LA id: they
    are twins, and are linked (their sync queued); the others of the case are different
    records. With neither: all of them are different records. Different records are no
    longer held: their syncs are queued, and going live creates them in the other system.
    `link_existing` and the onboarding page honour the decision from then on."""
    with transaction.atomic():
        match = AmbiguousMatch.objects.select_for_update().get(pk=match_id)
        if match.decision != AmbiguousMatch.Decision.UNDECIDED:
            raise DecisionRefused(
                f"These records were decided already ({match.get_decision_display().lower()})."
            )
        twins = bool(twin_pm_id or twin_la_id)
        if twins and (
            twin_pm_id not in _member_ids(match, PM) or twin_la_id not in _member_ids(match, LA)
        ):
            raise DecisionRefused("Pick one PM record and one LA record of this case.")
        if twins:
            adapter = ADAPTERS[match.record_type]
            pm_remote, la_remote = adapter.pm_read(twin_pm_id), adapter.la_read(twin_la_id)
            if pm_remote is None or la_remote is None:
                raise DecisionRefused("One of the two records is no longer there; match again.")
            pair_link = (
                contact_pair_link if match.record_type == RecordType.CONTACT else matter_pair_link
            )
            if pair_link(pm_raw=pm_remote.raw, la_raw=la_remote.raw) is None:
                raise DecisionRefused(
                    "These two could not be linked: one of them is linked to another record "
                    "already (or, for a matter, its client is not linked yet)."
                )
        match.decision = (
            AmbiguousMatch.Decision.TWINS if twins else AmbiguousMatch.Decision.DIFFERENT
        )
        match.twin_pm_id, match.twin_la_id = twin_pm_id, twin_la_id
        match.decided_by = user if getattr(user, "pk", None) else None
        match.decided_at = datetime.datetime.now(tz=datetime.UTC)
        match.save()
        others = Q()
        for system, twin in ((PM, twin_pm_id), (LA, twin_la_id)):
            ids = [i for i in _member_ids(match, system) if i != twin]
            others |= Q(**{f"{system}_id__in": ids})
        for link in Link.objects.filter(record_type=match.record_type, needs_decision=True).filter(
            others
        ):
            Link.objects.filter(pk=link.pk).update(needs_decision=False)
            link_enqueue(link, message=DIFFERENT_MESSAGE)
    return match


def existing_records_link(*, dry_run: bool, progress: Progress | None = None) -> OnboardingReport:
    """Link the contacts and matters that PM and LA already both hold (ARCHITECTURE §2
    "Linking"), by stored foreign id, then number, then (contacts) email and name.

    With `dry_run` nothing is written to the hub's database: the report says what would
    be linked. Otherwise each pair gets a hub record and a pending link, and its sync is
    queued. Running it again links nothing new: linked records are left as they are.
    """
    report = OnboardingReport(
        dry_run=dry_run,
        contacts=RecordTypeReport(name="contacts", rules=CONTACT_RULES),
        matters=RecordTypeReport(name="matters", rules=MATTER_RULES),
    )
    # Refreshing timekeepers writes them to the hub; matters need them to name assignees.
    firm_people = _firm_people_read() if dry_run else timekeepers_refresh()
    participants = _read(
        pm_client().list_all(contacts.PM_RESOURCE),
        what="PM contacts read",
        total=lambda: _pm_count(contacts.PM_RESOURCE),
        progress=progress,
    )
    la_contacts = _read(
        la_client().list_all("contacts"),
        what="LA contacts read",
        total=lambda: _la_count("contacts"),
        progress=progress,
    )
    actions = _read(
        pm_client().list_all(matters.PM_RESOURCE),
        what="PM matters read",
        total=lambda: _pm_count(matters.PM_RESOURCE),
        progress=progress,
    )
    files = _read(
        la_client().list_all("files"),
        what="LA matters read",
        total=lambda: _la_count("files"),
        progress=progress,
    )
    people = {k: v for k, v in participants.items() if k not in firm_people}
    report.contacts.firm_users_skipped = len(participants) - len(people)
    _contacts_link(report, pm=people, la=la_contacts, progress=progress)
    named = {k: _pm_contact_party(v) for k, v in participants.items()}
    _matters_link(report, pm=actions, la=files, clients=named, progress=progress)
    _time_entries_count(report.time_entries, progress=progress)
    return report


def _time_entries_count(found: TimeEntriesReport, *, progress: Progress | None) -> None:
    """Match the time entries the hub took in from PM with LA's by PM id (`external_id`)."""
    in_la = {
        str(raw["external_id"])
        for raw in _read(
            la_client().list_all("time-entries"),
            what="LA time entries read",
            total=lambda: _la_count("time-entries"),
            progress=progress,
        ).values()
        if raw.get("external_id")
    }
    known = set(
        Link.objects.filter(record_type=RecordType.TIME_ENTRY, pm_id__isnull=False).values_list(
            "pm_id", flat=True
        )
    )
    unsent = set(
        Link.objects.filter(
            record_type=RecordType.TIME_ENTRY,
            pm_id__isnull=False,
            time_entry__billing_status="unsent",
        ).values_list("pm_id", flat=True)
    )
    found.in_la = len(known & in_la)
    found.only_in_pm = len(unsent - in_la)
    found.only_in_la = len(in_la - known)


def _contacts_link(
    report: OnboardingReport, *, pm: Records, la: Records, progress: Progress | None
) -> None:
    found = report.contacts
    found.read_pm, found.read_la = len(pm), len(la)
    _report_matching(
        found,
        pm=pm,
        la=la,
        record_type=RecordType.CONTACT,
        rules=CONTACT_EDGES,
        pm_party=_pm_contact_party,
        la_party=_la_contact_party,
    )
    if not report.dry_run:
        _ambiguities_hold(found, record_type=RecordType.CONTACT, pm=pm, la=la)
        _apply(
            found.matches,
            pm=pm,
            la=la,
            link=contact_pair_link,
            what="contacts linked",
            progress=progress,
        )


def _matters_link(
    report: OnboardingReport,
    *,
    pm: Records,
    la: Records,
    clients: dict[str, Party],
    progress: Progress | None,
) -> None:
    """Match matters, hold back the pairs whose clients are not linked to each other
    (after the contacts are linked, or as they would be in a dry run), link the rest."""
    found = report.matters
    found.read_pm, found.read_la = len(pm), len(la)
    _report_matching(
        found,
        pm=pm,
        la=la,
        record_type=RecordType.MATTER,
        rules=MATTER_EDGES,
        pm_party=_pm_matter_party,
        la_party=_la_matter_party,
    )
    pairs = _contact_pairs()
    if report.dry_run:
        pairs.update({pair.pm.id: pair.la.id for pair in report.contacts.matches})
    ready = []
    for pair in found.matches:
        problem = _client_problem(
            pm_raw=pm[pair.pm.id], la_raw=la[pair.la.id], pairs=pairs, clients=clients
        )
        if problem:
            found.held.append(Held(pair=pair, reason=problem))
        else:
            ready.append(pair)
    found.matches = ready
    if not report.dry_run:
        _ambiguities_hold(found, record_type=RecordType.MATTER, pm=pm, la=la)
        _waiting_matters_hold(found.held, pm=pm)
        _apply(
            found.matches,
            pm=pm,
            la=la,
            link=matter_pair_link,
            what="matters linked",
            progress=progress,
        )


# Writing the report ------------------------------------------------------------------

# What the regular sync does with what onboarding leaves unlinked (ARCHITECTURE §2:
# contacts go both ways, matters only from PM to LA).
LEFT_TO_THE_SYNC = {
    ("contacts", PM): "the regular sync creates them in LA",
    ("contacts", LA): "the regular sync creates them in PM",
    ("matters", PM): "the regular sync creates them in LA",
    ("matters", LA): "left alone: matters go from PM to LA only",
}
LABEL_WIDTH = 27


def _count_lines(found: RecordTypeReport, *, dry_run: bool) -> list[str]:
    rows = [(f"matched by {rule}", count, "") for rule, count in found.matched_by_rule().items()]
    if not dry_run:
        rows.append(("linked now", len(found.linked), ""))
    rows += [
        ("already linked", found.already_linked, "left as they are"),
        ("ambiguous", len(found.ambiguous), "listed below, for a person to decide"),
    ]
    if found.name == "matters":
        rows.append(("waiting for their client", len(found.held), "listed below"))
    rows += [
        ("only in PM", found.only_in_pm, LEFT_TO_THE_SYNC[(found.name, PM)]),
        ("only in LA", found.only_in_la, LEFT_TO_THE_SYNC[(found.name, LA)]),
    ]
    if found.decided:
        rows.append(("decided by an admin", found.decided, "left to that decision"))
    if found.firm_users_skipped:
        rows.append(("firm users in PM", found.firm_users_skipped, "skipped: not contacts"))
    return [
        f"{found.name.capitalize()}: {found.read_pm} in PM, {found.read_la} in LA",
        *(
            f"  {label + ':':<{LABEL_WIDTH}} {count:>6}" + (f"  ({note})" if note and count else "")
            for label, count, note in rows
        ),
    ]


def _ambiguity_lines(case: Ambiguity) -> list[str]:
    if len(case.pm) == 1 or len(case.la) != 1:
        subjects = [(party, case.la) for party in case.pm]
    else:
        subjects = [(case.la[0], case.pm)]
    lines = []
    for subject, candidates in subjects:
        lines.append(f"  {subject.label()} matches {len(candidates)} by {case.rule}:")
        lines += [f"      {candidate.label()}" for candidate in candidates]
    return lines


def onboarding_report_lines(*, report: OnboardingReport, list_matches: bool) -> list[str]:
    """The report as a firm admin reads it: counts per rule and record type, each
    ambiguous case with both sides' ids, names and numbers, the matters waiting for
    their client, and (when `list_matches`) every pair matched."""
    if report.dry_run:
        lines = ["Dry run: nothing was linked and nothing was written.", ""]
    else:
        lines = ["Linked the records both systems already hold; their sync is queued.", ""]
    for found in (report.contacts, report.matters):
        lines += [*_count_lines(found, dry_run=report.dry_run), ""]
    times = report.time_entries
    lines += [
        "Time entries, by PM id:",
        f"  {'already in LA:':<{LABEL_WIDTH + 1}} {times.in_la:>6}"
        + ("  (never sent again)" if times.in_la else ""),
        f"  {'unsent, only in PM:':<{LABEL_WIDTH + 1}} {times.only_in_pm:>6}"
        + ("  (sent when a person sends them for billing)" if times.only_in_pm else ""),
        "",
    ]
    for found in (report.contacts, report.matters):
        if found.ambiguous:
            lines += [
                f"Ambiguous {found.name}: none of these was linked, and each is held (never "
                "created in the",
                "other system) until an admin picks its twin or marks them different records "
                "on the onboarding page.",
            ]
            for case in found.ambiguous:
                lines += _ambiguity_lines(case)
            lines.append("")
    if report.matters.held:
        lines.append(
            "Matters waiting for their client: link the clients, then run link_existing again."
        )
        for held in report.matters.held:
            lines.append(f"  {held.pair.pm.label()} <-> {held.pair.la.label()}: {held.reason}")
        lines.append("")
    if list_matches:
        verb = "Would link" if report.dry_run else "Linked"
        for found in (report.contacts, report.matters):
            pairs = found.matches if report.dry_run else found.linked
            if not pairs:
                continue
            lines.append(f"{verb} these {found.name} ({len(pairs)}):")
            lines += [
                f"  {pair.pm.label()} <-> {pair.la.label()} (by {pair.rule})" for pair in pairs
            ]
            lines.append("")
    return lines[:-1] if lines and lines[-1] == "" else lines
