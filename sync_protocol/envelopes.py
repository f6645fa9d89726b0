"""Push and pull envelopes of the sync wire contract, version 1 (ARCHITECTURE.md §3)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .base import EnvelopeModel, WireModel
from .hlc import HLC_PATTERN

PROTOCOL_VERSION = 1
#: The app's data schema. The server accepts the current and the previous one, so phones that were
#: offline during a release can still push what they hold.
SCHEMA_VERSION = 1
MIN_SCHEMA_VERSION = 1
MAX_MUTATIONS_PER_PUSH = 1000
#: A client builds push batches of at most this many bytes (and MAX_MUTATIONS_PER_PUSH mutations),
#: below the server's body limit (OUTPOST_MAX_BODY_BYTES, 4 MiB by default): a queue of changes each
#: near MAX_ARGS_BYTES still goes in batches that fit. On a 413 a client halves its batch.
MAX_PUSH_BYTES = 2 * 1024 * 1024

ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class Mutation(EnvelopeModel):
    client_id: ClientId | None = None
    id: Annotated[int, Field(ge=1, le=2**53)]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    args: dict[str, Any]
    # The pattern is said to the schema's readers only: a stamp that does not match rejects its
    # mutation alone (bad-hlc), it does not refuse the whole envelope (invariant 3).
    hlc: Annotated[str, Field(max_length=100, json_schema_extra={"pattern": HLC_PATTERN})]


class PushRequest(EnvelopeModel):
    protocol_version: int
    schema_version: int
    client_id: ClientId
    mutations: Annotated[list[Mutation], Field(max_length=MAX_MUTATIONS_PER_PUSH)]


class PushResponse(WireModel):
    ok: bool
    last_mutation_id: int


class PullRequest(EnvelopeModel):
    protocol_version: int
    schema_version: int
    client_id: ClientId
    cookie: Annotated[str, Field(max_length=4096)] | None


class PutOp(WireModel):
    op: Literal["put"]
    entity: str
    id: str
    value: dict[str, Any]


class DelOp(WireModel):
    op: Literal["del"]
    entity: str
    id: str


class ClearOp(WireModel):
    op: Literal["clear"]


PatchOp = Annotated[PutOp | DelOp | ClearOp, Field(discriminator="op")]


class Rejection(WireModel):
    client_id: str
    mutation_id: int
    code: str
    message: str
    params: dict[str, Any] = Field(default_factory=dict)


class Progress(WireModel):
    done: int
    total: int


class PullResponse(WireModel):
    cookie: str
    last_mutation_ids: dict[str, int]
    patch: list[PatchOp]
    rejections: list[Rejection]
    more: bool
    progress: Progress


class ErrorBody(WireModel):
    """Typed refusal: ``error`` is the code a program acts on (RFC 9457 members may accompany it)."""

    error: str
    detail: str | None = None
    expected_id: int | None = None
    status: int | None = None


#: Typed refusal codes and the HTTP status that carries each.
REFUSALS: dict[str, int] = {
    "bad-request": 400,
    "unsupported-protocol-version": 400,
    "unsupported-schema-version": 400,
    "token-expired": 401,
    "not-authenticated": 401,
    "device-revoked": 401,
    "user-disabled": 401,
    "client-mismatch": 403,
    "mutation-gap": 409,
    "reset-required": 409,
    "payload-too-large": 413,
    "update-required": 426,
    "rate-limited": 429,
}
