"""Every screen at 360×740 in zh-CN and en: screenshots for people to look at, and the phone-first
rules checked on each: nothing wider than the screen, touch targets at least 44 px tall, text at
WCAG AA contrast or better (readable outdoors)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PASSWORD, Phone


async def _check(ph: Phone, name: str) -> None:
    await ph.shot(name)
    await ph.fits(name)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_every_screen_fits_a_phone(phone, locale):
    ph = await phone(locale)
    await ph.page.goto(ph.url + "/")
    await ph.page.wait_for_selector("input[name=username]")
    await _check(ph, f"{locale}-01-login")
    await ph.login("rep1")
    await _check(ph, f"{locale}-02-customers")
    await ph.page.fill("input[name=q]", "有限公司")
    await ph.page.wait_for_timeout(300)
    await _check(ph, f"{locale}-03-search")
    await ph.page.click("[data-testid=customer-list] li a")
    await ph.page.wait_for_selector(".facts")
    await _check(ph, f"{locale}-04-customer")
    await ph.page.click(".page-head button.secondary")
    await ph.page.wait_for_selector("form input[name=name]")
    await _check(ph, f"{locale}-05-customer-edit")
    await ph.page.go_back()
    await ph.page.wait_for_selector(".facts")
    await ph.page.click("button.secondary.wide")
    await ph.page.wait_for_selector("input[name=contactName]")
    await _check(ph, f"{locale}-06-contact-new")
    await ph.page.go_back()
    await ph.page.wait_for_selector(".facts")
    await ph.page.click(".list a[href*='/contact/']")
    await ph.page.wait_for_selector("input[name=contactName]")
    await _check(ph, f"{locale}-06b-contact-edit")
    await ph.go("/sync")
    await ph.page.wait_for_selector("[data-testid=sync-facts]")
    await _check(ph, f"{locale}-07-sync")
    await ph.go("/devices")
    await ph.page.wait_for_selector("[data-testid=devices] li")
    await _check(ph, f"{locale}-08-devices")
    await ph.go("/settings")
    await ph.page.wait_for_selector(".segmented")
    await _check(ph, f"{locale}-09-settings")
    assert ph.errors == []


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_stocktake_screens_fit_a_phone(phone, locale):
    ph = await phone(locale)
    await ph.login("stocktaker")
    await ph.page.wait_for_selector("[data-testid=stocktake-list] li a")  # a stocktaker starts here
    await _check(ph, f"{locale}-10-stocktakes")
    await ph.page.click("[data-testid=stocktake-list] li a")
    await ph.page.wait_for_selector("[data-testid=locations] li")
    await ph.page.select_option("[data-testid=location]", index=1)
    await ph.page.fill("[data-testid=manual]", "AS00000001")  # the check character left off
    await ph.page.click("form.manual button[type=submit]")
    await ph.page.wait_for_selector("form.manual .error")
    await _check(ph, f"{locale}-11-stocktake")
    tag = await ph.page.evaluate(
        "outpost.store.stocktakes().then(([s]) => outpost.store.stocktakeItems(s.id)).then(i => i[0].tag)"
    )
    await ph.go(f"/t/{tag}")
    await ph.page.wait_for_selector("[data-testid=asset]")
    await _check(ph, f"{locale}-12-asset-tag")
    assert ph.errors == []


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_an_asset_admin_prints_labels_from_the_app(phone, locale, live):
    import pypdfium2
    import zxingcpp

    ph = await phone(locale)
    await ph.login("assetadmin")
    await ph.page.wait_for_selector("[data-testid=open-assets]")
    await ph.page.click("[data-testid=open-assets]")
    await ph.page.wait_for_selector("[data-testid=assets] li")
    await ph.page.fill("input[name=q]", "Laptop")
    await ph.page.wait_for_timeout(300)
    tags = await ph.page.eval_on_selector_all(
        "[data-testid=assets] li .muted", "els => els.map(e => e.textContent.split(' · ')[0])"
    )
    assert tags and all(t.startswith("AS") for t in tags)
    await _check(ph, f"{locale}-13-assets")
    async with ph.page.expect_download() as dl:
        await ph.page.click("[data-testid=print]")
    pdf = await (await dl.value).path()
    read = [
        r.text
        for page in pypdfium2.PdfDocument(pdf)
        for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())
    ]
    # the labels of the listed assets whose unit the asset admin manages (Guangzhou's); those they
    # only hold in custody elsewhere are left out, and the screen says how many
    managed = await _managed_tags(live, "assetadmin", tags)
    assert managed
    assert sorted(u.rsplit("/t/", 1)[1] for u in read) == sorted(managed)
    result = await ph.page.wait_for_selector("[data-testid=print-result]")
    skipped = len(tags) - len(managed)
    assert (str(skipped) in await result.text_content()) == (skipped > 0)
    async with ph.page.expect_download() as dl:
        await ph.page.click("[data-testid=print-places]")
    places = [
        r.text
        for page in pypdfium2.PdfDocument(await (await dl.value).path())
        for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())
    ]
    assert len(places) == 10 and all("/t/LC" in u for u in places)  # Guangzhou's ten places
    async with live["services"].db.read() as s:
        from sqlalchemy import select

        from backend.domain.assets.models import LabelBatch

        batches = (await s.execute(select(LabelBatch).order_by(LabelBatch.created_at))).scalars().all()
    assert [(b.source, b.kind, b.count) for b in batches] == [("app", "asset", len(managed)), ("app", "location", 10)]
    assert ph.errors == []


async def _managed_tags(live, username: str, tags: list[str]) -> list[str]:
    """Of ``tags``, those of assets in the user's org subtree."""
    from sqlalchemy import select

    from backend.auth.models import User
    from backend.domain.assets.models import Asset
    from backend.domain.org.models import OrgUnit

    async with live["services"].db.read() as s:
        path = (
            await s.execute(
                select(OrgUnit.path).join(User, User.org_unit_id == OrgUnit.id).where(User.username == username)
            )
        ).scalar_one()
        rows = await s.execute(
            select(Asset.tag, OrgUnit.path).join(OrgUnit, OrgUnit.id == Asset.org_unit_id).where(Asset.tag.in_(tags))
        )
        return [tag for tag, unit in rows.all() if unit.startswith(path)]


async def test_a_photo_taken_offline_goes_with_its_scan_and_reaches_the_server(phone, live, tmp_path):
    import io

    from PIL import Image
    from sqlalchemy import select

    from backend.domain.stocktake.models import StocktakeScan
    from backend.sync.attachments import store_path
    from backend.sync.models import Attachment

    picture = tmp_path / "broken-screen.jpg"
    Image.new("RGB", (2400, 1800), (180, 40, 40)).save(picture, "JPEG")
    ph = await phone("zh-CN")
    await ph.login("stocktaker")
    await ph.offline(True)
    await ph.page.click("[data-testid=stocktake-list] li a")
    await ph.page.wait_for_selector("[data-testid=locations] li")
    item = await ph.page.evaluate(
        "outpost.store.stocktakes().then(([s]) => outpost.store.stocktakeItems(s.id))"
        ".then(i => i.find(x => x.locationId))"
    )
    await ph.page.select_option("[data-testid=location]", item["locationId"])
    await ph.page.set_input_files("[data-testid=photo]", str(picture))
    await ph.page.wait_for_selector("[data-testid=photo-preview]")
    await ph.page.fill("[data-testid=manual]", item["tag"])
    await ph.page.click("form.manual button[type=submit]")
    await ph.page.wait_for_selector(f"[data-testid=scans] li[data-tag='{item['tag']}']")
    assert await ph.page.query_selector("[data-testid=photo-preview]") is None  # it went with that scan
    await _check(ph, "zh-CN-14-scan-photo")
    await ph.offline(False)
    await ph.synced(timeout=30_000)
    await ph.sync_now()
    assert await ph.page.query_selector("[data-testid=pending-photos]") is None
    async with live["services"].db.read() as s:
        scan = (await s.execute(select(StocktakeScan).where(StocktakeScan.tag == item["tag"]))).scalars().one()
        att = await s.get(Attachment, scan.photo)
    assert scan.condition == "ok" and att is not None and att.content_type == "image/jpeg"
    stored = store_path(live["services"].settings.app.var_dir, scan.photo).read_bytes()
    assert max(Image.open(io.BytesIO(stored)).size) == 1600  # shrunk on the phone before it was kept
    assert ph.errors == []


async def test_a_first_sync_shows_its_progress(browser, db_url, tmp_path):
    """Pages of 100 rows (the first one a fifth of that) and the second answer held back: the
    screens as they are in the middle of a first sync."""
    import asyncio

    from backend.app import create_app
    from backend.demo import load
    from tests import support
    from tests.e2e.conftest import PASSWORD

    settings = support.test_settings(db_url, tmp_path / "var")
    settings.sync.pull_page_size = 100
    app = create_app(settings)
    await load(app.state.services.db, app.state.services.auth, PASSWORD, customers_count=150)
    async with support.serve(app) as url:
        ctx = await browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        await ctx.add_init_script("localStorage.setItem('outpost.locale', 'zh-CN')")
        ph = Phone(ctx, await ctx.new_page(), url)
        go_on = asyncio.Event()
        pulls = 0

        async def hold_the_second_page(route):
            nonlocal pulls
            pulls += 1
            if pulls == 2:
                await go_on.wait()
            await route.continue_()

        await ctx.route("**/api/sync/pull", hold_the_second_page)
        await ph.page.goto(url + "/")
        await ph.page.fill("input[name=username]", "rep1")
        await ph.page.fill("input[name=password]", PASSWORD)
        await ph.page.click("button[type=submit]")
        await ph.page.wait_for_function("() => outpost.status.value.progress && outpost.status.value.progress.done > 0")
        progress = await ph.page.evaluate("outpost.status.value.progress")
        assert 0 < progress["done"] < progress["total"]
        # Whether the list was first read before or after the first page landed, it never says the
        # phone has no customers while they are downloading.
        waiting = ph.page.get_by_text("下载完成后，客户会显示在这里。")
        await waiting.or_(ph.page.locator("[data-testid=customer-list] li")).first.wait_for()
        assert await ph.page.locator("text=本机还没有客户数据。").count() == 0
        await ph.screen("first-sync-customers")
        await ph.go("/sync")
        await ph.page.wait_for_selector("[data-testid=sync-facts] progress")
        assert f"{progress['done']} / {progress['total']}" in await ph.page.inner_text("[data-testid=sync-facts]")
        await ph.screen("first-sync-progress")
        go_on.set()
        await ph.synced()
        assert await ph.page.evaluate("outpost.store.customerCount()") > 0
        assert await ph.page.query_selector("[data-testid=sync-facts] progress") is None
        assert ph.foreign == [] and ph.errors == []
        await ctx.close()


async def test_at_the_device_limit_the_user_picks_a_device_to_sign_out(phone, live):
    """Past the device limit a sign-in is refused with the account's devices; nothing is signed out
    until the person picks one, which then stops at once while the new phone carries on."""
    live["services"].settings.auth.max_devices_per_user = 1
    try:
        old = await phone("en")
        await old.login("rep2")
        new = await phone("zh-CN")
        await new.page.goto(new.url + "/")
        await new.page.fill("input[name=username]", "rep2")
        await new.page.fill("input[name=password]", PASSWORD)
        await new.page.click("button[type=submit]")
        await new.page.wait_for_selector("[data-testid=too-many-devices] li button")
        await new.screen("01c-too-many-devices")
        assert len(await new.page.query_selector_all("[data-testid=too-many-devices] li button")) == 1
        r = await old.page.evaluate("outpost.store.request('/api/auth/me', undefined, 'GET').then(r => r.status)")
        assert r == 200  # nothing signed out unasked
        await new.page.click("[data-testid=too-many-devices] li button")
        await new.page.wait_for_selector("[data-testid=sync-pill]")
        await new.synced()
        r = await old.page.evaluate("outpost.store.request('/api/auth/me', undefined, 'GET').then(r => r.body.error)")
        assert r == "device-revoked"
        assert new.errors == [] and old.errors == []
    finally:
        live["services"].settings.auth.max_devices_per_user = 10
