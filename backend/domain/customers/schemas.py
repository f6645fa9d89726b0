"""REST wire schemas. Creates and updates reuse the mutation argument schemas, so online and offline
writes are validated alike; answers reuse the entities' wire values (``sync_protocol.entities``), so a
customer over REST is the row a phone pulls.

Answers are built as dicts by the services and sent as built (timestamps as their ``isoformat``); these
models are what the OpenAPI document says of them, and tests/integration/test_openapi_types.py checks
the two agree."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from sync_protocol.base import StrictWireModel, WireModel
from sync_protocol.entities import ContactValue, CustomerValue
from sync_protocol.mutations import ContactCreate, ContactUpdate, CustomerCreate, CustomerUpdate


class AssignIn(StrictWireModel):
    rep_id: Annotated[str, Field(max_length=36)] | None
    reason: Annotated[str, Field(max_length=500)] | None = None


class CustomerPage(WireModel):
    """A page of customers in scope and how many there are in all."""

    items: list[CustomerValue]
    total: int


class AssignmentEntry(WireModel):
    """One change of a customer's account manager."""

    action: str
    from_user_id: str | None
    to_user_id: str | None
    by_user_id: str | None
    reason: str | None
    at: str


class HistoryEntry(WireModel):
    """An audit entry of the customer or one of its contacts: who changed what, when, from which device."""

    at: str
    user_id: str | None
    device_id: str | None
    source: str
    entity: str
    entity_id: str
    action: str
    changes: dict[str, Any]


__all__ = [
    "AssignIn",
    "AssignmentEntry",
    "ContactCreate",
    "ContactUpdate",
    "ContactValue",
    "CustomerCreate",
    "CustomerPage",
    "CustomerUpdate",
    "CustomerValue",
    "HistoryEntry",
]
