"""The asset book: reads, changes with movements, tags, import and label batches.

Assets are written through ``WriteTx`` like customers: every change gets a version, a change-log
entry with its audience (custodian, org path) and an audit entry (the asset's history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.models import User
from backend.auth.scope import Actor
from backend.db.base import new_id, utcnow
from backend.domain.assets.models import (
    ASSET_STATUSES,
    LIFECYCLE_STAGES,
    Asset,
    AssetMovement,
    LabelBatch,
    LabelBatchItem,
    Location,
)
from backend.domain.org.models import OrgUnit
from backend.errors import NotFound, OutOfScope, PermissionDenied, ValidationFailed
from backend.kernel.models import AuditEntry
from backend.kernel.tx import Row, WriteTx
from backend.settings import AssetSettings
from backend.tabular import MAX_IMPORT_ROWS, ImportFailed
from scanner.tags import InvalidTag, TagFormat

ASSETS: Table = Asset.__table__  # type: ignore[assignment]
LOCATIONS: Table = Location.__table__  # type: ignore[assignment]
MOVEMENTS: Table = AssetMovement.__table__  # type: ignore[assignment]
ASSET_FIELDS = (
    "name",
    "category_code",
    "model",
    "serial",
    "status",
    "lifecycle",
    "acquired_on",
    "original_value",
    "net_value",
)
#: Fields whose change is a movement (调拨/转移), recorded in ``asset_movement``.
MOVEMENT_FIELDS = {"custodian_id": "custodian", "location_id": "location", "org_unit_id": "unit"}


@dataclass(frozen=True)
class Codes:
    """The installation's tag formats: asset tags and location label codes."""

    assets: TagFormat
    locations: TagFormat

    @classmethod
    def from_settings(cls, s: AssetSettings) -> Codes:
        if s.tag_prefix.upper() == s.location_prefix.upper():
            raise ValueError("OUTPOST_ASSETS_LOCATION_PREFIX must differ from OUTPOST_ASSETS_TAG_PREFIX")
        return cls(TagFormat(s.tag_prefix, s.tag_digits), TagFormat(s.location_prefix, s.tag_digits))


#: Set by create_app from the settings (``configure``); the defaults are the settings' defaults.
CODES = Codes.from_settings(AssetSettings())


def configure(settings: AssetSettings) -> None:
    global CODES
    CODES = Codes.from_settings(settings)


# ---------------------------------------------------------------- wire shapes


def _money(v: Any) -> str | None:
    return None if v is None else f"{Decimal(v):.2f}"


def asset_value(a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "tag": a.tag,
        "name": a.name,
        "categoryCode": a.category_code,
        "model": a.model,
        "serial": a.serial,
        "locationId": a.location_id,
        "custodianId": a.custodian_id,
        "orgUnitId": a.org_unit_id,
        "status": a.status,
        "lifecycle": a.lifecycle,
        "acquiredOn": a.acquired_on.isoformat() if a.acquired_on else None,
        "originalValue": _money(a.original_value),
        "netValue": _money(a.net_value),
        "version": a.version,
        "createdAt": a.created_at.isoformat(),
        "updatedAt": a.updated_at.isoformat(),
    }


def location_value(loc: Any) -> dict[str, Any]:
    return {"id": loc.id, "code": loc.code, "name": loc.name, "orgUnitId": loc.org_unit_id, "version": loc.version}


# ---------------------------------------------------------------- reads


def scoped_assets(actor: Actor) -> Select:
    scope = actor.asset_scope
    return (
        select(Asset)
        .join(OrgUnit, OrgUnit.id == Asset.org_unit_id)
        .where(or_(scope.path_clause(OrgUnit.path), Asset.custodian_id == actor.user_id))
    )


async def get_asset(
    session: AsyncSession, actor: Actor, *, asset_id: str | None = None, tag: str | None = None
) -> Asset:
    q = scoped_assets(actor)
    q = q.where(Asset.id == asset_id) if asset_id is not None else q.where(Asset.tag == (tag or "").upper())
    row = (await session.execute(q)).scalar_one_or_none()
    if row is None:
        raise NotFound("The asset does not exist or is not in your scope.", params={"entity": "asset"})
    return row


async def list_assets(
    session: AsyncSession, actor: Actor, *, q: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    query = scoped_assets(actor)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Asset.name.ilike(like), Asset.tag.ilike(like), Asset.serial.ilike(like)))
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (await session.execute(query.order_by(Asset.tag).limit(limit).offset(offset))).scalars()
    return [asset_value(a) for a in rows], int(total)


async def asset_history(session: AsyncSession, actor: Actor, asset_id: str) -> dict[str, Any]:
    """Every change of the asset (audit trail) and its movements."""
    await get_asset(session, actor, asset_id=asset_id)
    audit = (
        await session.execute(
            select(AuditEntry)
            .where(AuditEntry.entity == "asset", AuditEntry.entity_id == asset_id)
            .order_by(AuditEntry.id)
        )
    ).scalars()
    moves = (
        await session.execute(
            select(AssetMovement).where(AssetMovement.asset_id == asset_id).order_by(AssetMovement.id)
        )
    ).scalars()
    return {
        "changes": [
            {
                "at": e.at.isoformat(),
                "userId": e.user_id,
                "deviceId": e.device_id,
                "source": e.source,
                "action": e.action,
                "changes": e.changes,
            }
            for e in audit
        ],
        "movements": [
            {
                "kind": m.kind,
                "from": m.from_value,
                "to": m.to_value,
                "state": m.state,
                "reason": m.reason,
                "byUserId": m.by_user_id,
                "at": m.at.isoformat(),
            }
            for m in moves
        ],
    }


async def list_locations(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """The locations of the units whose assets the actor reads, by code."""
    q = (
        select(Location)
        .join(OrgUnit, OrgUnit.id == Location.org_unit_id)
        .where(actor.asset_scope.path_clause(OrgUnit.path))
        .order_by(Location.code)
    )
    return [location_value(loc) for loc in (await session.execute(q)).scalars()]


async def list_label_batches(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """Print runs of the units whose assets the actor manages, newest first, at most 200 (the command
    line's have no unit: admins see them)."""
    q = select(LabelBatch).outerjoin(OrgUnit, OrgUnit.id == LabelBatch.org_unit_id)
    if not actor.asset_write_scope.everything:
        q = q.where(actor.asset_write_scope.path_clause(OrgUnit.path))
    rows = (await session.execute(q.order_by(LabelBatch.created_at.desc()).limit(200))).scalars()
    return [batch_value(b) for b in rows]


# ---------------------------------------------------------------- writes


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _money(value)
    return value


async def unit_path(tx: WriteTx, org_unit_id: str) -> str:
    key = ("org-path", org_unit_id)
    if key not in tx.cache:
        path = (await tx.session.execute(select(OrgUnit.path).where(OrgUnit.id == org_unit_id))).scalar_one_or_none()
        if path is None:
            raise ValidationFailed("The org unit does not exist.", code="unknown-org-unit", params={"id": org_unit_id})
        tx.cache[key] = path
    return str(tx.cache[key])


def require_label_printer(actor: Actor) -> None:
    """Printing labels (a recorded batch) is the asset administrators' work."""
    scope = actor.asset_write_scope
    if not (scope.everything or scope.subtrees):
        raise PermissionDenied("Only an asset administrator may print labels.", code="forbidden")


def require_importer(actor: Actor) -> None:
    """Importing an asset book is the asset administrators' work (checked before the file is read)."""
    scope = actor.asset_write_scope
    if not (scope.everything or scope.subtrees):
        raise PermissionDenied("Only an asset administrator may import an asset book.", code="forbidden")


def require_asset_writer(actor: Actor, path: str) -> None:
    if not actor.asset_write_scope.sees_path(path):
        raise PermissionDenied("Only an asset administrator of this unit may change its assets.", code="forbidden")


async def _check_refs(tx: WriteTx, values: dict[str, Any]) -> None:
    """The custodian is an active user and the location exists (and belongs to a unit)."""
    custodian = values.get("custodian_id")
    if custodian is not None:
        key = ("custodian-path", custodian)
        if key not in tx.cache:
            found = (
                await tx.session.execute(
                    select(OrgUnit.path)
                    .join(User, User.org_unit_id == OrgUnit.id)
                    .where(User.id == custodian, User.disabled_at.is_(None))
                )
            ).one_or_none()
            tx.cache[key] = found[0] if found is not None else None
        if tx.cache[key] is None:
            raise ValidationFailed("The custodian must be an active user.", code="invalid-custodian")
        # Custody lets its holder read the asset: it is handed only to staff of units whose assets
        # the actor manages, as a customer is assigned only to reps of the manager's own team.
        if not tx.actor.asset_write_scope.sees_path(tx.cache[key]):
            raise OutOfScope("The custodian must belong to a unit whose assets you manage.", params={"entity": "user"})
    location = values.get("location_id")
    if location is not None:
        loc = await tx.get(LOCATIONS, location)
        # a place of a unit whose assets the actor manages (else it could pull others' places in)
        if loc is None or not tx.actor.asset_write_scope.sees_path(await unit_path(tx, loc.org_unit_id)):
            raise ValidationFailed(
                "The location does not exist or is not in your units.", code="unknown-location", params={"id": location}
            )


def check_fields(values: dict[str, Any]) -> None:
    if "status" in values and values["status"] not in ASSET_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(ASSET_STATUSES)}.", code="invalid-status")
    if "lifecycle" in values and values["lifecycle"] not in LIFECYCLE_STAGES:
        raise ValidationFailed(f"lifecycle must be one of {', '.join(LIFECYCLE_STAGES)}.", code="invalid-lifecycle")


async def next_tags(session: AsyncSession, count: int, after: Sequence[str] = ()) -> list[str]:
    """The next ``count`` free tags: numbers after the highest tag of the format stored (fixed width,
    so the highest tag is the highest number) and after the tags in ``after`` (about to be stored)."""
    fmt = CODES.assets
    top = (
        await session.execute(
            select(func.max(Asset.tag)).where(Asset.tag.startswith(fmt.prefix), func.length(Asset.tag) == fmt.length)
        )
    ).scalar_one_or_none()
    start = max([fmt.number(t) for t in [top, *after] if t], default=0) + 1
    if start + count - 1 > fmt.max_number:
        raise ValidationFailed("No tag numbers are left in this format.", code="tags-exhausted")
    return [fmt.make(n) for n in range(start, start + count)]


def valid_tag(text: str) -> str:
    try:
        return CODES.assets.validate(text)
    except InvalidTag as e:
        raise ValidationFailed(
            f"{text} is not a valid asset tag ({e.reason}).",
            code="invalid-tag",
            params={"tag": text, "reason": e.reason},
        ) from None


def asset_audience(row: Row | dict[str, Any], path: str) -> tuple[str | None, str]:
    return (row["custodian_id"], path)


async def create_asset(tx: WriteTx, values: dict[str, Any], *, tag_is_free: bool = False) -> Row:
    """A new asset of the book; ``values`` in column names (tag optional: the next free one).
    ``tag_is_free``: the caller has made sure no asset has the tag (a batch checked them at once)."""
    path = await unit_path(tx, values["org_unit_id"])
    require_asset_writer(tx.actor, path)
    check_fields(values)
    await _check_refs(tx, values)
    tag = valid_tag(values["tag"]) if values.get("tag") else (await next_tags(tx.session, 1))[0]
    if not tag_is_free and (await tx.session.execute(select(Asset.id).where(Asset.tag == tag))).first() is not None:
        raise ValidationFailed(f"The tag {tag} is already used.", code="tag-taken", params={"tag": tag})
    now = utcnow()
    row = tx.insert(
        ASSETS,
        {
            "id": values.get("id") or new_id(),
            "tag": tag,
            "name": values["name"],
            "category_code": values["category_code"],
            "model": values.get("model"),
            "serial": values.get("serial"),
            "location_id": values.get("location_id"),
            "custodian_id": values.get("custodian_id"),
            "org_unit_id": values["org_unit_id"],
            "status": values.get("status") or "in_use",
            "lifecycle": values.get("lifecycle") or "fixed",
            "acquired_on": values.get("acquired_on"),
            "original_value": values.get("original_value"),
            "net_value": values.get("net_value"),
            "version": tx.version,
            "created_at": now,
            "updated_at": now,
            "created_by": tx.actor.user_id,
            "updated_by": tx.actor.user_id,
        },
    )
    tx.changed("asset", row.id, None, asset_audience(row, path))
    tx.audit(
        "asset", row.id, "create", {k: [None, _jsonable(row[k])] for k in (*ASSET_FIELDS, "tag", *MOVEMENT_FIELDS)}
    )
    return row


async def update_asset(tx: WriteTx, asset_id: str, changes: dict[str, Any], reason: str | None = None) -> Row:
    """Change an asset. A new custodian or location is a movement done at once; a new unit is a
    transfer that needs approval: recorded as pending and the asset marked in transfer."""
    row = await tx.get(ASSETS, asset_id)
    if row is None:
        raise NotFound("The asset does not exist or is not in your scope.", params={"entity": "asset"})
    path = await unit_path(tx, row.org_unit_id)
    if not tx.actor.asset_write_scope.sees_path(path):
        if tx.actor.asset_scope.sees_path(path) or row.custodian_id == tx.actor.user_id:
            raise OutOfScope("You may read this asset but not change it.", params={"entity": "asset"})
        raise NotFound("The asset does not exist or is not in your scope.", params={"entity": "asset"})
    check_fields(changes)
    await _check_refs(tx, changes)
    old_audience = asset_audience(row, path)
    updates: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "org_unit_id":
            if value != row.org_unit_id:
                await unit_path(tx, value)
                _movement(tx, row, "unit", row.org_unit_id, value, "pending", reason)
                if row.status != "in_transfer":
                    updates["status"] = "in_transfer"
            continue
        if row[field] == value:
            continue
        if field in MOVEMENT_FIELDS:
            _movement(tx, row, MOVEMENT_FIELDS[field], row[field], value, "done", reason)
        updates[field] = value
    if updates:
        tx.audit("asset", row.id, "update", {f: [_jsonable(row[f]), _jsonable(v)] for f, v in updates.items()})
        row.update(updates)
        row.update(version=tx.version, updated_at=utcnow(), updated_by=tx.actor.user_id)
        tx.update(ASSETS, row, (*updates, "version", "updated_at", "updated_by"))
        tx.changed("asset", row.id, old_audience, asset_audience(row, path))
    return row


def _movement(tx: WriteTx, row: Row, kind: str, old: Any, new: Any, state: str, reason: str | None) -> None:
    tx.record(
        MOVEMENTS,
        {
            "asset_id": row.id,
            "kind": kind,
            "from_value": old,
            "to_value": new,
            "state": state,
            "reason": reason,
            "by_user_id": tx.actor.user_id,
            "at": utcnow(),
            "version": tx.version,
        },
    )


async def create_location(tx: WriteTx, name: str, org_unit_id: str, code: str | None = None) -> Row:
    path = await unit_path(tx, org_unit_id)
    require_asset_writer(tx.actor, path)
    fmt = CODES.locations
    if code:
        try:
            code = fmt.validate(code)
        except InvalidTag as e:
            raise ValidationFailed(f"{code} is not a valid location code ({e.reason}).", code="invalid-tag") from None
        if (await tx.session.execute(select(Location.id).where(Location.code == code))).first() is not None:
            raise ValidationFailed(f"The location code {code} is already used.", code="tag-taken", params={"tag": code})
    else:  # the next number: after the highest code stored, or allocated earlier in this transaction
        key = ("next-location-number",)
        if key not in tx.cache:
            top = (
                await tx.session.execute(
                    select(func.max(Location.code)).where(
                        Location.code.startswith(fmt.prefix), func.length(Location.code) == fmt.length
                    )
                )
            ).scalar_one_or_none()
            tx.cache[key] = fmt.number(top) + 1 if top else 1
        code = fmt.make(tx.cache[key])
        tx.cache[key] += 1
    row = tx.insert(
        LOCATIONS,
        {
            "id": new_id(),
            "code": code,
            "name": name,
            "org_unit_id": org_unit_id,
            "version": tx.version,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        },
    )
    tx.changed("location", row.id, None, (None, path))
    tx.audit("location", row.id, "create", {"code": [None, code], "name": [None, name]})
    return row


# ---------------------------------------------------------------- label batches


async def record_label_batch(
    session: AsyncSession,
    actor: Actor | None,
    printed: list[Asset] | list[Location],
    *,
    source: str,
    layout: str,
    fmt: str,
) -> dict[str, Any]:
    """Record a print run (which tags, when, by whom); a tag printed before counts as a reprint."""
    kind = "location" if printed and isinstance(printed[0], Location) else "asset"
    tags = [_printed_tag(x) for x in printed]
    before: set[str] = set()
    for i in range(0, len(tags), 500):
        found = await session.execute(
            select(LabelBatchItem.tag).where(LabelBatchItem.tag.in_(tags[i : i + 500])).distinct()
        )
        before.update(found.scalars())
    batch = LabelBatch(
        id=new_id(),
        created_at=utcnow(),
        created_by=actor.user_id if actor else None,
        org_unit_id=actor.org_unit_id if actor else None,
        source=source,
        kind=kind,
        layout=layout,
        format=fmt,
        count=len(printed),
        reprints=sum(1 for t in tags if t in before),
    )
    session.add(batch)
    await session.flush()
    if printed:
        await session.execute(
            LabelBatchItem.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "batch_id": batch.id,
                    "tag": _printed_tag(x),
                    "asset_id": x.id if kind == "asset" else None,
                    "location_id": x.id if kind == "location" else None,
                    "reprint": _printed_tag(x) in before,
                }
                for x in printed
            ],
        )
    return batch_value(batch)


def _printed_tag(x: Asset | Location) -> str:
    return x.tag if isinstance(x, Asset) else x.code


def batch_value(b: LabelBatch) -> dict[str, Any]:
    return {
        "id": b.id,
        "createdAt": b.created_at.isoformat(),
        "createdBy": b.created_by,
        "source": b.source,
        "kind": b.kind,
        "layout": b.layout,
        "format": b.format,
        "count": b.count,
        "reprints": b.reprints,
    }


# ---------------------------------------------------------------- import of the asset book

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
        .where(tx.actor.asset_write_scope.path_clause(OrgUnit.path))
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
            if not tx.actor.asset_write_scope.sees_path(unit[1]):
                bad("department", f"{r['department']} is not a unit whose assets you manage")
            values["org_unit_id"] = unit[0]
        if r.get("tag"):
            try:
                tag = CODES.assets.validate(r["tag"])
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
            if not tx.actor.asset_write_scope.sees_path(path):
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
    fresh = iter(await next_tags(s, sum(1 for p in parsed if not p.get("tag")), after=tags))
    created = updated = 0
    for values in parsed:
        if values.get("tag") in existing:
            asset_id = existing[values.pop("tag")]
            await tx.load(ASSETS, {asset_id})
            await update_asset(tx, asset_id, {k: v for k, v in values.items() if k != "id"}, "import")
            updated += 1
        else:
            if not values.get("tag"):
                values["tag"] = next(fresh)
            await create_asset(tx, values, tag_is_free=True)  # tags of the file were looked up above
            created += 1
    return {"rows": len(rows), "created": created, "updated": updated, "unknownColumns": unknown}


# ---------------------------------------------------------------- labels

#: Layout names of the command line and the API, to the scanner's layouts.
LABEL_LAYOUTS = {"a4": "a4-3x8", "50x30": "thermal-50x30"}


async def assets_for_labels(session: AsyncSession, actor: Actor | None, tags: list[str] | None) -> list[Asset]:
    """The assets to label, in tag order: all the actor manages (every one from the command line), or
    the given tags — every one of which must be an asset the actor may see, or nothing is printed.
    Of those, the ones in units the actor manages are labelled: custody of an asset is no right to
    print its label (the app's list holds both; the skipped are counted by the caller), and when it
    leaves none, the request is refused."""
    managed = select(Asset)
    if actor is not None:
        managed = managed.join(OrgUnit, OrgUnit.id == Asset.org_unit_id).where(
            actor.asset_write_scope.path_clause(OrgUnit.path)
        )
    if tags is None:
        return list((await session.execute(managed.order_by(Asset.tag))).scalars())
    wanted = list(dict.fromkeys(valid_tag(t) for t in tags))
    visible = scoped_assets(actor) if actor is not None else select(Asset)
    seen: dict[str, Asset] = {}
    found: dict[str, Asset] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        for a in (await session.execute(visible.where(Asset.tag.in_(chunk)))).scalars():
            seen[a.tag] = a
        for a in (await session.execute(managed.where(Asset.tag.in_(chunk)))).scalars():
            found[a.tag] = a
    _all_found(wanted, seen, "asset")
    if not found:
        raise OutOfScope(
            "You may see these assets but not print their labels: they belong to units you do not manage.",
            params={"entity": "asset", "tags": wanted[:20]},
        )
    return [found[t] for t in sorted(found)]


async def locations_for_labels(session: AsyncSession, actor: Actor | None, codes: list[str] | None) -> list[Location]:
    """Location labels to print (what a stocktaker scans first at a place): all of the actor's
    subtree (every one from the command line), or the given codes, all of which must exist."""
    q = select(Location).join(OrgUnit, OrgUnit.id == Location.org_unit_id)
    if actor is not None:
        q = q.where(actor.asset_write_scope.path_clause(OrgUnit.path))
    if codes is None:
        return list((await session.execute(q.order_by(Location.code))).scalars())
    wanted = []
    for c in dict.fromkeys(codes):
        try:
            wanted.append(CODES.locations.validate(c))
        except InvalidTag as e:
            raise ValidationFailed(
                f"{c} is not a valid location code ({e.reason}).",
                code="invalid-tag",
                params={"tag": c, "reason": e.reason},
            ) from None
    found = {loc.code: loc for loc in (await session.execute(q.where(Location.code.in_(wanted)))).scalars()}
    _all_found(wanted, found, "location")
    return [found[c] for c in sorted(found)]


def _all_found(wanted: list[str], found: dict[str, Any], entity: str) -> None:
    missing = [t for t in wanted if t not in found]
    if missing:
        raise NotFound(
            f"No {entity} in your scope has the code{'s' if len(missing) > 1 else ''} {', '.join(missing[:20])}.",
            params={"entity": entity, "tags": missing},
        )


async def label_items(session: AsyncSession, public_url: str, printed: list[Asset] | list[Location]) -> list[Any]:
    from scanner.labels import Label
    from scanner.payload import encode_url

    units = dict(tuple(r) for r in (await session.execute(select(OrgUnit.id, OrgUnit.name))).all())
    out = []
    for x in printed:
        fmt = CODES.assets if isinstance(x, Asset) else CODES.locations
        tag = _printed_tag(x)
        out.append(
            Label(tag=tag, url=encode_url(public_url, tag, fmt), name=x.name, org_unit=units.get(x.org_unit_id, ""))
        )
    return out


def write_labels(items: list[Any], layout: str, fmt: str, out: Any, font: str | None) -> list[Any]:
    """Render labels to ``out`` (a PDF file, or a folder of PNG pages); the files written."""
    from pathlib import Path

    from scanner.labels import LAYOUTS, write_pdf, write_png

    chosen = LAYOUTS[LABEL_LAYOUTS[layout]]
    if fmt == "pdf":
        write_pdf(items, out, chosen, font=font or None)
        return [Path(out)]
    return write_png(items, out, chosen, font=font or None)


async def render_labels(
    session: AsyncSession, settings: Any, assets: list[Asset] | list[Location], *, layout: str
) -> bytes:
    """One PDF of the labels (rendered in a worker thread: it is CPU work)."""
    import asyncio
    import tempfile
    from pathlib import Path

    if not assets:
        raise ValidationFailed("There are no assets to label.", code="no-labels")
    items = await label_items(session, settings.app.public_url, assets)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "labels.pdf"
        await asyncio.to_thread(write_labels, items, layout, "pdf", out, settings.assets.label_font)
        return out.read_bytes()
