"""Stocktake campaigns end to end over the sync protocol: scans from phones, undo, two stocktakers,
reconciliation, and the finish/close rule with a late scan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from backend.domain.assets import services as assets
from tests.conftest import DEMO_PASSWORD
from tests.support import Session, new_uuid


async def _campaign(s: Session) -> dict[str, Any]:
    await s.sync.pull()
    (st,) = [v for (e, _), v in s.sync.base.items() if e == "stocktake"]
    return st


def _items(s: Session) -> list[dict[str, Any]]:
    return sorted((v for (e, _), v in s.sync.base.items() if e == "stocktake_item"), key=lambda v: v["tag"])


def _scan(s: Session, st: dict[str, Any], tag: str, location: str | None, **extra: Any) -> str:
    sid = new_uuid()
    s.sync.mutate(
        "stocktake.scan",
        {
            "id": sid,
            "stocktakeId": st["id"],
            "tag": tag,
            "locationId": location,
            "scannedAt": datetime.now(UTC).isoformat(),
            **extra,
        },
    )
    return sid


def _free_tag(n: int) -> str:
    """A valid tag that no asset has (the demo numbers its tags from 1)."""
    return assets.CODES.assets.make(90_000_000 + n)


async def _report(manager: Session, st: dict[str, Any]) -> dict[str, Any]:
    r = await manager.get(f"/api/stocktakes/{st['id']}/reconciliation")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
async def team(login):
    return await login("stocktaker", "phone-a"), await login("stocktaker2", "phone-b"), await login("manager")


async def test_stocktaker_gets_the_frozen_expected_list_and_others_do_not(team, login):
    a, _, manager = team
    st = await _campaign(a)
    assert st["state"] == "open" and {x["name"] for x in st["assignees"]} >= {"陈盘点 Stocktaker Chen"}
    items = _items(a)
    book = (await manager.get("/api/assets", params={"limit": 500})).json()["items"]
    tianhe = {loc["id"] for loc in st["locations"]}
    expected = sorted(x["tag"] for x in book if x["locationId"] in tianhe and x["status"] != "disposed")
    assert [i["tag"] for i in items] == expected and expected
    # a stocktaker holds no live asset rows, and a rep holds no campaign
    assert not [k for k in a.sync.base if k[0] == "asset"]
    rep = await login("rep1")
    await rep.sync.pull()
    assert not [k for k in rep.sync.base if k[0].startswith("stocktake")]


async def test_scans_reconcile_matched_mislocated_surplus_seen_twice_condition_and_undo(team):
    a, _, manager = team
    st = await _campaign(a)
    items = _items(a)
    locs = [loc["id"] for loc in st["locations"]]
    elsewhere = {i["locationId"]: i for i in items}
    first, second = items[0], next(i for i in items if i["locationId"] != items[0]["locationId"])
    other_loc = next(loc for loc in locs if loc != first["locationId"])
    _scan(a, st, first["tag"], first["locationId"])  # matched
    _scan(a, st, second["tag"].lower(), other_loc if other_loc != second["locationId"] else locs[-1])  # mislocated
    third = items[2]
    _scan(a, st, third["tag"], third["locationId"])
    _scan(a, st, third["tag"], next(loc for loc in locs if loc != third["locationId"]))  # seen twice
    _scan(a, st, _free_tag(1), locs[0])  # surplus: not in the book
    fourth = items[3]
    _scan(a, st, fourth["tag"], fourth["locationId"], condition="damaged", note="屏幕裂了 cracked screen")
    undone = _scan(a, st, items[4]["tag"], items[4]["locationId"])
    await a.sync.sync()
    a.sync.mutate("stocktake.undo", {"id": undone})
    await a.sync.sync()
    assert a.sync.pending == [] and a.sync.rejected == []
    scans = {v["id"]: v for (e, _), v in a.sync.base.items() if e == "stocktake_scan"}
    assert len(scans) == 7 and scans[undone]["undone"] is True
    assert all(v["scannedBy"] == a.user["id"] and v["deviceId"] == a.device_id for v in scans.values())
    assert elsewhere  # the list spans several locations

    report = await _report(manager, st)
    lines = {line["tag"]: line for line in report["lines"]}
    assert lines[first["tag"]]["result"] == "matched"
    assert lines[second["tag"]]["result"] == "mislocated"
    assert lines[third["tag"]]["result"] == "matched" and lines[third["tag"]]["seenTwice"] is True
    assert lines[_free_tag(1)]["result"] == "surplus" and lines[_free_tag(1)]["inBook"] is False
    assert lines[fourth["tag"]]["condition"] == "damaged"
    assert lines[items[4]["tag"]]["result"] == "missing"  # its only scan was undone
    t = report["totals"]
    assert (t["expected"], t["matched"], t["mislocated"], t["surplus"], t["seenTwice"], t["condition"]) == (
        len(items),
        3,
        1,
        1,
        1,
        1,
    )
    assert t["missing"] == len(items) - 4
    assert report["matchRate"] == round(3 / len(items), 4)
    per_loc = {p["locationId"]: p for p in report["locations"]}
    assert sum(p["expected"] for p in per_loc.values()) == len(items)
    assert sum(p["found"] for p in per_loc.values()) == 4


async def test_a_tag_in_the_book_but_outside_the_campaign_is_surplus_in_book(team):
    a, _, manager = team
    st = await _campaign(a)
    expected = {i["tag"] for i in _items(a)}
    book = (await manager.get("/api/assets", params={"limit": 500})).json()["items"]
    outside = next(x["tag"] for x in book if x["tag"] not in expected)
    _scan(a, st, outside, st["locations"][0]["id"])
    await a.sync.sync()
    line = {line["tag"]: line for line in (await _report(manager, st))["lines"]}[outside]
    assert line["result"] == "surplus" and line["inBook"] is True and line["assetId"]


async def test_two_stocktakers_scanning_overlapping_assets_yield_one_result(team):
    a, b, manager = team
    st = await _campaign(a)
    await b.sync.pull()
    items = _items(a)
    shared, only_a, only_b = items[:3], items[3:5], items[5:7]
    for i in shared + only_a:
        _scan(a, st, i["tag"], i["locationId"])
    for i in shared + only_b:
        _scan(b, st, i["tag"], i["locationId"])
    _scan(b, st, _free_tag(2), st["locations"][0]["id"])
    _scan(a, st, _free_tag(2), st["locations"][0]["id"])
    await a.sync.push()
    await b.sync.push()
    await a.sync.pull()
    await b.sync.pull()
    scans_a = {k: v for k, v in a.sync.base.items() if k[0] == "stocktake_scan"}
    scans_b = {k: v for k, v in b.sync.base.items() if k[0] == "stocktake_scan"}
    assert scans_a == scans_b and len(scans_a) == 12  # every scan kept, both phones hold them all
    report = await _report(manager, st)
    t = report["totals"]
    assert t["matched"] == 7 and t["surplus"] == 1 and t["seenTwice"] == 0
    lines = {line["tag"]: line for line in report["lines"]}
    assert lines[shared[0]["tag"]]["scans"] == 2
    assert lines[shared[0]["tag"]]["scannedBy"] == sorted([a.user["id"], b.user["id"]])


async def test_finish_close_rule_with_override_refused_then_auto_close_and_a_late_scan(team):
    a, b, manager = team
    st = await _campaign(a)
    await b.sync.pull()
    items = _items(a)
    _scan(a, st, items[0]["tag"], items[0]["locationId"])
    a.sync.mutate("stocktake.finish", {"stocktakeId": st["id"]})  # sent after its scans
    await a.sync.sync()
    assert a.sync.rejected == []
    r = await manager.post(f"/api/stocktakes/{st['id']}/close", {})
    assert r.status_code == 409 and r.json()["error"] == "stocktakers-unfinished"
    assert r.json()["params"]["users"] == [b.user["id"]]
    assert (await manager.get(f"/api/stocktakes/{st['id']}")).json()["state"] == "open"

    _scan(b, st, items[1]["tag"], items[1]["locationId"])
    b.sync.mutate("stocktake.finish", {"stocktakeId": st["id"]})
    await b.sync.sync()
    closed = (await manager.get(f"/api/stocktakes/{st['id']}")).json()
    assert closed["state"] == "closed" and closed["closeReason"] is None
    assert all(x["finishedAt"] for x in closed["assignees"])

    # a scan made before the close but synced after it is kept, flagged late
    late = _scan(a, st, items[2]["tag"], items[2]["locationId"])
    await a.sync.sync()
    assert a.sync.rejected == []
    assert a.sync.base[("stocktake_scan", late)]["late"] is True
    report = await _report(manager, st)
    assert report["lateScans"] == 1 and report["late"][0]["tag"] == items[2]["tag"]
    assert report["totals"]["matched"] == 2  # the closed result stands; the late scan is listed apart
    # discrepancies became follow-up items at the close (the late scan came after them)
    follow = (await manager.get(f"/api/stocktakes/{st['id']}/followups")).json()
    assert {f["tag"] for f in follow if f["kind"] == "missing"} == {i["tag"] for i in items[2:]}
    # an undo after the close is refused with its reason, the scan stays
    a.sync.mutate("stocktake.undo", {"id": late})
    await a.sync.sync()
    assert [r.code for r in a.sync.rejected] == ["stocktake-closed"]


async def test_a_manager_closes_early_only_with_a_reason(team):
    a, _, manager = team
    st = await _campaign(a)
    r = await manager.post(f"/api/stocktakes/{st['id']}/close", {"reason": "台风停工 typhoon, counted later"})
    assert r.status_code == 200 and r.json()["state"] == "closed"
    assert r.json()["closeReason"] == "台风停工 typhoon, counted later"
    await a.sync.pull()
    assert a.sync.base[("stocktake", st["id"])]["state"] == "closed"
    # a stocktaker cannot close
    a.sync.mutate("stocktake.close", {"stocktakeId": st["id"], "reason": "x"})
    await a.sync.sync()
    assert [r.code for r in a.sync.rejected] == ["forbidden"]


async def test_bad_scans_are_rejected_with_reasons_and_nothing_stored(team, login):
    a, _, manager = team
    st = await _campaign(a)
    tag = _items(a)[0]["tag"]
    broken = tag[:-1] + ("A" if tag[-1] != "A" else "B")  # check character wrong: a misread
    _scan(a, st, broken, None)
    _scan(a, st, tag, new_uuid())  # a location that is not part of the campaign
    rep = await login("rep1")
    _scan(rep, st, tag, None)  # not a stocktaker of it
    await a.sync.sync()
    await rep.sync.sync()
    assert [r.code for r in a.sync.rejected] == ["invalid-tag", "unknown-location"]
    assert a.sync.rejected[0].params["reason"] == "check-failed"
    assert [r.code for r in rep.sync.rejected] == ["not-found"]
    assert (await _report(manager, st))["totals"]["matched"] == 0


async def test_reconciliation_exports_as_csv_and_excel(team):
    import io

    from openpyxl import load_workbook

    a, _, manager = team
    st = await _campaign(a)
    item = _items(a)[0]
    _scan(a, st, item["tag"], item["locationId"], condition="worn")
    await a.sync.sync()
    r = await manager.get(f"/api/stocktakes/{st['id']}/reconciliation.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("标签 Tag,名称 Name,结果 Result")
    row = next(line for line in lines if line.startswith(item["tag"]))
    assert ",matched," in row and ",worn," in row
    x = await manager.get(f"/api/stocktakes/{st['id']}/reconciliation.xlsx")
    sheet = load_workbook(io.BytesIO(x.content)).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert len(values) == len(lines) and values[1][0] == lines[1].split(",")[0]


async def test_changing_stocktakers_moves_the_campaign_between_phones(app, team, login):
    a, b, manager = team
    st = await _campaign(a)
    await b.sync.pull()
    item = _items(a)[0]
    _scan(a, st, item["tag"], item["locationId"])
    await a.sync.sync()
    count = len([k for k in a.sync.base if k[0].startswith("stocktake")])
    # a manager replaces stocktaker2 with a stocktaker of Tianhe who sees no assets otherwise
    await app.state.services.auth.create_user("stocktaker3", DEMO_PASSWORD, ["stocktaker"], "GZ-TH", "Stocktaker 3")
    admin = await login("stocktaker3")
    await admin.sync.pull()
    assert not [k for k in admin.sync.base if k[0].startswith("stocktake")]
    r = await manager.post(f"/api/stocktakes/{st['id']}/assignees", {"assigneeIds": [a.user["id"], admin.user["id"]]})
    assert r.status_code == 200, r.text
    assert [x["userId"] for x in r.json()["assignees"]] == [a.user["id"], admin.user["id"]]
    await b.sync.pull()
    assert not [k for k in b.sync.base if k[0].startswith("stocktake")]  # gone from the removed phone
    await admin.sync.pull()
    mine = [k for k in admin.sync.base if k[0].startswith("stocktake")]
    assert len(mine) == count  # campaign, expected list and the scan so far reach the added phone
    # the removed stocktaker can no longer scan; the added one can
    _scan(b, st, item["tag"], item["locationId"])
    await b.sync.sync()
    assert [r.code for r in b.sync.rejected] == ["not-found"]
    _scan(admin, st, _items(admin)[1]["tag"], _items(admin)[1]["locationId"])
    await admin.sync.sync()
    assert admin.sync.rejected == []
    r = await manager.post(f"/api/stocktakes/{st['id']}/assignees", {"assigneeIds": []})
    assert r.status_code == 400
    r = await a.post(f"/api/stocktakes/{st['id']}/assignees", {"assigneeIds": [a.user["id"]]})
    assert r.status_code == 403  # a stocktaker does not choose who counts


async def test_a_scan_needs_its_time_zone_and_a_removed_stocktaker_cannot_undo(team):
    a, b, manager = team
    st = await _campaign(a)
    item = _items(a)[0]
    a.sync.mutate(
        "stocktake.scan",
        {"id": new_uuid(), "stocktakeId": st["id"], "tag": item["tag"], "scannedAt": "2026-11-23T10:00:00"},
    )
    await a.sync.sync()
    assert [r.code for r in a.sync.rejected] == ["bad-args"]
    await b.sync.pull()
    sid = _scan(b, st, item["tag"], item["locationId"])
    await b.sync.sync()
    r = await manager.post(f"/api/stocktakes/{st['id']}/assignees", {"assigneeIds": [a.user["id"]]})
    assert r.status_code == 200
    b.sync.mutate("stocktake.undo", {"id": sid})
    await b.sync.sync()
    assert [r.code for r in b.sync.rejected] == ["not-found"]
    line = {x["tag"]: x for x in (await _report(manager, st))["lines"]}[item["tag"]]
    assert line["result"] == "matched"  # the scan stands


async def test_only_stocktakers_of_the_units_line_can_count(app, team, login):
    """Assigning someone hands them the unit's expected list: only active stocktakers of the
    campaign's unit, or a unit above or below it, may be; nothing changes when one is refused."""
    a, _b, manager = team
    st = await _campaign(a)
    auth = app.state.services.auth
    await auth.create_user("stocktaker-sz", DEMO_PASSWORD, ["stocktaker"], "SZ", "Shenzhen stocktaker")
    await auth.create_user("stocktaker-th", DEMO_PASSWORD, ["stocktaker"], "GZ-TH", "Tianhe stocktaker")
    ids = {u: (await login(u)).user["id"] for u in ("rep1", "care", "assetadmin", "stocktaker-sz", "stocktaker-th")}
    cases = {
        "rep1": "not-a-stocktaker",
        "care": "not-a-stocktaker",
        "assetadmin": "not-a-stocktaker",
        "stocktaker-sz": "stocktaker-elsewhere",
    }
    for user, code in cases.items():
        r = await manager.post(f"/api/stocktakes/{st['id']}/assignees", {"assigneeIds": [a.user["id"], ids[user]]})
        assert r.status_code == 400 and r.json()["error"] == code, (user, r.text)
        assert r.json()["params"]["ids"] == [ids[user]]
        r = await manager.post(
            "/api/stocktakes",
            {"name": "x", "orgUnitId": st["orgUnitId"], "assigneeIds": [ids[user]], "start": True},
        )
        assert r.status_code == 400 and r.json()["error"] == code, (user, r.text)
    current = (await manager.get(f"/api/stocktakes/{st['id']}")).json()
    assert [x["userId"] for x in current["assignees"]] == [x["userId"] for x in st["assignees"]]
    rep = await login("rep1")
    await rep.sync.pull()
    assert not [k for k in rep.sync.base if k[0].startswith("stocktake")]  # no expected list leaked
    # a stocktaker of a unit below the campaign's (Tianhe, under Guangzhou's stocktakers) may count
    r = await manager.post(f"/api/stocktakes/{st['id']}/assignees", {"assigneeIds": [ids["stocktaker-th"]]})
    assert r.status_code == 200, r.text
