from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigIntPK, Json, UtcDateTime, new_id, utcnow

ROLES = ("admin", "manager", "rep", "stocktaker", "asset_admin", "finance", "care", "auditor")


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_unit.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(Json, default=list)
    #: Bumped whenever what the user may see changes (moved, roles changed): devices re-sync in full.
    scope_epoch: Mapped[int] = mapped_column(Integer, default=1)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Device(Base):
    """One app install. Its id is the sync ``clientId``."""

    __tablename__ = "device"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(36))
    # Access tokens carry the epoch they were issued in; signing out moves it on, so a token issued
    # before ends at once instead of living out its minutes.
    token_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RefreshToken(Base):
    """Rotating refresh tokens; all of a device's tokens form one family. Only a hash is stored."""

    __tablename__ = "refresh_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("device.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginFailure(Base):
    """A failed login, counted per account and per address for rate limiting."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class SseTicket(Base):
    """A short-lived one-time ticket for the SSE stream (EventSource cannot send headers)."""

    __tablename__ = "sse_ticket"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
