"""The sync simulation (ARCHITECTURE.md §3): 52 devices of 16 users against the real app, in process.

Reps (10 × 4 devices), managers, care staff, an admin and an auditor make random mutations — valid
ones, concurrent edits of the same fields, and deliberately invalid or out-of-scope ones — through a
faulty network (dropped requests, lost replies, duplicates, old requests replayed later, the server's
drop-after-commit hook) with random offline periods, while an admin and a manager reassign customers
between reps and edit them online over REST. Pull pages are small so first syncs and catch-ups page.

At the end, with faults off, every device syncs until quiet and the run is checked: convergence,
exactly once, order, scope, rejections delivered, conflicts kept (invariants 1–7; harness.verify).

The seed is printed; ``OUTPOST_SIM_SEED=<n>`` replays the same random choices (timing still varies).
``OUTPOST_SIM_STEPS`` changes the number of steps per device (default 12).
"""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import pytest

from tests.sim.harness import (
    FaultyNetwork,
    NetStats,
    Phases,
    SimDevice,
    drain,
    load_world,
    reassigner,
    replay_pump,
    run_device,
    settle,
    sim_seed,
    verify,
    watch_pull_pages,
)

#: Users the demo does not have: 8 more reps over four districts, a second manager and care desk.
EXTRA_USERS = [
    ("rep3", ["rep"], "GZ-TH"),
    ("rep4", ["rep"], "GZ-TH"),
    ("rep5", ["rep"], "GZ-YX"),
    ("rep6", ["rep"], "GZ-YX"),
    ("rep7", ["rep"], "SZ-NS"),
    ("rep8", ["rep"], "SZ-NS"),
    ("rep9", ["rep"], "SZ-FT"),
    ("rep10", ["rep"], "SZ-FT"),
    ("manager2", ["manager"], "SZ"),
    ("care2", ["care"], "GZ-YX"),
]
#: Devices per user: 40 rep devices + 12 others = 52.
FLEET = [(f"rep{i}", 4) for i in range(1, 11)] + [
    ("manager", 3),
    ("manager2", 2),
    ("care", 2),
    ("care2", 2),
    ("admin", 2),
    ("auditor", 1),
]


@pytest.fixture
def sync_options() -> dict[str, Any]:
    return {"pull_page_size": 20}  # first syncs and busy catch-ups come in several pages


def asgi_sender(session: Any):
    async def send(path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
        r = await session.http.post(path, json=body, headers={**session.headers, **headers})
        return r.status_code, r.json()

    return send


async def test_simulation(app: Any, demo: dict[str, Any], login: Any, engine_kind: str) -> None:
    seed = sim_seed()
    steps = int(os.environ.get("OUTPOST_SIM_STEPS", "12"))
    print(f"\nsimulation seed {seed} on {engine_kind} (rerun: OUTPOST_SIM_SEED={seed})")
    phases = Phases()
    services = app.state.services
    for username, roles, org in EXTRA_USERS:
        await services.auth.create_user(username, demo["password"], roles, org)
    world = await load_world(services.db)
    stats = NetStats()
    devices: list[SimDevice] = []
    for username, count in FLEET:
        user = world.users[username]
        for i in range(count):
            session = await login(username, f"{username}-phone-{i}")
            dev = SimDevice(
                label=f"{username}#{i}",
                username=username,
                user_id=user["id"],
                role=user["roles"][0],
                org_code=user["org_code"],
                device_id=session.device_id,
                net=FaultyNetwork(asgi_sender(session), random.Random(f"{seed}:net:{username}:{i}"), stats),
            )
            watch_pull_pages(dev, world)
            devices.append(dev)
    admin = await login("admin", "admin-console")
    manager = await login("manager", "manager-laptop")
    assert len(devices) >= 50
    phases.done("log in")

    stop = asyncio.Event()
    background = [
        asyncio.create_task(reassigner(admin, manager, world, random.Random(f"{seed}:reassign"), stop)),
        asyncio.create_task(replay_pump(devices, random.Random(f"{seed}:replay"), stop)),
    ]
    try:
        await asyncio.gather(*(run_device(d, world, random.Random(f"{seed}:dev:{d.label}"), steps) for d in devices))
    finally:
        stop.set()
        rest_failures = (await asyncio.gather(*background))[0]
    await drain(devices)  # old requests still held arrive late, after everything else
    phases.done("run")
    rounds = await settle(devices, services.db)
    phases.done(f"settle ({rounds} rounds)")
    totals = await verify(services.db, devices, world)
    phases.done("verify")

    print(f"network: {stats.summary()}")
    print(f"outcome: {totals}")
    print(f"time: {phases}")
    assert not rest_failures, rest_failures
    assert not stats.unexpected, stats.unexpected[:10]
    # The run really exercised what it claims to (guards against a simulation that tests nothing).
    assert stats.dropped and stats.reply_lost and stats.duplicated and stats.replayed and stats.drop_after_commit
    assert totals["rejected"] > 0 and totals["applied"] > totals["rejected"]
    assert totals["conflicts"] > 0  # concurrent edits of the same field happened and were kept
    assert sum(d.syncs_failed for d in devices) > 0 and sum(d.syncs_ok for d in devices) > len(devices)
