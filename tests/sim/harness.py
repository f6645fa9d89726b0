"""Shared pieces of the sync simulation: simulated devices, a faulty network, random mutations, and
the end-of-run checks of ARCHITECTURE.md §3 invariants 1–7.

A device is a ``sync_protocol.client.SyncClient`` whose transport is a ``FaultyNetwork`` around a raw
sender (in-process ASGI or real HTTP). Every mutation a device makes is recorded (``Made``) with what
the test expects of it, so the checks can tell "applied once", "rejected once" and "lost" apart.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select

from backend.auth.models import User
from backend.db.engine import Database
from backend.domain.customers.models import Contact, Customer
from backend.domain.customers.scope import read_scope
from backend.domain.org.models import OrgUnit
from backend.kernel.actor import Actor
from backend.kernel.models import AuditEntry, Conflict
from backend.kernel.registry import VIEWS
from backend.kernel.tx import current_version
from backend.sync.models import Rejection, SyncClient
from sync_protocol.client import SyncClient as Client
from sync_protocol.hlc import HybridClock

Key = tuple[str, str]
RawSend = Callable[[str, dict[str, Any], dict[str, str]], Awaitable[tuple[int, dict[str, Any]]]]

FAULT_HEADER = "x-outpost-test-fault"
CREATES = ("customer.create", "contact.create")
#: What an auditor's writes are refused with (it may read, not write; its own creates never exist).
READ_ONLY_CODES = frozenset({"out-of-scope", "not-found"})


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def sim_seed() -> int:
    """A fresh seed per run (printed by each test); ``OUTPOST_SIM_SEED`` replays one."""
    env = os.environ.get("OUTPOST_SIM_SEED")
    return int(env) if env else random.SystemRandom().randrange(1, 2**31)


# ---------------------------------------------------------------- network


@dataclass
class NetStats:
    requests: int = 0
    dropped: int = 0
    reply_lost: int = 0
    duplicated: int = 0
    held: int = 0
    replayed: int = 0
    drop_after_commit: int = 0
    offline: int = 0
    busy: int = 0
    #: Answers that are bugs whatever the faults: 5xx other than "busy", mutation gaps, anything odd.
    unexpected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"requests={self.requests} dropped={self.dropped} reply_lost={self.reply_lost} "
            f"duplicated={self.duplicated} held={self.held} replayed={self.replayed} "
            f"drop_after_commit={self.drop_after_commit} offline_refusals={self.offline} busy503={self.busy}"
        )


class FaultyNetwork:
    """A device's link to the server, as a ``Transport`` for the sync client.

    With ``faults`` on, each request may be dropped before it reaches the server, have its reply lost
    after the server processed it, be delivered twice (concurrently), be kept and replayed later
    (after newer requests: reordering), or carry the server's ``drop-after-commit`` test hook.
    ``offline`` refuses every request, as a phone without signal does.
    """

    def __init__(
        self,
        send: RawSend,
        rng: random.Random,
        stats: NetStats,
        *,
        faults: bool = True,
        p_drop: float = 0.07,
        p_reply_lost: float = 0.07,
        p_duplicate: float = 0.06,
        p_hold: float = 0.08,
        p_drop_after_commit: float = 0.03,
    ) -> None:
        self.send, self.rng, self.stats = send, rng, stats
        self.faults = faults
        self.offline = False
        self.p = (p_drop, p_reply_lost, p_duplicate, p_drop_after_commit)
        self.p_hold = p_hold
        self.held: list[tuple[str, dict[str, Any]]] = []
        self.extra_headers: dict[str, str] = {}
        #: Called with every 200 answer (path, body): lets the test inspect each pull page as it arrives.
        self.on_reply: Callable[[str, dict[str, Any]], None] | None = None

    async def _send(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        self.stats.requests += 1
        status, reply = await self.send(path, body, {**self.extra_headers, **(headers or {})})
        if status == 503 and isinstance(reply, dict) and reply.get("error") == "test-fault-reply-lost":
            return status, reply
        if status == 503:
            self.stats.busy += 1
        elif status != 200:
            self.stats.unexpected.append(f"{path} answered {status}: {str(reply)[:300]}")
        elif self.on_reply is not None:
            self.on_reply(path, reply)
        return status, reply

    async def __call__(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.offline:
            self.stats.offline += 1
            raise ConnectionError("offline")
        if not self.faults:
            return await self._send(path, body)
        rng = self.rng
        if rng.random() < self.p_hold:
            self.stats.held += 1
            self.held.append((path, copy.deepcopy(body)))
        p_drop, p_lost, p_dup, p_dac = self.p
        r = rng.random()
        if r < p_drop:
            self.stats.dropped += 1
            raise ConnectionError("request dropped before reaching the server")
        r -= p_drop
        if r < p_lost:
            self.stats.reply_lost += 1
            await self._send(path, body)
            raise ConnectionError("reply lost after the server processed the request")
        r -= p_lost
        if r < p_dup:
            self.stats.duplicated += 1
            answers = await asyncio.gather(self._send(path, body), self._send(path, copy.deepcopy(body)))
            return answers[rng.randrange(2)]
        r -= p_dup
        if r < p_dac and path.endswith("/push"):
            self.stats.drop_after_commit += 1
            status, reply = await self._send(path, body, {FAULT_HEADER: "drop-after-commit"})
            if status != 503:
                self.stats.unexpected.append(f"drop-after-commit hook answered {status}: {str(reply)[:200]}")
            raise ConnectionError("reply lost after commit (server test hook)")
        return await self._send(path, body)

    async def replay_one(self) -> bool:
        """Deliver one old request now (the client already moved on): reordering and late duplicates."""
        if not self.held:
            return False
        path, body = self.held.pop(self.rng.randrange(len(self.held)))
        self.stats.replayed += 1
        try:
            await self._send(path, body)
        except ConnectionError:
            pass
        return True


class Phases:
    """Wall-clock time per phase of a test, printed at the end (never asserted on)."""

    def __init__(self) -> None:
        self.t = time.monotonic()
        self.parts: list[str] = []

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.parts.append(f"{name} {now - self.t:.1f}s")
        self.t = now

    def __str__(self) -> str:
        return ", ".join(self.parts)


# ---------------------------------------------------------------- devices and world


@dataclass
class Made:
    """A mutation a device made, and what the test knows about its fate.

    ``expect``: "apply" (must not be rejected), "reject" (must be rejected with one of ``codes``) or
    "any" (depends on races with other devices and reassignments)."""

    mid: int
    name: str
    args: dict[str, Any]
    expect: str
    codes: frozenset[str] = frozenset()


@dataclass
class SimDevice:
    label: str
    username: str
    user_id: str
    role: str
    org_code: str
    device_id: str
    net: FaultyNetwork
    sync: Client = field(init=False)
    made: list[Made] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    syncs_ok: int = 0
    syncs_failed: int = 0

    def __post_init__(self) -> None:
        self.sync = Client(self.device_id, self.net, clock=HybridClock(self.device_id), push_batch=40)

    def __repr__(self) -> str:  # short, for tracebacks
        return f"<device {self.label} {self.device_id} made={len(self.made)} pending={len(self.sync.pending)}>"


@dataclass
class World:
    """What the devices know of the organisation (ids are fixed during a run)."""

    org_ids: dict[str, str]  # code -> id
    org_paths: dict[str, str]  # id -> path
    users: dict[str, dict[str, Any]]  # username -> {id, roles, org_code}
    known_customers: set[str] = field(default_factory=set)
    scope_violations: list[str] = field(default_factory=list)
    actors: dict[str, Actor] = field(default_factory=dict)  # user id -> actor (roles never change in a run)

    def __repr__(self) -> str:  # short, for tracebacks
        return f"<world {len(self.users)} users, {len(self.org_ids)} org units>"

    def reps(self, under: str | None = None) -> list[str]:
        """Rep user ids, optionally only those whose org path starts with ``under``."""
        out = []
        for u in self.users.values():
            if "rep" in u["roles"]:
                path = self.org_paths[self.org_ids[u["org_code"]]]
                if under is None or path.startswith(under):
                    out.append(u["id"])
        return sorted(out)


async def load_world(db: Database) -> World:
    async with db.read() as s:
        units = (await s.execute(select(OrgUnit))).scalars().all()
        users = (await s.execute(select(User))).scalars().all()
        customer_ids = (await s.execute(select(Customer.id))).scalars().all()
        code_of = {u.id: u.code for u in units}
        world = World(
            org_ids={u.code: u.id for u in units},
            org_paths={u.id: u.path for u in units},
            users={u.username: {"id": u.id, "roles": list(u.roles), "org_code": code_of[u.org_unit_id]} for u in users},
            known_customers=set(customer_ids),
        )
        for u in users:
            world.actors[u.id] = await actor_for(s, u.id, None)
    return world


async def actor_for(s: Any, user_id: str, device_id: str | None) -> Actor:
    user, path = (
        await s.execute(
            select(User, OrgUnit.path).join(OrgUnit, OrgUnit.id == User.org_unit_id).where(User.id == user_id)
        )
    ).one()
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=frozenset(user.roles or []),
        org_unit_id=user.org_unit_id,
        org_path=path,
        scope_epoch=user.scope_epoch,
        device_id=device_id,
    )


# ---------------------------------------------------------------- random mutations

STATUSES = ["potential", "active", "at_risk", "churned"]
TIERS = ["A", "B", "C", None]
TAGS = ["VIP", "5G", "宽带", "专线", "IDC", "IoT"]
TITLES = ["总经理", "采购经理", "IT主管", "CTO", None]


def phone(rng: random.Random) -> str:
    return f"13{rng.randint(100000000, 999999999)}"


def customer_changes(rng: random.Random, role: str, *, hot: bool) -> dict[str, Any]:
    fields = ["name", "status", "tier", "phone", "address", "tags"]
    if role in ("rep", "manager", "admin") and rng.random() < 0.15:
        fields.append("kind")  # kind moves rows in and out of care staff's scope
    chosen = set(rng.sample(fields, rng.randint(1, 2)))
    if hot:
        chosen.add("status")  # concurrent edits of the same field
    out: dict[str, Any] = {}
    for f in sorted(chosen):
        if f == "name":
            out[f] = f"客户 {rng.randint(1, 10**6)}"
        elif f == "status":
            out[f] = rng.choice(STATUSES)
        elif f == "tier":
            out[f] = rng.choice(TIERS)
        elif f == "phone":
            out[f] = rng.choice([phone(rng), None])
        elif f == "address":
            out[f] = f"广州市天河路{rng.randint(1, 999)}号"
        elif f == "tags":
            out[f] = rng.sample(TAGS, rng.randint(0, 3))
        elif f == "kind":
            out[f] = rng.choice(["enterprise", "individual", "partner", "guest"])
    return out


def contact_changes(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in rng.sample(["name", "title", "phone", "birthday"], rng.randint(1, 2)):
        if f == "name":
            out[f] = f"联系人 {rng.randint(1, 10**6)}"
        elif f == "title":
            out[f] = rng.choice(TITLES)
        elif f == "phone":
            out[f] = rng.choice([phone(rng), None])
        else:
            out[f] = rng.choice([f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", None])
    return out


def record(dev: SimDevice, pm: Any, expect: str, codes: Iterable[str] = ()) -> None:
    dev.made.append(Made(pm.id, pm.name, copy.deepcopy(pm.args), expect, frozenset(codes)))
    assert pm.id == len(dev.made), "mutation ids must be 1, 2, 3, … per device"


def _create_args(dev: SimDevice, world: World, rng: random.Random) -> tuple[dict[str, Any], str, set[str]]:
    """A valid customer.create for this device's role, or one its role may not make."""
    args: dict[str, Any] = {"id": new_uuid(rng), "name": f"新客户 {rng.randint(1, 10**6)}"}
    if rng.random() < 0.5:
        args["phone"] = phone(rng)
    if rng.random() < 0.4:
        args["tier"] = rng.choice(["A", "B", "C"])
    if rng.random() < 0.3:
        args["tags"] = rng.sample(TAGS, 2)
    if dev.role == "rep":
        return args, "apply", set()
    if dev.role == "care":
        if rng.random() < 0.8:
            return {**args, "kind": "guest"}, "apply", set()
        return args, "reject", {"out-of-scope"}  # care staff create guests only
    if dev.role == "manager":
        mine = world.org_paths[world.org_ids[dev.org_code]]
        if rng.random() < 0.85:
            units = sorted(c for c, i in world.org_ids.items() if world.org_paths[i].startswith(mine))
            reps = world.reps(mine)
            extra = {"orgUnitId": world.org_ids[rng.choice(units)]}
            if reps and rng.random() < 0.8:
                extra["assignedRepId"] = rng.choice(reps)
            return {**args, **extra}, "apply", set()
        outside = sorted(c for c, i in world.org_ids.items() if not world.org_paths[i].startswith(mine))
        return {**args, "orgUnitId": world.org_ids[rng.choice(outside)]}, "reject", {"out-of-scope"}
    if dev.role == "admin":
        unit = rng.choice(sorted(world.org_ids))
        extra = {"orgUnitId": world.org_ids[unit]}
        if rng.random() < 0.8:
            extra["assignedRepId"] = rng.choice(world.reps())
        return {**args, **extra}, "apply", set()
    return args, "reject", {"out-of-scope"}  # auditors write nothing


def view_keys(sync: Client) -> set[Key]:
    """The rows the user sees (``sync.view()``'s keys) without copying every row: the base plus what
    pending creates add (``apply_mutation`` adds rows only on create)."""
    keys = set(sync.base)
    for m in sync.pending:
        if m.name.endswith(".create") and isinstance(m.args.get("id"), str):
            keys.add((m.name.partition(".")[0], m.args["id"]))
    return keys


def make_mutation(dev: SimDevice, world: World, rng: random.Random) -> None:
    """One random mutation, valid or deliberately invalid, applied optimistically and recorded."""
    sync = dev.sync
    view = view_keys(sync)
    customers = sorted(i for (e, i) in view if e == "customer")
    confirmed = sorted(i for (e, i) in sync.base if e == "customer")
    contacts = sorted(i for (e, i) in view if e == "contact")
    read_only = dev.role == "auditor"
    r = rng.random()

    if r < 0.12 or not customers:
        args, expect, codes = _create_args(dev, world, rng)
        record(dev, sync.mutate("customer.create", args), expect, codes)
        world.known_customers.add(args["id"])
        return
    r -= 0.12
    if r < 0.42:
        hot = rng.random() < 0.5
        cid = rng.choice(customers[:3] if hot else customers)
        pm = sync.update("customer", cid, **customer_changes(rng, dev.role, hot=hot))
        record(dev, pm, "reject" if read_only else "any", READ_ONLY_CODES)
        return
    r -= 0.42
    if r < 0.16:
        args = {"id": new_uuid(rng), "customerId": rng.choice(customers), "name": f"联系人 {rng.randint(1, 10**6)}"}
        if rng.random() < 0.5:
            args["phone"] = phone(rng)
        if rng.random() < 0.3:
            args["title"] = rng.choice(TITLES[:-1])
        record(dev, sync.mutate("contact.create", args), "reject" if read_only else "any", READ_ONLY_CODES)
        return
    r -= 0.16
    if r < 0.16 and contacts:
        pm = sync.update("contact", rng.choice(contacts), **contact_changes(rng))
        record(dev, pm, "reject" if read_only else "any", READ_ONLY_CODES)
        return
    _invalid(dev, world, rng, customers, confirmed)


def _invalid(dev: SimDevice, world: World, rng: random.Random, customers: list[str], confirmed: list[str]) -> None:
    """Deliberately invalid or out-of-scope mutations: each must be rejected once, never block."""
    sync = dev.sync
    auditor = dev.role == "auditor"
    kind = rng.choice(
        ["unknown", "extra-field", "nul", "bad-phone", "duplicate-create", "bad-hlc", "clear-name", "foreign"]
    )
    if kind == "unknown":
        pm = sync.mutate("customer.delete", {"id": rng.choice(customers)})
        record(dev, pm, "reject", {"unknown-mutation"})
    elif kind == "extra-field":  # server-owned fields are never writable
        pm = sync.mutate("customer.create", {"id": new_uuid(rng), "name": "带版本", "version": 99})
        record(dev, pm, "reject", {"bad-args"})
    elif kind == "nul":  # PostgreSQL cannot store U+0000; it is refused on every engine alike
        pm = sync.mutate("customer.create", {"id": new_uuid(rng), "name": "空\x00字符", "tags": ["a\x00"]})
        record(dev, pm, "reject", {"bad-args"})
    elif kind == "bad-phone":
        args, _, _ = _create_args(dev, world, rng)
        args["phone"] = rng.choice(["123", "call me", "1380013800099999"])  # passes the schema, not a number
        codes = {"invalid-phone", "out-of-scope"} if dev.role in ("auditor", "care", "manager") else {"invalid-phone"}
        record(dev, sync.mutate("customer.create", args), "reject", codes)
    elif kind == "duplicate-create" and confirmed:  # a create never applies twice
        args = {"id": rng.choice(confirmed), "name": "重复 duplicate"}
        if dev.role == "care":
            args["kind"] = "guest"
        pm = sync.mutate("customer.create", args)
        record(dev, pm, "reject", {"out-of-scope"} if auditor else {"already-exists"})
    elif kind == "bad-hlc":
        pm = sync.update("customer", rng.choice(customers), status=rng.choice(STATUSES))
        pm.hlc = "yesterday-ish"
        record(dev, pm, "reject", {"bad-hlc"})
    elif kind == "clear-name":  # a required field cannot be cleared
        pm = sync.update("customer", rng.choice(customers), name=None)
        record(dev, pm, "reject", {"bad-args", "not-found", "out-of-scope"})
    else:  # a customer of someone else, or one that does not exist
        others = sorted(world.known_customers - set(customers))
        target = rng.choice(others) if others and rng.random() < 0.7 else new_uuid(rng)
        pm = sync.update("customer", target, address="越权 out of scope")
        if target in world.known_customers and not auditor:
            record(dev, pm, "any")  # it may have been reassigned to this user meanwhile
        else:
            record(dev, pm, "reject", {"not-found", "out-of-scope"})


# ---------------------------------------------------------------- syncing


def watch_pull_pages(dev: SimDevice, world: World) -> None:
    """Check every pull page the device receives (replayed ones too): a pull never returns a customer
    outside the user's scope (invariant 5). A customer's row carries what decides its scope."""
    scope = read_scope(world.actors[dev.user_id])

    def check(path: str, body: dict[str, Any]) -> None:
        if not path.endswith("/pull"):
            return
        for op in body.get("patch", []):
            if op["op"] == "put" and op["entity"] == "customer":
                v = op["value"]
                org_path = world.org_paths.get(v["orgUnitId"], "?")
                if not scope.contains(assigned_rep_id=v["assignedRepId"], org_path=org_path, kind=v["kind"]):
                    world.scope_violations.append(
                        f"{dev.label} was sent customer {op['id']} ({v['assignedRepId']}, {org_path}, {v['kind']})"
                    )

    dev.net.on_reply = check


async def try_sync(dev: SimDevice) -> bool:
    async with dev.lock:
        try:
            await dev.sync.push()
            await dev.sync.pull()
        except ConnectionError:
            dev.syncs_failed += 1
            return False
        dev.syncs_ok += 1
        return True


async def settle(devices: list[SimDevice], db: Database, *, rounds: int = 8) -> int:
    """Faults off; every device syncs until quiet (nothing pending, no version change in a round)."""
    for d in devices:
        d.net.faults, d.net.offline = False, False
    for n in range(1, rounds + 1):
        async with db.read() as s:
            before = (await current_version(s))[0]
        results = await asyncio.gather(*(_sync_strict(d) for d in devices))
        async with db.read() as s:
            after = (await current_version(s))[0]
        if all(results) and before == after and not any(d.sync.pending for d in devices):
            return n
    raise AssertionError(f"devices did not settle in {rounds} rounds: {[d.label for d in devices if d.sync.pending]}")


async def _sync_strict(dev: SimDevice) -> bool:
    """With faults off, any failure to sync is a failure of the test."""
    async with dev.lock:
        await dev.sync.push()
        await dev.sync.pull()
        return True


async def run_device(dev: SimDevice, world: World, rng: random.Random, steps: int) -> None:
    """A device's day: random mutations, syncs when it has signal, random offline periods."""
    for _ in range(steps):
        if dev.net.offline:
            if rng.random() < 0.35:
                dev.net.offline = False
        elif rng.random() < 0.08:
            dev.net.offline = True  # mutations pile up in the outbox meanwhile
        async with dev.lock:
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                make_mutation(dev, world, rng)
        if rng.random() < 0.65:
            await try_sync(dev)
        await asyncio.sleep(rng.uniform(0, 0.02))


class Rest(Protocol):
    """What the reassigner needs of a logged-in REST user (tests.support.Session has it)."""

    async def get(self, path: str, **kw: Any) -> Any: ...
    async def post(self, path: str, body: Any = None, **kw: Any) -> Any: ...
    async def patch(self, path: str, body: Any) -> Any: ...


async def reassigner(admin: Rest, manager: Rest, world: World, rng: random.Random, stop: asyncio.Event) -> list[str]:
    """Customers leave and enter reps' scopes over REST (admin: any rep or none; manager: reps of
    its subtree), and the manager edits online from an old base, concurrently with offline edits."""
    failures: list[str] = []
    gz = world.org_paths[world.org_ids["GZ"]]
    counts = {"assign": 0, "reclaim": 0, "patch": 0}
    items: list[dict[str, Any]] = []
    while not stop.is_set():
        if not items or rng.random() < 0.25:  # the list is refreshed now and then (new customers)
            items = (await admin.get("/api/customers", params={"limit": 500})).json()["items"]
        c = rng.choice(items)
        rep = None if rng.random() < 0.08 else rng.choice(world.reps())
        r = await admin.post(f"/api/customers/{c['id']}/assign", {"repId": rep, "reason": "simulation"})
        counts["assign" if rep else "reclaim"] += 1
        if r.status_code != 200:
            failures.append(f"admin assign answered {r.status_code}: {r.text[:200]}")
        mine = [c for c in items if world.org_paths.get(c["orgUnitId"], "").startswith(gz)]
        if mine:
            c = (await manager.get(f"/api/customers/{rng.choice(mine)['id']}")).json()  # its current version
            if rng.random() < 0.5:
                r = await manager.post(f"/api/customers/{c['id']}/assign", {"repId": rng.choice(world.reps(gz))})
                counts["assign"] += 1
            else:
                body = {
                    "id": c["id"],
                    "base": max(0, c["version"] - rng.randint(0, 50)),
                    "status": rng.choice(STATUSES),
                }
                r = await manager.patch(f"/api/customers/{c['id']}", body)
                counts["patch"] += 1
            if r.status_code != 200:
                failures.append(f"manager REST call answered {r.status_code}: {r.text[:200]}")
        await asyncio.sleep(rng.uniform(0.01, 0.06))
    print(f"reassigner: {counts}")
    if counts["assign"] == 0:
        failures.append("the reassigner never ran")
    return failures


async def replay_pump(devices: list[SimDevice], rng: random.Random, stop: asyncio.Event) -> None:
    """Old requests arrive late, while the devices carry on."""
    while not stop.is_set():
        await rng.choice(devices).net.replay_one()
        await asyncio.sleep(rng.uniform(0, 0.015))


async def drain(devices: list[SimDevice]) -> None:
    """Deliver every request still held back (after everything else)."""

    async def one(d: SimDevice) -> None:
        while await d.net.replay_one():
            pass

    await asyncio.gather(*(one(d) for d in devices))


# ---------------------------------------------------------------- the end-of-run checks


def _norm(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


async def scoped_rows(s: Any, actor: Actor) -> dict[Key, Any]:
    """The server's data restricted to the actor's read scope, as a device should hold it."""
    out: dict[Key, Any] = {}
    for name, view in VIEWS.items():
        for row in (await s.execute(view.select(actor))).all():
            out[(name, row.id)] = _norm(view.value(row))
    return out


def _diff(have: dict[Key, Any], want: dict[Key, Any], limit: int = 5) -> list[str]:
    out = []
    for k in sorted(set(have) | set(want)):
        if k not in want:
            out.append(f"extra {k}")
        elif k not in have:
            out.append(f"missing {k}")
        elif have[k] != want[k]:
            fields = sorted(f for f in set(have[k]) | set(want[k]) if have[k].get(f) != want[k].get(f))
            out.append(f"stale {k}: " + ", ".join(f"{f}={have[k].get(f)!r}≠{want[k].get(f)!r}" for f in fields))
        if len(out) >= limit:
            break
    return out


async def verify(db: Database, devices: list[SimDevice], world: World) -> dict[str, int]:
    """Invariants 1–7 after the run; raises AssertionError listing every failure found."""
    problems: list[str] = list(world.scope_violations[:20])
    async with db.read() as s:
        # (a) convergence and (c) scope: each device holds exactly its user's scoped data.
        for d in devices:
            actor = await actor_for(s, d.user_id, d.device_id)
            want = await scoped_rows(s, actor)
            have = {k: _norm(v) for k, v in d.sync.base.items()}
            if d.sync.pending:
                problems.append(f"{d.label}: {len(d.sync.pending)} mutations still pending")
            extra = [k for k in have if k not in want]
            if extra:
                problems.append(f"{d.label}: holds {len(extra)} rows outside its scope, e.g. {extra[:3]}")
            diff = _diff(have, want)
            if diff:
                problems.append(f"{d.label} ({d.username}) differs from the server: {diff}")

        # (b) exactly once, in order.
        audits = (
            await s.execute(
                select(
                    AuditEntry.device_id,
                    AuditEntry.mutation_id,
                    AuditEntry.entity,
                    AuditEntry.entity_id,
                    AuditEntry.action,
                    AuditEntry.version,
                    AuditEntry.changes,
                )
            )
        ).all()
        rejections = (
            await s.execute(select(Rejection.client_id, Rejection.mutation_id, Rejection.code, Rejection.version))
        ).all()
        lmids = dict((await s.execute(select(SyncClient.client_id, SyncClient.last_mutation_id))).all())
        customers = set((await s.execute(select(Customer.id))).scalars())
        contacts = set((await s.execute(select(Contact.id))).scalars())
        conflicts = (await s.execute(select(Conflict.kept_hlc, Conflict.lost_hlc, Conflict.id))).all()

    by_mut: dict[tuple[str, int], list[Any]] = defaultdict(list)
    create_rows: Counter[tuple[str, str]] = Counter()
    reject_audits: Counter[str] = Counter()
    for a in audits:
        if a.mutation_id is not None and a.entity != "mutation":
            by_mut[(a.device_id, a.mutation_id)].append(a)
        if a.action == "create":
            create_rows[(a.entity, a.entity_id)] += 1
        if a.entity == "mutation" and a.action == "rejected":
            reject_audits[a.entity_id] += 1
    for (entity, eid), n in create_rows.items():
        if n > 1:
            problems.append(f"{entity} {eid} was created {n} times")
    rej: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for r in rejections:
        rej[(r.client_id, r.mutation_id)].append(r)
    if any(r.code == "internal-error" for r in rejections):
        problems.append("a mutation was rejected with internal-error (a server bug; see the server log)")

    totals: Counter[str] = Counter()
    for d in devices:
        n = len(d.made)
        totals["mutations"] += n
        lmid = int(lmids.get(d.device_id) or 0)
        if lmid != n or d.sync.last_mutation_id != n:
            problems.append(
                f"{d.label}: made {n} mutations; last_mutation_id is {lmid} on the server, "
                f"{d.sync.last_mutation_id} on the device"
            )
        versions: list[tuple[int, int]] = []
        for m in d.made:
            key = (d.device_id, m.mid)
            rs, rows = rej.get(key, []), by_mut.get(key, [])
            if len(rs) > 1:
                problems.append(f"{d.label} #{m.mid} {m.name}: rejected {len(rs)} times")
            n_audit = reject_audits.get(f"{d.device_id}:{m.mid}", 0)
            if n_audit != len(rs):
                problems.append(f"{d.label} #{m.mid}: {len(rs)} rejection rows but {n_audit} rejection audit entries")
            if rs and rows:
                problems.append(f"{d.label} #{m.mid} {m.name}: both rejected ({rs[0].code}) and applied")
            seen = Counter(
                (a.entity, a.entity_id, a.action, tuple(sorted(a.changes or {})) if a.action == "conflict" else ())
                for a in rows
            )
            dups = [k for k, c in seen.items() if c > 1]
            if dups:
                problems.append(f"{d.label} #{m.mid} {m.name}: applied more than once: {dups[:2]}")
            if len({a.version for a in rows}) > 1:
                problems.append(f"{d.label} #{m.mid} {m.name}: applied in several transactions")
            if rs:
                totals["rejected"] += 1
                code = rs[0].code
                versions.append((m.mid, rs[0].version))
                if m.expect == "apply":
                    problems.append(f"{d.label} #{m.mid} {m.name} {m.args}: rejected ({code}), should apply")
                elif m.expect == "reject" and code not in m.codes:
                    problems.append(f"{d.label} #{m.mid} {m.name}: rejected with {code}, expected one of {m.codes}")
            else:
                totals["applied"] += 1
                if rows:
                    versions.append((m.mid, rows[0].version))
                if m.expect == "reject":
                    problems.append(f"{d.label} #{m.mid} {m.name} {m.args}: applied, should be rejected")
                if m.name in CREATES:
                    entity = m.name.split(".")[0]
                    eid = m.args["id"]
                    mine = [a for a in rows if a.action == "create" and a.entity_id == eid]
                    if len(mine) != 1 or create_rows[(entity, eid)] != 1:
                        problems.append(f"{d.label} #{m.mid} {m.name} {eid}: not applied exactly once")
                    if eid not in (customers if entity == "customer" else contacts):
                        problems.append(f"{d.label} #{m.mid} {m.name} {eid}: the row does not exist")
        # invariant 2: a device's mutations are processed in the order it made them
        ordered = [v for _, v in sorted(versions)]
        if ordered != sorted(ordered):
            problems.append(f"{d.label}: mutations processed out of order: {sorted(versions)[:10]}")
        extra_rows = [k for k in by_mut if k[0] == d.device_id and k[1] > n]
        if extra_rows:
            problems.append(f"{d.label}: audit rows for mutations it never made: {extra_rows[:3]}")

        # (d) every rejection the server recorded reached the device, and nothing else did
        server_side = {(mid, rs[0].code) for (cid, mid), rs in rej.items() if cid == d.device_id}
        device_side = {(r.mutation.id, r.code) for r in d.sync.rejected}
        if server_side != device_side:
            problems.append(
                f"{d.label}: rejections on the server but not on the device {sorted(server_side - device_side)[:5]}, "
                f"on the device but not on the server {sorted(device_side - server_side)[:5]}"
            )
        for r in d.sync.rejected:
            m = d.made[r.mutation.id - 1]
            if (m.name, m.args) != (r.mutation.name, r.mutation.args):
                problems.append(f"{d.label}: rejected mutation #{r.mutation.id} does not match what it sent")

    # invariant 6: the later edit by HLC wins; the other value is kept as a conflict entry
    for kept, lost, cid in conflicts:
        if kept is not None and kept < lost:
            problems.append(f"conflict {cid}: kept {kept} is older than lost {lost}")
    totals["conflicts"] = len(conflicts)
    totals["rejections_recorded"] = len(rejections)
    if problems:
        raise AssertionError(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems[:40]))
    return dict(totals)
