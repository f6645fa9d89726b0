"""Mutation names and their argument schemas.

A create carries the new row's fields with a client-generated UUID ``id``. An update carries
``{id, <changed fields>, base}``: ``base`` is the row's ``version`` as the client last saw it;
absent fields are untouched and ``null`` clears.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from .base import StrictWireModel
from .entities import Condition, CustomerKind, CustomerStatus, Tier

Uuid = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
]
# The server strips spaces before it counts: "not blank" is said to the schema's readers (the PWA's
# types and checks) as a pattern, as the validation itself does not need it.
NOT_BLANK = Field(json_schema_extra={"pattern": r"\S"})
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NOT_BLANK]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), NOT_BLANK]
Tags = Annotated[list[Tag], Field(max_length=30)]
Base = Annotated[int, Field(ge=0, le=2**53)]  # a version: at most what JSON numbers hold exactly


class CustomerCreate(StrictWireModel):
    id: Uuid
    name: Name
    kind: CustomerKind = "enterprise"
    status: CustomerStatus = "potential"
    tier: Tier | None = None
    phone: Phone | None = None
    address: Text | None = None
    org_unit_id: str | None = None
    assigned_rep_id: str | None = None
    tags: Tags = Field(default_factory=list)


class CustomerUpdate(StrictWireModel):
    id: Uuid
    base: Base
    name: Name | None = None
    kind: CustomerKind | None = None
    status: CustomerStatus | None = None
    tier: Tier | None = None
    phone: Phone | None = None
    address: Text | None = None
    tags: Tags | None = None


class ContactCreate(StrictWireModel):
    id: Uuid
    customer_id: Uuid
    name: Name
    title: Text | None = None
    phone: Phone | None = None
    birthday: date | None = None


class ContactUpdate(StrictWireModel):
    id: Uuid
    base: Base
    name: Name | None = None
    title: Text | None = None
    phone: Phone | None = None
    birthday: date | None = None


ScannedCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), NOT_BLANK]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class StocktakeScan(StrictWireModel):
    """One scan of an asset label during a stocktake (an append-only fact). ``tag`` is the tag the
    phone read (already checked there); ``location_id`` the location label scanned before it."""

    id: Uuid
    stocktake_id: Uuid
    tag: ScannedCode
    location_id: Uuid | None = None
    #: when the phone read it, with its UTC offset
    scanned_at: AwareDatetime
    condition: Condition = "ok"
    note: Text | None = None
    photo: Sha256 | None = None


class StocktakeUndo(StrictWireModel):
    """Take back one's own scan (undo the last scan)."""

    id: Uuid


class StocktakeFinish(StrictWireModel):
    """This stocktaker's part is done (sent after their scans)."""

    stocktake_id: Uuid


class StocktakeClose(StrictWireModel):
    """Close a campaign (manager). Before every stocktaker has finished, only with a reason."""

    stocktake_id: Uuid
    reason: Text | None = None


MUTATIONS: dict[str, type[StrictWireModel]] = {
    "customer.create": CustomerCreate,
    "customer.update": CustomerUpdate,
    "contact.create": ContactCreate,
    "contact.update": ContactUpdate,
    "stocktake.scan": StocktakeScan,
    "stocktake.undo": StocktakeUndo,
    "stocktake.finish": StocktakeFinish,
    "stocktake.close": StocktakeClose,
}

#: Fields an update may not set to null (they are required on the row).
NOT_NULLABLE: dict[str, frozenset[str]] = {
    "customer.update": frozenset({"name", "kind", "status", "tags"}),
    "contact.update": frozenset({"name"}),
}

#: Rejection codes a client can expect, with an English message template (``params`` fill it).
REJECTION_CODES: dict[str, str] = {
    "unknown-mutation": "Unknown mutation {name}.",
    "bad-args": "The change has invalid fields: {errors}.",
    "bad-hlc": "The change carries an invalid clock stamp.",
    "args-too-deep": "The change is nested more than {limit} levels deep.",
    "args-too-large": "The change is larger than {limit} bytes.",
    "not-found": "The {entity} does not exist or is no longer yours.",
    "out-of-scope": "You may not change this {entity}.",
    "already-exists": "A {entity} with this id already exists.",
    "invalid-phone": "{phone} is not a valid phone number.",
    "invalid-value": "{detail}",
    "invalid-tag": "{tag} is not a valid asset tag ({reason}).",
    "not-assigned": "You are not a stocktaker of this stocktake.",
    "stocktake-not-open": "The stocktake has not started yet.",
    "stocktake-closed": "The stocktake is closed.",
    "unknown-location": "The location is not part of this stocktake.",
    "not-your-scan": "Only the stocktaker who scanned it can undo a scan.",
    "stocktakers-unfinished": "{count} stocktakers have not finished; give a reason to close anyway.",
}
