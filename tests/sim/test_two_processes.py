"""Two real server processes on one PostgreSQL database (ARCHITECTURE.md §3, invariants 1, 4, 7).

Devices talk real HTTP and pick one of the two processes at random for every request, so a device's
pushes land on both, concurrently with other devices' pushes and pulls on both; an admin and a
manager reassign customers over REST meanwhile. Every pull page is checked for out-of-scope rows as
it arrives. At the end every device's store must equal the server's scoped data — a change that
committed with a lower version after a pull passed it would be missing (invariant 7) — and every
mutation must be applied or rejected exactly once.

PostgreSQL only: with no ``OUTPOST_TEST_POSTGRES_URL`` this module defines no test at all.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from backend.app import register_contexts
from backend.db.engine import Database
from tests import support
from tests.sim.harness import (
    NetStats,
    Phases,
    drain,
    load_world,
    reassigner,
    replay_pump,
    run_device,
    settle,
    sim_seed,
    verify,
)
from tests.sim.servers import Http, RestUser, Server, Zygote, http_devices, load_demo, server_env

EXTRA_USERS = [("rep3", ["rep"], "GZ-TH"), ("rep4", ["rep"], "GZ-YX"), ("rep5", ["rep"], "SZ-NS")]
FLEET = [("rep1", 4), ("rep2", 4), ("rep3", 3), ("rep4", 3), ("rep5", 2), ("manager", 2), ("care", 2), ("admin", 1)]
STEPS = 16


async def two_processes_on_one_database(templates: dict[str, str], tmp_path: Path) -> None:
    seed = sim_seed()
    print(f"\ntwo-process seed {seed} (rerun: OUTPOST_SIM_SEED={seed})")
    phases = Phases()
    register_contexts()
    url, drop = await support.new_database("postgres", templates["postgres"], tmp_path)
    var = tmp_path / "var"
    servers: list[Server] = []
    zygote: Zygote | None = None
    http: Http | None = None
    db = Database(url)
    try:
        await load_demo(url, var, EXTRA_USERS)
        env = server_env(url, var, OUTPOST_SYNC_PULL_PAGE_SIZE="15", OUTPOST_TEST_FAULT_HOOKS="true")
        zygote = Zygote(env, tmp_path)
        await zygote.open()
        servers = [Server("a", zygote), Server("b", zygote)]
        phases.done("load demo, start the zygote")
        await asyncio.gather(*(s.start() for s in servers))
        phases.done("start two servers")
        http = Http(servers)
        world = await load_world(db)
        stats = NetStats()
        # Lost replies and duplicates, no drops: the point here is concurrency across processes.
        devices = await http_devices(
            http, world, FLEET, seed, stats, p_drop=0.0, p_reply_lost=0.05, p_duplicate=0.08, p_hold=0.05
        )
        admin = RestUser(http, (await http.login("admin", "admin-console"))["accessToken"])
        manager = RestUser(http, (await http.login("manager", "manager-laptop"))["accessToken"])
        phases.done("log in")

        stop = asyncio.Event()
        background = [
            asyncio.create_task(reassigner(admin, manager, world, random.Random(f"{seed}:reassign"), stop)),
            asyncio.create_task(replay_pump(devices, random.Random(f"{seed}:replay"), stop)),
        ]
        try:
            await asyncio.gather(
                *(run_device(d, world, random.Random(f"{seed}:dev:{d.label}"), STEPS) for d in devices)
            )
        finally:
            stop.set()
            rest_failures = (await asyncio.gather(*background))[0]
        await drain(devices)
        phases.done("run")
        rounds = await settle(devices, db)
        phases.done(f"settle ({rounds} rounds)")
        totals = await verify(db, devices, world)
        phases.done("verify")
        print(f"network: {stats.summary()}")
        print(f"outcome: {totals}")
        print(f"time: {phases}")
        print(f"sync requests per process: {http.used}")
        assert all(s.running for s in servers), "a server process died"
        assert min(http.used) > 0.3 * sum(http.used), "devices did not alternate between the processes"
        errors = [e for s in servers for e in s.logged_errors()]
        assert not errors, "\n\n".join(errors)
        assert not rest_failures, rest_failures
        assert not stats.unexpected, stats.unexpected[:10]
        assert totals["applied"] > 0 and totals["rejected"] > 0 and stats.duplicated > 0
    finally:
        if http is not None:
            await http.aclose()
        if zygote is not None:
            await zygote.close()  # kills both servers
        await db.dispose()
        await drop()


if support.PG_URL:

    @pytest.mark.slow
    @pytest.mark.postgres
    async def test_two_processes_on_one_postgres(templates: dict[str, str], tmp_path: Path) -> None:
        await two_processes_on_one_database(templates, tmp_path)
