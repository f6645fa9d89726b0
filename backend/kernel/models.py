"""The kernel's tables: the change counter, the change log, conflicts and the audit log. Every
writing transaction (``backend/kernel/tx.py``) writes them; the sync protocol's own tables (clients,
rejections) and attachments stay in ``backend/sync/models.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigIntPK, Json, UtcDateTime, utcnow


class SyncState(Base):
    """One row. ``version`` is the commit-ordered change counter: every writing transaction takes the
    next value while holding the row lock until it commits, so versions become visible in order and a
    pull never skips a change (invariant 7). ``min_version`` is the oldest cookie still served."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    min_version: Mapped[int] = mapped_column(BigInteger, default=0)


class ChangeLog(Base):
    """One entry per row change, with who could see the row before and after (its audience).

    A pull reads the entries after its cookie whose audience meets the user's scope and sends the
    row's current state (put) or its removal (del) — so a row that leaves a scope is deleted."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_version_seq", "version", "seq"),)

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(BigInteger)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    old_user: Mapped[str | None] = mapped_column(String(36))
    new_user: Mapped[str | None] = mapped_column(String(36))
    old_path: Mapped[str | None] = mapped_column(String(1000))
    new_path: Mapped[str | None] = mapped_column(String(1000))


class Conflict(Base):
    """Two edits of the same field made without seeing each other. The later by HLC was kept; the
    other value is kept here, visible to the user and the manager (invariant 6)."""

    __tablename__ = "conflict"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    field: Mapped[str] = mapped_column(String(60))
    kept_value: Mapped[Any] = mapped_column(Json, nullable=True)
    lost_value: Mapped[Any] = mapped_column(Json, nullable=True)
    kept_hlc: Mapped[str | None] = mapped_column(String(100))
    lost_hlc: Mapped[str] = mapped_column(String(100))
    kept_by: Mapped[str | None] = mapped_column(String(36))
    lost_by: Mapped[str | None] = mapped_column(String(36))
    lost_device_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(BigInteger, index=True)


class AuditEntry(Base):
    """Who changed what, when, from which device: old and new values per field."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))
    mutation_id: Mapped[int | None] = mapped_column(BigInteger)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
