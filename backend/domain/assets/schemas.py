"""REST wire schemas of the assets context: request bodies, and the answers. An asset or a location
over REST is the row a phone pulls (``AssetValue``, ``LocationValue``).

Answers are built as dicts by the services and sent as built (timestamps as their ``isoformat``); these
models are what the OpenAPI document says of them, and tests/integration/test_openapi_types.py checks
the two agree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from sync_protocol.base import StrictWireModel, WireModel
from sync_protocol.entities import AssetStatus, AssetValue, Lifecycle, LocationValue

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Amount = Annotated[Decimal, Field(ge=0, lt=Decimal("1e12"), max_digits=14, decimal_places=2)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class AssetCreate(StrictWireModel):
    tag: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    name: Name
    category_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    model: Name | None = None
    serial: Short | None = None
    location_id: Ref | None = None
    custodian_id: Ref | None = None
    org_unit_id: Ref
    status: AssetStatus = "in_use"
    lifecycle: Lifecycle = "fixed"
    acquired_on: date | None = None
    original_value: Amount | None = None
    net_value: Amount | None = None


class AssetUpdate(StrictWireModel):
    """Absent fields are untouched. A new unit is a transfer that waits for approval."""

    name: Name | None = None
    category_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None = None
    model: Name | None = None
    serial: Short | None = None
    location_id: Ref | None = None
    custodian_id: Ref | None = None
    org_unit_id: Ref | None = None
    status: AssetStatus | None = None
    lifecycle: Lifecycle | None = None
    acquired_on: date | None = None
    original_value: Amount | None = None
    net_value: Amount | None = None
    reason: Reason | None = None


class LocationCreate(StrictWireModel):
    name: Name
    org_unit_id: Ref
    code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None


class LabelRequest(StrictWireModel):
    """Which labels to print: ``all`` assets (or locations) in scope, or the given tags (codes)."""

    kind: Literal["asset", "location"] = "asset"
    all: bool = False
    tags: Annotated[list[Annotated[str, StringConstraints(max_length=40)]], Field(max_length=10_000)] = Field(
        default_factory=list
    )
    layout: Literal["a4", "50x30"] = "a4"
    format: Literal["pdf"] = "pdf"


# ---------------------------------------------------------------- answers


class AssetPage(WireModel):
    """A page of assets in scope and how many there are in all."""

    items: list[AssetValue]
    total: int


class AssetChange(WireModel):
    """An audit entry of the asset: who changed what, when, from which device."""

    at: str
    user_id: str | None
    device_id: str | None
    source: str
    action: str
    changes: dict[str, Any]


class AssetMovementEntry(WireModel):
    """A move of the asset (custodian, location or unit), from and to ids; a transfer waits for approval."""

    kind: str
    from_: str | None = Field(alias="from")
    to: str | None
    state: str
    reason: str | None
    by_user_id: str
    at: str


class AssetHistory(WireModel):
    changes: list[AssetChange]
    movements: list[AssetMovementEntry]


class ImportReport(WireModel):
    """What an import of the asset book did (all rows or none)."""

    rows: int
    created: int
    updated: int
    unknown_columns: list[str]


class LabelBatchValue(WireModel):
    """A print run of labels: which kind, how many, how many of them reprints, by whom and when."""

    id: str
    created_at: str
    created_by: str | None
    source: str
    kind: Literal["asset", "location"]
    layout: str
    format: str
    count: int
    reprints: int


__all__ = [
    "AssetCreate",
    "AssetHistory",
    "AssetPage",
    "AssetUpdate",
    "AssetValue",
    "ImportReport",
    "LabelBatchValue",
    "LabelRequest",
    "LocationCreate",
    "LocationValue",
]
