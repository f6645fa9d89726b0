"""Stocktake campaigns (盘点): set up, start (freeze the expected list), stocktakers, close, and who
sees them. Scanning on the phones (scan, undo, finish) is in ``scan``; the reconciliation of the book
(账) against what was found (实), and the follow-ups recorded at the close, in ``reconciliation``.

Rules:
- The expected list is copied from the book when the campaign starts; later changes of the book do
  not move it.
- A scan is an append-only fact. A valid tag that is not expected is recorded (surplus), never
  refused; scans of several stocktakers never overwrite each other. Only its author undoes a scan.
- Each stocktaker's device marks its part finished (after its scans, in the same outbox). The
  campaign closes by itself when the last one finishes; a manager may close it earlier, with a
  reason. A scan that arrives after the close is kept and flagged late.
- Campaign rows (the campaign, its expected list, its scans) are seen by the stocktakers assigned to
  it (one change-log entry per stocktaker) and by asset readers of its org subtree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.models import User
from backend.db.base import new_id, utcnow
from backend.domain.assets import services as assets
from backend.domain.assets.models import Asset, Location
from backend.domain.org.models import OrgUnit
from backend.domain.stocktake import reconciliation
from backend.domain.stocktake.models import Stocktake, StocktakeAssignee, StocktakeItem, StocktakeScan
from backend.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.kernel.actor import Actor
from backend.kernel.tx import Row, WriteTx
from sync_protocol import mutations as m

STOCKTAKES: Table = Stocktake.__table__  # type: ignore[assignment]
ASSIGNEES: Table = StocktakeAssignee.__table__  # type: ignore[assignment]
ITEMS: Table = StocktakeItem.__table__  # type: ignore[assignment]
SCANS: Table = StocktakeScan.__table__  # type: ignore[assignment]


# ---------------------------------------------------------------- wire shapes


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def stocktake_value(st: Any) -> dict[str, Any]:
    return {
        "id": st.id,
        "name": st.name,
        "orgUnitId": st.org_unit_id,
        "state": st.state,
        "locations": list(st.locations or []),
        "assignees": list(st.assignees or []),
        "startedAt": _iso(st.started_at),
        "closedAt": _iso(st.closed_at),
        "closeReason": st.close_reason,
        "codes": {
            "asset": {"prefix": assets.CODES.assets.prefix, "digits": assets.CODES.assets.digits},
            "location": {"prefix": assets.CODES.locations.prefix, "digits": assets.CODES.locations.digits},
        },
        "version": st.version,
    }


def item_value(it: Any) -> dict[str, Any]:
    return {
        "id": it.id,
        "stocktakeId": it.stocktake_id,
        "assetId": it.asset_id,
        "tag": it.tag,
        "name": it.name,
        "categoryCode": it.category_code,
        "model": it.model,
        "serial": it.serial,
        "locationId": it.location_id,
        "status": it.status,
        "version": it.version,
    }


# ---------------------------------------------------------------- who sees what


def visible(actor: Actor, stocktake_id_column: Any) -> Any:
    """SQL condition: the campaign (by its id column, joined with its org unit) is the actor's —
    assigned to them, or in the org subtree whose assets they read."""
    assigned = exists().where(
        StocktakeAssignee.stocktake_id == stocktake_id_column, StocktakeAssignee.user_id == actor.user_id
    )
    return or_(assets.asset_scope(actor).path_clause(OrgUnit.path), assigned)


def scoped_stocktakes(actor: Actor) -> Select:
    return select(Stocktake).join(OrgUnit, OrgUnit.id == Stocktake.org_unit_id).where(visible(actor, Stocktake.id))


async def get_stocktake(session: AsyncSession, actor: Actor, stocktake_id: str) -> Stocktake:
    row = (await session.execute(scoped_stocktakes(actor).where(Stocktake.id == stocktake_id))).scalar_one_or_none()
    if row is None:
        raise NotFound("The stocktake does not exist or is not yours.", params={"entity": "stocktake"})
    return row


async def list_stocktakes(session: AsyncSession, actor: Actor, *, status: str | None = None) -> list[dict[str, Any]]:
    """The campaigns the actor sees (in ``status`` when given), newest first, at most 200."""
    q = scoped_stocktakes(actor)
    if status:
        q = q.where(Stocktake.state == status)
    rows = (await session.execute(q.order_by(Stocktake.created_at.desc()).limit(200))).scalars()
    return [stocktake_value(st) for st in rows]


def _audiences(st: Row, path: str) -> list[tuple[str | None, str]]:
    users = [a["userId"] for a in st.assignees or []]
    return [(u, path) for u in users] or [(None, path)]


def campaign_changed(tx: WriteTx, st: Row, path: str, entity: str, entity_id: str, old: list | None = None) -> None:
    """One change-log entry per stocktaker (and the org path for managers); ``old`` audiences that
    are no longer there get an entry too, so the row leaves their phones."""
    new = _audiences(st, path)
    for aud in new:
        tx.changed(entity, entity_id, aud, aud)
    for aud in old or []:
        if aud not in new:
            tx.changed(entity, entity_id, aud, (None, path))


# ---------------------------------------------------------------- set up, start, stocktakers and close


async def load_campaign(tx: WriteTx, stocktake_id: str) -> tuple[Row, str]:
    st = await tx.get(STOCKTAKES, stocktake_id)
    if st is None:
        raise NotFound("The stocktake does not exist or is not yours.", params={"entity": "stocktake"})
    path = await assets.unit_path(tx, st.org_unit_id)
    return st, path


def _require_manager(actor: Actor, path: str) -> None:
    """Campaigns are run by asset admins and managers of their unit (and admins)."""
    if not (actor.has("admin") or (actor.has("asset_admin", "manager") and path.startswith(actor.org_path))):
        raise PermissionDenied("Only an asset administrator or manager of this unit may do this.", code="forbidden")


async def create_stocktake(
    tx: WriteTx,
    *,
    name: str,
    org_unit_id: str,
    location_ids: list[str],
    assignee_ids: list[str],
    start: bool = False,
) -> Row:
    """A campaign over an org unit's subtree (all its locations), or over the given locations."""
    path = await assets.unit_path(tx, org_unit_id)
    _require_manager(tx.actor, path)
    if location_ids:  # places of the campaign's own unit subtree only: their assets are its book
        found = set(
            (
                await tx.session.execute(
                    select(Location.id)
                    .join(OrgUnit, OrgUnit.id == Location.org_unit_id)
                    .where(Location.id.in_(set(location_ids)), OrgUnit.path.startswith(path, autoescape=True))
                )
            ).scalars()
        )
        outside = sorted(set(location_ids) - found)
        if outside:
            raise ValidationFailed(
                "Every location must belong to the stocktake's unit.", code="unknown-location", params={"ids": outside}
            )
    assignees = await _assignees(tx, assignee_ids, path)
    st = tx.insert(
        STOCKTAKES,
        {
            "id": new_id(),
            "name": name,
            "org_unit_id": org_unit_id,
            "state": "draft",
            "scope": {"orgUnitId": org_unit_id, "locationIds": sorted(set(location_ids))},
            "locations": [],
            "assignees": assignees,
            "created_by": tx.actor.user_id,
            "started_at": None,
            "closed_at": None,
            "closed_by": None,
            "close_reason": None,
            "version": tx.version,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        },
    )
    await tx.write_rows()
    if assignees:
        await tx.session.execute(
            ASSIGNEES.insert(), [{"stocktake_id": st.id, "user_id": a["userId"]} for a in assignees]
        )
    tx.audit(
        "stocktake", st.id, "create", {"name": [None, name], "assignees": [None, [a["userId"] for a in assignees]]}
    )
    if start:
        await start_stocktake(tx, st.id)
    else:
        campaign_changed(tx, st, path, "stocktake", st.id)
    return st


async def _assignees(tx: WriteTx, user_ids: list[str], path: str) -> list[dict[str, Any]]:
    """The campaign's stocktakers, checked: active users with the stocktaker role, of the campaign's
    unit or a unit above or below it (a city's stocktakers count its districts; another city's do
    not). Assigning someone hands them the unit's expected list, so nobody else may be."""
    if not user_ids:
        return []
    rows = (
        await tx.session.execute(
            select(User, OrgUnit.path).join(OrgUnit, OrgUnit.id == User.org_unit_id).where(User.id.in_(set(user_ids)))
        )
    ).all()
    found = {u.id: (u, p) for u, p in rows if u.disabled_at is None}
    missing = [u for u in user_ids if u not in found]
    if missing:
        raise ValidationFailed("Every stocktaker must be an active user.", code="invalid-user", params={"ids": missing})
    not_stocktakers = [u for u in user_ids if "stocktaker" not in (found[u][0].roles or [])]
    if not_stocktakers:
        raise ValidationFailed(
            "Only users with the stocktaker role can count a stocktake.",
            code="not-a-stocktaker",
            params={"ids": not_stocktakers},
        )
    elsewhere = [u for u in user_ids if not (found[u][1].startswith(path) or path.startswith(found[u][1]))]
    if elsewhere:
        raise ValidationFailed(
            "Every stocktaker must belong to the stocktake's unit, or a unit above or below it.",
            code="stocktaker-elsewhere",
            params={"ids": elsewhere},
        )
    return [{"userId": u, "name": found[u][0].display_name, "finishedAt": None} for u in dict.fromkeys(user_ids)]


async def set_assignees(tx: WriteTx, stocktake_id: str, user_ids: list[str]) -> Row:
    """Change who counts (manager). The campaign, its expected list and its scans reach the phones of
    stocktakers added and leave those of stocktakers removed (their scans stay); who had finished
    keeps that mark. A closed campaign's stocktakers no longer change."""
    st, path = await load_campaign(tx, stocktake_id)
    _require_manager(tx.actor, path)
    if st.state == "closed":
        raise Conflict("The stocktake is closed.", code="stocktake-closed")
    if not user_ids:
        raise ValidationFailed("A stocktake needs at least one stocktaker.", code="no-stocktakers")
    fresh = await _assignees(tx, user_ids, path)
    before = {a["userId"]: a for a in st.assignees or []}
    assignees = [before.get(a["userId"], a) for a in fresh]
    if [a["userId"] for a in assignees] == list(before):
        return st
    old = _audiences(st, path)
    st.update(assignees=assignees, version=tx.version, updated_at=utcnow())
    tx.update(STOCKTAKES, st, ("assignees", "version", "updated_at"))
    await tx.write_rows()
    keep = {a["userId"] for a in assignees}
    await tx.session.execute(
        ASSIGNEES.delete().where(ASSIGNEES.c.stocktake_id == st.id, ASSIGNEES.c.user_id.notin_(keep))
    )
    added = [a["userId"] for a in assignees if a["userId"] not in before]
    if added:
        await tx.session.execute(ASSIGNEES.insert(), [{"stocktake_id": st.id, "user_id": u} for u in added])
    campaign_changed(tx, st, path, "stocktake", st.id, old)
    # The expected list and the scans did not change: only phones that gain or lose them hear of it
    # (by user, no path: the unit's managers already hold them).
    moved: set[str] = {u for u, _ in old if u} ^ {a["userId"] for a in assignees}
    for table, entity in ((ITEMS, "stocktake_item"), (SCANS, "stocktake_scan")):
        for (row_id,) in (await tx.session.execute(select(table.c.id).where(table.c.stocktake_id == st.id))).all():
            for u in sorted(moved):
                tx.changed(entity, row_id, (u, None), (u, None))
    tx.audit("stocktake", st.id, "assign", {"assignees": [list(before), [a["userId"] for a in assignees]]})
    if st.state == "open" and all(a["finishedAt"] for a in assignees):
        await close_campaign(tx, st, path, None, by=None)
    return st


async def start_stocktake(tx: WriteTx, stocktake_id: str) -> Row:
    """Freeze the expected list: every asset of the scope not disposed, as the book has it now."""
    st, path = await load_campaign(tx, stocktake_id)
    _require_manager(tx.actor, path)
    if st.state != "draft":
        raise Conflict("The stocktake has already started.", code="stocktake-started")
    s = tx.session
    location_ids = st.scope.get("locationIds") or []
    loc_q = select(Location).join(OrgUnit, OrgUnit.id == Location.org_unit_id)
    if location_ids:
        loc_q = loc_q.where(Location.id.in_(location_ids))
    else:
        loc_q = loc_q.where(OrgUnit.path.startswith(path, autoescape=True))
    locations = list((await s.execute(loc_q.order_by(Location.code))).scalars())
    # the book of the campaign's unit subtree (at the chosen places, when it has some)
    asset_q = (
        select(Asset)
        .join(OrgUnit, OrgUnit.id == Asset.org_unit_id)
        .where(Asset.status != "disposed", OrgUnit.path.startswith(path, autoescape=True))
    )
    if location_ids:
        asset_q = asset_q.where(Asset.location_id.in_(location_ids))
    book = list((await s.execute(asset_q.order_by(Asset.tag))).scalars())
    now = utcnow()
    st.update(
        state="open",
        started_at=now,
        locations=[{"id": loc.id, "code": loc.code, "name": loc.name} for loc in locations],
        version=tx.version,
        updated_at=now,
    )
    tx.update(STOCKTAKES, st, ("state", "started_at", "locations", "version", "updated_at"))
    campaign_changed(tx, st, path, "stocktake", st.id)
    for a in book:
        item = tx.insert(
            ITEMS,
            {
                "id": new_id(),
                "stocktake_id": st.id,
                "asset_id": a.id,
                "tag": a.tag,
                "name": a.name,
                "category_code": a.category_code,
                "model": a.model,
                "serial": a.serial,
                "location_id": a.location_id,
                "custodian_id": a.custodian_id,
                "status": a.status,
                "version": tx.version,
            },
        )
        campaign_changed(tx, st, path, "stocktake_item", item.id)
    tx.audit("stocktake", st.id, "start", {"expected": [None, len(book)], "locations": [None, len(locations)]})
    return st


async def close(tx: WriteTx, args: m.StocktakeClose) -> Row:
    """Close a campaign (manager). While stocktakers have not finished, only with a reason (override)."""
    st, path = await load_campaign(tx, args.stocktake_id)
    _require_manager(tx.actor, path)
    if st.state == "draft":
        raise Conflict("The stocktake has not started yet.", code="stocktake-not-open")
    if st.state == "closed":
        return st
    unfinished = [a for a in st.assignees or [] if not a["finishedAt"]]
    if unfinished and not args.reason:
        raise Conflict(
            f"{len(unfinished)} stocktakers have not finished; give a reason to close anyway.",
            code="stocktakers-unfinished",
            params={"count": len(unfinished), "users": [a["userId"] for a in unfinished]},
        )
    await close_campaign(tx, st, path, args.reason, by=tx.actor.user_id)
    return st


async def close_campaign(tx: WriteTx, st: Row, path: str, reason: str | None, *, by: str | None) -> None:
    """Close now (a manager's close, or the last stocktaker finishing): the book against what was found
    becomes follow-up work (``reconciliation.record_followups``)."""
    now = utcnow()
    st.update(state="closed", closed_at=now, closed_by=by, close_reason=reason, version=tx.version, updated_at=now)
    tx.update(STOCKTAKES, st, ("state", "closed_at", "closed_by", "close_reason", "version", "updated_at"))
    campaign_changed(tx, st, path, "stocktake", st.id)
    tx.audit("stocktake", st.id, "close", {"state": ["open", "closed"], "reason": [None, reason], "by": [None, by]})
    await tx.write_rows()
    await reconciliation.record_followups(tx, st.id, now)
