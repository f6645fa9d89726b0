"""REST wire schemas. Creates and updates reuse the mutation argument schemas, so online and offline
writes are validated alike."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from sync_protocol.mutations import ContactCreate, ContactUpdate, CustomerCreate, CustomerUpdate


class AssignIn(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    rep_id: Annotated[str, Field(max_length=36)] | None
    reason: Annotated[str, Field(max_length=500)] | None = None


__all__ = ["AssignIn", "ContactCreate", "ContactUpdate", "CustomerCreate", "CustomerUpdate"]
