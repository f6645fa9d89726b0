"""The server is SIGKILLed while devices push (ARCHITECTURE.md §3, invariants 1–4).

A real ``outpost serve`` process on an SQLite file (and on PostgreSQL when available) with the test
fault hooks on. Devices make mutations and sync continuously over real HTTP while the test kills the
server, six times in a random order of two kinds:

- at a random moment, from outside (SIGKILL), whatever requests are in flight;
- deterministically after a push committed and before its reply: a device pushes with
  ``X-Outpost-Test-Fault: crash-after-commit`` and the server kills itself. The test then checks in
  the database that the push did commit (the case "committed, but the reply was lost").

After each kill the same database gets a new server process and the devices retry and re-sync. At the
end nothing may be lost or doubled: the same checks as the simulation (harness.verify).
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.app import register_contexts
from backend.db.engine import Database
from backend.sync.models import SyncClient
from tests.sim.harness import (
    FAULT_HEADER,
    NetStats,
    Phases,
    SimDevice,
    World,
    load_world,
    make_mutation,
    new_uuid,
    record,
    settle,
    sim_seed,
    try_sync,
    verify,
)
from tests.sim.servers import Http, Server, Zygote, http_devices, load_demo, server_env

EXTRA_USERS = [("rep3", ["rep"], "SZ-NS")]
FLEET = [("rep1", 3), ("rep2", 3), ("rep3", 2), ("manager", 2), ("care", 1), ("auditor", 1)]
KILLS = ["random", "random", "random", "after-commit", "after-commit", "after-commit"]
MAX_MUTATIONS_PER_DEVICE = 30


async def keep_working(dev: SimDevice, world: World, rng: random.Random, stop: asyncio.Event) -> None:
    """Mutate and sync until told to stop; a dead server is just a failed sync, retried soon."""
    while not stop.is_set():
        if len(dev.made) < MAX_MUTATIONS_PER_DEVICE:
            async with dev.lock:
                for _ in range(rng.choice((0, 1, 1, 2))):
                    make_mutation(dev, world, rng)
        ok = await try_sync(dev)
        await asyncio.sleep(rng.uniform(0.02, 0.1) if ok else rng.uniform(0.1, 0.2))


async def crash_after_commit(dev: SimDevice, server: Server, db: Database, rng: random.Random) -> str:
    """Push with the crash hook; the server must die, and must have committed the push first."""
    async with dev.lock:
        pm = dev.sync.mutate("customer.create", {"id": new_uuid(rng), "name": f"崩溃前 {rng.randint(1, 10**6)}"})
        record(dev, pm, "apply")  # a rep's own new customer: must be applied, once
        sent = [m.id for m in dev.sync.pending if m.id > dev.sync.last_mutation_id][: dev.sync.push_batch]
        dev.net.extra_headers = {FAULT_HEADER: "crash-after-commit"}
        try:
            await dev.sync.push()
        except ConnectionError:
            pass
        else:
            raise AssertionError("the server answered a push that carried crash-after-commit")
        finally:
            dev.net.extra_headers = {}
        code = await server.wait_exit()
        assert code == -signal.SIGKILL, f"the server exited with {code}, not by SIGKILL:\n{server.log_tail()}"
        async with db.read() as s:
            lmid = (
                await s.execute(select(SyncClient.last_mutation_id).where(SyncClient.client_id == dev.device_id))
            ).scalar_one_or_none()
        assert (lmid or 0) >= sent[-1], f"{dev.label}: pushed up to #{sent[-1]} and the server died, but it had {lmid}"
        return f"{dev.label} #{sent[0]}..#{sent[-1]} committed, reply lost"


@pytest.mark.slow
async def test_server_killed_while_devices_push(engine_kind: str, db_url: str, tmp_path: Path) -> None:
    seed = sim_seed()
    rng = random.Random(f"{seed}:crash")
    print(f"\ncrash seed {seed} on {engine_kind} (rerun: OUTPOST_SIM_SEED={seed})")
    phases = Phases()
    register_contexts()
    var = tmp_path / "var"
    await load_demo(db_url, var, EXTRA_USERS)
    env = server_env(db_url, var, OUTPOST_TEST_FAULT_HOOKS="true", OUTPOST_SYNC_PULL_PAGE_SIZE="25")
    zygote = Zygote(env, tmp_path)
    server = Server(f"crash-{engine_kind}", zygote)
    http: Http | None = None
    db = Database(db_url)  # the test's own look at the database (commit checks, the final verdict)
    tasks: list[asyncio.Task[None]] = []
    stop = asyncio.Event()
    try:
        phases.done("load demo")
        await zygote.open()
        await server.start()
        phases.done("start the zygote and the server")
        http = Http([server])
        world = await load_world(db)
        stats = NetStats()
        devices = await http_devices(http, world, FLEET, seed, stats, faults=False)
        phases.done("log in")
        writers = [d for d in devices if d.role == "rep"]
        tasks = [
            asyncio.create_task(keep_working(d, world, random.Random(f"{seed}:dev:{d.label}"), stop)) for d in devices
        ]
        plan = rng.sample(KILLS, len(KILLS))
        log = []
        for kind in plan:
            await asyncio.sleep(rng.uniform(0.5, 1.2))  # let devices get some work in flight
            if kind == "random":
                server.kill()
                code = await server.wait_exit()
                assert code == -signal.SIGKILL, code
                log.append("killed at a random moment")
            else:
                log.append(await crash_after_commit(rng.choice(writers), server, db, rng))
            t0 = time.monotonic()
            await server.start()
            log[-1] += f" (restarted in {time.monotonic() - t0:.1f}s)"
        await asyncio.sleep(0.5)  # devices retry against the last server
        stop.set()
        await asyncio.gather(*tasks)
        phases.done(f"run with {len(plan)} kills")
        rounds = await settle(devices, db)
        phases.done(f"settle ({rounds} rounds)")
        totals = await verify(db, devices, world)
        phases.done("verify")
        print("kills:\n  " + "\n  ".join(log))
        print(f"outcome: {totals}, {server.starts} server starts, {stats.requests} requests")
        print(f"time: {phases}")
        errors = server.logged_errors()
        assert not errors, "\n\n".join(errors)
        assert not stats.unexpected, stats.unexpected[:10]
        assert server.starts == len(KILLS) + 1
        assert sum(d.syncs_failed for d in devices) > 0  # the kills were felt by the devices
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await zygote.close()  # kills the server if it still runs
        if http is not None:
            await http.aclose()
        await db.dispose()
