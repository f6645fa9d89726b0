"""Declarative base and column helpers shared by every bounded context."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import BigInteger, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: An auto-incrementing 64-bit key that SQLite also auto-increments.
BigIntPK = BigInteger().with_variant(Integer, "sqlite")
UtcDateTime = DateTimeUTC(timezone=True)
Json = JsonB


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())
