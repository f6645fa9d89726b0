"""Browser hardening (issue 14, class 8) and the built app's files (backend/web.py).

Every answer — API, problem answers from handlers and from routing, static files — carries the CSP,
nosniff, referrer and permissions policies. The built app goes out precompressed (Brotli/gzip by
Accept-Encoding), hashed files immutable, the rest (index.html, sw.js, the manifest) revalidated.
The app under test serves a small fake build made here, so nothing depends on `vite build`.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import brotli
import pytest
from litestar import get

from backend.app import create_app
from backend.settings import Settings
from backend.web import HASHED, SECURITY_HEADERS, compress
from tests import support

JS = "/assets/index-Dzvu_N6-.js"
WASM = "/assets/sqlite3-k2cTanUO.wasm"
WORKBOX = "/workbox-2fbc6a65.js"
INDEX = b'<!doctype html><html><head><script type="module" src="/assets/index-Dzvu_N6-.js"></script></head></html>'
IDENTITY = {"accept-encoding": "identity"}


def fake_build(root: Path) -> dict[str, bytes]:
    """What `vite build` writes, in small: hashed assets, Workbox, sw.js, the manifest, an icon."""
    files = {
        "/index.html": INDEX,
        JS: b"export function f(){return 'outpost';}\n" * 400,
        WASM: b"\x00asm\x01\x00\x00\x00" + bytes(range(64)) * 300,
        WORKBOX: b"define(['exports'],function(e){'use strict';});\n" * 100,
        "/sw.js": b"importScripts('./workbox-2fbc6a65.js');self.precache=[{url:'index.html'}];\n" * 40,
        "/manifest.webmanifest": json.dumps({"name": "Outpost 外勤", "description": "y" * 500}).encode(),
        "/icons/icon-192.png": b"\x89PNG\r\n\x1a\n" + os.urandom(200),
    }
    for url, body in files.items():
        path = root / url.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return files


@pytest.fixture
def dist(tmp_path: Path) -> dict[str, bytes]:
    files = fake_build(tmp_path / "dist")
    compress(tmp_path / "dist")
    return files


@pytest.fixture
def settings(db_url: str, tmp_path: Path, dist: dict[str, bytes]) -> Settings:
    s = support.test_settings(db_url, tmp_path / "var")
    s.app.pwa_dir = tmp_path / "dist"
    return s


@pytest.fixture
async def app(settings: Settings) -> Any:
    app = create_app(settings)

    @get("/api/test-boom", exclude_from_auth=True, include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("boom")

    app.register(boom)
    return app


async def on_the_wire(http: Any, path: str, accept: str) -> tuple[Any, bytes]:
    """The answer and its body as sent (not decoded)."""
    async with http.stream("GET", path, headers={"accept-encoding": accept}) as r:
        return r, b"".join([chunk async for chunk in r.aiter_raw()])


def assert_hardened(r: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers.get(name))
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self' 'wasm-unsafe-eval';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval'" not in csp.replace("wasm-unsafe-eval'", "")
    assert "camera=(self)" in r.headers["permissions-policy"]
    assert "geolocation=(self)" in r.headers["permissions-policy"]


async def test_api_answers_are_hardened(http: Any) -> None:
    r = await http.get("/api/health")
    assert r.status_code == 200
    assert_hardened(r)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/org-units", 401),  # no token
        ("GET", "/no/such/page", 404),  # not a route, not a file: the static mount answers
        ("GET", "/api/no-such-endpoint", 404),
        ("POST", "/api/health", 405),  # refused while routing, before any route middleware
        ("GET", "/api/test-boom", 500),
    ],
)
async def test_problem_answers_are_hardened(http: Any, method: str, path: str, status: int) -> None:
    r = await http.request(method, path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == status
    assert_hardened(r)


async def test_too_large_body_is_hardened(http: Any) -> None:
    big = b"x" * (256 * 1024 + 1)  # settings.app.max_body_bytes in tests + 1
    r = await http.post("/api/auth/login", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"] == "payload-too-large"
    assert_hardened(r)


async def test_routes_of_the_app_still_win_over_the_files(http: Any) -> None:
    r = await http.get("/t/AB-12345", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/#/t/AB-12345"
    assert_hardened(r)
    r = await http.get("/schema/openapi.json")
    assert r.status_code == 200 and r.json()["info"]["title"] == "Outpost"
    assert_hardened(r)


async def test_index_is_served_at_root_revalidated_not_immutable(http: Any, dist: dict[str, bytes]) -> None:
    for path in ("/", "/index.html"):
        r = await http.get(path, headers=IDENTITY)
        assert r.status_code == 200, path  # no redirect: Workbox precaches /index.html as it is
        assert r.content == dist["/index.html"]
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert r.headers["cache-control"] == "no-cache"
        assert "immutable" not in r.headers["cache-control"]
        assert "access-control-allow-origin" not in r.headers
        assert_hardened(r)
        again = await http.get(path, headers={**IDENTITY, "if-none-match": r.headers["etag"]})
        assert again.status_code == 304
        assert_hardened(again)


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [("br, gzip", "br"), ("gzip, deflate, br, zstd", "br"), ("gzip", "gzip"), ("identity", None), ("", None)],
)
async def test_hashed_js_goes_out_compressed_by_accept_encoding(
    http: Any, dist: dict[str, bytes], accept: str, encoding: str | None
) -> None:
    r, raw = await on_the_wire(http, JS, accept)
    assert r.status_code == 200
    assert r.headers.get("content-encoding") == encoding
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert int(r.headers["content-length"]) == len(raw)
    body = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](raw)
    assert body == dist[JS]
    if encoding:
        assert len(raw) < len(dist[JS]) / 4
    assert r.headers["cache-control"] == "max-age=315360000, public, immutable"
    assert_hardened(r)


async def test_wasm_goes_out_as_application_wasm_compressed(http: Any, dist: dict[str, bytes]) -> None:
    r, raw = await on_the_wire(http, WASM, "br, gzip")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/wasm"
    assert r.headers["content-encoding"] == "br"
    assert brotli.decompress(raw) == dist[WASM]
    assert "immutable" in r.headers["cache-control"]
    assert_hardened(r)


async def test_only_hashed_files_are_immutable(http: Any, dist: dict[str, bytes]) -> None:
    for path in dist:
        r = await http.get("/" if path == "/index.html" else path)
        assert r.status_code == 200, path
        assert r.content == dist[path], path
        immutable = "immutable" in r.headers["cache-control"]
        assert immutable == (path in (JS, WASM, WORKBOX)), (path, r.headers["cache-control"])
        if not immutable:
            assert r.headers["cache-control"] == "no-cache", path
        assert_hardened(r)
    r = await http.get("/manifest.webmanifest")
    assert r.headers["content-type"] == "application/manifest+json"


def test_hashed_names_of_a_real_vite_build() -> None:
    """Names as `vite build` and vite-plugin-pwa wrote them (pwa/dist, 2026-12); what is not hashed."""
    for url in (
        "/assets/index-DzvuuN6_.js",
        "/assets/index-BdLCPoSE.css",
        "/assets/sqlite3-k2cTanUO.wasm",
        "/assets/zxing_reader-BxB2YfIY.wasm",
        "/assets/sqlite3-opfs-async-proxy-DeAec6oc.js",
        "/assets/workbox-window.prod.es5-Bd17z0YL.js",
        "/workbox-2fbc6a65.js",
    ):
        assert HASHED.match(url), url
    for url in ("/", "/index.html", "/sw.js", "/manifest.webmanifest", "/icons/icon-192.png", "/registerSW.js"):
        assert not HASHED.match(url), url


def test_compress_writes_variants_once(tmp_path: Path) -> None:
    files = fake_build(tmp_path)
    done = compress(tmp_path)
    names = {Path(p).relative_to(tmp_path).as_posix() for p in done}
    assert "icons/icon-192.png" not in names  # images are compressed already
    assert {"index.html", JS.lstrip("/"), WASM.lstrip("/"), "sw.js"} <= names
    assert brotli.decompress((tmp_path / (WASM.lstrip("/") + ".br")).read_bytes()) == files[WASM]
    assert gzip.decompress((tmp_path / (JS.lstrip("/") + ".gz")).read_bytes()) == files[JS]
    assert compress(tmp_path) == []  # a second run has nothing to do
    (tmp_path / "sw.js").write_bytes(b"// a new build\n" * 100)
    assert [Path(p).name for p in compress(tmp_path)] == ["sw.js"]


async def test_without_a_build_the_api_runs_and_answers_are_hardened(db_url: str, tmp_path: Path) -> None:
    import httpx

    s = support.test_settings(db_url, tmp_path / "var2")
    s.app.pwa_dir = tmp_path / "no-dist"
    app: Any = create_app(s)
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/api/health")
        assert r.status_code == 200
        assert_hardened(r)
        r = await c.get("/")
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        assert_hardened(r)


async def test_a_build_changed_in_place_is_served_at_once(http: Any, settings: Settings) -> None:
    """A release copied over the running app: the new sw.js goes out, never its stale .br/.gz
    (made from the old one), and files new since the start are found."""
    root = Path(settings.app.pwa_dir)
    (root / "sw.js").write_bytes(b"// release 2\n" * 50)
    (root / "assets" / "index-N3wBu1ld.js").write_bytes(b"// new chunk\n")
    r, raw = await on_the_wire(http, "/sw.js", "br, gzip")
    assert r.headers.get("content-encoding") is None and raw == b"// release 2\n" * 50
    assert r.headers["cache-control"] == "no-cache"
    compress(root)
    r, raw = await on_the_wire(http, "/sw.js", "br, gzip")
    assert r.headers["content-encoding"] == "br" and brotli.decompress(raw) == b"// release 2\n" * 50
    r = await http.get("/assets/index-N3wBu1ld.js")
    assert r.status_code == 200 and r.content == b"// new chunk\n"
