"""Field-level merge: plain later edits apply, concurrent edits keep the loser (invariant 6)."""

from __future__ import annotations

import pytest

from backend.kernel.conflicts import merge, stamp

H1 = "001700000000000:00000:a"
H2 = "001700000000001:00000:b"
H3 = "001700000000002:00000:c"

CASES = [
    # name, current, meta, changes, base, hlc, device, updates, conflicts (field, kept, lost)
    (
        "untouched since create: plain edit",
        {"name": "A"},
        {"*": stamp(1, H1, "u0", None)},
        {"name": "B"},
        1,
        H2,
        "d1",
        {"name": "B"},
        [],
    ),
    (
        "changed after base by another device, later hlc wins",
        {"name": "X"},
        {"name": stamp(5, H2, "u2", "d2")},
        {"name": "B"},
        3,
        H3,
        "d1",
        {"name": "B"},
        [("name", "B", "X")],
    ),
    (
        "changed after base by another device, earlier hlc loses",
        {"name": "X"},
        {"name": stamp(5, H2, "u2", "d2")},
        {"name": "B"},
        3,
        H1,
        "d1",
        {},
        [("name", "X", "B")],
    ),
    (
        "changed after base by the same device: no conflict",
        {"name": "X"},
        {"name": stamp(5, H1, "u1", "d1")},
        {"name": "B"},
        3,
        H2,
        "d1",
        {"name": "B"},
        [],
    ),
    (
        "same value: nothing to do",
        {"name": "X"},
        {"name": stamp(5, H2, "u2", "d2")},
        {"name": "X"},
        3,
        H3,
        "d1",
        {},
        [],
    ),
    (
        "other fields unaffected by a concurrent edit of one field",
        {"name": "X", "phone": "1"},
        {"name": stamp(5, H2, "u2", "d2")},
        {"phone": "2"},
        3,
        H1,
        "d1",
        {"phone": "2"},
        [],
    ),
    (
        "null clears",
        {"address": "Road"},
        {"*": stamp(1, H1, None, None)},
        {"address": None},
        1,
        H2,
        "d1",
        {"address": None},
        [],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_merge(case):
    _, current, meta, changes, base, hlc, device, updates, conflicts = case
    out = merge(current, meta, changes, base=base, hlc=hlc, version=9, user_id="u1", device_id=device)
    assert out.updates == updates
    assert [(c.field, c.kept_value, c.lost_value) for c in out.conflicts] == conflicts
    for f in updates:
        assert out.meta[f] == stamp(9, hlc, "u1", device)
    for f in changes:
        if f not in updates:
            assert out.meta.get(f) == meta.get(f)


def test_conflict_records_who_lost():
    out = merge(
        {"name": "X"},
        {"name": stamp(5, H2, "u2", "d2")},
        {"name": "B"},
        base=3,
        hlc=H3,
        version=9,
        user_id="u1",
        device_id="d1",
    )
    [c] = out.conflicts
    assert (c.kept_by, c.lost_by, c.lost_device_id, c.kept_hlc, c.lost_hlc) == ("u1", "u2", "d2", H3, H2)
    out = merge(
        {"name": "X"},
        {"name": stamp(5, H2, "u2", "d2")},
        {"name": "B"},
        base=3,
        hlc=H1,
        version=9,
        user_id="u1",
        device_id="d1",
    )
    [c] = out.conflicts
    assert (c.kept_by, c.lost_by, c.lost_device_id) == ("u2", "u1", "d1")
