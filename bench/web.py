"""``python -m bench.web [--dist pwa/dist]``: bytes on the wire for a first load of the app, before
and after compression (issue 14, class 8).

The app (``create_app``, as deployed: ServeStatic inside Litestar, backend/web.py) runs on a real
port under uvicorn; an HTTP client fetches what a first visit brings down: the page (``/``), the
service worker (``sw.js``) and the Workbox runtime it imports, and every URL of the Workbox precache
list read from the built ``sw.js`` (which holds every file the page itself loads: entry chunk, CSS,
store worker, SQLite's worker, proxy and wasm, the camera chunk, zxing's wasm, the manifest, icons).
Each URL counts once; index.html counts twice (``/`` for the page, ``index.html`` for the precache).

Three runs of the same list: ``identity`` (what went out before: no compression anywhere),
``gzip`` and ``br, gzip`` (what Chromium asks for: ``gzip, deflate, br, zstd``). Bytes on the wire
are the body as sent plus the status line and headers; the decoded body is checked against the file.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import brotli
import httpx

from backend.app import create_app
from backend.settings import ROOT
from bench.sync.env import load, machine
from tests import support

ENCODINGS = {"identity": "identity", "gzip": "gzip", "br": "gzip, deflate, br, zstd"}
PRECACHE = re.compile(r'url:"([^"]+)"')
WORKBOX = re.compile(r'"\./(workbox-[0-9a-f]+)"')


def first_load(dist: Path) -> list[str]:
    """The URLs a first visit fetches, from the built app's own service worker."""
    sw = (dist / "sw.js").read_text()
    urls = ["/", "/sw.js", *(f"/{m}.js" for m in WORKBOX.findall(sw))]
    for url in PRECACHE.findall(sw):
        if f"/{url}" not in urls:
            urls.append(f"/{url}")
    return urls


@dataclass
class Fetched:
    url: str
    status: int
    encoding: str
    body: int
    headers: int
    content_type: str
    cache_control: str


def _file(dist: Path, url: str) -> Path:
    return dist / ("index.html" if url == "/" else url.lstrip("/"))


async def fetch_all(base: str, urls: list[str], accept: str, dist: Path) -> list[Fetched]:
    out = []
    async with httpx.AsyncClient(base_url=base) as client:
        for url in urls:
            async with client.stream("GET", url, headers={"accept-encoding": accept}) as r:
                raw = b"".join([chunk async for chunk in r.aiter_raw()])
            encoding = r.headers.get("content-encoding", "identity")
            decoded = {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding, bytes)(raw)
            assert r.status_code == 200, (url, r.status_code)
            assert decoded == _file(dist, url).read_bytes(), url
            status_line = len(f"HTTP/1.1 {r.status_code} {r.reason_phrase}\r\n")
            head = status_line + sum(len(k) + len(v) + 4 for k, v in r.headers.raw) + 2
            out.append(
                Fetched(
                    url, r.status_code, encoding, len(raw), head, r.headers["content-type"], r.headers["cache-control"]
                )
            )
    return out


def kb(n: int) -> str:
    return f"{n / 1024:,.1f}"


async def run(dist: Path) -> None:
    urls = first_load(dist)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        template = await asyncio.to_thread(support.make_template, "sqlite", tmp)
        url, _drop = await support.new_database("sqlite", template, tmp)
        settings = support.test_settings(url, tmp / "var")
        settings.app.pwa_dir = dist
        info = await machine(None)
        print(" | ".join(f"{k}: {v}" for k, v in info.items()))
        async with support.serve(create_app(settings)) as base:
            runs = {name: await fetch_all(base, urls, accept, dist) for name, accept in ENCODINGS.items()}
    print(f"\nfirst load of {dist}: {len(urls)} URLs (load {load()})\n")
    print("| file | type | cache | identity KB | gzip KB | br KB |")
    print("|---|---|---|---:|---:|---:|")
    for i, u in enumerate(urls):
        ident, gz, br = (runs[name][i] for name in ENCODINGS)
        cache = "immutable" if "immutable" in ident.cache_control else ident.cache_control
        ctype = ident.content_type.split(";")[0]
        print(f"| `{u}` | {ctype} | {cache} | {kb(ident.body)} | {kb(gz.body)} | {kb(br.body)} ({br.encoding}) |")
    totals = {name: (sum(f.body for f in r), sum(f.headers for f in r)) for name, r in runs.items()}
    ident_total = sum(totals["identity"])
    print("\n| Accept-Encoding | bodies KB | headers KB | on the wire KB | vs identity |")
    print("|---|---:|---:|---:|---:|")
    for name, accept in ENCODINGS.items():
        body, head = totals[name]
        share = f"{100 * (body + head) / ident_total:.0f} %"
        print(f"| `{accept}` | {kb(body)} | {kb(head)} | **{kb(body + head)}** | {share} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "pwa" / "dist", help="the built app (scripts/setup)")
    args = parser.parse_args()
    if not (args.dist / "sw.js").is_file():
        raise SystemExit(f"no built app in {args.dist}: run scripts/setup")
    asyncio.run(run(args.dist))


if __name__ == "__main__":
    main()
