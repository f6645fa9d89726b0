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


AssetStatus = Literal["in_use", "idle", "under_repair", "in_transfer", "disposed", "lost"]
Lifecycle = Literal["construction", "provisional", "fixed"]
Condition = Literal["ok", "damaged", "worn", "missing_parts", "other"]
StocktakeState = Literal["draft", "open", "closed"]


class LocationValue(WireModel):
    """A place assets stand in, with its own label (``code``)."""

    id: str
    code: str
    name: str
    org_unit_id: str
    version: int


class AssetValue(WireModel):
    """An asset of the book. Money is a decimal string (two places)."""

    id: str
    tag: str
    name: str
    category_code: str
    model: str | None
    serial: str | None
    location_id: str | None
    custodian_id: str | None
    org_unit_id: str
    status: AssetStatus
    lifecycle: Lifecycle
    acquired_on: date | None
    original_value: str | None
    net_value: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class StocktakeLocation(WireModel):
    id: str
    code: str
    name: str


class StocktakeAssigneeValue(WireModel):
    user_id: str
    name: str
    finished_at: datetime | None


class TagFormatValue(WireModel):
    prefix: str
    digits: int


class StocktakeCodes(WireModel):
    """How this installation's labels look, so a phone checks reads offline."""

    asset: TagFormatValue
    location: TagFormatValue


class StocktakeValue(WireModel):
    """A stocktake campaign with its frozen locations, its stocktakers and the label formats."""

    id: str
    name: str
    org_unit_id: str
    state: StocktakeState
    locations: list[StocktakeLocation]
    assignees: list[StocktakeAssigneeValue]
    started_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    codes: StocktakeCodes
    version: int


class StocktakeItemValue(WireModel):
    """A line of a campaign's expected list, frozen when it started."""

    id: str
    stocktake_id: str
    asset_id: str
    tag: str
    name: str
    category_code: str
    model: str | None
    serial: str | None
    location_id: str | None
    status: AssetStatus
    version: int


class StocktakeScanValue(WireModel):
    """A scan as the server recorded it; ``asset_id`` null when the tag is not in the book."""

    id: str
    stocktake_id: str
    tag: str
    asset_id: str | None
    location_id: str | None
    scanned_by: str
    device_id: str | None
    scanned_at: datetime
    condition: Condition
    note: str | None
    photo: str | None
    undone: bool
    late: bool
    version: int


ENTITIES: dict[str, type[WireModel]] = {
    "customer": CustomerValue,
    "contact": ContactValue,
    "conflict": ConflictValue,
    "location": LocationValue,
    "asset": AssetValue,
    "stocktake": StocktakeValue,
    "stocktake_item": StocktakeItemValue,
    "stocktake_scan": StocktakeScanValue,
}
