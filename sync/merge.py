"""Field-by-field three-way merge of the hub, PM and LA against the last-synced snapshots.

Pure functions: no database, no HTTP. ARCHITECTURE §4 rules 3 and 4.
"""

from dataclasses import dataclass, field
from typing import Any

from .fields import HUB, LA, PM, SharedField

MISSING = object()


@dataclass
class Conflict:
    field: str
    chosen: str
    values: dict[str, Any]


@dataclass
class MergeResult:
    values: dict[str, Any]
    changed_on: dict[str, list[str]] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)


def merge(
    fields: tuple[SharedField, ...],
    *,
    hub: dict[str, Any],
    pm: dict[str, Any] | None,
    la: dict[str, Any] | None,
    pm_base: dict[str, Any] | None,
    la_base: dict[str, Any] | None,
) -> MergeResult:
    """The value every side should hold for each shared field.

    A side "changed" a field when its value differs from that side's snapshot of the
    last sync. A side with no snapshot yet (its record was made by a sync that did not
    finish) is compared with the hub instead: it holds what the hub sent it, so it
    changed only where it differs from the hub — never a conflict it did not cause. The
    hub's own base is the PM snapshot where it has the field, else the LA snapshot
    (after a successful sync they agree; after a half-finished one, the side that did
    take the write is the one that matches the hub), skipping a system where the field
    is create-only. Unchanged fields keep the hub's value, so a side that missed the
    last write gets it now.
    """
    sides = {PM: (pm, pm_base), LA: (la, la_base)}
    result = MergeResult(values={})
    for shared in fields:
        name = shared.name
        hub_base = _base_for_hub(shared, pm_base, la_base)
        proposals: dict[str, Any] = {}
        if hub.get(name) != hub_base:
            proposals[HUB] = hub.get(name)
        for system, (current, base) in sides.items():
            if current is None or system not in shared.systems or name not in current:
                continue
            if system in shared.create_only_in:
                continue
            before = base.get(name, MISSING) if base is not None else hub.get(name, MISSING)
            if current[name] != before:
                proposals[system] = current[name]
        distinct = {repr(value) for value in proposals.values()}
        if not proposals:
            result.values[name] = hub.get(name)
            continue
        winner = next(side for side in shared.priority() if side in proposals)
        result.values[name] = proposals[winner]
        result.changed_on[name] = sorted(proposals)
        if len(distinct) > 1:
            result.conflicts.append(Conflict(field=name, chosen=winner, values=proposals))
    return result


def _base_for_hub(shared: SharedField, pm_base, la_base):
    """The hub's value at the last sync, read from a snapshot that followed the field.

    A system where the field is create-only keeps its first value in its snapshot
    while the hub moves on, so it is the last place to look: reading it first would
    make the hub look changed for ever and overrule the other system's real edits.
    """
    snapshots = [(PM, pm_base), (LA, la_base)]
    snapshots.sort(key=lambda item: item[0] in shared.create_only_in)
    for _system, base in snapshots:
        if base and shared.name in base:
            return base[shared.name]
    return MISSING
