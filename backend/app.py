"""create_app(): the one composition root — settings, database, services, routes, error mapping."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Litestar, Request, Response, get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath
from litestar.plugins.pydantic import PydanticPlugin
from litestar.response import Redirect
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from backend.auth.controllers import AuthController
from backend.auth.passwords import Passwords
from backend.auth.proxies import trusted_proxies
from backend.auth.services import AuthService
from backend.auth.tokens import Tokens
from backend.db.engine import Database
from backend.deps import Services, Svc, current_actor, services
from backend.domain.assets import services as asset_services
from backend.domain.assets.controllers import AssetController, LabelBatchController, LocationController
from backend.domain.customers.controllers import ContactController, CustomerController
from backend.domain.org.controllers import OrgUnitController
from backend.domain.stocktake.controllers import StocktakeController
from backend.errors import DomainError
from backend.request_guard import RequestGuard
from backend.settings import Settings
from backend.sync.attachments import AttachmentController
from backend.sync.controllers import SyncController
from backend.web import app_files, security_headers
from sync_protocol.base import WireModel
from sync_protocol.envelopes import PROTOCOL_VERSION, SCHEMA_VERSION

log = logging.getLogger("outpost")

#: How often the database statistics are refreshed (Database.analyze).
ANALYZE_EVERY_SECONDS = 3600

STATUS_CODES = {
    400: "bad-request",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "rate-limited",
    503: "busy",
}


class Health(WireModel):
    """The server is up, and the protocol and schema versions it speaks."""

    ok: bool
    protocol_version: int
    schema_version: int


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; ``error`` is the code a program acts on."""

    type: str
    title: str
    status: int
    detail: str
    error: str


PROBLEM = "application/problem+json"
COMMON_RESPONSES = {
    400: ResponseSpec(ProblemDetails, description="Bad input: the detail says what to fix.", media_type=PROBLEM),
    401: ResponseSpec(
        ProblemDetails, description="Not logged in, token expired, device revoked, user disabled.", media_type=PROBLEM
    ),
    413: ResponseSpec(ProblemDetails, description="The request body is too large.", media_type=PROBLEM),
    429: ResponseSpec(
        ProblemDetails, description="Too many requests; wait for the Retry-After seconds.", media_type=PROBLEM
    ),
}
#: Typed refusals of the sync endpoints (wire contract v1).
SYNC_RESPONSES = {
    403: ResponseSpec(ProblemDetails, description="clientId is not this device (client-mismatch).", media_type=PROBLEM),
    409: ResponseSpec(
        ProblemDetails, description="mutation-gap (with expectedId) or reset-required.", media_type=PROBLEM
    ),
    426: ResponseSpec(ProblemDetails, description="update-required: the app's schema is too old.", media_type=PROBLEM),
    503: ResponseSpec(
        ProblemDetails, description="The database stayed busy; retry after Retry-After.", media_type=PROBLEM
    ),
}


def _problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body = {
        "type": f"https://outpost.invalid/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "error": code,
        **(extra or {}),
    }
    return Response(body, status_code=status, media_type="application/problem+json", headers=headers)


def _domain_error(_: Request, exc: DomainError) -> Response[dict[str, Any]]:
    body = exc.problem()
    return Response(body, status_code=exc.status, media_type="application/problem+json", headers=exc.headers)


def _http_error(_: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    code = STATUS_CODES.get(status, "error")
    extra: dict[str, Any] = {}
    detail = exc.detail
    if isinstance(exc, ValidationException) and exc.extra:
        extra["errors"] = exc.extra
        parts = [f"{e.get('key') or ''}: {e.get('message')}" for e in exc.extra if isinstance(e, dict)]
        if parts:
            detail = "Invalid input — " + "; ".join(parts)
    if status == 400 and detail == "Request Entity Too Large":  # Litestar's multipart limits (kept 400 there)
        status, code = 413, STATUS_CODES[413]
        detail = "The form has too many fields or parts, or a part's header is too large; send the file alone."
    elif status == 400 and detail == "Invalid multipart/form-data":
        detail = "The upload is not valid multipart/form-data; send the file in the form field 'file'."
    elif status == 413:
        detail = "The request body is too large."
    return _problem(status, code, detail or code, detail or code, extra, dict(exc.headers or {}))


#: PostgreSQL's "this text cannot be stored" (NUL character, bad encoding): bad input, not a bug.
BAD_TEXT_SQLSTATES = {"22P05", "22021"}


def _unexpected(_: Request, exc: Exception) -> Response[dict[str, Any]]:
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(exc, "sqlstate", None)
    if isinstance(exc, DBAPIError) and sqlstate in BAD_TEXT_SQLSTATES:
        return _problem(400, "invalid-text", "Invalid text", "The text contains characters that cannot be stored.")
    log.exception("unhandled error", exc_info=exc)
    return _problem(500, "internal-error", "Internal error", "Something went wrong on the server; it was logged.")


@get("/api/health", exclude_from_auth=True, tags=["meta"])
async def health(services: Svc) -> Health:
    return Health(ok=True, protocol_version=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION)


@get("/t/{tag:str}", exclude_from_auth=True, include_in_schema=False)
async def label_link(tag: FromPath[str]) -> Redirect:
    """Where an asset label's QR code leads (a plain phone camera opens it): the app's asset page, which
    asks for a login when needed. The tag is checked by the app (offline too), not here."""
    return Redirect(f"/#/t/{quote(tag.strip()[:40], safe='')}", status_code=302)


def _declare_common_responses(*handlers: Any) -> None:
    for h in handlers:
        items = (
            [h] if isinstance(h, HTTPRouteHandler) else [v for v in vars(h).values() if isinstance(v, HTTPRouteHandler)]
        )
        for item in items:
            is_sync = getattr(h, "path", "") == "/api/sync" and bool(set(item.paths) & {"/push", "/pull"})
            item.responses = {**COMMON_RESPONSES, **(SYNC_RESPONSES if is_sync else {}), **(item.responses or {})}


def register_contexts() -> None:
    """Register the synced contexts' mutations, preloaders and pull views with backend/kernel/registry.py.

    Importing a context's ``mutators`` module registers them. The composition root is the one place
    that knows which contexts exist: the registry imports no context.
    """
    from backend.domain.assets import mutators as asset_mutators  # noqa: F401
    from backend.domain.customers import mutators as customer_mutators  # noqa: F401
    from backend.domain.stocktake import mutators as stocktake_mutators  # noqa: F401


def create_app(settings: Settings | None = None, db: Database | None = None) -> Litestar:
    settings = settings or Settings()
    db = db or Database(
        settings.database_url,
        echo=settings.db.echo,
        pool_size=settings.db.pool_size,
        busy_timeout_ms=settings.db.sqlite_busy_timeout_ms,
    )
    register_contexts()
    asset_services.configure(settings.assets)
    if settings.redis.url:
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis

        backend: Any = RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis.url))
    else:
        backend = MemoryChannelsBackend()
    channels = ChannelsPlugin(
        backend=backend, channels=["pokes"], subscriber_max_backlog=100, subscriber_backlog_strategy="dropleft"
    )
    a = settings.auth
    container = Services(
        settings=settings,
        db=db,
        channels=channels,
        auth=AuthService(db, a, Passwords(a), Tokens(a.jwt_secret, a.access_token_minutes)),
    )

    async def keep_statistics() -> None:
        while True:  # the data grows after startup (a new install starts empty)
            await asyncio.sleep(ANALYZE_EVERY_SECONDS)
            try:
                await db.analyze()
            except Exception:  # statistics are an optimisation: never take the server down for them
                log.warning("refreshing the database statistics failed", exc_info=True)

    async def on_startup(app: Litestar) -> None:
        app.state.services = container
        await db.analyze()
        app.state.statistics = asyncio.create_task(keep_statistics())

    async def on_shutdown(app: Litestar) -> None:
        task = getattr(app.state, "statistics", None)
        if task is not None:
            task.cancel()
        await container.read_ahead.close()  # before the pool goes: they hold connections
        await db.dispose()

    route_handlers: list[Any] = [
        AuthController,
        CustomerController,
        ContactController,
        AssetController,
        LabelBatchController,
        LocationController,
        StocktakeController,
        OrgUnitController,
        SyncController,
        AttachmentController,
        health,
        label_link,
    ]
    _declare_common_responses(*route_handlers)
    static_dir = settings.app.pwa_dir
    if Path(static_dir).is_dir():  # the built PWA (scripts/setup); the API runs without it
        route_handlers.append(app_files(static_dir))

    app = Litestar(
        route_handlers=route_handlers,
        dependencies={"services": Provide(services, sync_to_thread=False), "actor": Provide(current_actor)},
        plugins=[channels, PydanticPlugin(prefer_alias=True)],
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        exception_handlers={DomainError: _domain_error, HTTPException: _http_error, Exception: _unexpected},
        request_max_body_size=settings.app.max_body_bytes,
        before_send=[security_headers],  # CSP and co. on every answer (backend/web.py)
        middleware=[trusted_proxies(settings.app), RequestGuard()],
        openapi_config=OpenAPIConfig(
            title="Outpost",
            version="0.1.0",
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
    )
    app.state.services = container
    return app
