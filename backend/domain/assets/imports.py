"""Import of an asset book (.csv or .xlsx rows): every row checked first, then all stored or none,
with a row-by-row report of what to fix. The rows become the book's creates and updates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from backend.auth.models import User
from backend.domain.assets import services as book
from backend.domain.assets.models import ASSET_STATUSES, LIFECYCLE_STAGES, Asset, Location
from backend.domain.assets.scope import asset_write_scope
from backend.domain.org.models import OrgUnit
from backend.errors import PermissionDenied
from backend.kernel.actor import Actor
from backend.kernel.tx import WriteTx
from backend.tabular import MAX_IMPORT_ROWS, ImportFailed
from scanner.tags import InvalidTag


def require_importer(actor: Actor) -> None:
    """Importing an asset book is the asset administrators' work (checked before the file is read)."""
    scope = asset_write_scope(actor)
    if not (scope.everything or scope.subtrees):
        raise PermissionDenied("Only an asset administrator may import an asset book.", code="forbidden")


#: Column headings an asset book may use (English or Chinese), to column names.
IMPORT_COLUMNS: dict[str, str] = {
    "tag": "tag",
    "标签": "tag",
    "资产编号": "tag",
    "name": "name",
    "名称": "name",
    "资产名称": "name",
    "category": "category_code",
    "category_code": "category_code",
    "分类": "category_code",
    "资产分类": "category_code",
    "model": "model",
    "型号": "model",
    "规格型号": "model",
    "serial": "serial",
    "序列号": "serial",
    "location": "location",
    "存放地点": "location",
    "位置": "location",
    "custodian": "custodian",
    "责任人": "custodian",
    "资产责任人": "custodian",
    "department": "department",
    "unit": "department",
    "使用部门": "department",
    "部门": "department",
    "status": "status",
    "状态": "status",
    "lifecycle": "lifecycle",
    "阶段": "lifecycle",
    "acquired_on": "acquired_on",
    "acquired": "acquired_on",
    "购置日期": "acquired_on",
    "original_value": "original_value",
    "原值": "original_value",
    "net_value": "net_value",
    "净值": "net_value",
}
REQUIRED_IMPORT = ("name", "category_code", "department")
#: Chinese words for statuses and stages in an asset book, to their codes.
STATUS_WORDS = {
    "在用": "in_use",
    "闲置": "idle",
    "维修": "under_repair",
    "在修": "under_repair",
    "调拨中": "in_transfer",
}
STATUS_WORDS |= {"报废": "disposed", "已处置": "disposed", "处置": "disposed", "丢失": "lost", "盘亏": "lost"}
LIFECYCLE_WORDS = {"在建工程": "construction", "暂估资产": "provisional", "暂估": "provisional", "固定资产": "fixed"}
#: Longest text per column (the columns' sizes).
IMPORT_LENGTHS = {"tag": 40, "name": 200, "category_code": 40, "model": 200, "serial": 100, "location": 200}
IMPORT_LENGTHS |= {"custodian": 80, "department": 40, "status": 40, "lifecycle": 40}


async def import_assets(tx: WriteTx, rows: list[dict[str, str]]) -> dict[str, Any]:
    """Import an asset book (rows from ``read_table``, read before the write transaction): every row is
    checked first; with any error nothing is stored and the report says, row by row, what to fix.
    Rows with a known tag update that asset (only the columns the file has); rows without a tag get
    the next free ones; rows with a new tag create the asset under it."""
    if not rows:
        raise ImportFailed("The file has no rows.", code="empty-file")
    if len(rows) > MAX_IMPORT_ROWS:
        raise ImportFailed(f"At most {MAX_IMPORT_ROWS:,} rows per import.", code="too-many-rows")
    unknown = sorted({h for h in rows[0] if h.strip().lower() not in IMPORT_COLUMNS and h not in IMPORT_COLUMNS})
    mapped = [{IMPORT_COLUMNS.get(h, IMPORT_COLUMNS.get(h.lower(), "")): v for h, v in r.items()} for r in rows]
    missing = [c for c in REQUIRED_IMPORT if c not in mapped[0]]
    if missing:
        raise ImportFailed(
            f"Columns missing: {', '.join(missing)}.",
            code="missing-columns",
            params={"missing": missing, "unknown": unknown},
        )
    s = tx.session
    units = {
        code: (uid, path) for uid, code, path in (await s.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.path))).all()
    }
    users: dict[str, str] = dict(
        tuple(r) for r in (await s.execute(select(User.username, User.id).where(User.disabled_at.is_(None)))).all()
    )
    managed = (
        select(Location.id, Location.code, Location.name, Location.org_unit_id)
        .join(OrgUnit, OrgUnit.id == Location.org_unit_id)
        .where(asset_write_scope(tx.actor).path_clause(OrgUnit.path))
    )
    places = (await s.execute(managed)).all()
    locations = {code: i for i, code, _, _ in places}
    location_names = {(n, u): i for i, _, n, u in places}
    errors: list[dict[str, Any]] = []
    parsed: list[dict[str, Any]] = []
    seen_tags: dict[str, int] = {}
    for n, r in enumerate(mapped, start=2):  # row 1 is the heading

        def bad(column: str, message: str, n: int = n) -> None:
            errors.append({"row": n, "column": column, "message": message})

        values: dict[str, Any] = {}
        for c in REQUIRED_IMPORT:
            if not r.get(c):
                bad(c, "required")
        for c, most in IMPORT_LENGTHS.items():
            if len(r.get(c) or "") > most:
                bad(c, f"longer than {most} characters")
        values["name"] = r.get("name")
        values["category_code"] = r.get("category_code")
        for c in ("model", "serial"):
            if c in r:  # a column the file does not have leaves the field as it is
                values[c] = r[c] or None
        unit = units.get(r.get("department", ""))
        if r.get("department") and unit is None:
            bad("department", f"no org unit with code {r['department']}")
        elif unit is not None:
            if not asset_write_scope(tx.actor).sees_path(unit[1]):
                bad("department", f"{r['department']} is not a unit whose assets you manage")
            values["org_unit_id"] = unit[0]
        if r.get("tag"):
            try:
                tag = book.CODES.assets.validate(r["tag"])
                if tag in seen_tags:
                    bad("tag", f"{tag} is also on row {seen_tags[tag]}")
                seen_tags[tag] = n
                values["tag"] = tag
            except InvalidTag as e:
                bad("tag", f"{r['tag']} is not a valid tag ({e.reason})")
        if r.get("location"):
            loc = locations.get(r["location"].upper()) or location_names.get((r["location"], values.get("org_unit_id")))
            if loc is None:
                bad("location", f"no location {r['location']} (give its code, or its name within the unit)")
            values["location_id"] = loc
        if r.get("custodian"):
            uid = users.get(r["custodian"])
            if uid is None:
                bad("custodian", f"no active user {r['custodian']}")
            values["custodian_id"] = uid
        if r.get("status"):
            status = STATUS_WORDS.get(r["status"], r["status"].lower())
            if status not in ASSET_STATUSES:
                bad("status", f"{r['status']} is not a status ({', '.join(ASSET_STATUSES)})")
            values["status"] = status
        if r.get("lifecycle"):
            stage = LIFECYCLE_WORDS.get(r["lifecycle"], r["lifecycle"].lower())
            if stage not in LIFECYCLE_STAGES:
                bad("lifecycle", f"{r['lifecycle']} is not a stage ({', '.join(LIFECYCLE_STAGES)})")
            values["lifecycle"] = stage
        if r.get("acquired_on"):
            try:
                values["acquired_on"] = date.fromisoformat(r["acquired_on"].replace("/", "-")[:10])
            except ValueError:
                bad("acquired_on", f"{r['acquired_on']} is not a date (YYYY-MM-DD)")
        for money in ("original_value", "net_value"):
            if r.get(money):
                try:
                    amount = Decimal(r[money].replace(",", ""))
                    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
                        raise ValueError
                    values[money] = amount.quantize(Decimal("0.01"))
                except (ArithmeticError, ValueError):
                    bad(money, f"{r[money]} is not an amount")
        parsed.append(values)
    # A tag already used: the row updates that asset, which must be one the actor manages (a tag of
    # another unit's asset is a row error, not a 404 for the whole file nor a new asset).
    existing: dict[str, str] = {}
    elsewhere: set[str] = set()
    tags = [p["tag"] for p in parsed if p.get("tag")]
    for i in range(0, len(tags), 500):
        found = await s.execute(
            select(Asset.tag, Asset.id, OrgUnit.path)
            .join(OrgUnit, OrgUnit.id == Asset.org_unit_id)
            .where(Asset.tag.in_(tags[i : i + 500]))
        )
        for tag, asset_id, path in found.all():
            existing[tag] = asset_id
            if not asset_write_scope(tx.actor).sees_path(path):
                elsewhere.add(tag)
    for n, values in enumerate(parsed, start=2):
        if values.get("tag") in elsewhere:
            errors.append(
                {
                    "row": n,
                    "column": "tag",
                    "message": f"{values['tag']} is the tag of an asset in a unit you do not manage",
                }
            )
    if errors:
        errors.sort(key=lambda e: e["row"])
        raise ImportFailed(
            f"{len({e['row'] for e in errors})} of {len(rows)} rows have errors; nothing was imported.",
            params={"rows": len(rows)},
            errors=errors[:1000],
        )
    fresh = iter(await book.next_tags(s, sum(1 for p in parsed if not p.get("tag")), after=tags))
    created = updated = 0
    for values in parsed:
        if values.get("tag") in existing:
            asset_id = existing[values.pop("tag")]
            await tx.load(book.ASSETS, {asset_id})
            await book.update_asset(tx, asset_id, {k: v for k, v in values.items() if k != "id"}, "import")
            updated += 1
        else:
            if not values.get("tag"):
                values["tag"] = next(fresh)
            await book.create_asset(tx, values, tag_is_free=True)  # tags of the file were looked up above
            created += 1
    return {"rows": len(rows), "created": created, "updated": updated, "unknownColumns": unknown}
