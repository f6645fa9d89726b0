"""Stocktaking with the phone camera, offline: Chromium's fake camera plays a video made in the test
from real rendered labels (a location label, assets booked there and elsewhere, a tag not in the
book, a misread and a foreign code), the app decodes them with its own ZXing WebAssembly, and two
stocktakers' phones that scanned overlapping assets offline yield one consistent reconciliation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import async_playwright
from sqlalchemy import select

from backend.domain.assets import services as assets
from backend.domain.assets.models import Asset
from backend.domain.stocktake.models import Stocktake, StocktakeItem
from scanner.labels import THERMAL_50X30, Label, render_label
from tests.e2e.conftest import ARGS, CHROMIUM, PASSWORD, Phone

W, H, FPS = 480, 360, 10


def _frame(label: Image.Image | None) -> bytes:
    """One 4:2:0 frame: a white page with the label held in the middle."""
    page = Image.new("RGB", (W, H), (235, 235, 230))
    if label is not None:
        img = label.convert("RGB")
        scale = min((W - 40) / img.width, (H - 40) / img.height)
        img = img.resize((int(img.width * scale), int(img.height * scale)), Image.Resampling.BILINEAR)
        page.paste(img, ((W - img.width) // 2, (H - img.height) // 2))
    y, cb, cr = page.convert("YCbCr").split()
    half = (W // 2, H // 2)
    return y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()


def write_y4m(path: Path, shots: list[tuple[Image.Image | None, float]]) -> None:
    """A Y4M video (what Chromium's --use-file-for-fake-video-capture plays, looping)."""
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{W} H{H} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for image, seconds in shots:
            frame = _frame(image)
            for _ in range(int(seconds * FPS)):
                f.write(b"FRAME\n" + frame)


async def _campaign(services: Any) -> dict[str, Any]:
    async with services.db.read() as s:
        st = (await s.execute(select(Stocktake))).scalar_one()
        items = list((await s.execute(select(StocktakeItem).where(StocktakeItem.stocktake_id == st.id))).scalars())
        outside = (await s.execute(select(Asset.tag).where(Asset.tag.notin_([i.tag for i in items])))).scalars().first()
    loc = st.locations[0]
    here = [i for i in items if i.location_id == loc["id"]]
    elsewhere = [i for i in items if i.location_id != loc["id"]]
    return {"st": st, "loc": loc, "here": here, "elsewhere": elsewhere, "outside": outside, "items": items}


def _label(url: str, tag: str, name: str = "") -> Image.Image:
    return render_label(Label(tag=tag, url=f"{url}/t/{tag}", name=name, org_unit="天河区 Tianhe"), THERMAL_50X30)


@pytest.fixture
async def camera_video(live, tmp_path) -> dict[str, Any]:
    c = await _campaign(live["services"])
    url = live["url"]
    surplus = assets.CODES.assets.make(88_000_001)
    tag = c["here"][0].tag
    misread = tag[:-1] + ("A" if tag[-1] != "A" else "B")
    blank = (None, 0.6)
    shots = [
        blank,
        (_label(url, c["loc"]["code"], c["loc"]["name"]), 1.5),
        blank,
        (_label(url, c["here"][0].tag, c["here"][0].name), 1.2),
        blank,
        (_label(url, c["here"][1].tag, c["here"][1].name), 1.2),
        blank,
        (_label(url, c["elsewhere"][0].tag, c["elsewhere"][0].name), 1.2),
        blank,
        (_label(url, surplus, "盘盈 surplus"), 1.2),
        blank,
        (_label(url, misread, "误读 misread"), 1.2),
        blank,
        (render_label(Label(tag="OTHER", url="https://example.com/x", name="别家 foreign"), THERMAL_50X30), 1.2),
        blank,
    ]
    path = tmp_path / "labels.y4m"
    write_y4m(path, shots)
    return {**c, "video": path, "surplus": surplus, "misread": misread}


async def _scanned_tags(ph: Phone) -> set[str]:
    return set(
        await ph.page.eval_on_selector_all("[data-testid=scans] li:not(.undone)", "els => els.map(e => e.dataset.tag)")
    )


async def test_two_stocktakers_scan_offline_with_the_camera_and_reconcile(live, camera_video):
    c = camera_video
    want = {c["here"][0].tag, c["here"][1].tag, c["elsewhere"][0].tag, c["surplus"]}
    foreign_requests: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *ARGS,
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={c['video']}",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        phones = []
        for user in ("stocktaker", "stocktaker2"):
            ctx = await browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
            await ctx.add_init_script("localStorage.setItem('outpost.locale', 'zh-CN')")
            await ctx.grant_permissions(["camera"], origin=live["url"])
            ph = Phone(ctx, await ctx.new_page(), live["url"])
            ph.page.on("request", lambda r: r.url.startswith(live["url"]) or foreign_requests.append(r.url))
            await ph.login(user, PASSWORD)
            phones.append(ph)
        a, b = phones
        # offline from here on: the campaign opens from the phone's own store, after a reload too
        for ph in phones:
            await ph.offline(True)
            await ph.page.reload()
            await ph.page.wait_for_selector("[data-testid=stocktake-list] li a")
        await a.shot("zh-CN-20-stocktakes")
        for ph in phones:
            await ph.page.click("[data-testid=stocktake-list] li a")
            await ph.page.wait_for_selector("[data-testid=camera]")
            await ph.page.click("[data-testid=camera]")
        # the camera reads the location label first, then the assets; each read is shown and heard
        await a.page.wait_for_function(
            f"""() => {{ const tags = [...document.querySelectorAll('[data-testid=scans] li')].map(e => e.dataset.tag);
                 return {sorted(want)!r}.every(t => tags.includes(t)); }}""",
            timeout=60_000,
        )
        await a.page.wait_for_function(
            "() => ['location', 'ok', 'error'].every(s => (window.__outpostSounds || []).includes(s))", timeout=30_000
        )
        await a.shot("zh-CN-21-scanning")
        here = await a.page.get_attribute("[data-testid=here-progress]", "data-found")
        assert int(here) >= 2  # both assets booked at the scanned location
        assert await a.page.input_value("[data-testid=location]") == c["loc"]["id"]
        await b.page.wait_for_function(
            f"""() => {{ const tags = [...document.querySelectorAll('[data-testid=scans] li')].map(e => e.dataset.tag);
                 return {sorted(want)!r}.every(t => tags.includes(t)); }}""",
            timeout=60_000,
        )
        for ph in phones:
            await ph.page.click("[data-testid=camera]")  # stop
        # a misread never became a scan; the pill counts what waits for the network
        assert c["misread"] not in await _scanned_tags(a)
        assert int(await a.page.get_attribute("[data-testid=sync-pill]", "data-pending")) >= 4
        # a torn label: the asset found by its serial number, typed
        torn = c["here"][2]
        await a.page.fill("[data-testid=manual]", torn.serial)
        await a.page.click("form.manual button[type=submit]")
        await a.page.wait_for_selector(f"[data-testid=scans] li[data-tag='{torn.tag}']")
        # a typed tag with a wrong check character is caught on the phone
        await a.page.fill("[data-testid=manual]", c["misread"])
        await a.page.click("form.manual button[type=submit]")
        await a.page.wait_for_selector("form.manual .error")
        # undo the last scan (the torn one)
        await a.page.click("[data-testid=undo]")
        await a.page.wait_for_selector(f"[data-testid=scans] li.undone[data-tag='{torn.tag}']")
        await a.shot("zh-CN-22-scan-undo")
        # back online: both phones sync, and hold the same scans
        for ph in phones:
            await ph.offline(False)
            await ph.synced(timeout=30_000)
        for ph in phones:
            await ph.sync_now()
            await ph.go(f"/stocktake/{c['st'].id}")
            await ph.page.wait_for_selector("[data-testid=scans] li")
        await a.shot("zh-CN-23-synced")
        sa, sb = await _scanned_tags(a), await _scanned_tags(b)
        assert want <= sa and sa == sb
        assert a.errors == [] and b.errors == []
        await browser.close()
    assert foreign_requests == []  # ZXing's wasm came from our origin, not a CDN

    # the reconciliation on the server: each asset once, whoever scanned it
    from backend.domain.stocktake.reconciliation import reconcile

    async with live["services"].db.read() as s:
        report = await reconcile(s, c["st"].id)
    lines = {line["tag"]: line for line in report["lines"]}
    assert lines[c["here"][0].tag]["result"] == "matched" and lines[c["here"][0].tag]["scans"] >= 2
    assert len(lines[c["here"][0].tag]["scannedBy"]) == 2
    assert lines[c["here"][1].tag]["result"] == "matched"
    assert lines[c["elsewhere"][0].tag]["result"] == "mislocated"
    assert lines[c["surplus"]]["result"] == "surplus" and lines[c["surplus"]]["inBook"] is False
    assert lines[c["here"][2].tag]["result"] == "missing"  # its scan was undone
    assert c["misread"] not in lines
    assert report["totals"]["matched"] == 2 and report["totals"]["surplus"] == 1
