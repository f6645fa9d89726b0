from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.demo import load
from backend.settings import Settings
from tests import support

DEMO_PASSWORD = "demo-pass-123"


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("templates")
    out = {kind: support.make_template(kind, tmp) for kind in support.engines()}
    yield out
    if "postgres" in out:
        import asyncio

        asyncio.run(support.pg_admin(f"DROP DATABASE IF EXISTS {out['postgres']} WITH (FORCE)"))


@pytest.fixture(params=support.engines())
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def db_url(engine_kind: str, templates: dict[str, str], tmp_path: Path) -> AsyncIterator[str]:
    url, drop = await support.new_database(engine_kind, templates[engine_kind], tmp_path)
    yield url
    await drop()


@pytest.fixture
def sync_options() -> dict[str, Any]:
    """Override in a test module to change sync settings (e.g. a small pull page)."""
    return {}


@pytest.fixture
def settings(db_url: str, tmp_path: Path, sync_options: dict[str, Any]) -> Settings:
    return support.test_settings(db_url, tmp_path / "var", **sync_options)


@pytest.fixture
async def app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture
async def http(app: Any) -> AsyncIterator[Any]:
    """An HTTP client calling the app in this event loop (the database's connections live here)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:  # entered and left in one task, as anyio requires
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    await started.wait()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    stop.set()
    await task


@pytest.fixture
async def demo(app: Any, http: Any) -> dict[str, Any]:
    """Demo org and users, 30 customers (rep1: even ones, rep2: odd ones, guests for care), 60 assets
    in 20 locations and an open stocktake of GZ-TH (stocktaker, stocktaker2)."""
    services = app.state.services
    await load(services.db, services.auth, DEMO_PASSWORD, customers_count=30, assets_count=60)
    return {"password": DEMO_PASSWORD}


@pytest.fixture
def login(http: Any, demo: dict[str, Any]) -> Any:
    async def _login(username: str, device: str = "phone") -> support.Session:
        return await support.login(http, username, demo["password"], device)

    return _login
