"""REST wire schemas of the assets context."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from sync_protocol.base import StrictWireModel
from sync_protocol.entities import AssetStatus, Lifecycle

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
