"""``python -m bench.auth [--samples 300] [--bursts 4] [--logins 10]``: does password hashing stall
everyone else?

Starts ``outpost serve`` (uvicorn) in a subprocess on a real port, with the **production** argon2
cost (time 3, 64 MiB, parallelism 4: no OUTPOST_AUTH_ARGON2_* variables) and SQLite in a temp dir,
creates one user with ten devices, then measures ``GET /api/health`` from one client, one request
every ~10 ms:

- alone (``--samples`` requests);
- while bursts of ``--logins`` logins run at once (the user's ten devices signing in again, so no new
  device is made), burst after burst until ``--samples`` health requests were timed and at least
  ``--bursts`` bursts ran.

Prints p50/p90/p99/max of the health latency in both phases and the login latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from backend.db.migrate import upgrade
from bench.sync.env import _free_port, machine, wait_for_health

USERNAME = "bench-rep"
PASSWORD = "bench-pass-123"


async def _prepare(url: str, var_dir: Path) -> None:
    """The schema, one org unit and the user, hashed at the production cost."""
    from backend.auth.passwords import Passwords
    from backend.auth.services import AuthService
    from backend.auth.tokens import Tokens
    from backend.db.engine import Database
    from backend.domain.org.models import OrgUnit
    from backend.settings import AuthSettings

    await asyncio.to_thread(upgrade, url)  # alembic's env runs its own event loop
    db = Database(url)
    try:
        async with db.write() as s:
            s.add(OrgUnit(code="HQ", name="HQ", level="company", parent_id=None, path="/HQ/"))
        a = AuthSettings(jwt_secret="bench-secret-" + "x" * 32)
        auth = AuthService(db, a, Passwords(a), Tokens(a.jwt_secret, a.access_token_minutes))
        await auth.create_user(USERNAME, PASSWORD, ["rep"], "HQ")
    finally:
        await db.dispose()


def _server_env(url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}  # production defaults
    env |= {
        "OUTPOST_ENVIRONMENT": "test",
        "OUTPOST_VAR_DIR": str(var_dir),
        "OUTPOST_DATABASE_URL": url,
        "OUTPOST_AUTH_JWT_SECRET": "bench-secret-" + "x" * 32,
    }
    return env


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _row(name: str, ms: list[float]) -> str:
    return f"| {name} | {len(ms)} | {_pct(ms, 50):.1f} | {_pct(ms, 90):.1f} | {_pct(ms, 99):.1f} | {max(ms):.1f} |"


async def _health_samples(http: httpx.AsyncClient, n: int, stop: asyncio.Event | None = None) -> list[float]:
    out: list[float] = []
    while len(out) < n and not (stop is not None and stop.is_set()):
        t0 = time.perf_counter()
        r = await http.get("/api/health")
        out.append(1000 * (time.perf_counter() - t0))
        assert r.status_code == 200, r.text
        await asyncio.sleep(0.010)
    return out


async def _login(http: httpx.AsyncClient, device_id: str | None, name: str) -> tuple[float, str]:
    body: dict[str, Any] = {"username": USERNAME, "password": PASSWORD, "deviceName": name}
    if device_id:
        body["deviceId"] = device_id
    t0 = time.perf_counter()
    r = await http.post("/api/auth/login", json=body)
    ms = 1000 * (time.perf_counter() - t0)
    assert r.status_code == 200, r.text
    return ms, str(r.json()["deviceId"])


async def run(args: argparse.Namespace) -> str:
    info = await machine(None)
    tmp = Path(tempfile.mkdtemp(prefix="outpost-bench-auth-"))
    url = f"sqlite+aiosqlite:///{tmp / 'outpost.db'}"
    port = _free_port()
    proc = None
    try:
        await _prepare(url, tmp)
        cmd = [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        proc = await asyncio.create_subprocess_exec(
            *cmd, "--log-level", "warning", env=_server_env(url, tmp), stdout=asyncio.subprocess.DEVNULL
        )
        limits = httpx.Limits(max_connections=args.logins + 4)
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits) as logins,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as health,
        ):
            await wait_for_health(health, proc)
            # the devices, one after another (and the connections warmed up)
            devices = [(await _login(logins, None, f"phone {i}"))[1] for i in range(args.logins)]
            await _health_samples(health, 30)

            alone = await _health_samples(health, args.samples)

            stop = asyncio.Event()
            login_ms: list[float] = []
            bursts = 0

            async def burst_loop() -> None:
                nonlocal bursts
                while not stop.is_set() or bursts < args.bursts:
                    t0 = time.perf_counter()
                    done = await asyncio.gather(*(_login(logins, d, f"phone {i}") for i, d in enumerate(devices)))
                    login_ms.extend(ms for ms, _ in done)
                    bursts += 1
                    print(f"  burst {bursts}: {1000 * (time.perf_counter() - t0):.0f} ms", file=sys.stderr)

            loop_task = asyncio.create_task(burst_loop())
            await asyncio.sleep(0.05)  # the first burst is under way
            during = await _health_samples(health, args.samples)
            stop.set()
            await loop_task
    finally:
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        "Server: `outpost serve` (uvicorn) in a subprocess, SQLite in a temp dir, production argon2 "
        "(t=3, 64 MiB, p=4), hash concurrency " + (os.environ.get("OUTPOST_AUTH_HASH_CONCURRENCY") or "default") + ".",
        "",
        "| /api/health | requests | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
        _row("alone", alone),
        _row(f"during {bursts} bursts of {args.logins} logins", during),
        "",
        f"Logins ({len(login_ms)}): median {statistics.median(login_ms):.0f} ms, "
        f"p90 {_pct(login_ms, 90):.0f} ms, max {max(login_ms):.0f} ms.",
    ]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.auth", description=__doc__.split("\n\n")[0])
    p.add_argument("--samples", type=int, default=300, help="health requests per phase")
    p.add_argument("--bursts", type=int, default=4, help="at least this many bursts of logins")
    p.add_argument("--logins", type=int, default=10, help="logins at once in a burst")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    for name in ("httpx", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    print(asyncio.run(run(parse(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
