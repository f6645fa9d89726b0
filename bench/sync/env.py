"""The machine, the databases (SQLite in a temp dir, PostgreSQL in a database of our own) and the app."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from backend.app import create_app
from backend.db.migrate import upgrade
from backend.settings import AppSettings, AuthSettings, DatabaseSettings, Settings, SyncSettings
from sync_protocol.envelopes import PROTOCOL_VERSION, SCHEMA_VERSION

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


# ---------------------------------------------------------------- the machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


async def _pg_version(admin_url: str) -> str:
    import asyncpg

    try:
        conn = await asyncpg.connect(_plain(admin_url), timeout=5)
    except (OSError, asyncpg.PostgresError) as e:
        return f"unavailable ({type(e).__name__})"
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def machine(pg_url: str | None) -> dict[str, str]:
    import sqlalchemy

    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "ram": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
    }
    if pg_url:
        info["postgresql"] = await _pg_version(pg_url)
    info["commit"] = _commit()
    info["load"] = load()
    info["cpu check"] = cpu_check()
    return info


def cpu_check() -> str:
    """How fast this CPU is right now: the best of 5 runs of a fixed pure-Python loop. On a shared VM
    this moves by 40 % or more within an hour, with a load average of 1 and nothing else running; it
    is the figure to compare before comparing two runs' results."""
    best = min(_timed_loop() for _ in range(5))
    return f"{1000 * best:.0f} ms"


def _timed_loop() -> float:
    t0 = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i & 7
    return time.perf_counter() - t0


def load() -> str:
    """The 1-minute load average: figures taken with other work on the machine are not comparable."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"


def _commit() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "backend", "sync_protocol"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (backend/sync_protocol modified)" if dirty else "")


# ---------------------------------------------------------------- databases


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_plain(admin_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def database(engine: str, pg_url: str) -> AsyncIterator[str]:
    """A freshly migrated, empty database; removed afterwards."""
    if engine == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="outpost-bench-"))
        url = f"sqlite+aiosqlite:///{tmp / 'outpost.db'}"
        try:
            await asyncio.to_thread(upgrade, url)  # alembic's env runs its own event loop
            yield url
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    name = f"outpost_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    base, _, _ = pg_url.rpartition("/")
    url = f"{base}/{name}"
    await _pg_admin(pg_url, f"CREATE DATABASE {name}")
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await _pg_admin(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# ---------------------------------------------------------------- the app


def bench_settings(url: str, var_dir: Path) -> Settings:
    """Like tests/support.test_settings, minus the fault hooks: production defaults for sync
    (page size, body limit), cheap password hashing and long-lived access tokens."""
    return Settings(
        app=AppSettings(environment="test", var_dir=var_dir),
        db=DatabaseSettings(url=url),
        auth=AuthSettings(
            jwt_secret="bench-secret-" + "x" * 32,
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
            access_token_minutes=240,
        ),
        sync=SyncSettings(),
    )


@dataclass
class Device:
    """A logged-in device speaking the wire protocol over the app's HTTP endpoints."""

    http: httpx.AsyncClient
    device_id: str
    user_id: str
    access: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access}"}

    def envelope(self, **extra: Any) -> dict[str, Any]:
        return {
            "protocolVersion": PROTOCOL_VERSION,
            "schemaVersion": SCHEMA_VERSION,
            "clientId": self.device_id,
            **extra,
        }

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.headers)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The real app (create_app) in this event loop, called through httpx.ASGITransport."""
    app = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:  # entered and left in one task, as anyio requires
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    await started.wait()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
            yield app, client
    finally:
        stop.set()
        await task


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def uvicorn_server(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app in a server process (``outpost serve``: uvicorn), configured like ``bench_settings``
    through OUTPOST_* variables, and an HTTP client talking to it over loopback TCP."""
    port = _free_port()
    a = settings.auth
    env = {
        **os.environ,
        "OUTPOST_ENVIRONMENT": "test",
        "OUTPOST_VAR_DIR": str(settings.app.var_dir),
        "OUTPOST_DATABASE_URL": settings.database_url,
        "OUTPOST_AUTH_JWT_SECRET": a.jwt_secret,
        "OUTPOST_AUTH_ARGON2_TIME_COST": str(a.argon2_time_cost),
        "OUTPOST_AUTH_ARGON2_MEMORY_KIB": str(a.argon2_memory_kib),
        "OUTPOST_AUTH_ARGON2_PARALLELISM": str(a.argon2_parallelism),
        "OUTPOST_AUTH_ACCESS_TOKEN_MINUTES": str(a.access_token_minutes),
    }
    cmd = [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = await asyncio.create_subprocess_exec(
        *cmd, "--log-level", "warning", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            await wait_for_health(client, proc)
            yield client
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def login(http: httpx.AsyncClient, username: str, password: str, device: str) -> Device:
    r = await http.post("/api/auth/login", json={"username": username, "password": password, "deviceName": device})
    r.raise_for_status()
    body = r.json()
    return Device(http, body["deviceId"], body["user"]["id"], body["accessToken"])


async def wait_for_health(client: httpx.AsyncClient, proc: asyncio.subprocess.Process) -> None:
    """Until the server process answers /api/health (30 s at most; its exit is an error)."""
    for _ in range(300):
        if proc.returncode is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if (await client.get("/api/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not answer /api/health within 30 s")
