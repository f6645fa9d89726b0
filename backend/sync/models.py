from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, BigIntPK, Json, UtcDateTime, utcnow


class SyncClient(Base):
    """Per client (device): the last mutation id processed, applied or rejected."""

    __tablename__ = "sync_client"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    last_mutation_id: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    last_push_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Rejection(Base):
    """A mutation that can never succeed: recorded with its reason, repeated on pulls until passed."""

    __tablename__ = "sync_rejection"
    __table_args__ = (Index("ix_sync_rejection_client_version", "client_id", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64))
    mutation_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100))
    args: Mapped[Any] = mapped_column(Json)
    code: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(String(2000))
    params: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Attachment(Base):
    """A photo or file, stored by the SHA-256 of its bytes (content-addressed): uploaded separately
    from the mutations that name it, idempotently, so one taken offline is never lost or stored twice
    (invariant 9). The bytes live in ``<var>/attachments/<2 hex>/<sha256>``."""

    __tablename__ = "attachment"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by: Mapped[str] = mapped_column(String(36), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AttachmentHolder(Base):
    """Who has sent a photo's bytes (each, once). Sending the bytes that match the hash proves
    holding the photo: a row that names a photo lets others read it only when the row's author holds
    it, so naming someone else's hash in one's own scan grants nothing. The bytes count against the
    quota of the first holder only (``Attachment.uploaded_by``)."""

    __tablename__ = "attachment_holder"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
