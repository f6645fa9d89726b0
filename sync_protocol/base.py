"""Shared Pydantic configuration: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel

NUL_MESSAGE = "text must not contain the NUL character (U+0000)"

#: A mutation's arguments: at most this many levels of objects and lists (real ones have two or three)
#: and this many bytes as compact JSON. Bigger ones are rejected alone (``args-too-deep``,
#: ``args-too-large``); the phone checks the same bounds before it queues a change.
MAX_ARGS_DEPTH = 16
MAX_ARGS_BYTES = 64 * 1024


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for kv in value.items() for x in kv]
    if isinstance(value, list | tuple):
        return list(value)
    return []


SURROGATE_MESSAGE = "text must be valid Unicode (it holds a lone surrogate, half of a character)"


def refuse_nul(value: Any) -> None:
    """Raise ValueError when any string in ``value`` (keys included) holds U+0000 or a lone surrogate:
    neither can be stored (PostgreSQL refuses U+0000, UTF-8 has no surrogates), and neither is ever
    meaningful in what people type. Walks without recursion, so any depth is safe to check."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if "\x00" in v:
                raise ValueError(NUL_MESSAGE)
            if not v.isascii():
                try:
                    v.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError(SURROGATE_MESSAGE) from None
        else:
            stack.extend(_children(v))


def measure(value: Any, *, max_depth: int = MAX_ARGS_DEPTH, max_bytes: int = MAX_ARGS_BYTES) -> tuple[int, int]:
    """``(depth, bytes)`` of a JSON value, without recursion; counting stops as soon as either bound is
    passed (the numbers returned then only say "more than the bound"). Bytes are those of compact
    JSON, as near as counting allows (UTF-8 text, escapes not counted)."""
    depth = size = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, level = stack.pop()
        if isinstance(v, dict | list | tuple):
            depth = max(depth, level)
            size += 2 + max(len(v) - 1, 0)
            if isinstance(v, dict):
                size += len(v)  # the colons
            stack.extend((c, level + 1) for c in _children(v))
        elif isinstance(v, str):
            size += len(v.encode("utf-8", "surrogatepass")) + 2
        else:
            size += len(str(v))
        if depth > max_depth or size > max_bytes:
            break
    return depth, size


def _clean_text(text: str) -> str:
    """U+0000 and lone surrogates (neither can be stored or sent as UTF-8) become U+FFFD."""
    text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def storable(value: Any, *, max_depth: int = MAX_ARGS_DEPTH, max_bytes: int = MAX_ARGS_BYTES) -> Any:
    """A copy of ``value`` that any database can store and any JSON encoder can send, for keeping what
    was refused: text cleaned (``_clean_text``), levels below ``max_depth`` cut off, and a value
    bigger than ``max_bytes`` replaced by a note saying so. Never recursive, so hostile input cannot
    make keeping it fail."""
    _depth, size = measure(value, max_depth=max_depth, max_bytes=max_bytes)
    if size > max_bytes:
        return {"omitted": f"more than {max_bytes} bytes"}
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 1)]  # (value, parent, key in parent, level)
    while stack:
        v, parent, key, level = stack.pop()
        if isinstance(v, dict | list | tuple) and level > max_depth:
            parent[key] = f"(nested more than {max_depth} levels)"
        elif isinstance(v, dict):
            out: dict[str, Any] = {}
            parent[key] = out
            for k, child in v.items():
                name = _clean_text(str(k))
                out[name] = None
                stack.append((child, out, name, level + 1))
        elif isinstance(v, list | tuple):
            items: list[Any] = [None] * len(v)
            parent[key] = items
            stack.extend((child, items, i, level + 1) for i, child in enumerate(v))
        elif isinstance(v, str):
            parent[key] = _clean_text(v)
        elif v is None or isinstance(v, bool | int | float):
            parent[key] = v
        else:
            parent[key] = _clean_text(str(v))
    return root[0]


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
