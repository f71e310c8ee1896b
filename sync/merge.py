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
    last sync. The hub's own base is the PM snapshot where it has the field, else the
    LA snapshot (after a successful sync they agree; after a half-finished one, the
    side that did take the write is the one that matches the hub). Unchanged fields
    keep the hub's value, so a side that missed the last write gets it now.
    """
    sides = {PM: (pm, pm_base or {}), LA: (la, la_base or {})}
    result = MergeResult(values={})
    for shared in fields:
        name = shared.name
        hub_base = _base_for_hub(name, pm_base, la_base)
        proposals: dict[str, Any] = {}
        if hub.get(name) != hub_base:
            proposals[HUB] = hub.get(name)
        for system, (current, base) in sides.items():
            if current is None or system not in shared.systems or name not in current:
                continue
            if system in shared.create_only_in:
                continue
            if current[name] != base.get(name, MISSING):
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


def _base_for_hub(name: str, pm_base, la_base):
    for base in (pm_base, la_base):
        if base and name in base:
            return base[name]
    return MISSING
