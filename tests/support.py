"""Test support: databases per test (SQLite file or PostgreSQL database from a migrated template),
settings with cheap password hashing, and logged-in sessions that speak the sync protocol."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.settings import AppSettings, AuthSettings, DatabaseSettings, Settings, SyncSettings
from sync_protocol.client import SyncClient
from sync_protocol.envelopes import PROTOCOL_VERSION, SCHEMA_VERSION
from sync_protocol.hlc import HybridClock

PG_URL = os.environ.get("OUTPOST_TEST_POSTGRES_URL", "")
_counter = itertools.count()


def engines() -> list[str]:
    return ["sqlite", "postgres"] if PG_URL else ["sqlite"]


def pg_plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def pg_db_url(name: str) -> str:
    base, _, _ = PG_URL.rpartition("/")
    return f"{base}/{name}"


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(pg_plain(PG_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def make_template(kind: str, tmp: Path) -> str:
    """Migrate an empty database once per test session; tests copy it."""
    from backend.db.migrate import upgrade

    if kind == "sqlite":
        path = tmp / "template.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        return str(path)
    name = f"outpost_tpl_{os.getpid()}"
    asyncio.run(pg_admin(f"DROP DATABASE IF EXISTS {name}"))
    asyncio.run(pg_admin(f"CREATE DATABASE {name}"))
    upgrade(pg_db_url(name))
    return name


async def new_database(kind: str, template: str, tmp: Path) -> tuple[str, Any]:
    """A fresh database for one test; returns its URL and a coroutine function that drops it."""
    if kind == "sqlite":
        path = tmp / f"outpost-{next(_counter)}.db"
        shutil.copy(template, path)

        async def drop_sqlite() -> None:
            return None

        return f"sqlite+aiosqlite:///{path}", drop_sqlite
    name = f"outpost_t_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    await pg_admin(f"CREATE DATABASE {name} TEMPLATE {template}")

    async def drop_pg() -> None:
        await pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return pg_db_url(name), drop_pg


def test_settings(url: str, var_dir: Path, **sync: Any) -> Settings:
    return Settings(
        app=AppSettings(environment="test", var_dir=var_dir, test_fault_hooks=True, max_body_bytes=256 * 1024),
        db=DatabaseSettings(url=url),
        auth=AuthSettings(
            jwt_secret="test-secret-" + "x" * 32, argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1
        ),
        sync=SyncSettings(**sync),
    )


def envelope(client_id: str, **extra: Any) -> dict[str, Any]:
    return {"protocolVersion": PROTOCOL_VERSION, "schemaVersion": SCHEMA_VERSION, "clientId": client_id, **extra}


@dataclass
class Session:
    """A logged-in device: its tokens and a sync client bound to it."""

    http: Any
    username: str
    device_id: str
    access: str
    refresh: str
    user: dict[str, Any]
    headers_extra: dict[str, str] = field(default_factory=dict)
    sync: SyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.sync = SyncClient(self.device_id, self.transport, clock=HybridClock(self.device_id))

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access}", **self.headers_extra}

    async def transport(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        r = await self.http.post(path, json=body, headers=self.headers)
        return r.status_code, r.json()

    async def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.http.post(path, json=body, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.http.get(path, headers=self.headers, **kw)

    async def patch(self, path: str, body: Any) -> Any:
        return await self.http.patch(path, json=body, headers=self.headers)

    def envelope(self, **extra: Any) -> dict[str, Any]:
        return envelope(self.device_id, **extra)


async def login(http: Any, username: str, password: str, device: str = "test-phone") -> Session:
    r = await http.post("/api/auth/login", json={"username": username, "password": password, "deviceName": device})
    assert r.status_code == 200, r.text
    b = r.json()
    return Session(http, username, b["deviceId"], b["accessToken"], b["refreshToken"], b["user"])


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    """The SQL statements the app sends to its database while the block runs, in order."""
    from sqlalchemy import event

    engine = app.state.services.db.engine.sync_engine
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def new_uuid() -> str:
    return str(uuid.uuid4())


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Run the app on a real socket in this event loop (SSE and browsers need one)."""
    import uvicorn

    port = free_port()
    # Live event streams stay open until the browser goes: as `outpost serve` does, a shutdown waits
    # a moment for requests in flight and then ends the rest.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
