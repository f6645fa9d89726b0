"""The three measurements, each through the real HTTP endpoints of the app."""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from backend.db.engine import Database
from backend.sync.models import Rejection
from bench.sync.env import Device
from bench.sync.seed import Seeded
from sync_protocol.hlc import HybridClock


@dataclass
class FirstPull:
    seconds: float  # median over the runs
    best: float
    pages: int
    rows: int
    mbytes: float  # response bodies
    decode_seconds: float  # client-side JSON decoding inside ``seconds`` (median run)
    cookie: str

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


async def first_pull(dev: Device, expect_rows: int, runs: int) -> FirstPull:
    """From ``cookie: null`` to the last page (``more: false``), ``runs`` times; every run is a fresh
    first sync (the server keeps no state for a pull)."""
    results: list[tuple[float, int, int, int, float, str]] = []
    for _ in range(runs):
        cookie: str | None = None
        pages = rows = nbytes = 0
        decode = 0.0
        t0 = time.perf_counter()
        while True:
            r = await dev.post("/api/sync/pull", dev.envelope(cookie=cookie))
            t1 = time.perf_counter()
            body = json.loads(r.content)
            decode += time.perf_counter() - t1
            if r.status_code != 200:
                raise RuntimeError(f"pull answered {r.status_code}: {r.text[:500]}")
            pages += 1
            nbytes += len(r.content)
            rows += sum(1 for op in body["patch"] if op["op"] == "put")
            cookie = body["cookie"]
            if not body["more"]:
                break
        elapsed = time.perf_counter() - t0
        if rows != expect_rows:
            raise RuntimeError(f"first pull returned {rows} rows, expected {expect_rows}")
        results.append((elapsed, pages, rows, nbytes, decode, cookie))
    results.sort()
    median = results[len(results) // 2]
    return FirstPull(
        seconds=median[0],
        best=results[0][0],
        pages=median[1],
        rows=median[2],
        mbytes=median[3] / 1e6,
        decode_seconds=median[4],
        cookie=median[5],
    )


@dataclass
class Timings:
    median_ms: float
    p95_ms: float
    n: int


def _timings(samples: list[float]) -> Timings:
    samples = sorted(samples)
    return Timings(
        median_ms=statistics.median(samples) * 1000,
        p95_ms=samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))] * 1000,
        n=len(samples),
    )


async def incremental_pull(dev: Device, cookie: str, n: int, warmup: int = 10) -> Timings:
    """An incremental pull with nothing changed since ``cookie``: the same request ``n`` times."""
    samples: list[float] = []
    for i in range(warmup + n):
        t0 = time.perf_counter()
        r = await dev.post("/api/sync/pull", dev.envelope(cookie=cookie))
        body = r.json()
        elapsed = time.perf_counter() - t0
        if r.status_code != 200 or body["patch"] or body["more"]:
            raise RuntimeError(f"incremental pull was not empty: {r.status_code} {r.text[:300]}")
        if i >= warmup:
            samples.append(elapsed)
    return _timings(samples)


@dataclass
class Push:
    mutations: int
    seconds: float
    batch_ms: Timings
    mix: dict[str, int]
    rejected: int

    @property
    def per_s(self) -> float:
        return self.mutations / self.seconds


def _batches(seeded: Seeded, client: str, batches: int, size: int, rng: random.Random) -> list[list[dict[str, Any]]]:
    """Per batch of 100: 50 customer.update, 25 contact.create, 25 customer.create (in a random order)."""
    clock = HybridClock(client)
    pool = list(seeded.rep1_customers)
    rng.shuffle(pool)
    known = iter(pool)  # every update edits a different existing customer, from the version it was pulled at
    new_ids: list[str] = []
    out: list[list[dict[str, Any]]] = []
    mid = 0
    for _ in range(batches):
        kinds = ["customer.update"] * (size // 2) + ["contact.create"] * (size // 4)
        kinds += ["customer.create"] * (size - len(kinds))
        rng.shuffle(kinds)
        batch = []
        for name in kinds:
            mid += 1
            if name == "customer.update":
                cid, base = next(known)
                args: dict[str, Any] = {"id": cid, "base": base, "address": f"广州市天河路{mid}号"}  # always a change
                if mid % 3 == 0:
                    args["status"] = rng.choice(["active", "at_risk", "churned"])
                if mid % 5 == 0:
                    args["phone"] = f"13{rng.randint(100000000, 999999999)}"
            elif name == "contact.create":
                target = rng.choice(new_ids) if new_ids and mid % 2 else rng.choice(pool)[0]
                args = {
                    "id": str(uuid.uuid4()),
                    "customerId": target,
                    "name": "联系人 " + str(mid),
                    "title": "采购经理",
                    "phone": f"139{rng.randint(10000000, 99999999)}",
                }
            else:
                cid = str(uuid.uuid4())
                new_ids.append(cid)
                args = {
                    "id": cid,
                    "name": f"新客户 {mid}",
                    "kind": "enterprise",
                    "status": "potential",
                    "tier": "B",
                    "phone": f"13{rng.randint(100000000, 999999999)}",
                    "address": "广州市体育西路1号",
                    "tags": ["5G"],
                }
            batch.append({"clientId": client, "id": mid, "name": name, "args": args, "hlc": clock.now()})
        out.append(batch)
    return out


async def push(db: Database, dev: Device, seeded: Seeded, batches: int, size: int = 100, warmup: int = 2) -> Push:
    """Sequential pushes of ``size`` mutations from one device; the first ``warmup`` are not timed."""
    capacity = len(seeded.rep1_customers) // (size // 2)  # each update edits a customer not edited before
    if capacity < 1:
        raise ValueError(f"too few customers ({len(seeded.rep1_customers)}) for batches of {size}")
    if warmup + batches > capacity:
        warmup = min(warmup, capacity - 1)
        batches = capacity - warmup
    plan = _batches(seeded, dev.device_id, warmup + batches, size, random.Random(7))
    samples: list[float] = []
    mix: dict[str, int] = {}
    for i, batch in enumerate(plan):
        t0 = time.perf_counter()
        r = await dev.post("/api/sync/push", dev.envelope(mutations=batch))
        elapsed = time.perf_counter() - t0
        if r.status_code != 200 or r.json().get("lastMutationId") != batch[-1]["id"]:
            raise RuntimeError(f"push answered {r.status_code}: {r.text[:500]}")
        if i >= warmup:
            samples.append(elapsed)
            for m in batch:
                mix[m["name"]] = mix.get(m["name"], 0) + 1
    async with db.read() as s:
        rejected = int(
            (
                await s.execute(select(func.count()).select_from(Rejection).where(Rejection.client_id == dev.device_id))
            ).scalar_one()
        )
    if rejected:
        async with db.read() as s:
            sample = (await s.execute(select(Rejection.name, Rejection.code, Rejection.message).limit(3))).all()
        raise RuntimeError(f"{rejected} mutations were rejected, e.g. {sample}: the figure would not be real")
    return Push(mutations=batches * size, seconds=sum(samples), batch_ms=_timings(samples), mix=mix, rejected=rejected)


async def changes_pull(dev: Device, cookie: str) -> tuple[float, int, int]:
    """An incremental pull that has something to bring (after the push): seconds, pages, patch ops."""
    t0 = time.perf_counter()
    pages = ops = 0
    while True:
        r = await dev.post("/api/sync/pull", dev.envelope(cookie=cookie))
        if r.status_code != 200:
            raise RuntimeError(f"pull answered {r.status_code}: {r.text[:300]}")
        body = r.json()
        pages += 1
        ops += len(body["patch"])
        cookie = body["cookie"]
        if not body["more"]:
            break
    return time.perf_counter() - t0, pages, ops
