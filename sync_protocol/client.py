"""A reference client of the sync protocol, in the shape of the PWA's engine.

It keeps what the server confirmed (``base``, from pulls) apart from the mutations still pending
(``pending``, the outbox); what the user sees is ``view()``: the base with the pending mutations
re-applied on top (the rebase). It does no I/O itself: ``transport`` sends a JSON body to a path and
returns ``(status, body)`` or raises ``ConnectionError`` when the request or reply was lost.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .envelopes import MAX_PUSH_BYTES, PROTOCOL_VERSION, SCHEMA_VERSION
from .hlc import HybridClock

Transport = Callable[[str, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]
Key = tuple[str, str]


class SyncStopped(Exception):
    """The server refused this device for good (revoked, user disabled): sync stops, outbox kept."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class PendingMutation:
    id: int
    name: str
    args: dict[str, Any]
    hlc: str

    def wire(self, client_id: str) -> dict[str, Any]:
        return {"clientId": client_id, "id": self.id, "name": self.name, "args": self.args, "hlc": self.hlc}


@dataclass
class RejectedMutation:
    mutation: PendingMutation
    code: str
    message: str
    params: dict[str, Any]


def apply_mutation(store: dict[Key, dict[str, Any]], name: str, args: dict[str, Any]) -> None:
    """The client-side (optimistic) effect of a mutation on a store of rows."""
    entity, _, verb = name.partition(".")
    key = (entity, args["id"])
    if verb == "create":
        row = {k: v for k, v in args.items()}
        row.setdefault("version", 0)
        if entity == "customer":
            row.setdefault("kind", "enterprise")
            row.setdefault("status", "potential")
            row.setdefault("tags", [])
        store[key] = {**store.get(key, {}), **row}
    elif verb == "update":
        current = store.get(key)
        if current is None:
            return
        store[key] = {**current, **{k: v for k, v in args.items() if k not in ("id", "base")}}


@dataclass
class SyncClient:
    client_id: str
    transport: Transport
    clock: HybridClock | None = None
    push_batch: int = 100
    base: dict[Key, dict[str, Any]] = field(default_factory=dict)
    pending: list[PendingMutation] = field(default_factory=list)
    rejected: list[RejectedMutation] = field(default_factory=list)
    cookie: str | None = None
    last_mutation_id: int = 0
    stopped: str | None = None
    progress: tuple[int, int] = (0, 0)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        if self.clock is None:
            self.clock = HybridClock(self.client_id)

    # ------------------------------------------------------------------ local changes

    def mutate(self, name: str, args: dict[str, Any]) -> PendingMutation:
        assert self.clock is not None
        m = PendingMutation(next(self._ids), name, copy.deepcopy(args), self.clock.now())
        self.pending.append(m)
        return m

    def update(self, entity: str, row_id: str, **changes: Any) -> PendingMutation:
        """An update carrying ``base``: the version of the row as this client last pulled it."""
        base = self.base.get((entity, row_id), {}).get("version", 0)
        return self.mutate(f"{entity}.update", {"id": row_id, "base": base, **changes})

    def view(self) -> dict[Key, dict[str, Any]]:
        store = copy.deepcopy(self.base)
        for m in self.pending:
            apply_mutation(store, m.name, m.args)
        return store

    def resend(self, rejected: RejectedMutation, args: dict[str, Any] | None = None) -> PendingMutation:
        """Send a rejected change again, fixed or as it was, as a new mutation."""
        self.rejected.remove(rejected)
        return self.mutate(rejected.mutation.name, args if args is not None else rejected.mutation.args)

    # ------------------------------------------------------------------ sync

    def _envelope(self, **extra: Any) -> dict[str, Any]:
        return {
            "protocolVersion": PROTOCOL_VERSION,
            "schemaVersion": SCHEMA_VERSION,
            "clientId": self.client_id,
            **extra,
        }

    async def push(self) -> None:
        """Send pending mutations in order, in batches. They stay pending until a pull confirms them
        (``lastMutationIds``), so a rejection can be matched to its mutation."""
        sent_upto = self.last_mutation_id
        most = self.push_batch
        while not self.stopped:
            batch: list[Any] = []
            size = 256  # the envelope around the mutations
            for m in [m for m in self.pending if m.id > sent_upto][:most]:
                wire = m.wire(self.client_id)
                n = len(json.dumps(wire, ensure_ascii=False).encode("utf-8", "surrogatepass")) + 1
                if batch and size + n > MAX_PUSH_BYTES:
                    break  # batches are bounded in bytes too (one change always fits)
                batch.append(wire)
                size += n
            if not batch:
                return
            status, body = await self.transport("/api/sync/push", self._envelope(mutations=batch))
            if status == 413 and len(batch) > 1:  # a server with a smaller body limit: halve the batch
                most = max(1, len(batch) // 2)
                continue
            most = self.push_batch
            self._check(status, body)
            if status == 409 and body.get("error") == "mutation-gap":
                raise RuntimeError(f"server expects mutation {body.get('expectedId')}: the outbox lost one")
            if status != 200:
                raise ConnectionError(f"push answered {status}: {body}")
            sent_upto = max(sent_upto, int(body["lastMutationId"]))

    async def pull(self) -> None:
        while not self.stopped:
            status, body = await self.transport("/api/sync/pull", self._envelope(cookie=self.cookie))
            self._check(status, body)
            if status == 409 and body.get("error") == "reset-required":
                self.cookie = None
                continue
            if status != 200:
                raise ConnectionError(f"pull answered {status}: {body}")
            self._apply_page(body)
            if not body["more"]:
                return

    def _apply_page(self, page: dict[str, Any]) -> None:
        """Apply one page and its cookie together (the PWA does this in one local transaction)."""
        base = self.base
        for op in page["patch"]:
            if op["op"] == "clear":
                base = {}
            elif op["op"] == "put":
                base[(op["entity"], op["id"])] = op["value"]
            else:
                base.pop((op["entity"], op["id"]), None)
        lmid = int(page["lastMutationIds"].get(self.client_id, 0))
        rejections = {r["mutationId"]: r for r in page["rejections"] if r["clientId"] == self.client_id}
        keep: list[PendingMutation] = []
        for m in self.pending:
            if m.id <= lmid:
                r = rejections.get(m.id)
                if r is not None:
                    self.rejected.append(RejectedMutation(m, r["code"], r["message"], r.get("params") or {}))
            else:
                keep.append(m)
        self.base = base
        self.pending = keep
        self.last_mutation_id = max(self.last_mutation_id, lmid)
        self.cookie = page["cookie"]
        self.progress = (page["progress"]["done"], page["progress"]["total"])

    def _check(self, status: int, body: dict[str, Any]) -> None:
        if status == 401 and body.get("error") in ("device-revoked", "user-disabled"):
            # Stop, clear synced rows, keep the outbox where the user can export it.
            self.stopped = body["error"]
            self.base = {}
            self.cookie = None
            raise SyncStopped(body["error"])

    async def sync(self) -> None:
        await self.push()
        await self.pull()

    def export_outbox(self) -> list[dict[str, Any]]:
        return [m.wire(self.client_id) for m in self.pending] + [
            {**r.mutation.wire(self.client_id), "rejected": {"code": r.code, "message": r.message}}
            for r in self.rejected
        ]
