"""Field-level merge of an update against the row's current state (invariant 6).

Each synced row keeps, per field, the version, HLC, user and device of its last write (``field_meta``,
key ``*`` for fields untouched since the row was created). An update carries ``base``, the row version
the client edited from:

- the field last changed at or before ``base``, or by the same device: a plain later edit — applied;
- it changed after ``base`` by someone else: two edits that did not see each other — the later by HLC
  wins and the other value is kept as a conflict entry. Nothing is overwritten silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldConflict:
    field: str
    kept_value: Any
    lost_value: Any
    kept_hlc: str | None
    lost_hlc: str
    kept_by: str | None
    lost_by: str | None
    lost_device_id: str | None


@dataclass
class Merge:
    updates: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)


def stamp(version: int, hlc: str | None, user_id: str | None, device_id: str | None) -> dict[str, Any]:
    return {"v": version, "h": hlc, "u": user_id, "d": device_id}


def merge(
    current: dict[str, Any],
    meta: dict[str, Any],
    changes: dict[str, Any],
    *,
    base: int,
    hlc: str,
    version: int,
    user_id: str | None,
    device_id: str | None,
) -> Merge:
    out = Merge(meta=dict(meta))
    mine = stamp(version, hlc, user_id, device_id)
    default = meta.get("*") or stamp(0, None, None, None)
    for name, new in changes.items():
        old = current.get(name)
        if new == old:
            continue
        last = meta.get(name) or default
        seen = last["v"] <= base or (device_id is not None and last.get("d") == device_id)
        if seen:
            out.updates[name] = new
            out.meta[name] = mine
            continue
        last_hlc = last.get("h")
        if last_hlc is None or hlc > last_hlc:
            out.updates[name] = new
            out.meta[name] = mine
            out.conflicts.append(
                FieldConflict(name, new, old, hlc, last_hlc or "", user_id, last.get("u"), last.get("d"))
            )
        else:
            out.conflicts.append(FieldConflict(name, old, new, last_hlc, hlc, last.get("u"), user_id, device_id))
    return out
