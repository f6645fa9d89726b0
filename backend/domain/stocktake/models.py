"""Stocktake campaigns (盘点): the expected list frozen at the start, who counts, and the scans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigIntPK, Json, UtcDateTime, utcnow

STOCKTAKE_STATES = ("draft", "open", "closed")
CONDITIONS = ("ok", "damaged", "worn", "missing_parts", "other")


class Stocktake(Base):
    """A campaign. ``scope`` holds the org unit and location ids it covers; ``locations`` the
    locations frozen with the expected list (id, code, name) so phones need nothing else.
    ``state``: draft (being set up) → open (expected list frozen, counting) → closed."""

    __tablename__ = "stocktake"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_unit.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    scope: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    locations: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    #: A copy of the assignee rows for the wire: [{userId, name, finishedAt}] (the table decides).
    assignees: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    created_by: Mapped[str] = mapped_column(String(36))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(36))
    close_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StocktakeAssignee(Base):
    """A stocktaker of a campaign; ``finished_at`` when their device marked its part finished."""

    __tablename__ = "stocktake_assignee"
    __table_args__ = (UniqueConstraint("stocktake_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    stocktake_id: Mapped[str] = mapped_column(ForeignKey("stocktake.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_device_id: Mapped[str | None] = mapped_column(String(64))


class StocktakeItem(Base):
    """One line of the expected list (账), copied from the book when the campaign started."""

    __tablename__ = "stocktake_item"
    __table_args__ = (
        UniqueConstraint("stocktake_id", "asset_id"),
        Index("ix_stocktake_item_tag", "stocktake_id", "tag"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stocktake_id: Mapped[str] = mapped_column(ForeignKey("stocktake.id"), index=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("asset.id"))
    tag: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    category_code: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(100))
    location_id: Mapped[str | None] = mapped_column(String(36))
    custodian_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(BigInteger, index=True)


class StocktakeScan(Base):
    """A scan: an append-only fact (who, when, where, which device, condition). Its id is made on the
    phone. ``undone_at`` is set by its author's undo; ``late`` when it arrived after the close."""

    __tablename__ = "stocktake_scan"
    __table_args__ = (Index("ix_stocktake_scan_tag", "stocktake_id", "tag"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stocktake_id: Mapped[str] = mapped_column(ForeignKey("stocktake.id"), index=True)
    tag: Mapped[str] = mapped_column(String(40))
    asset_id: Mapped[str | None] = mapped_column(String(36))
    location_id: Mapped[str | None] = mapped_column(String(36))
    scanned_by: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(64))
    scanned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    condition: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500))
    photo: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(BigInteger, index=True)


class StocktakeFollowup(Base):
    """A discrepancy found by the reconciliation when the campaign closed: work for someone."""

    __tablename__ = "stocktake_followup"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    stocktake_id: Mapped[str] = mapped_column(ForeignKey("stocktake.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    tag: Mapped[str] = mapped_column(String(40))
    asset_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
