"""The asset book: reads, changes with movements, locations, tags and the installation's tag formats.

Importing a book is in ``imports``, labels and their print batches in ``labels``; both build on this.

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
from backend.db.base import new_id, utcnow
from backend.domain.assets.models import ASSET_STATUSES, LIFECYCLE_STAGES, Asset, AssetMovement, Location
from backend.domain.assets.scope import asset_scope, asset_write_scope  # stocktake reads them from here
from backend.domain.org.models import OrgUnit
from backend.errors import NotFound, OutOfScope, PermissionDenied, ValidationFailed
from backend.kernel.actor import Actor
from backend.kernel.models import AuditEntry
from backend.kernel.tx import Row, WriteTx
from backend.settings import AssetSettings
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
    scope = asset_scope(actor)
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
        .where(asset_scope(actor).path_clause(OrgUnit.path))
        .order_by(Location.code)
    )
    return [location_value(loc) for loc in (await session.execute(q)).scalars()]


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


def require_asset_writer(actor: Actor, path: str) -> None:
    if not asset_write_scope(actor).sees_path(path):
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
        if not asset_write_scope(tx.actor).sees_path(tx.cache[key]):
            raise OutOfScope("The custodian must belong to a unit whose assets you manage.", params={"entity": "user"})
    location = values.get("location_id")
    if location is not None:
        loc = await tx.get(LOCATIONS, location)
        # a place of a unit whose assets the actor manages (else it could pull others' places in)
        if loc is None or not asset_write_scope(tx.actor).sees_path(await unit_path(tx, loc.org_unit_id)):
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
    if not asset_write_scope(tx.actor).sees_path(path):
        if asset_scope(tx.actor).sees_path(path) or row.custodian_id == tx.actor.user_id:
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
