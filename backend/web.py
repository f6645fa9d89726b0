"""Browser hardening and the built app's files.

* ``security_headers``: a Litestar ``before_send`` hook that puts the security headers (CSP,
  nosniff, referrer and permissions policies) on every HTTP answer the app sends — API answers,
  problem answers (also those raised while routing: 404, 405), static files, the OpenAPI pages.
  ``before_send`` wraps the ASGI ``send`` outside the router, so nothing gets past it.
* ``app_files``: the built PWA (pwa/dist) served by ServeStatic from a catch-all Litestar route: precompressed
  Brotli/gzip variants chosen by Accept-Encoding (``Vary: Accept-Encoding``), ``immutable`` for
  Vite's content-hashed files, ``no-cache`` for the rest (index.html, sw.js, the manifest, icons) so
  an update is seen at once. A path that is no file is a 404 problem answer from the app.
* ``compress``: makes the ``.br``/``.gz`` variants at build time (``python -m backend.web DIR``).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from wsgiref.headers import Headers

from litestar import route
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from servestatic.asgi import ServeStaticASGI
from servestatic.compress import Compressor
from servestatic.responders import FileEntry, MissingFileError, Redirect, StaticFile

SELF = "'self'"
#: The Content-Security-Policy: our origin only. Directive → sources.
CSP: dict[str, tuple[str, ...]] = {
    "default-src": (SELF,),
    # SQLite-WASM and zxing-wasm compile WebAssembly: 'wasm-unsafe-eval' allows that and nothing else
    # (no eval, no new Function, no inline script).
    "script-src": (SELF, "'wasm-unsafe-eval'"),
    # The store worker and SQLite's OPFS proxy worker are files of ours (new Worker(url)).
    "worker-src": (SELF,),
    # API, sync, the SSE pokes and the wasm fetches.
    "connect-src": (SELF,),
    # blob: the photo taken at a stocktake is previewed from a blob URL before it is uploaded.
    "img-src": (SELF, "blob:"),
    # No 'unsafe-inline': the app has no <style> elements or style="…" attributes; Preact sets its
    # object styles (e.g. the tab bar's gridTemplateColumns) through the CSSOM, which CSP allows.
    "style-src": (SELF,),
    "font-src": (SELF,),
    "manifest-src": (SELF,),
    # The camera preview is a MediaStream (srcObject), not a URL, so media-src stays at ours.
    "media-src": (SELF,),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": (SELF,),
    "frame-src": ("'none'",),
    "frame-ancestors": ("'none'",),
}
#: Permissions-Policy: the camera (scanning) and geolocation (visits) for our origin, nothing else.
PERMISSIONS: dict[str, str] = {
    "camera": "(self)",
    "geolocation": "(self)",
    "microphone": "()",
    "payment": "()",
    "usb": "()",
    "browsing-topics": "()",
}


def content_security_policy(table: dict[str, tuple[str, ...]] = CSP) -> str:
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in table.items())


SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": content_security_policy(),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": ", ".join(f"{name}={allow}" for name, allow in PERMISSIONS.items()),
}


async def security_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook: every HTTP answer carries SECURITY_HEADERS (replacing any of the same name)."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            headers[name] = value


#: Vite's content-hashed output (`name-<8 chars>.ext` under /assets/) and Workbox's runtime
#: (`workbox-<8 hex>.js`): a new build gives them new names, so they may be cached for good.
HASHED = re.compile(r"^/(?:assets/.+-[A-Za-z0-9_-]{8}\.[A-Za-z0-9]+|workbox-[0-9a-f]{8}\.js)$")
NO_CACHE = "no-cache"  # cached, but revalidated (ETag / Last-Modified) before each use


def is_hashed(_path: str, url: str) -> bool:
    return bool(HASHED.match(url))


def _same_mtime(a: float, b: float) -> bool:
    return abs(a - b) < 0.001


class _FreshVariants(StaticFile):
    """A file and those of its ``.br``/``.gz`` variants made from this very version of it:
    ``compress`` gives each variant its source's mtime, so a file changed in place (a release
    copied over the old one) never goes out as its stale compressed variant."""

    @staticmethod
    def get_file_stats(
        path: str, encodings: Mapping[str, str] | None, stat_cache: Mapping[str, os.stat_result] | None
    ) -> dict[str | None, FileEntry]:
        files = StaticFile.get_file_stats(path, encodings, stat_cache)
        main = files[None]
        return {enc: f for enc, f in files.items() if enc is None or _same_mtime(f.mtime, main.mtime)}


class AppFiles(ServeStaticASGI):
    """ServeStatic for the built app. It looks files up when asked (``autorefresh``), as Litestar's
    static router did, so a new build in place is served at once; ``/`` is index.html (also served
    as /index.html, no redirect: Workbox precaches that URL); a miss goes to the app (a 404 problem)."""

    def __init__(self, directory: Path | str) -> None:
        super().__init__(
            _not_found,
            root=directory,
            autorefresh=True,
            max_age=None,
            allow_all_origins=False,
            immutable_file_test=is_hashed,
            mimetypes={".webmanifest": "application/manifest+json"},
        )

    def find_file(self, url: str) -> StaticFile | Redirect | None:
        return super().find_file("/index.html" if url == "/" else url)

    def get_static_file(self, path: str, url: str, stat_cache: dict[str, os.stat_result] | None = None) -> StaticFile:
        if stat_cache is None and not os.path.exists(path):
            raise MissingFileError(path)
        headers = Headers([])
        self.add_mime_headers(headers, path, url)
        self.add_cache_headers(headers, path, url)  # immutable for hashed files
        if "Cache-Control" not in headers:  # the rest is revalidated, so a new build is seen at once
            headers["Cache-Control"] = NO_CACHE
        # wsgiref quotes parameters (charset="utf-8"); write it the usual way.
        headers["Content-Type"] = str(headers["Content-Type"]).replace('charset="utf-8"', "charset=utf-8")
        encodings = {"br": f"{path}.br", "gzip": f"{path}.gz"}
        return _FreshVariants(path, headers.items(), encodings=encodings, stat_cache=stat_cache)


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    # Raised inside the route, so the app's exception handlers answer it (a 404 problem document).
    raise NotFoundException()


def app_files(directory: Path | str) -> HTTPRouteHandler:
    """The built app in ``directory`` at ``/``, behind the app's own routes (/api, /schema, /t/…)."""
    files = AppFiles(directory)

    # A catch-all path route, as Litestar's own static files router has it (a mount at / would
    # shadow routes with path parameters, such as /t/{tag}). The handler hands the request to
    # ServeStatic (an ASGI app) inside the route, so the app's exception handlers and hooks apply.
    @route(["/", "/{file_path:path}"], http_method=["GET", "HEAD"], name="app-files", include_in_schema=False)
    async def serve() -> ASGIApp:
        return files

    return serve


def compress(directory: Path | str, log: Callable[[str], None] | None = None) -> list[str]:
    """Write ``.br`` and ``.gz`` beside each compressible file in ``directory`` (where they save ≥ 5 %).

    Idempotent and quick to repeat: a file whose variants are already there with its own mtime
    (ServeStatic copies it onto them) is skipped. Returns the files compressed now."""
    compressor = Compressor(use_zstd=False, quiet=True)
    todo: list[str] = []
    for dirpath, _dirs, names in os.walk(directory):
        for name in names:
            path = os.path.join(dirpath, name)
            if not compressor.should_compress(name) or ServeStaticASGI.is_compressed_variant(path):
                continue
            if _up_to_date(path):
                continue
            todo.append(path)
    with ThreadPoolExecutor() as pool:
        for path, written in zip(todo, pool.map(compressor.compress, todo), strict=True):
            if log:
                log(f"{path}: {', '.join(os.path.basename(w) for w in written) or 'not worth compressing'}")
    return todo


def _up_to_date(path: str) -> bool:
    mtime = os.stat(path).st_mtime
    variants = [v for v in (path + ".br", path + ".gz") if os.path.exists(v)]
    return bool(variants) and all(_same_mtime(os.stat(v).st_mtime, mtime) for v in variants)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m backend.web <built app directory>", file=sys.stderr)
        return 2
    done = compress(args[0])
    print(f"compressed {len(done)} file(s) in {args[0]} (Brotli, gzip)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
