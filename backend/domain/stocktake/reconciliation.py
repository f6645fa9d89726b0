"""The reconciliation of a campaign: the book (账, its expected list) against what was found (实, the
scans), the report as a table for CSV and Excel, and the follow-up work recorded when it closes.

These read a campaign by its id; who may see it is the caller's check (``services.get_stocktake``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.domain.assets.models import Location
from backend.domain.stocktake.models import Stocktake, StocktakeFollowup, StocktakeItem, StocktakeScan
from backend.kernel.tx import WriteTx

FOLLOWUPS: Table = StocktakeFollowup.__table__  # type: ignore[assignment]


async def reconcile(session: AsyncSession, stocktake_id: str) -> dict[str, Any]:
    """Book against scans (undone scans left out): one line per expected asset and per surplus tag,
    totals per result and per location, and the book-to-physical match rate (账实相符率 = matched /
    expected)."""
    st = await session.get(Stocktake, stocktake_id)
    assert st is not None
    items = list((await session.execute(select(StocktakeItem).where(StocktakeItem.stocktake_id == st.id))).scalars())
    scans = list(
        (
            await session.execute(
                select(StocktakeScan)
                .where(StocktakeScan.stocktake_id == st.id, StocktakeScan.undone_at.is_(None))
                .order_by(StocktakeScan.scanned_at, StocktakeScan.id)
            )
        ).scalars()
    )
    # Scans that arrived after the close are kept and listed, but do not change the closed result
    # (nor the follow-up items made from it).
    late = [sc for sc in scans if sc.late]
    scans = [sc for sc in scans if not sc.late]
    by_tag: dict[str, list[StocktakeScan]] = defaultdict(list)
    for sc in scans:
        by_tag[sc.tag].append(sc)
    expected_tags = {it.tag for it in items}
    lines: list[dict[str, Any]] = []
    for it in items:
        seen = by_tag.get(it.tag, [])
        places = sorted({sc.location_id for sc in seen if sc.location_id is not None})
        if not seen:
            result = "missing"
        elif it.location_id is None or not places or it.location_id in places:
            result = "matched"
        else:
            result = "mislocated"
        lines.append(_line(it.tag, it.asset_id, it.name, it.location_id, seen, places, result))
    for tag, seen in sorted(by_tag.items()):
        if tag not in expected_tags:
            places = sorted({sc.location_id for sc in seen if sc.location_id is not None})
            line = _line(tag, seen[0].asset_id, None, None, seen, places, "surplus")
            line["inBook"] = seen[0].asset_id is not None
            lines.append(line)
    totals = {k: 0 for k in ("expected", "matched", "missing", "mislocated", "surplus", "seenTwice", "condition")}
    totals["expected"] = len(items)
    for line in lines:
        totals[line["result"]] += 1
        totals["seenTwice"] += bool(line["seenTwice"])
        totals["condition"] += line["condition"] not in (None, "ok")
    per_location: dict[str | None, dict[str, int]] = defaultdict(lambda: {"expected": 0, "found": 0, "missing": 0})
    for line in lines:
        if line["result"] != "surplus":
            p = per_location[line["bookLocationId"]]
            p["expected"] += 1
            p["found" if line["result"] != "missing" else "missing"] += 1
    return {
        "stocktakeId": st.id,
        "name": st.name,
        "state": st.state,
        "totals": totals,
        "matchRate": round(totals["matched"] / totals["expected"], 4) if totals["expected"] else None,
        "lateScans": len(late),
        "late": [
            {"tag": sc.tag, "assetId": sc.asset_id, "locationId": sc.location_id, "scannedBy": sc.scanned_by}
            for sc in late
        ],
        "locations": [
            {"locationId": loc_id, **counts}
            for loc_id, counts in sorted(per_location.items(), key=lambda kv: kv[0] or "")
        ],
        "lines": lines,
    }


def _line(
    tag: str,
    asset_id: str | None,
    name: str | None,
    book_location: str | None,
    seen: list[StocktakeScan],
    places: list[str],
    result: str,
) -> dict[str, Any]:
    last = seen[-1] if seen else None
    return {
        "tag": tag,
        "assetId": asset_id,
        "name": name,
        "result": result,
        "bookLocationId": book_location,
        "foundLocationIds": places,
        "seenTwice": len(places) > 1,
        "scans": len(seen),
        "scannedBy": sorted({sc.scanned_by for sc in seen}),
        "condition": last.condition if last else None,
        "note": last.note if last else None,
        "photo": next((sc.photo for sc in reversed(seen) if sc.photo), None),
        "late": any(sc.late for sc in seen),
    }


async def report_table(session: AsyncSession, stocktake_id: str) -> list[list[Any]]:
    """The reconciliation as a table (``report_rows``), locations by code and name, for the CSV and
    Excel exports."""
    report = await reconcile(session, stocktake_id)
    names = {
        i: f"{c} {n}" for i, c, n in (await session.execute(select(Location.id, Location.code, Location.name))).all()
    }
    return report_rows(report, names)


REPORT_COLUMNS = (
    ("tag", "标签 Tag"),
    ("name", "名称 Name"),
    ("result", "结果 Result"),
    ("bookLocation", "账面位置 Book location"),
    ("foundLocations", "实盘位置 Found at"),
    ("seenTwice", "多处出现 Seen twice"),
    ("condition", "状况 Condition"),
    ("note", "备注 Note"),
    ("scans", "扫描次数 Scans"),
    ("late", "迟到 Late"),
)


def report_rows(report: dict[str, Any], location_names: dict[str, str]) -> list[list[Any]]:
    """The reconciliation as a table (heading first), for CSV and Excel."""

    def loc(i: str | None) -> str:
        return location_names.get(i, i) if i else ""

    rows: list[list[Any]] = [[h for _, h in REPORT_COLUMNS]]
    for line in report["lines"]:
        rows.append(
            [
                line["tag"],
                line["name"] or "",
                line["result"],
                loc(line["bookLocationId"]),
                ", ".join(loc(i) for i in line["foundLocationIds"]),
                "yes" if line["seenTwice"] else "",
                line["condition"] or "",
                line["note"] or "",
                line["scans"],
                "yes" if line["late"] else "",
            ]
        )
    return rows


async def followups(session: AsyncSession, stocktake_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(StocktakeFollowup)
            .where(StocktakeFollowup.stocktake_id == stocktake_id)
            .order_by(StocktakeFollowup.id)
        )
    ).scalars()
    return [{"kind": f.kind, "tag": f.tag, "assetId": f.asset_id, "detail": f.detail, "state": f.state} for f in rows]


async def record_followups(tx: WriteTx, stocktake_id: str, at: datetime) -> None:
    """At the close: every line that is not matched, or whose condition is not ok, becomes follow-up
    work (the campaign's closed state is written first: ``reconcile`` reads it)."""
    report = await reconcile(tx.session, stocktake_id)
    for line in report["lines"]:
        if line["result"] != "matched" or line["condition"] not in (None, "ok"):
            tx.record(
                FOLLOWUPS,
                {
                    "stocktake_id": stocktake_id,
                    "kind": line["result"] if line["result"] != "matched" else "condition",
                    "tag": line["tag"],
                    "asset_id": line["assetId"],
                    "detail": {k: line[k] for k in ("name", "bookLocationId", "foundLocationIds", "condition")},
                    "state": "open",
                    "created_at": at,
                },
            )
