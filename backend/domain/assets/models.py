"""The asset book (账): locations, assets, their movements and label print batches."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigIntPK, Json, UtcDateTime, utcnow

ASSET_STATUSES = ("in_use", "idle", "under_repair", "in_transfer", "disposed", "lost")
#: 在建工程 → 暂估资产 → 固定资产
LIFECYCLE_STAGES = ("construction", "provisional", "fixed")
Money = Numeric(14, 2)


class Location(Base):
    """A place assets stand in (site, building, room), with its own label: a stocktaker scans it first."""

    __tablename__ = "location"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_unit.id"), index=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Asset(Base):
    """An asset of the book. ``tag`` is what its label carries (prefix, number, check character)."""

    __tablename__ = "asset"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category_code: Mapped[str] = mapped_column(String(40), index=True)
    model: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(100), index=True)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("location.id"), index=True)
    custodian_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_unit.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    lifecycle: Mapped[str] = mapped_column(String(20))
    acquired_on: Mapped[date | None] = mapped_column(Date)
    original_value: Mapped[Decimal | None] = mapped_column(Money)
    net_value: Mapped[Decimal | None] = mapped_column(Money)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(36))
    updated_by: Mapped[str | None] = mapped_column(String(36))


class AssetMovement(Base):
    """A change of custodian, location or unit (调拨/转移). A transfer to another unit needs approval:
    it stays ``pending`` (and the asset ``in_transfer``) until the approvals capability decides it."""

    __tablename__ = "asset_movement"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("asset.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    from_value: Mapped[str | None] = mapped_column(String(36))
    to_value: Mapped[str | None] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    by_user_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(BigInteger)


class LabelBatch(Base):
    """A print run of labels: which tags, when, by whom, how; reprints are counted."""

    __tablename__ = "label_batch"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(36))
    #: the printing user's unit (who may list the batch); none for the command line
    org_unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    #: asset labels, or location labels (what a stocktaker scans first at a place)
    kind: Mapped[str] = mapped_column(String(20), default="asset")
    layout: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(Integer)
    reprints: Mapped[int] = mapped_column(Integer)


class LabelBatchItem(Base):
    __tablename__ = "label_batch_item"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("label_batch.id"), index=True)
    #: the asset tag or location code printed (a reprint when printed before)
    tag: Mapped[str] = mapped_column(String(40), index=True)
    asset_id: Mapped[str | None] = mapped_column(ForeignKey("asset.id"))
    location_id: Mapped[str | None] = mapped_column(ForeignKey("location.id"))
    reprint: Mapped[bool] = mapped_column(Boolean)


class AssetImport(Base):
    """One import of the asset book: who, when, which file, how many rows."""

    __tablename__ = "asset_import"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(36))
    filename: Mapped[str] = mapped_column(String(300))
    rows: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
