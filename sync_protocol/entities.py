"""Rows as pulled: the synced entities, flat, named in the singular, camelCase fields.

Server-owned fields (``version``, audit fields) are read-only on the device.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from .base import WireModel

CustomerKind = Literal["enterprise", "individual", "guest", "partner"]
CustomerStatus = Literal["potential", "active", "at_risk", "churned"]
Tier = Literal["A", "B", "C"]


class CustomerValue(WireModel):
    id: str
    name: str
    kind: CustomerKind
    status: CustomerStatus
    tier: Tier | None
    phone: str | None
    address: str | None
    org_unit_id: str
    assigned_rep_id: str | None
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class ContactValue(WireModel):
    id: str
    customer_id: str
    name: str
    title: str | None
    phone: str | None
    birthday: date | None
    version: int
    created_at: datetime
    updated_at: datetime


class ConflictValue(WireModel):
    """Two edits of the same field: the later by HLC won (``kept``), the other is kept here."""

    id: str
    entity: str
    entity_id: str
    customer_id: str
    field: str
    kept_value: Any
    lost_value: Any
    kept_hlc: str | None
    lost_hlc: str
    kept_by: str | None
    lost_by: str | None
    lost_device_id: str | None
    created_at: datetime
    version: int


ENTITIES: dict[str, type[WireModel]] = {
    "customer": CustomerValue,
    "contact": ContactValue,
    "conflict": ConflictValue,
}
