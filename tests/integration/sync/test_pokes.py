"""Pokes over Server-Sent Events with a one-time ticket; fanned out through Redis across processes."""

from __future__ import annotations

import asyncio
import json
import os

import httpx
import pytest

from backend.app import create_app
from tests.support import login, new_uuid, serve, test_settings

REDIS_URL = os.environ.get("OUTPOST_TEST_REDIS_URL", "")


async def _events(client: httpx.AsyncClient, ticket: str, out: asyncio.Queue) -> None:
    async with client.stream("GET", "/api/sync/events", params={"ticket": ticket}) as r:
        assert r.status_code == 200
        event = None
        async for line in r.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                await out.put((event, json.loads(line.split(":", 1)[1])))


async def _next(q: asyncio.Queue, kind: str, timeout: float = 5.0) -> dict:
    while True:
        event, data = await asyncio.wait_for(q.get(), timeout)
        if event == kind:
            return data


async def test_a_change_pokes_the_devices_that_can_see_it(app, demo):
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        rep1 = await login(client, "rep1", demo["password"])
        rep2 = await login(client, "rep2", demo["password"])
        tickets = {}
        for s in (rep1, rep2):
            r = await s.post("/api/sync/ticket")
            tickets[s.username] = r.json()["ticket"]
        q1, q2 = asyncio.Queue(), asyncio.Queue()
        t1 = asyncio.create_task(_events(client, tickets["rep1"], q1))
        t2 = asyncio.create_task(_events(client, tickets["rep2"], q2))
        try:
            assert (await _next(q1, "hello"))["userId"] == rep1.user["id"]
            await _next(q2, "hello")
            rep1.sync.mutate("customer.create", {"id": new_uuid(), "name": "Poke me"})
            await rep1.sync.push()
            poke = await _next(q1, "poke")
            assert poke["version"] > 0
            # rep2 cannot see rep1's customer: no poke for rep2
            with pytest.raises(TimeoutError):
                await _next(q2, "poke", timeout=0.5)
            # a ticket works once
            again = await client.get("/api/sync/events", params={"ticket": tickets["rep1"]})
            assert again.status_code == 401 and again.json()["error"] == "ticket-invalid"
        finally:
            t1.cancel()
            t2.cancel()
            await asyncio.gather(t1, t2, return_exceptions=True)


if REDIS_URL:  # the fan-out needs a Redis server (CI has one: OUTPOST_TEST_REDIS_URL)

    async def test_pokes_cross_app_processes_through_redis(db_url, tmp_path, demo):
        """Two app instances on one database with Redis: a write on B pokes a device listening on A."""
        settings = test_settings(db_url, tmp_path / "var2")
        settings.redis.url = REDIS_URL
        a_app, b_app = create_app(settings), create_app(settings)
        async with serve(a_app) as url_a, serve(b_app) as url_b:
            async with (
                httpx.AsyncClient(base_url=url_a, timeout=10) as ca,
                httpx.AsyncClient(base_url=url_b, timeout=10) as cb,
            ):
                on_a = await login(ca, "manager", demo["password"])
                on_b = await login(cb, "rep1", demo["password"])
                ticket = (await on_a.post("/api/sync/ticket")).json()["ticket"]
                q: asyncio.Queue = asyncio.Queue()
                task = asyncio.create_task(_events(ca, ticket, q))
                try:
                    await _next(q, "hello")
                    await asyncio.sleep(0.2)  # the subscription reaches Redis
                    on_b.sync.mutate("customer.create", {"id": new_uuid(), "name": "Via Redis"})
                    await on_b.sync.push()
                    assert (await _next(q, "poke"))["version"] > 0
                finally:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)


async def _stream_for(client: httpx.AsyncClient, s, q: asyncio.Queue) -> asyncio.Task:
    ticket = (await s.post("/api/sync/ticket")).json()["ticket"]
    task = asyncio.create_task(_events(client, ticket, q))
    await _next(q, "hello")
    return task


async def test_a_stream_ends_when_its_session_ends(app, demo):
    """A revoked device's stream, or a disabled user's, ends (an ``ended`` event, then the server
    closes it): at once when revoked through the API, within the keep-alive when done elsewhere."""
    sync = app.state.services.settings.sync
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        admin = await login(client, "admin", demo["password"])
        rep1 = await login(client, "rep1", demo["password"])
        rep2 = await login(client, "rep2", demo["password"])
        q1, q2 = asyncio.Queue(), asyncio.Queue()
        sync.poll_seconds = 60  # rep1's stream: only the word from the revocation can end it in time
        t1 = await _stream_for(client, rep1, q1)
        sync.poll_seconds = 0.3  # rep2's: disabled from elsewhere, seen at its next keep-alive
        t2 = await _stream_for(client, rep2, q2)
        try:
            r = await admin.post(f"/api/auth/devices/{rep1.device_id}/revoke")
            assert r.status_code == 200, r.text
            assert (await _next(q1, "ended"))["reason"] == "session-ended"
            await asyncio.wait_for(t1, 5)  # the server closed the stream
            # the other user's stream goes on
            rep2.sync.mutate("customer.create", {"id": new_uuid(), "name": "still poked"})
            await rep2.sync.push()
            await _next(q2, "poke")
            await app.state.services.auth.set_disabled("rep2", True)  # as the command line does
            await _next(q2, "ended")
            await asyncio.wait_for(t2, 5)
        finally:
            for t in (t1, t2):
                t.cancel()
            await asyncio.gather(t1, t2, return_exceptions=True)
        assert app.state.services.streams == {}


async def test_a_user_holds_a_bounded_number_of_streams(app, demo):
    app.state.services.settings.sync.max_streams_per_user = 2
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        rep1 = await login(client, "rep1", demo["password"])
        manager = await login(client, "manager", demo["password"])
        queues = [asyncio.Queue(), asyncio.Queue()]
        tasks = [await _stream_for(client, rep1, q) for q in queues]
        try:
            ticket = (await rep1.post("/api/sync/ticket")).json()["ticket"]
            r = await client.get("/api/sync/events", params={"ticket": ticket})
            assert r.status_code == 429 and r.json()["error"] == "too-many-streams", r.text
            assert r.headers["retry-after"] == "60" and "2 live connections" in r.json()["detail"]
            other = await _stream_for(client, manager, asyncio.Queue())  # another user is not counted
            other.cancel()
            tasks[0].cancel()  # one closes: room for a new one
            await asyncio.gather(tasks[0], return_exceptions=True)
            for _ in range(50):
                if app.state.services.streams[rep1.user["id"]] < 2:
                    break
                await asyncio.sleep(0.05)
            tasks[0] = await _stream_for(client, rep1, asyncio.Queue())
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_ticket_taken_before_signing_out_opens_nothing(app, demo):
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        rep1 = await login(client, "rep1", demo["password"])
        ticket = (await rep1.post("/api/sync/ticket")).json()["ticket"]
        assert (await rep1.post("/api/auth/logout")).status_code == 200
        r = await client.get("/api/sync/events", params={"ticket": ticket})
        assert r.status_code == 401 and r.json()["error"] == "signed-out", r.text
        assert app.state.services.streams == {}
