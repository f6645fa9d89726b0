"""Push: apply a client's mutations in order, each exactly once (invariants 1–3).

The whole push is one write transaction. Ids at or below the client's last mutation id are retries
and are skipped; the next expected id is applied or, when it can never succeed, recorded as rejected
with its reason — the counter advances either way. A gap is refused with ``mutation-gap`` and nothing
is stored. Transient database failures retry the push.

A batch is first tried on a fast path: every mutation validated, what the batch touches preloaded in
a few queries (``registry.PRELOADERS``), the rules applied in memory, and the rows written in one
flush at the end — a handful of statements for a hundred mutations. If anything in it fails (a
mutation that must be rejected, a row the database refuses), the batch's savepoint is rolled back and
the batch is replayed one mutation per savepoint, which says exactly which one is rejected and why.
Nothing of the failed attempt remains, so exactly-once is untouched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend.auth.models import Device
from backend.db.base import utcnow
from backend.db.engine import Database, is_transient
from backend.errors import Conflict, DomainError, PermissionDenied, Unavailable
from backend.kernel.actor import Actor
from backend.kernel.registry import MUTATORS, PRELOADERS, MutatorSpec
from backend.kernel.tx import PokeFn, WriteTx, write_tx
from backend.sync.models import Rejection, SyncClient
from sync_protocol import hlc as hlc_mod
from sync_protocol.base import MAX_ARGS_BYTES, MAX_ARGS_DEPTH, measure, storable
from sync_protocol.envelopes import Mutation, PushRequest
from sync_protocol.mutations import REJECTION_CODES

log = logging.getLogger("outpost.sync.push")


class MutationGap(Conflict):
    code = "mutation-gap"
    title = "Mutation ids have a gap"


class Rejected(Exception):
    def __init__(self, code: str, message: str, params: dict[str, Any] | None = None):
        super().__init__(message)
        self.code, self.message, self.params = code, message, params or {}


def check_client(actor: Actor, client_id: str) -> None:
    if actor.device_id != client_id:
        raise PermissionDenied("clientId must be the device id issued at login.", code="client-mismatch")


async def push(db: Database, actor: Actor, req: PushRequest, *, retries: int = 5, poke: PokeFn | None = None) -> int:
    check_client(actor, req.client_id)
    for attempt in range(retries + 1):
        try:
            async with write_tx(db, actor, "sync", poke) as tx:
                return await _push(tx, req)
        except Exception as exc:
            if not is_transient(exc) or attempt == retries:
                if is_transient(exc):
                    raise Unavailable("The database is busy; try again shortly.", headers={"Retry-After": "1"}) from exc
                raise
            await asyncio.sleep(0.02 * (2**attempt))
    raise AssertionError("unreachable")


async def _push(tx: WriteTx, req: PushRequest) -> int:
    s = tx.session
    client = (await s.execute(select(SyncClient).where(SyncClient.client_id == req.client_id))).scalar_one_or_none()
    if client is None:
        client = SyncClient(client_id=req.client_id, user_id=tx.actor.user_id, last_mutation_id=0, version=0)
        s.add(client)
    lmid = client.last_mutation_id
    pending = [mu for mu in req.mutations if mu.id > lmid]
    for offset, mu in enumerate(pending):
        if mu.id != lmid + 1 + offset:
            raise MutationGap(f"Expected mutation {lmid + 1 + offset}, got {mu.id}.", expectedId=lmid + 1 + offset)
    if len(pending) < 2 or not await _apply_batch(tx, pending):
        for mu in pending:
            await _apply(tx, req.client_id, mu)
    if pending:
        lmid = pending[-1].id
        client.last_mutation_id = lmid
        client.version = tx.version
    client.last_push_at = utcnow()
    await s.execute(update(Device).where(Device.id == req.client_id).values(last_sync_at=utcnow()))
    return lmid


async def _apply_batch(tx: WriteTx, pending: list[Mutation]) -> bool:
    """The fast path (module docstring). False, with nothing of it left behind, when a mutation fails."""
    try:
        prepared = [(mu, *_prepare(tx, mu)) for mu in pending]
    except Rejected:
        return False
    by_name: dict[str, list[Any]] = {}
    for _mu, spec, args in prepared:
        by_name.setdefault(spec.name, []).append(args)
    mark = tx.mark()
    try:
        async with tx.session.begin_nested():
            for preload in PRELOADERS:
                await preload(tx, by_name)
            for mu, spec, args in prepared:
                await _call(tx, mu, spec, args)
            await tx.write_rows()
    except Exception as exc:
        if is_transient(exc):
            raise
        tx.rollback_to(mark)
        log.info("batch of %d replayed one by one: %r", len(pending), exc)
        return False
    return True


async def _apply(tx: WriteTx, client_id: str, mu: Mutation) -> None:
    mark = tx.mark()
    try:
        async with tx.session.begin_nested():
            await _run(tx, mu)
            await tx.write_rows()  # inside the savepoint: a row the database refuses is this mutation's
    except Rejected as r:
        tx.rollback_to(mark)
        await _reject(tx, client_id, mu, r.code, r.message, r.params)
    except DomainError as e:
        tx.rollback_to(mark)
        await _reject(tx, client_id, mu, e.code, e.detail, e.params)
    except IntegrityError as e:
        if is_transient(e):
            raise
        tx.rollback_to(mark)
        await _reject(
            tx,
            client_id,
            mu,
            "invalid-value",
            "The change refers to something that does not exist.",
            {"detail": str(e.orig)[:200]},
        )
    except Exception as e:
        if is_transient(e):
            raise
        # A bug must not block the client forever: reject, keep it visible on the device, log loudly.
        log.exception("mutation %s %s failed", client_id, mu.id)
        tx.rollback_to(mark)
        await _reject(
            tx,
            client_id,
            mu,
            "internal-error",
            "The server could not apply this change; it was kept on your device.",
            {},
        )


async def _run(tx: WriteTx, mu: Mutation) -> None:
    spec, args = _prepare(tx, mu)
    await _call(tx, mu, spec, args)


def _prepare(tx: WriteTx, mu: Mutation) -> tuple[MutatorSpec, Any]:
    """What needs no database: the mutation is known, its arguments and HLC are valid."""
    spec = MUTATORS.get(mu.name)
    if spec is None:
        raise Rejected("unknown-mutation", REJECTION_CODES["unknown-mutation"].format(name=mu.name), {"name": mu.name})
    if mu.client_id is not None and mu.client_id != tx.actor.device_id:
        raise Rejected("bad-args", "The mutation's clientId differs from the envelope's.", {"errors": "clientId"})
    depth, size = measure(mu.args)
    if depth > MAX_ARGS_DEPTH:
        params = {"limit": MAX_ARGS_DEPTH}
        raise Rejected("args-too-deep", REJECTION_CODES["args-too-deep"].format(**params), params)
    if size > MAX_ARGS_BYTES:
        params = {"limit": MAX_ARGS_BYTES}
        raise Rejected("args-too-large", REJECTION_CODES["args-too-large"].format(**params), params)
    try:
        args = spec.args.model_validate(mu.args)
    except ValidationError as e:
        errors = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        errors = errors if len(errors) <= 1000 else errors[:999] + "…"
        raise Rejected("bad-args", REJECTION_CODES["bad-args"].format(errors=errors), {"errors": errors}) from None
    if not hlc_mod.is_valid(mu.hlc):
        raise Rejected("bad-hlc", REJECTION_CODES["bad-hlc"], {"hlc": str(mu.hlc)[:100]})
    return spec, args


async def _call(tx: WriteTx, mu: Mutation, spec: MutatorSpec, args: Any) -> None:
    tx.hlc = hlc_mod.clamp(mu.hlc, int(time.time() * 1000))
    tx.mutation_id = mu.id
    try:
        await spec.fn(tx, args)
    finally:
        tx.mutation_id = None
        tx.hlc = None


async def _reject(tx: WriteTx, client_id: str, mu: Mutation, code: str, message: str, params: dict[str, Any]) -> None:
    # What was refused is kept as it came as far as it can be stored: without NUL characters or lone
    # surrogates, cut below MAX_ARGS_DEPTH levels, and noted as omitted when bigger than MAX_ARGS_BYTES
    # (the phone keeps its own copy). Nothing the input holds can make this fail (invariant 3).
    name = storable(mu.name[:100])
    tx.session.add(
        Rejection(
            client_id=client_id,
            mutation_id=mu.id,
            version=tx.version,
            name=name,
            args=storable(mu.args),
            code=code,
            message=storable(message[:2000]),
            params=storable(params, max_bytes=4096),
        )
    )
    tx.audit("mutation", f"{client_id}:{mu.id}", "rejected", {"code": code, "name": name})
    await tx.session.flush()
