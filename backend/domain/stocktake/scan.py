"""Stocktaking on the phones: a scan (an append-only fact), undoing one's own scan, and finishing
one's part (the last to finish closes the campaign)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.db.base import utcnow
from backend.domain.assets import services as assets
from backend.domain.assets.models import Asset
from backend.domain.stocktake import services as campaign
from backend.domain.stocktake.models import StocktakeItem
from backend.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.kernel.actor import Actor
from backend.kernel.tx import Row, WriteTx
from scanner.tags import InvalidTag
from sync_protocol import mutations as m


def scan_value(sc: Any) -> dict[str, Any]:
    return {
        "id": sc.id,
        "stocktakeId": sc.stocktake_id,
        "tag": sc.tag,
        "assetId": sc.asset_id,
        "locationId": sc.location_id,
        "scannedBy": sc.scanned_by,
        "deviceId": sc.device_id,
        "scannedAt": sc.scanned_at.isoformat(),
        "condition": sc.condition,
        "note": sc.note,
        "photo": sc.photo,
        "undone": sc.undone_at is not None,
        "late": bool(sc.late),
        "version": sc.version,
    }


def _assignee(st: Row, path: str, actor: Actor) -> dict[str, Any]:
    """The actor's entry among the campaign's stocktakers; a campaign they cannot see is not found."""
    me = next((a for a in st.assignees or [] if a["userId"] == actor.user_id), None)
    if me is None:
        if assets.asset_scope(actor).sees_path(path):
            raise PermissionDenied("You are not a stocktaker of this stocktake.", code="not-assigned")
        raise NotFound("The stocktake does not exist or is not yours.", params={"entity": "stocktake"})
    return me


async def scan(tx: WriteTx, args: m.StocktakeScan) -> Row:
    st, path = await campaign.load_campaign(tx, args.stocktake_id)
    _assignee(st, path, tx.actor)
    if st.state == "draft":
        raise Conflict("The stocktake has not started yet.", code="stocktake-not-open")
    try:
        tag = assets.CODES.assets.validate(args.tag)
    except InvalidTag as e:
        raise ValidationFailed(
            f"{args.tag} is not a valid asset tag ({e.reason}).",
            code="invalid-tag",
            params={"tag": args.tag, "reason": e.reason},
        ) from None
    if args.location_id is not None and args.location_id not in {loc["id"] for loc in st.locations or []}:
        raise ValidationFailed(
            "The location is not part of this stocktake.", code="unknown-location", params={"id": args.location_id}
        )
    if await tx.get(campaign.SCANS, args.id) is not None:
        raise Conflict("A scan with this id already exists.", code="already-exists", params={"entity": "scan"})
    s = tx.session
    asset_id = (
        await s.execute(
            select(StocktakeItem.asset_id).where(StocktakeItem.stocktake_id == st.id, StocktakeItem.tag == tag)
        )
    ).scalar_one_or_none()
    if asset_id is None:  # not expected: in the book elsewhere, or not in the book at all (surplus either way)
        asset_id = (await s.execute(select(Asset.id).where(Asset.tag == tag))).scalar_one_or_none()
    row = tx.insert(
        campaign.SCANS,
        {
            "id": args.id,
            "stocktake_id": st.id,
            "tag": tag,
            "asset_id": asset_id,
            "location_id": args.location_id,
            "scanned_by": tx.actor.user_id,
            "device_id": tx.actor.device_id,
            "scanned_at": args.scanned_at,
            "received_at": utcnow(),
            "condition": args.condition,
            "note": args.note,
            "photo": args.photo,
            "undone_at": None,
            "late": st.state == "closed",
            "version": tx.version,
        },
    )
    campaign.campaign_changed(tx, st, path, "stocktake_scan", row.id)
    return row


async def undo(tx: WriteTx, args: m.StocktakeUndo) -> Row:
    sc = await tx.get(campaign.SCANS, args.id)
    if sc is None:
        raise NotFound("The scan does not exist.", params={"entity": "scan"})
    if sc.scanned_by != tx.actor.user_id:
        raise PermissionDenied("Only the stocktaker who scanned it can undo a scan.", code="not-your-scan")
    st, path = await campaign.load_campaign(tx, sc.stocktake_id)
    _assignee(st, path, tx.actor)  # a stocktaker taken off the campaign changes nothing in it
    if st.state == "closed":
        raise Conflict("The stocktake is closed; the scan stays.", code="stocktake-closed")
    if sc.undone_at is None:
        sc.update(undone_at=utcnow(), version=tx.version)
        tx.update(campaign.SCANS, sc, ("undone_at", "version"))
        campaign.campaign_changed(tx, st, path, "stocktake_scan", sc.id)
    return sc


async def finish(tx: WriteTx, args: m.StocktakeFinish) -> Row:
    st, path = await campaign.load_campaign(tx, args.stocktake_id)
    me = _assignee(st, path, tx.actor)
    if st.state == "draft":
        raise Conflict("The stocktake has not started yet.", code="stocktake-not-open")
    if me["finishedAt"] is None:
        now = utcnow()
        st.update(
            assignees=[{**a, "finishedAt": now.isoformat()} if a is me else a for a in st.assignees],
            version=tx.version,
            updated_at=now,
        )
        tx.update(campaign.STOCKTAKES, st, ("assignees", "version", "updated_at"))
        await tx.write_rows()
        await tx.session.execute(
            campaign.ASSIGNEES.update()
            .where(campaign.ASSIGNEES.c.stocktake_id == st.id, campaign.ASSIGNEES.c.user_id == tx.actor.user_id)
            .values(finished_at=now, finished_device_id=tx.actor.device_id)
        )
        tx.audit("stocktake", st.id, "finish", {"finished": [None, tx.actor.user_id]})
        if st.state == "open" and all(a["finishedAt"] for a in st.assignees):
            await campaign.close_campaign(tx, st, path, None, by=None)
        else:
            campaign.campaign_changed(tx, st, path, "stocktake", st.id)
    return st
