"""The app shell: one tab owns the store, updates wait for the user, iOS users are told how to install."""

from __future__ import annotations

import shutil
from contextlib import asynccontextmanager

from backend.app import create_app
from backend.demo import load
from backend.settings import ROOT
from tests import support
from tests.e2e.conftest import PASSWORD, Phone


async def test_a_second_tab_is_told_and_can_take_over(browser, live):
    ctx = await browser.new_context(viewport={"width": 360, "height": 740}, locale="en")
    await ctx.add_init_script("localStorage.setItem('outpost.locale', 'en')")
    first = Phone(ctx, await ctx.new_page(), live["url"])
    await first.login("rep1")
    second = Phone(ctx, await ctx.new_page(), live["url"])
    await second.page.goto(live["url"] + "/")
    await second.page.wait_for_selector("text=Outpost is open in another tab")
    await second.screen("lock-other-tab")
    await second.page.click("button:has-text('Use it here')")
    await second.page.wait_for_selector("[data-testid=customer-list] li", timeout=20_000)
    await first.page.wait_for_selector("text=Outpost is now used in another tab")
    await first.screen("lock-taken-over")
    assert first.foreign == second.foreign == []
    await ctx.close()


@asynccontextmanager
async def _served_copy(db_url, tmp_path):
    """The app served from a copy of the build, so a test can publish a "new release" of it."""
    dist = tmp_path / "dist"
    shutil.copytree(ROOT / "pwa" / "dist", dist)
    settings = support.test_settings(db_url, tmp_path / "var")
    settings.app.pwa_dir = dist
    app = create_app(settings)
    await load(app.state.services.db, app.state.services.auth, PASSWORD, customers_count=10)
    async with support.serve(app) as url:
        yield url, dist


async def _release(ph, dist):
    sw = dist / "sw.js"
    sw.write_text(sw.read_text() + "\n// next release\n")
    await ph.page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")


async def test_an_update_waits_for_the_user(browser, db_url, tmp_path):
    async with _served_copy(db_url, tmp_path) as (url, dist):
        ctx = await browser.new_context(viewport={"width": 360, "height": 740}, locale="en")
        await ctx.add_init_script("localStorage.setItem('outpost.locale', 'en')")
        ph = Phone(ctx, await ctx.new_page(), url)
        await ph.login("rep1")
        await ph.page.evaluate("window.__stillHere = true")
        await _release(ph, dist)
        await ph.page.wait_for_selector("text=A new version of Outpost is ready.", timeout=20_000)
        await ph.page.wait_for_timeout(500)
        assert await ph.page.evaluate("window.__stillHere === true")  # nothing reloaded under the user
        await ph.screen("update-offered")
        async with ph.page.expect_navigation():
            await ph.page.click("button:has-text('Update now')")
        await ph.page.wait_for_selector("[data-testid=customer-list] li")
        assert await ph.page.evaluate("window.__stillHere === undefined")
        await ctx.close()


async def test_an_update_found_before_login_is_offered_on_the_login_screen(browser, db_url, tmp_path):
    async with _served_copy(db_url, tmp_path) as (url, dist):
        ctx = await browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        await ctx.add_init_script("localStorage.setItem('outpost.locale', 'zh-CN')")
        ph = Phone(ctx, await ctx.new_page(), url)
        await ph.page.goto(url + "/")
        await ph.page.wait_for_selector("input[name=username]")
        await ph.page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        await _release(ph, dist)
        await ph.page.wait_for_selector(".banner.update", timeout=20_000)
        assert await ph.page.is_visible("input[name=username]")  # offered, not applied
        await ph.screen("login-update-offered")
        await ctx.close()


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


async def test_ios_users_see_how_to_add_the_app_to_the_home_screen(browser, live):
    ctx = await browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", user_agent=IPHONE)
    ph = Phone(ctx, await ctx.new_page(), live["url"])
    # on the login screen already: the first thing a new user sees
    await ph.page.goto(live["url"] + "/")
    await ph.page.wait_for_selector("[data-testid=home-screen-hint] >> text=添加到主屏幕")
    await ph.screen("login-ios")
    await ph.login("rep1")
    await ph.go("/settings")
    await ph.page.wait_for_selector("[data-testid=home-screen-hint] >> text=添加到主屏幕")
    await ph.screen("settings-ios")
    await ctx.close()


async def test_the_home_screen_hint_finds_ipads_and_wechat_and_spares_other_phones(browser, live):
    ipad = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.0 Safari/605.1.15"
    )
    wechat = IPHONE.replace("Safari/604.1", "MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN")
    android = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Mobile Safari/537.36"
    )
    cases = [
        (ipad, True, "在 Safari 中点“分享”"),  # iPadOS Safari says Macintosh; it has a touch screen
        (ipad, False, None),  # a real Mac: no touch screen, no hint
        (wechat, True, "在 Safari 中打开"),  # WeChat's browser: open in Safari first
        (android, True, None),
    ]
    for ua, touch, expected in cases:
        ctx = await browser.new_context(
            viewport={"width": 360, "height": 740}, locale="zh-CN", user_agent=ua, has_touch=touch
        )
        page = await ctx.new_page()
        await page.goto(live["url"] + "/")
        await page.wait_for_selector("input[name=username]")
        hint = page.locator("[data-testid=home-screen-hint]")
        if expected is None:
            assert await hint.count() == 0, ua
        else:
            assert expected in await hint.inner_text(), ua
        await ctx.close()


async def test_the_app_asks_for_persistent_storage_and_shows_the_answer(browser, live):
    """The browser decides (Chromium grants it to installed or much-used apps): the app asks at
    start and Settings says which it is. The answer is the browser's, so it is given here."""
    for granted, text in ((True, "Protected from automatic clearing"), (False, "The browser may clear data")):
        ctx = await browser.new_context(viewport={"width": 360, "height": 740}, locale="en")
        await ctx.add_init_script(
            "localStorage.setItem('outpost.locale', 'en');"
            "window.__persistAsked = 0;"
            "navigator.storage.persist = () => { window.__persistAsked++; "
            f"return Promise.resolve({str(granted).lower()}); }};"
        )
        ph = Phone(ctx, await ctx.new_page(), live["url"])
        await ph.login("rep1")
        assert await ph.page.evaluate("window.__persistAsked") >= 1
        await ph.go("/settings")
        await ph.page.wait_for_selector(f"text={text}")
        await ctx.close()
