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
LOCALES = ("zh-CN", "en")
# Anything the Content-Security-Policy (backend/web.py) refuses fails the test: Chromium logs each
# refusal ("… violates the following Content Security Policy directive …", workers' too) and the
# page's securitypolicyviolation events are logged the same way by this init script. No 'unsafe-eval':
# give page.wait_for_function a function (`() => …`), as a bare expression is eval'd in the page.
CSP_WATCH = """document.addEventListener('securitypolicyviolation', (e) => console.error(
  `Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""

# The phone-first rules, checked on a screen as it is: nothing wider than the screen, touch targets
# at least 44 px tall, text at WCAG AA contrast or better (readable outdoors).
CHECK = r"""() => {
  const visible = (el) => el.offsetParent !== null || getComputedStyle(el).position === 'fixed';
  const wide = document.scrollingElement.scrollWidth;
  const small = [...document.querySelectorAll('button, a, input, select, textarea')]
    .filter(visible)
    .map((el) => [el.outerHTML.slice(0, 80), el.getBoundingClientRect().height])
    .filter(([, h]) => h < 44);
  // Text contrast (WCAG 2.x AA: 4.5:1, 3:1 for large text), against the backgrounds behind it.
  const rgba = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return [0, 0, 0, 0];
    const [r, g, b, a = 1] = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [r, g, b, a];
  };
  const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3]));
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255]);
  };
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const faint = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el) || el.closest(':disabled, [aria-disabled=true]')) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const style = getComputedStyle(el);
    const bg = background(el);
    const fg = over(rgba(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) faint.push([el.outerHTML.slice(0, 80), Math.round(ratio * 100) / 100]);
  }
  return { wide, small, faint };
}"""


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
        self.csp: list[str] = []
        page.on("console", lambda m: self.csp.append(m.text) if "Content Security Policy" in m.text else None)
        # Nothing is fetched from another origin at run time (fonts, icons, scripts are ours).
        self.foreign: list[str] = []
        origin = url.rstrip("/")
        ctx.on(
            "request",
            lambda r: None if r.url.startswith((origin + "/", "data:", "blob:")) else self.foreign.append(r.url),
        )

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

    async def fits(self, name: str) -> None:
        """The phone-first rules (CHECK) hold on the screen as it is now."""
        result = await self.page.evaluate(CHECK)
        assert result["wide"] <= 360, f"{name}: page is {result['wide']} px wide"
        assert result["small"] == [], f"{name}: touch targets under 44 px: {result['small']}"
        assert result["faint"] == [], f"{name}: text below WCAG AA contrast: {result['faint']}"

    async def screen(self, name: str) -> None:
        """This screen, as it is now, in both languages: a screenshot of each (`<locale>-<name>.png`)
        and the phone-first rules checked on each; then back to the phone's own language."""
        own = await self.page.evaluate("document.documentElement.lang")
        for locale in LOCALES:
            await self.page.evaluate(f"outpost.setLocale({locale!r})")
            await self.shot(f"{locale}-{name}")
            await self.fits(f"{locale}-{name}")
        await self.page.evaluate(f"outpost.setLocale({own!r})")
        await self.page.wait_for_timeout(100)


@pytest.fixture
def phone(browser: Browser, live: dict[str, Any]) -> Any:
    phones: list[Phone] = []

    async def _phone(locale: str = "zh-CN") -> Phone:
        ctx = await browser.new_context(viewport={"width": 360, "height": 740}, locale=locale, accept_downloads=True)
        await ctx.add_init_script(f"localStorage.setItem('outpost.locale', {locale!r})")
        await ctx.add_init_script(CSP_WATCH)
        phones.append(Phone(ctx, await ctx.new_page(), live["url"]))
        return phones[-1]

    yield _phone
    foreign = [u for ph in phones for u in ph.foreign]
    assert foreign == [], f"fetched from another origin: {foreign}"
    refused = [m for ph in phones for m in ph.csp]
    assert refused == [], f"refused by the Content-Security-Policy: {refused}"
