"""REST wire schemas. Creates and updates reuse the mutation argument schemas, so online and offline
writes are validated alike."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sync_protocol.base import StrictWireModel
from sync_protocol.mutations import ContactCreate, ContactUpdate, CustomerCreate, CustomerUpdate


class AssignIn(StrictWireModel):
    rep_id: Annotated[str, Field(max_length=36)] | None
    reason: Annotated[str, Field(max_length=500)] | None = None


__all__ = ["AssignIn", "ContactCreate", "ContactUpdate", "CustomerCreate", "CustomerUpdate"]
