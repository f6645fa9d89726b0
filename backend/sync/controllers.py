"""HTTP side of the sync protocol: push, pull, SSE pokes (wire contract v1, ARCHITECTURE.md §3)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from typing import Annotated, cast

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.response import ServerSentEvent
from litestar.types import SSEData
from pydantic import ValidationError

from backend.deps import CurrentActor, Services, Svc
from backend.errors import DomainError, NotAuthenticated, RateLimited, Unavailable, UpdateRequired, ValidationFailed
from backend.kernel import scope
from backend.kernel.actor import Actor
from backend.sync import pull as pull_mod
from backend.sync import push as push_mod
from sync_protocol.base import WireModel
from sync_protocol.envelopes import (
    MIN_SCHEMA_VERSION,
    PROTOCOL_VERSION,
    SCHEMA_VERSION,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
)

FAULT_HEADER = "x-outpost-test-fault"


class SseTicket(WireModel):
    """A one-time ticket for ``GET /api/sync/events``, valid ``expiresIn`` seconds."""

    ticket: str
    expires_in: int


async def check_envelope_versions(request: Request) -> None:
    """Refuse unknown protocol or schema versions with a typed answer before reading the rest."""
    body = await request.json()  # decoded (and refused when unreadable) by backend/request_guard.py
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a JSON object.", code="bad-request")
    pv, sv = body.get("protocolVersion"), body.get("schemaVersion")
    if pv != PROTOCOL_VERSION:
        raise DomainError(
            f"Protocol version {pv!r} is not supported; this server speaks {PROTOCOL_VERSION}.",
            code="unsupported-protocol-version",
            supported=[PROTOCOL_VERSION],
        )
    if isinstance(sv, int) and not isinstance(sv, bool):
        if sv < MIN_SCHEMA_VERSION:
            raise UpdateRequired(
                f"This app version (schema {sv}) is too old; update the app.",
                minSchemaVersion=MIN_SCHEMA_VERSION,
                schemaVersion=SCHEMA_VERSION,
            )
        if sv > SCHEMA_VERSION:
            raise DomainError(
                f"Schema version {sv} is newer than this server's ({SCHEMA_VERSION}).",
                code="unsupported-schema-version",
                schemaVersion=SCHEMA_VERSION,
            )
    # The envelope is validated strictly ("2" is not a mutation id, true is not a version): a malformed
    # envelope is refused whole, with what to fix. (The framework's own decoding is lenient.)
    model = request.route_handler.opt.get("envelope")
    if model is not None:
        try:
            model.model_validate(body, strict=True)
        except ValidationError as e:
            errors = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:10])
            raise ValidationFailed(f"The sync envelope is malformed — {errors}", code="bad-request") from None


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    @post("/push", status_code=200, before_request=check_envelope_versions, opt={"envelope": PushRequest})
    async def push(
        self, data: JSONBody[PushRequest], actor: CurrentActor, services: Svc, request: Request
    ) -> PushResponse:
        last = await push_mod.push(
            services.db, actor, data, retries=services.settings.sync.max_push_retries, poke=services.poke
        )
        _fault(request, services, "after-commit")
        return PushResponse(ok=True, last_mutation_id=last)

    @post("/pull", status_code=200, before_request=check_envelope_versions, opt={"envelope": PullRequest})
    async def pull(
        self, data: JSONBody[PullRequest], actor: CurrentActor, services: Svc, request: Request
    ) -> PullResponse:
        """The answer is one JSON object; a client that asks for ``application/vnd.outpost.pull+jsonl``
        gets it in two lines instead: the envelope with the page's clear/del ops, then its put ops
        as one JSON array (the phone hands that line to its database without parsing it)."""
        result = await pull_mod.pull(
            services.db, actor, data, page_size=services.settings.sync.pull_page_size, ahead=services.read_ahead
        )
        _fault(request, services, "before-reply")
        if pull_mod.PULL_LINES in request.headers.get("accept", ""):
            return Response(pull_mod.as_lines(result), media_type=pull_mod.PULL_LINES)  # type: ignore[return-value]
        return pull_mod.as_json(result)  # type: ignore[return-value]  # a plain dict in PullResponse's shape

    @post("/ticket", status_code=200)
    async def ticket(self, actor: CurrentActor, services: Svc) -> SseTicket:
        """A one-time ticket for the event stream (EventSource cannot send an Authorization header)."""
        return cast("SseTicket", await services.auth.sse_ticket(actor))

    @get(
        "/events",
        exclude_from_auth=True,
        media_type="text/event-stream",
        response_description="Server-Sent Events: hello, poke ({version}) and ended ({reason}).",
    )
    async def events(
        self, services: Svc, ticket: Annotated[str, QueryParameter(min_length=1, max_length=200)]
    ) -> ServerSentEvent:
        """Pokes for this device until it disconnects — or its session ends (device revoked, user
        disabled, signed out): then an ``ended`` event and the stream closes. A user holds at most
        ``max_streams_per_user`` streams at once in a process (429 ``too-many-streams`` past it)."""
        actor = await services.auth.redeem_ticket(ticket)
        if not await services.auth.session_alive(actor.user_id, actor.device_id or ""):
            # a ticket taken just before the device signed out (or was revoked) opens nothing
            raise NotAuthenticated("This device's session has ended; sign in again.", code="signed-out")
        limit = services.settings.sync.max_streams_per_user
        if services.streams[actor.user_id] >= limit:
            raise RateLimited(
                f"This account already has {limit} live connections open; close the app on another "
                "device or tab, or wait a minute.",
                code="too-many-streams",
                headers={"Retry-After": "60"},
                params={"limit": limit},
            )
        services.streams[actor.user_id] += 1
        return ServerSentEvent(_pokes(services, actor))


async def _pokes(services: Services, actor: Actor) -> AsyncIterator[SSEData]:
    waiting: asyncio.Future[bytes] | None = None
    try:
        keepalive = services.settings.sync.poll_seconds
        yield {"event": "hello", "data": json.dumps({"userId": actor.user_id})}
        async with services.channels.start_subscription(["pokes"]) as subscriber:
            events = subscriber.iter_events()
            while True:
                # Wait for the next event without cancelling the wait on a keep-alive: cancelling it
                # (asyncio.wait_for) would end the subscription's iterator after the first quiet
                # period, and with it every stream.
                if waiting is None:
                    waiting = asyncio.ensure_future(anext(events))
                done, _ = await asyncio.wait({waiting}, timeout=keepalive)
                if not done:
                    if not await services.auth.session_alive(actor.user_id, actor.device_id or ""):
                        break  # revoked or disabled elsewhere (another process, the command line)
                    yield {"comment": "keep-alive", "data": None}  # a comment line only, no empty message
                    continue
                finished, waiting = waiting, None
                try:
                    raw = finished.result()
                except StopAsyncIteration:
                    return
                msg = json.loads(raw)
                ended = msg.get("ended")
                if ended is not None:
                    if actor.user_id in ended.get("users", []) or actor.device_id in ended.get("devices", []):
                        if not await services.auth.session_alive(actor.user_id, actor.device_id or ""):
                            break
                    continue
                users, paths = msg.get("users", []), msg.get("paths", [])
                if scope.hears(actor, users, paths):
                    yield {"event": "poke", "data": json.dumps({"version": msg.get("v")})}
        yield {"event": "ended", "data": json.dumps({"reason": "session-ended"})}
    finally:
        if waiting is not None:
            waiting.cancel()
        services.streams[actor.user_id] -= 1
        if services.streams[actor.user_id] <= 0:
            del services.streams[actor.user_id]


def _fault(request: Request, services: Services, point: str) -> None:
    """Test-only: lose the reply after the server committed (``drop``) or kill the process (``crash``)."""
    if not services.settings.app.test_fault_hooks:
        return
    fault = request.headers.get(FAULT_HEADER, "")
    if fault == f"crash-{point}":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == f"drop-{point}":
        raise Unavailable("Test fault: the reply was lost after the commit.", code="test-fault-reply-lost")
