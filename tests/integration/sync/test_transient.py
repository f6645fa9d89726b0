"""A transient database failure is retried, not rejected (invariant 3)."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import OperationalError

from backend.domain.customers import services
from backend.kernel.registry import MUTATORS, MutatorSpec
from tests.support import new_uuid


async def test_busy_database_is_retried_and_the_mutation_applied_once(login, monkeypatch):
    calls = {"n": 0}
    real = MUTATORS["customer.create"]

    async def flaky(tx, args):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
        return await services.create_customer(tx, args)

    monkeypatch.setitem(MUTATORS, "customer.create", MutatorSpec(real.name, real.args, flaky))
    rep = await login("rep1")
    cid = new_uuid()
    rep.sync.mutate("customer.create", {"id": cid, "name": "Busy day"})
    await rep.sync.sync()
    assert calls["n"] == 3
    assert rep.sync.rejected == [] and rep.sync.pending == []
    assert rep.sync.base[("customer", cid)]["name"] == "Busy day"


async def test_a_database_that_stays_busy_answers_503_and_stores_nothing(app, login, monkeypatch):
    real = MUTATORS["customer.create"]

    async def always_busy(tx, args):
        raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setitem(MUTATORS, "customer.create", MutatorSpec(real.name, real.args, always_busy))
    app.state.services.settings.sync.max_push_retries = 1
    rep = await login("rep1")
    body = rep.envelope(
        mutations=[
            {
                "id": 1,
                "name": "customer.create",
                "args": {"id": new_uuid(), "name": "X"},
                "hlc": "001700000000000:00000:x",
            }
        ]
    )
    r = await rep.post("/api/sync/push", body)
    assert r.status_code == 503 and r.json()["error"] == "busy" and r.headers["retry-after"] == "1"
    monkeypatch.setitem(MUTATORS, "customer.create", real)
    r = await rep.post("/api/sync/push", body)
    assert r.json() == {"ok": True, "lastMutationId": 1}
    page = (await rep.post("/api/sync/pull", rep.envelope(cookie=None))).json()
    assert page["rejections"] == []
