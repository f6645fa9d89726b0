"""End-to-end: Debian's headless Chromium (Playwright) against the real backend serving the built PWA."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from backend.app import create_app
from backend.demo import load
from backend.settings import ROOT
from tests import support

CHROMIUM = os.environ.get("OUTPOST_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "demo-pass-123"
SHOTS = ROOT / "test-results" / "screenshots"


@pytest.fixture(params=["sqlite"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    """The browser suite runs on the embedded default; the sync log is proven on both engines elsewhere."""
    return str(request.param)


@pytest.fixture
async def live(db_url: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    if not (ROOT / "pwa" / "dist" / "index.html").exists():
        raise RuntimeError("the PWA is not built: run `npm run build` in pwa/ (scripts/test does)")
    app = create_app(support.test_settings(db_url, tmp_path / "var"))
    services = app.state.services
    await load(services.db, services.auth, PASSWORD, customers_count=40, assets_count=120)
    async with support.serve(app) as url:
        yield {"url": url, "app": app, "services": services}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is missing: apt-get install chromium fonts-noto-cjk")
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


class Phone:
    """One phone: a browser context at 360×740 with the app open."""

    def __init__(self, ctx: BrowserContext, page: Page, url: str):
        self.ctx, self.page, self.url = ctx, page, url
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def login(self, username: str, password: str = PASSWORD) -> None:
        await self.page.goto(self.url + "/")
        await self.page.fill("input[name=username]", username)
        await self.page.fill("input[name=password]", password)
        await self.page.click("button[type=submit]")
        await self.page.wait_for_selector("[data-testid=sync-pill]")
        await self.synced()
        await self.page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    async def synced(self, timeout: float = 15_000) -> None:
        """Wait until the phone is online, idle and has nothing pending."""
        await self.page.wait_for_function(
            """() => { const p = document.querySelector('[data-testid=sync-pill]');
                 return p && p.dataset.online === 'true' && p.dataset.syncing === 'false'
                   && p.dataset.pending === '0' && Number(p.dataset.lastSync) > 0; }""",
            timeout=timeout,
        )

    async def sync_now(self) -> None:
        await self.go("/sync")
        before = await self.page.get_attribute("[data-testid=sync-pill]", "data-last-sync")
        await self.page.click("button.primary:not([disabled])")
        await self.page.wait_for_function(
            f"() => document.querySelector('[data-testid=sync-pill]').dataset.lastSync !== '{before}'",
            timeout=15_000,
        )

    async def go(self, path: str) -> None:
        await self.page.evaluate(f"location.hash = {path!r}")
        await self.page.wait_for_timeout(150)

    async def offline(self, value: bool) -> None:
        await self.ctx.set_offline(value)

    async def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.wait_for_timeout(200)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture
def phone(browser: Browser, live: dict[str, Any]) -> Any:
    made: list[BrowserContext] = []

    async def _phone(locale: str = "zh-CN") -> Phone:
        ctx = await browser.new_context(viewport={"width": 360, "height": 740}, locale=locale, accept_downloads=True)
        await ctx.add_init_script(f"localStorage.setItem('outpost.locale', {locale!r})")
        made.append(ctx)
        return Phone(ctx, await ctx.new_page(), live["url"])

    return _phone
