"""Pull: the rows in the user's scope that changed since the client's cookie (invariants 4, 5, 7, 8).

Cookie states (opaque to the client, base64url JSON):

- ``{"m": "full", ...}`` a first sync in pages: every entity in scope ordered by id, resumable from
  the last id sent; it ends at the snapshot version ``v`` read when it started.
- ``{"m": "inc", "v": V}`` up to date at version V; an incremental pull reads change-log entries after
  V whose audience meets the scope (cost ∝ changes) and sends each row's current state or its removal.

A page names each row at most once, and a ``clear`` is only ever its first op, so applying its
puts after its other ops gives the same rows as applying them in order. That is what the second
encoding of an answer relies on (``PULL_LINES``, asked for with ``Accept``): two lines, the envelope
with the page's ``clear``/``del`` ops as its patch, then the page's put ops as one JSON array — which a
client can hand to its database as it is, without parsing it itself.

A pull runs in one snapshot (REPEATABLE READ on PostgreSQL; a read transaction on SQLite), so the
change counter, the rows and ``lastMutationIds`` agree. Versions commit in order (backend/kernel/tx.py), so
every entry ≤ V is visible and nothing is skipped.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import msgspec
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.models import Device
from backend.db.base import utcnow
from backend.db.engine import Database, is_transient
from backend.errors import Conflict
from backend.kernel import scope
from backend.kernel.actor import Actor
from backend.kernel.models import ChangeLog
from backend.kernel.registry import VIEWS, EntityView
from backend.kernel.tx import current_version
from backend.sync.models import Rejection, SyncClient
from backend.sync.push import check_client
from sync_protocol.envelopes import PullRequest

_encode = msgspec.json.Encoder().encode

ENTITY_ORDER = (
    "customer",
    "contact",
    "conflict",
    "location",
    "asset",
    "stocktake",
    "stocktake_item",
    "stocktake_scan",
)


class ResetRequired(Conflict):
    code = "reset-required"
    title = "Full resync required"


def encode_cookie(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cookie(cookie: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
        state = json.loads(raw)
        if not isinstance(state, dict) or state.get("m") not in ("full", "inc") or not isinstance(state.get("v"), int):
            raise ValueError
        return state
    except ValueError:
        raise ResetRequired("The sync cookie is not one this server issued; pull again from the start.") from None


#: When each device's last sync time was last written by this process (a pull writes it at most this often).
_SEEN: dict[str, float] = {}
SEEN_EVERY_SECONDS = 30.0


async def _mark_synced(db: Database, device_id: str) -> None:
    now = time.monotonic()
    if now - _SEEN.get(device_id, -1e9) < SEEN_EVERY_SECONDS:
        return
    _SEEN[device_id] = now
    if len(_SEEN) > 100_000:
        _SEEN.clear()
    try:
        async with db.write() as s:
            await s.execute(update(Device).where(Device.id == device_id).values(last_sync_at=utcnow()))
    except Exception as exc:  # best effort: a busy database must not fail a read
        if not is_transient(exc):
            raise
        _SEEN.pop(device_id, None)


class ReadAhead:
    """The next page of pulls that have more, built while the device receives and writes this one.

    A first sync is a chain: each page's request carries the cookie the previous page returned, so
    without this the server sits idle while the phone writes a page, and the phone waits while the
    server builds the next. The page waiting here was read at most ``ttl`` seconds before it is asked
    for — as if the request had come that much earlier, which the protocol allows (a pull that starts
    at version V sends every change after V). It is handed out once, to the same user and device
    with the same scope, for the very cookie it follows; otherwise the page is built afresh.
    """

    def __init__(self, *, limit: int = 64, ttl: float = 10.0, concurrency: int = 2) -> None:
        self.limit, self.ttl = limit, ttl
        # Pages are built ahead a few at a time: background work must never take the connections
        # that requests (writes above all) are waiting for.
        self._slots = asyncio.Semaphore(concurrency)
        self._pages: dict[tuple[str, str | None], tuple[float, str, int, asyncio.Task[dict[str, Any]]]] = {}
        self._live: set[asyncio.Task[dict[str, Any]]] = set()  # cancelled ones too, until they have finished
        self._closed = False

    def start(
        self, db: Database, actor: Actor, client_id: str, cookie: str | None, page_size: int, *, then: int = 0
    ) -> None:
        """Build the page that follows ``cookie`` (``None``: a first sync's first page) and, ``then``
        times, the one after it."""
        if self._closed or (client_id, cookie) in self._pages:
            return  # shutting down, or already on its way
        now = time.monotonic()
        for key, (at, *_rest, task) in list(self._pages.items()):
            if now - at > self.ttl or len(self._pages) >= self.limit:
                task.cancel()
                del self._pages[key]
        task = asyncio.create_task(self._build(db, actor, client_id, cookie, page_size, then))
        self._live.add(task)
        task.add_done_callback(self._live.discard)
        task.add_done_callback(_quiet)
        self._pages[(client_id, cookie)] = (now, actor.user_id, actor.scope_epoch, task)

    async def _build(
        self, db: Database, actor: Actor, client_id: str, cookie: str | None, page_size: int, then: int
    ) -> dict[str, Any]:
        async with self._slots:
            page = await _answer(db, actor, client_id, cookie, page_size)
        if then > 0 and page["more"]:
            self.start(db, actor, client_id, page["cookie"], page_size, then=then - 1)
        return page

    def first_sync(self, db: Database, actor: Actor, client_id: str, page_size: int) -> None:
        """A device that has just been issued will pull from the start at once: its first two pages
        are built while the phone stores its tokens and opens its database."""
        self.start(db, actor, client_id, None, page_size, then=1)

    async def take(self, actor: Actor, client_id: str, cookie: str | None) -> dict[str, Any] | None:
        entry = self._pages.pop((client_id, cookie), None)
        if entry is None:
            return None
        at, user_id, epoch, task = entry
        if user_id != actor.user_id or epoch != actor.scope_epoch or time.monotonic() - at > self.ttl:
            task.cancel()
            return None
        try:
            return await task
        except Exception:  # built afresh: the error, if it is real, comes again with its proper answer
            return None

    def peek(self, client_id: str, cookie: str | None) -> asyncio.Task[dict[str, Any]] | None:
        """The page being built for this device's next pull from ``cookie``, if any (left in place)."""
        entry = self._pages.get((client_id, cookie))
        return entry[-1] if entry else None

    async def close(self) -> None:
        """Stop every page being built and wait until they have let go of their connections."""
        self._closed = True
        tasks = list(self._live)
        self._pages.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _quiet(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a page nobody took is not an error to log


async def pull(
    db: Database, actor: Actor, req: PullRequest, *, page_size: int, ahead: ReadAhead | None = None
) -> dict[str, Any]:
    check_client(actor, req.client_id)
    await _mark_synced(db, req.client_id)
    result = await ahead.take(actor, req.client_id, req.cookie) if ahead is not None else None
    if result is not None and req.cookie is None and await _changed_since(db, actor, req.client_id, result):
        result = None  # a first page built at login, but something this device sees has changed since
    if result is None:
        result = await _answer(db, actor, req.client_id, req.cookie, page_size)
    if ahead is not None and result["more"]:
        ahead.start(db, actor, req.client_id, result["cookie"], page_size)
    return result


async def _changed_since(db: Database, actor: Actor, client_id: str, page: dict[str, Any]) -> bool:
    """Whether, since ``page`` was read, the device pushed or a change that may concern ``actor`` was
    committed. A pull answers with what was committed before it was asked for: a first page built
    ahead (at login) is handed out only when that is still so."""
    async with db.read() as s:
        if await _lmid(s, client_id) != page["lastMutationIds"][client_id]:
            return True
        q = select(ChangeLog.version).where(
            ChangeLog.version > decode_cookie(page["cookie"])["v"], scope.log_clause(actor)
        )
        return (await s.execute(q.limit(1))).first() is not None


async def _answer(db: Database, actor: Actor, client_id: str, cookie: str | None, page_size: int) -> dict[str, Any]:
    async with db.read() as s:
        version, min_version = await current_version(s)
        state = decode_cookie(cookie) if cookie else None
        if state is not None:
            if state["v"] > version or (state["m"] == "inc" and state["v"] < min_version):
                raise ResetRequired(
                    "The server no longer knows this sync point (restored or compacted); pull again from the start."
                )
            if state.get("e") != actor.scope_epoch:
                state = None  # what this user may see changed: start over with a clear
        if state is None or state["m"] == "full":
            return await _full(s, actor, client_id, state, version, page_size)
        return await _incremental(s, actor, client_id, state, version, page_size)


async def _puts(s: AsyncSession, view: EntityView, q: Select[Any], dialect: str) -> list[tuple[str, bytes]]:
    """``(id, put op as JSON)`` of the rows ``q`` selects; the database writes the JSON where the
    entity has a wire shape."""
    if view.wire is not None:
        page = view.wire.page(q.with_only_columns(view.id_column), dialect)
        return [(r[0], r[1].encode()) for r in (await s.execute(page)).all()]
    return [
        (r.id, _encode({"op": "put", "entity": view.name, "id": r.id, "value": view.value(r)}))
        for r in (await s.execute(q)).all()
    ]


async def _page_of_puts(s: AsyncSession, view: EntityView, q: Select[Any], dialect: str) -> tuple[int, str, bytes]:
    """How many rows ``q`` selects (ordered by id), the last one's id and their put ops joined by
    commas; the database writes them in one text where the entity has a wire shape."""
    if view.wire is not None:
        row = (await s.execute(view.wire.joined(q.with_only_columns(view.id_column), dialect))).one()
        return int(row.n), row.last or "", (row.ops or "").encode()
    rows = await _puts(s, view, q, dialect)
    return len(rows), rows[-1][0] if rows else "", b",".join(op for _, op in rows)


def _array(items: list[bytes]) -> bytes:
    """A JSON array of ops already encoded."""
    return b"[" + b",".join(items) + b"]"


#: The media type of an answer in two lines (see the module's docstring).
PULL_LINES = "application/vnd.outpost.pull+jsonl"


class Patch:
    """A page's ops, already JSON, in order, knowing which are not puts; ``bytes()`` of it is the
    JSON array."""

    __slots__ = ("count", "ops", "others")

    def __init__(self) -> None:
        self.ops: list[bytes] = []  # each one op, or several put ops joined by commas
        self.others: list[int] = []  # where the clear and del ops are
        self.count = 0

    def puts(self, ops: bytes, n: int = 1) -> None:
        """``n`` put ops, joined by commas."""
        if n:
            self.ops.append(ops)
            self.count += n

    def other(self, op: dict[str, Any]) -> None:
        self.others.append(len(self.ops))
        self.ops.append(_encode(op))
        self.count += 1

    def __bytes__(self) -> bytes:
        return _array(self.ops)


def as_json(page: dict[str, Any]) -> dict[str, Any]:
    """The answer as one JSON object (``PullResponse``); the patch is sent as it is."""
    return {**page, "patch": msgspec.Raw(bytes(page["patch"]))}


def as_lines(page: dict[str, Any]) -> bytes:
    """The answer as ``PULL_LINES``: the envelope with the ops that are not puts, then the puts."""
    patch: Patch = page["patch"]
    if not patch.others:
        others, puts = [], patch.ops
    else:
        skip = set(patch.others)
        others = [patch.ops[i] for i in patch.others]
        puts = [op for i, op in enumerate(patch.ops) if i not in skip]
    return _encode({**page, "patch": msgspec.Raw(_array(others))}) + b"\n" + _array(puts)


async def _lmid(s: AsyncSession, client_id: str) -> int:
    value = (
        await s.execute(select(SyncClient.last_mutation_id).where(SyncClient.client_id == client_id))
    ).scalar_one_or_none()
    return int(value or 0)


async def _rejections(s: AsyncSession, client_id: str, after: int, upto: int) -> list[dict[str, Any]]:
    rows = (
        await s.execute(
            select(Rejection)
            .where(Rejection.client_id == client_id, Rejection.version > after, Rejection.version <= upto)
            .order_by(Rejection.mutation_id)
        )
    ).scalars()
    return [
        {
            "clientId": r.client_id,
            "mutationId": r.mutation_id,
            "code": r.code,
            "message": r.message,
            "params": r.params or {},
        }
        for r in rows
    ]


async def _full(
    s: AsyncSession, actor: Actor, client_id: str, state: dict[str, Any] | None, version: int, page_size: int
) -> dict[str, Any]:
    patch = Patch()
    room = page_size
    if state is None:
        # The first page is smaller: the phone shows progress sooner, and the next pages are built
        # (ReadAhead) while it writes this one.
        room = max(1, page_size // 5)
        total = 0
        for name in ENTITY_ORDER:
            view = VIEWS[name]
            total += (await s.execute(select(func.count()).select_from(view.select(actor).subquery()))).scalar_one()
        state = {
            "m": "full",
            "v": version,
            "e": actor.scope_epoch,
            "ent": 0,
            "after": "",
            "done": 0,
            "total": int(total),
            "lm": await _lmid(s, client_id),
        }
        patch.other({"op": "clear"})
    ent, after, done = state["ent"], state["after"], state["done"]
    dialect = s.get_bind().dialect.name
    while ent < len(ENTITY_ORDER) and room > 0:
        view = VIEWS[ENTITY_ORDER[ent]]
        q = view.select(actor).where(view.id_column > after).order_by(view.id_column).limit(room)
        n, last, ops = await _page_of_puts(s, view, q, dialect)
        patch.puts(ops, n)
        done += n
        if n < room:
            ent, after = ent + 1, ""  # this entity is exhausted
        else:
            after = last
        room -= n
    more = ent < len(ENTITY_ORDER)
    total = max(state["total"], done)
    if more:
        cookie = {**state, "ent": ent, "after": after, "done": done, "total": total}
    else:
        cookie = {"m": "inc", "v": state["v"], "e": actor.scope_epoch}
    # Every page reports the same lastMutationIds, so every page carries the rejections it passes.
    rejections = await _rejections(s, client_id, 0, state["v"])
    return {
        "cookie": encode_cookie(cookie),
        "lastMutationIds": {client_id: state["lm"]},
        "patch": patch,
        "rejections": rejections,
        "more": more,
        "progress": {"done": done, "total": total if more else done},
    }


async def _incremental(
    s: AsyncSession, actor: Actor, client_id: str, state: dict[str, Any], version: int, page_size: int
) -> dict[str, Any]:
    start = state["v"]
    target = state.get("to", version)
    lm = state.get("lm")
    if lm is None:
        lm = await _lmid(s, client_id)
    if "av" in state:  # resuming inside a pull of many pages: strictly after the last entry sent
        after = or_(
            ChangeLog.version > state["av"], and_(ChangeLog.version == state["av"], ChangeLog.seq > state["as"])
        )
    else:
        after = ChangeLog.version > start
    q = (
        select(ChangeLog.version, ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id)
        .where(
            after,
            ChangeLog.version <= target,
            scope.log_clause(actor),
        )
        .order_by(ChangeLog.version, ChangeLog.seq)
        .limit(page_size)
    )
    entries = (await s.execute(q)).all() if target > start else []  # (nothing new: the common case)
    wanted: dict[str, dict[str, None]] = {}
    for e in entries:
        wanted.setdefault(e.entity, {})[e.entity_id] = None
    dialect = s.get_bind().dialect.name
    patch = Patch()
    for name in ENTITY_ORDER:
        ids = list(wanted.get(name, {}))
        if not ids:
            continue
        view = VIEWS[name]
        found: dict[str, bytes] = {}
        for i in range(0, len(ids), 500):
            found.update(await _puts(s, view, view.select(actor).where(view.id_column.in_(ids[i : i + 500])), dialect))
        for eid in ids:
            op = found.get(eid)
            if op is None:
                patch.other({"op": "del", "entity": name, "id": eid})
            else:
                patch.puts(op)
    more = len(entries) == page_size
    done = state.get("done", 0) + patch.count
    if more:
        last = entries[-1]
        cookie = {
            "m": "inc",
            "v": start,
            "e": actor.scope_epoch,
            "to": target,
            "lm": lm,
            "av": last.version,
            "as": last.seq,
            "done": done,
        }
    else:
        cookie = {"m": "inc", "v": target, "e": actor.scope_epoch}
    rejections = await _rejections(s, client_id, start, target) if target > start else []
    return {
        "cookie": encode_cookie(cookie),
        "lastMutationIds": {client_id: lm},
        "patch": patch,
        "rejections": rejections,
        "more": more,
        "progress": {"done": done, "total": done + (page_size if more else 0)},
    }
