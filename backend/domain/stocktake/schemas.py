"""REST wire schemas of the stocktake context: the request bodies of the manager's commands, and the
answers. A campaign over REST is the row a phone pulls (``StocktakeValue``).

Answers are built as dicts by the services and sent as built; these models are what the OpenAPI
document says of them, and tests/integration/test_openapi_types.py checks the two agree."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from sync_protocol.base import StrictWireModel, WireModel
from sync_protocol.entities import Condition, StocktakeState, StocktakeValue

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]

# ---------------------------------------------------------------- requests


class StocktakeCreate(StrictWireModel):
    name: Name
    org_unit_id: Ref
    location_ids: Annotated[list[Ref], Field(max_length=1000)] = Field(default_factory=list)
    assignee_ids: Annotated[list[Ref], Field(min_length=1, max_length=200)]
    start: bool = False


class StocktakeAssigneesIn(StrictWireModel):
    assignee_ids: Annotated[list[Ref], Field(min_length=1, max_length=200)]


class StocktakeCloseIn(StrictWireModel):
    reason: Reason | None = None


# ---------------------------------------------------------------- answers


class ReconciliationTotals(WireModel):
    expected: int
    matched: int
    missing: int
    mislocated: int
    surplus: int
    seen_twice: int
    condition: int


class LateScan(WireModel):
    """A scan that arrived after the close: listed, but it does not change the closed result."""

    tag: str
    asset_id: str | None
    location_id: str | None
    scanned_by: str


class LocationTotals(WireModel):
    """Expected assets of one book location (``locationId`` null: none in the book), found or missing."""

    location_id: str | None
    expected: int
    found: int
    missing: int


class ReconciliationLine(WireModel):
    """One expected asset or one surplus tag; ``inBook`` only on surplus lines."""

    tag: str
    asset_id: str | None
    name: str | None
    result: Literal["matched", "missing", "mislocated", "surplus"]
    book_location_id: str | None
    found_location_ids: list[str]
    seen_twice: bool
    scans: int
    scanned_by: list[str]
    condition: Condition | None
    note: str | None
    photo: str | None
    late: bool
    in_book: bool | None = None


class Reconciliation(WireModel):
    """The book against the scans: lines, totals and the match rate (账实相符率, null with nothing expected)."""

    stocktake_id: str
    name: str
    state: StocktakeState
    totals: ReconciliationTotals
    match_rate: float | None
    late_scans: int
    late: list[LateScan]
    locations: list[LocationTotals]
    lines: list[ReconciliationLine]


class Followup(WireModel):
    """A discrepancy found when the campaign closed: the follow-up work."""

    kind: str
    tag: str
    asset_id: str | None
    detail: dict[str, Any]
    state: str


__all__ = [
    "Followup",
    "Reconciliation",
    "StocktakeAssigneesIn",
    "StocktakeCloseIn",
    "StocktakeCreate",
    "StocktakeValue",
]
