"""Mutation names and their argument schemas.

A create carries the new row's fields with a client-generated UUID ``id``. An update carries
``{id, <changed fields>, base}``: ``base`` is the row's ``version`` as the client last saw it;
absent fields are untouched and ``null`` clears.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints

from .base import StrictWireModel
from .entities import CustomerKind, CustomerStatus, Tier

Uuid = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Tags = Annotated[list[Tag], Field(max_length=30)]
Base = Annotated[int, Field(ge=0)]


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


MUTATIONS: dict[str, type[StrictWireModel]] = {
    "customer.create": CustomerCreate,
    "customer.update": CustomerUpdate,
    "contact.create": ContactCreate,
    "contact.update": ContactUpdate,
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
    "not-found": "The {entity} does not exist or is no longer yours.",
    "out-of-scope": "You may not change this {entity}.",
    "already-exists": "A {entity} with this id already exists.",
    "invalid-phone": "{phone} is not a valid phone number.",
    "invalid-value": "{detail}",
}
