from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigIntPK, Json, UtcDateTime, utcnow


class Customer(Base):
    """A customer archive record (客户档案). ``field_meta`` keeps, per field, the version, HLC, user
    and device of its last write — what conflict detection needs; it never leaves the server."""

    __tablename__ = "customer"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    tier: Mapped[str | None] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(500))
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_unit.id"), index=True)
    assigned_rep_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    tags: Mapped[list[str]] = mapped_column(Json, default=list)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(36))
    updated_by: Mapped[str | None] = mapped_column(String(36))
    field_meta: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class Contact(Base):
    """A contact person (联系人) of a customer."""

    __tablename__ = "contact"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(40))
    birthday: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(36))
    updated_by: Mapped[str | None] = mapped_column(String(36))
    field_meta: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class CustomerAssignment(Base):
    """Assignment history (分配/调换/回收): assign, reassign, reclaim."""

    __tablename__ = "customer_assignment"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_user_id: Mapped[str | None] = mapped_column(String(36))
    to_user_id: Mapped[str | None] = mapped_column(String(36))
    by_user_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(BigInteger)
