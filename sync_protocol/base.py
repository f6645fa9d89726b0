"""Shared Pydantic configuration: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """A protocol object. Unknown fields are ignored so older servers accept newer envelopes."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def wire(self) -> dict:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=False)


class EnvelopeModel(WireModel):
    """An envelope: types are strict (``"1"`` is not an id) so a malformed envelope is refused whole."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True)


class StrictWireModel(WireModel):
    """Mutation arguments: an unknown field is an error, so server-owned fields cannot be written."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
