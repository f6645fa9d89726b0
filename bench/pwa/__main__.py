"""``python -m bench.pwa [--rows 60000]``: the PWA measured in Debian's headless Chromium against the
real server (``outpost serve`` in its own process, as deployed, on SQLite), with rep1's scope seeded by
bench/sync/seed.py.

1. JS shipped on first load: the entry chunk and what it imports statically, and the store worker's
   chunk (it starts at once too), gzip; lazy chunks and the SQLite wasm are listed apart.
2. First sync: from pressing "Sign in" to the last page applied in the on-device store (OPFS),
   end to end, with the progress figures the UI showed along the way; then how long the search
   index takes to catch up (search is exact meanwhile, scanning what is not indexed yet).
   The browser runs with a profile on disk, as an installed app does: in Playwright's default
   off-the-record context OPFS lives in the browser process's memory and every read and write of
   the database is a round trip to it (a page of 5,000 rows took 1-2 s instead of 0.2 s).
3. Incremental sync of 100 rows changed on the server: `store.syncNow()` timed in the page, 7 rounds
   of different rows (the median is the figure: one round on this VM varies by ±15 ms).
4. Search: `store.customers(q)` over the local store, per keystroke of a few typed queries.
5. Yardstick: the measurement issue 4 chose the store by (SQLite-WASM on OPFS in a dedicated worker,
   60,000 field-shaped rows of 24 MB JSON, 3 indexes, one prepared statement row by row: 2.6-3.1 s on
   the machine of the day), re-run here (reference_worker.mjs), so figures taken on machines of
   different speed can be compared: the first sync is printed as a multiple of it too.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import re
import statistics
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright
from sqlalchemy import select, update

from backend.db.engine import Database
from backend.domain.customers.models import Customer
from backend.settings import ROOT
from bench.sync.env import bench_settings, database, load, machine, uvicorn_server
from bench.sync.seed import PASSWORD, seed
from tests.e2e.conftest import ARGS, CHROMIUM

DIST = ROOT / "pwa" / "dist"
SQLITE_WASM = ROOT / "pwa" / "node_modules" / "@sqlite.org" / "sqlite-wasm" / "dist"
REFERENCE = Path(__file__).with_name("reference_worker.mjs")
# An origin of its own (no service worker, no app), served by Playwright; 127.0.0.1 is a secure
# context, as OPFS needs.
REFERENCE_ORIGIN = "http://127.0.0.1:9"
RUN_REFERENCE = """(rows) => new Promise((resolve, reject) => {
  const w = new Worker('/reference_worker.mjs', { type: 'module' });
  w.onmessage = (e) => resolve(e.data);
  w.onerror = (e) => reject(new Error(e.message));
  w.postMessage({ rows });
})"""
TIME_SYNC = (
    "(async () => { const t = performance.now(); await outpost.store.syncNow(); return performance.now() - t; })()"
)
TIME_SEARCH = (
    "(async (q) => { const t = performance.now(); await outpost.store.customers(q, 100);"
    " return performance.now() - t; })"
)


def js_sizes() -> dict[str, int]:
    html = (DIST / "index.html").read_text()
    entry = re.findall(r'<script type="module" crossorigin src="/(assets/[^"]+\.js)"', html)
    preload = re.findall(r'<link rel="modulepreload" crossorigin href="/(assets/[^"]+\.js)"', html)
    first = set(entry + preload)
    worker = {f"assets/{p.name}" for p in (DIST / "assets").glob("worker-*.js")}
    sizes = {"entry": 0, "worker": 0, "lazy": 0, "wasm": 0}
    for p in (DIST / "assets").iterdir():
        rel = f"assets/{p.name}"
        gz = len(gzip.compress(p.read_bytes(), 9))
        if rel in first:
            sizes["entry"] += gz
        elif rel in worker:
            sizes["worker"] += gz
        elif p.suffix == ".wasm":
            sizes["wasm"] += gz
        elif p.suffix == ".js":
            sizes["lazy"] += gz
    return sizes


async def reference(ctx, rows: int) -> dict:
    """The yardstick (see the module's docstring), in a tab of the same browser profile."""

    async def serve(route):
        name = route.request.url.removeprefix(REFERENCE_ORIGIN + "/")
        if name == "":
            await route.fulfill(body="<!doctype html><title>reference</title>", content_type="text/html")
        elif name == REFERENCE.name:
            await route.fulfill(path=REFERENCE, content_type="text/javascript")
        elif name.startswith("sqlite/") and (SQLITE_WASM / name.removeprefix("sqlite/")).is_file():
            path = SQLITE_WASM / name.removeprefix("sqlite/")
            kind = "application/wasm" if path.suffix == ".wasm" else "text/javascript"
            await route.fulfill(path=path, content_type=kind)
        else:
            await route.fulfill(status=404, body="")

    await ctx.route(REFERENCE_ORIGIN + "/**", serve)
    page = await ctx.new_page()
    await page.goto(REFERENCE_ORIGIN + "/")
    result = await page.evaluate(RUN_REFERENCE, rows)
    await page.close()
    return result


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=60_000)
    args = ap.parse_args()
    info = await machine(None)
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()) + f"; chromium {CHROMIUM}; load {load()}")
    sizes = js_sizes()
    print(
        f"JS on first load (gzip): entry {sizes['entry'] / 1024:.1f} KB + store worker {sizes['worker'] / 1024:.1f} KB"
        f" = {(sizes['entry'] + sizes['worker']) / 1024:.1f} KB (target <= 150 KB); "
        f"not counted: other chunks {sizes['lazy'] / 1024:.1f} KB, SQLite wasm {sizes['wasm'] / 1024:.1f} KB"
    )
    async with database("sqlite", "") as url:
        settings = bench_settings(url, Path(tempfile.mkdtemp(prefix="outpost-pwa-bench-")))
        db = Database(url)
        seeded = await seed(db, settings, args.rows)
        await db.dispose()
        print(
            f"seeded {seeded.rows:,} rows in rep1's scope "
            f"({seeded.customers:,} customers, {seeded.contacts:,} contacts)"
        )
        async with uvicorn_server(settings) as http, async_playwright() as p:
            base = str(http.base_url).rstrip("/")
            ctx = await p.chromium.launch_persistent_context(
                tempfile.mkdtemp(prefix="outpost-pwa-profile-"),
                executable_path=CHROMIUM,
                args=ARGS,
                viewport={"width": 360, "height": 740},
                locale="zh-CN",
            )
            # the yardstick first, twice, in a browser with nothing else to do
            refs = [await reference(ctx, seeded.rows) for _ in range(2)]
            page = await ctx.new_page()
            await page.goto(base + "/")
            await page.fill("input[name=username]", "rep1")
            await page.fill("input[name=password]", PASSWORD)
            progress: list[tuple[float, int, int]] = []
            t0 = time.perf_counter()
            await page.click("button[type=submit]")
            while True:
                st = await page.evaluate("outpost.status.value")
                if st.get("progress"):
                    progress.append((time.perf_counter() - t0, st["progress"]["done"], st["progress"]["total"]))
                if st.get("lastSyncAt"):
                    break
                await asyncio.sleep(0.05)
            first = time.perf_counter() - t0
            count = await page.evaluate("outpost.store.customerCount()")
            backlog = await page.evaluate("outpost.store.searchBacklog()")
            while await page.evaluate("outpost.store.searchBacklog()"):
                await asyncio.sleep(0.02)
            indexed = time.perf_counter() - t0
            print(
                f"first sync of {seeded.rows:,} rows, end to end: {first:.2f} s (target <= 3 s); "
                f"{count:,} customers in the on-device store; progress shown {len(progress)} times"
                + (f", first at {progress[0][0]:.2f} s ({progress[0][1]:,}/{progress[0][2]:,})" if progress else "")
            )
            print(
                f"search index caught up at {indexed:.2f} s "
                f"({backlog:,} customers were still to index when the sync ended)"
            )
            # 100 rows changed on the server, 7 times (different rows each time); between rounds the
            # search index catches up, as it would between two syncs on a phone
            from backend.kernel.actor import Actor
            from backend.kernel.tx import write_tx

            actor = Actor(user_id="bench", username="bench", roles=frozenset({"admin"}), org_unit_id="", org_path="/")
            db = Database(url)
            inc = []
            for round_ in range(7):
                async with db.write() as s:
                    ids = (await s.execute(select(Customer.id).offset(round_ * 100).limit(100))).scalars().all()
                async with write_tx(db, actor, "bench") as tx:
                    await tx.session.execute(
                        update(Customer)
                        .where(Customer.id.in_(ids))
                        .values(address=f"Changed Road {round_}", version=tx.version)
                    )
                    rows = (
                        await tx.session.execute(
                            select(Customer.id, Customer.assigned_rep_id).where(Customer.id.in_(ids))
                        )
                    ).all()
                    for cid, rep in rows:
                        tx.changed("customer", cid, (rep, None), (rep, None))
                while await page.evaluate("outpost.store.searchBacklog()"):
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.2)
                inc.append(await page.evaluate(TIME_SYNC))
            await db.dispose()
            idle = [await page.evaluate(TIME_SYNC) for _ in range(5)]
            print(
                f"incremental sync of 100 changed rows, 7 rounds: median {statistics.median(inc):.0f} ms, "
                f"min {min(inc):.0f}, max {max(inc):.0f} (target <= 50 ms); "
                f"with nothing changed: median {statistics.median(idle):.0f} ms"
            )
            queries = ["华南物流", "广州", "科技有限", "138", "VIP", "Pearl"]
            per_key = []
            for q in queries:
                for i in range(1, len(q) + 1):
                    ms = await page.evaluate(TIME_SEARCH, q[:i])
                    per_key.append(ms)
            per_key.sort()
            print(
                f"search over {count:,} customers, per keystroke ({len(per_key)} keystrokes): "
                f"median {statistics.median(per_key):.1f} ms, p90 {per_key[int(len(per_key) * 0.9)]:.1f} ms, "
                f"max {per_key[-1]:.1f} ms (target <= 50 ms)"
            )
            ref = min(refs, key=lambda r: r["total"])
            tries = ", ".join(f"{r['total'] / 1000:.2f}" for r in refs)
            total = ref["total"] / 1000
            print(
                f"yardstick (issue 4's store measurement, 2.6-3.1 s where it was written): {ref['count']:,} rows, "
                f"{ref['bytes'] / 1e6:.1f} MB JSON, parsed and inserted row by row with 3 indexes in {total:.2f} s "
                f"(best of {tries}; "
                f"parse {ref['parse'] / 1000:.2f}, insert and commit {ref['insert'] / 1000:.2f}); "
                f"this run's first sync = {first / total:.2f} x yardstick "
                f"(the 3 s target is {3 / 3.1:.2f}-{3 / 2.6:.2f} x the issue's 2.6-3.1 s)"
            )
            await ctx.close()


if __name__ == "__main__":
    asyncio.run(main())
