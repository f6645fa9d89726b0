"""Shared Pydantic configuration: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel

NUL_MESSAGE = "text must not contain the NUL character (U+0000)"


def refuse_nul(value: Any) -> None:
    """Raise ValueError when any string in ``value`` (keys included) holds U+0000: PostgreSQL cannot
    store it, and it is never meaningful in what people type."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(NUL_MESSAGE)
    elif isinstance(value, dict):
        for k, v in value.items():
            refuse_nul(k)
            refuse_nul(v)
    elif isinstance(value, list | tuple):
        for v in value:
            refuse_nul(v)


def scrub_nul(value: Any) -> Any:
    """A copy of ``value`` with U+0000 replaced by U+FFFD, for storing what was refused."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {scrub_nul(k): scrub_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_nul(v) for v in value]
    return value


class WireModel(BaseModel):
    """A protocol object. Unknown fields are ignored so older servers accept newer envelopes."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def wire(self) -> dict:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=False)


class EnvelopeModel(WireModel):
    """An envelope: types are strict (``"1"`` is not an id) so a malformed envelope is refused whole."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True)


class StrictWireModel(WireModel):
    """Mutation arguments and request bodies: an unknown field is an error (server-owned fields cannot
    be written), and so is a NUL character in any text."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        refuse_nul(data)
        return data
