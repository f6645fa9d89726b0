"""The sync wire contract, invariant by invariant (ARCHITECTURE.md §3)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select

from backend.domain.customers.models import Customer
from backend.kernel.models import AuditEntry, Conflict
from backend.sync.models import Rejection, SyncClient
from sync_protocol.hlc import Hlc, HybridClock
from tests.support import new_uuid, statements


def _mut(i: int, name: str, args: dict[str, Any], hlc: str | None = None) -> dict[str, Any]:
    return {"id": i, "name": name, "args": args, "hlc": hlc or str(Hlc(int(time.time() * 1000), 0, "t"))}


async def _count(app: Any, stmt: Any) -> int:
    async with app.state.services.db.read() as s:
        return int((await s.execute(stmt)).scalar_one())


def _customers(sess: Any) -> dict[str, dict[str, Any]]:
    return {k[1]: v for k, v in sess.sync.base.items() if k[0] == "customer"}


# ------------------------------------------------------------------ 1. exactly once


async def test_push_retried_after_commit_applies_nothing_twice(app, login):
    rep = await login("rep1")
    cid = new_uuid()
    body = rep.envelope(
        mutations=[
            _mut(1, "customer.create", {"id": cid, "name": "Once Ltd"}),
            _mut(2, "customer.update", {"id": cid, "base": 0, "status": "active"}),
        ]
    )
    lost = await rep.post("/api/sync/push", body, headers={"x-outpost-test-fault": "drop-after-commit"})
    assert lost.status_code == 503 and lost.json()["error"] == "test-fault-reply-lost"
    again = await rep.post("/api/sync/push", body)
    assert again.json() == {"ok": True, "lastMutationId": 2}
    again2 = await rep.post("/api/sync/push", body)
    assert again2.json() == {"ok": True, "lastMutationId": 2}
    assert await _count(app, select(func.count()).select_from(Customer).where(Customer.id == cid)) == 1
    audits = await _count(
        app, select(func.count()).select_from(AuditEntry).where(AuditEntry.device_id == rep.device_id)
    )
    assert audits == 2  # one create, one update — not four, not six
    await rep.sync.pull()
    assert _customers(rep)[cid]["status"] == "active"


async def test_mutation_gap_is_refused_and_nothing_stored(app, login):
    rep = await login("rep1")
    cid = new_uuid()
    r = await rep.post(
        "/api/sync/push", rep.envelope(mutations=[_mut(2, "customer.create", {"id": cid, "name": "Gap"})])
    )
    assert r.status_code == 409
    assert r.json()["error"] == "mutation-gap" and r.json()["expectedId"] == 1
    r = await rep.post(
        "/api/sync/push",
        rep.envelope(
            mutations=[_mut(1, "customer.create", {"id": cid, "name": "Gap"}), _mut(3, "customer.create", {})]
        ),
    )
    assert r.status_code == 409 and r.json()["expectedId"] == 2
    assert await _count(app, select(func.count()).select_from(Customer).where(Customer.id == cid)) == 0
    assert await _count(app, select(func.count()).select_from(SyncClient)) == 0


# ------------------------------------------------------------------ 3. never stuck, never lost


async def test_rejections_do_not_block_later_mutations(app, login):
    rep1, rep2 = await login("rep1"), await login("rep2")
    await rep2.sync.pull()
    foreign = next(iter(_customers(rep2)))
    good = new_uuid()
    r = await rep1.post(
        "/api/sync/push",
        rep1.envelope(
            mutations=[
                _mut(1, "customer.explode", {"id": good}),
                _mut(2, "customer.create", {"id": "not-a-uuid", "name": ""}),
                _mut(3, "customer.update", {"id": foreign, "base": 1, "name": "Stolen"}),
                _mut(4, "customer.create", {"id": good, "name": "Good", "version": 99}),
                _mut(5, "customer.create", {"id": good, "name": "Good"}),
                _mut(6, "customer.create", {"id": new_uuid(), "name": "Bad phone", "phone": "999"}),
                _mut(7, "customer.update", {"id": good, "base": 0, "name": "Good Co"}, hlc="yesterday"),
            ]
        ),
    )
    assert r.json() == {"ok": True, "lastMutationId": 7}
    page = (await rep1.post("/api/sync/pull", rep1.envelope(cookie=None))).json()
    codes = {x["mutationId"]: x["code"] for x in page["rejections"]}
    assert codes == {
        1: "unknown-mutation",
        2: "bad-args",
        3: "not-found",
        4: "bad-args",
        6: "invalid-phone",
        7: "bad-hlc",
    }
    assert all(x["message"] for x in page["rejections"])
    assert "version" in next(x for x in page["rejections"] if x["mutationId"] == 4)["message"]
    puts = {op["id"]: op["value"] for op in page["patch"] if op["op"] == "put"}
    assert puts[good]["name"] == "Good"
    # rep2's customer is untouched
    await rep2.sync.pull()
    assert _customers(rep2)[foreign]["name"] != "Stolen"
    # rejections repeat until the cookie passes them, then stop
    again = (await rep1.post("/api/sync/pull", rep1.envelope(cookie=None))).json()
    assert {x["mutationId"] for x in again["rejections"]} == set(codes)
    later = (await rep1.post("/api/sync/pull", rep1.envelope(cookie=page["cookie"]))).json()
    assert later["rejections"] == []


async def test_client_undoes_rejected_change_and_can_resend_it_fixed(login):
    rep = await login("rep1")
    await rep.sync.pull()
    cid = next(iter(_customers(rep)))
    rep.sync.update("customer", cid, phone="999")
    assert rep.sync.view()[("customer", cid)]["phone"] == "999"  # optimistic
    await rep.sync.sync()
    assert rep.sync.pending == []
    assert rep.sync.view()[("customer", cid)]["phone"] != "999"  # undone
    [rejected] = rep.sync.rejected
    assert rejected.code == "invalid-phone" and rejected.params["phone"] == "999"
    rep.sync.resend(rejected, {**rejected.mutation.args, "phone": "13912345678"})
    await rep.sync.sync()
    assert rep.sync.rejected == [] and _customers(rep)[cid]["phone"] == "13912345678"


# ------------------------------------------------------------------ 5. scope


async def test_reassigned_customer_leaves_old_rep_and_reaches_new_rep(login):
    rep1, rep2, manager = await login("rep1"), await login("rep2"), await login("manager")
    await rep1.sync.pull()
    await rep2.sync.pull()
    cid = next(
        c
        for c, v in _customers(rep1).items()
        if any(k[0] == "contact" and r["customerId"] == c for k, r in rep1.sync.base.items())
    )
    contacts = {k[1] for k, r in rep1.sync.base.items() if k[0] == "contact" and r["customerId"] == cid}
    r = await manager.post(f"/api/customers/{cid}/assign", {"repId": rep2.user["id"], "reason": "territory"})
    assert r.status_code == 200 and r.json()["assignedRepId"] == rep2.user["id"]
    await rep1.sync.pull()
    await rep2.sync.pull()
    assert cid not in _customers(rep1)
    assert not contacts & {k[1] for k in rep1.sync.base if k[0] == "contact"}
    assert _customers(rep2)[cid]["assignedRepId"] == rep2.user["id"]
    assert contacts <= {k[1] for k in rep2.sync.base if k[0] == "contact"}
    history = (await manager.get(f"/api/customers/{cid}/assignments")).json()
    assert [h["action"] for h in history] == ["assign", "reassign"]
    assert history[-1]["reason"] == "territory"


async def test_each_role_pulls_only_its_scope(login):
    expected_counts = {}
    rows = {}
    for name in ("admin", "manager", "rep1", "rep2", "care", "auditor", "stocktaker"):
        s = await login(name)
        await s.sync.pull()
        rows[name] = _customers(s)
        expected_counts[name] = len(rows[name])
        if name in ("rep1", "rep2"):
            assert all(v["assignedRepId"] == s.user["id"] for v in rows[name].values())
        if name == "care":
            assert rows[name] and all(v["kind"] == "guest" for v in rows[name].values())
    assert expected_counts["stocktaker"] == 0
    assert len(rows["admin"]) == 30
    assert set(rows["rep1"]) | set(rows["rep2"]) | set(rows["care"]) == set(rows["manager"])
    assert set(rows["auditor"]) == set(rows["manager"])
    assert not set(rows["rep1"]) & set(rows["rep2"])


async def test_push_cannot_touch_rows_outside_scope(login):
    auditor, rep1 = await login("auditor"), await login("rep1")
    await rep1.sync.pull()
    cid = next(iter(_customers(rep1)))
    auditor.sync.update("customer", cid, name="Audited")
    auditor.sync.mutate("customer.create", {"id": new_uuid(), "name": "X"})
    await auditor.sync.sync()
    assert [r.code for r in auditor.sync.rejected] == ["out-of-scope", "out-of-scope"]
    await rep1.sync.pull()
    assert _customers(rep1)[cid]["name"] != "Audited"


async def test_moved_user_gets_a_clear_and_their_new_scope(app, login):
    rep1 = await login("rep1")
    await rep1.sync.pull()
    before = set(_customers(rep1))
    await app.state.services.auth.move_user("rep1", roles=["manager"], org_code="GZ-YX")
    page = (await rep1.post("/api/sync/pull", rep1.envelope(cookie=rep1.sync.cookie))).json()
    assert page["patch"][0] == {"op": "clear"}
    ids = {op["id"] for op in page["patch"] if op["op"] == "put" and op["entity"] == "customer"}
    assert ids and not ids & before  # now the GZ-YX subtree: rep2's customers, none of the old ones


# ------------------------------------------------------------------ 6. no silent overwrite


async def test_two_offline_edits_keep_the_loser_as_conflict(app, login):
    phone_a, phone_b = await login("rep1", "phone-a"), await login("rep1", "phone-b")
    await phone_a.sync.pull()
    await phone_b.sync.pull()
    cid = next(iter(_customers(phone_a)))
    phone_a.sync.update("customer", cid, address="A street")
    await asyncio.sleep(0.005)
    phone_b.sync.update("customer", cid, address="B street")  # made later: wins by HLC
    await phone_a.sync.push()
    await phone_b.sync.push()
    for p in (phone_a, phone_b):
        await p.sync.pull()
    assert _customers(phone_a)[cid]["address"] == _customers(phone_b)[cid]["address"] == "B street"
    conflicts = [v for (e, _), v in phone_a.sync.base.items() if e == "conflict"]
    assert len(conflicts) == 1
    c = conflicts[0]
    assert (c["field"], c["keptValue"], c["lostValue"]) == ("address", "B street", "A street")
    assert c["lostDeviceId"] == phone_a.device_id and c["entityId"] == cid
    assert [v for (e, _), v in phone_b.sync.base.items() if e == "conflict"] == conflicts
    # manager sees it too
    manager = await login("manager")
    await manager.sync.pull()
    assert any(v["id"] == c["id"] for (e, _), v in manager.sync.base.items() if e == "conflict")


async def test_later_edit_from_an_earlier_push_does_not_lose(login):
    """The later HLC wins even when it reaches the server first."""
    phone_a, phone_b = await login("rep1", "a"), await login("rep1", "b")
    await phone_a.sync.pull()
    await phone_b.sync.pull()
    cid = next(iter(_customers(phone_a)))
    phone_a.sync.update("customer", cid, name="Earlier edit")
    await asyncio.sleep(0.005)
    phone_b.sync.update("customer", cid, name="Later edit")
    await phone_b.sync.push()
    await phone_a.sync.push()
    await phone_a.sync.pull()
    assert _customers(phone_a)[cid]["name"] == "Later edit"
    [c] = [v for (e, _), v in phone_a.sync.base.items() if e == "conflict"]
    assert c["lostValue"] == "Earlier edit"


async def test_same_device_successive_edits_are_not_conflicts(app, login):
    phone = await login("rep1")
    await phone.sync.pull()
    cid = next(iter(_customers(phone)))
    phone.sync.update("customer", cid, name="First")
    phone.sync.update("customer", cid, name="Second")  # same stale base, same device
    await phone.sync.sync()
    assert _customers(phone)[cid]["name"] == "Second"
    assert await _count(app, select(func.count()).select_from(Conflict)) == 0


async def test_an_hour_fast_phone_clock_does_not_win_every_conflict(login):
    hour = 3600 * 1000
    fast = await login("rep1", "fast")
    fast.sync.clock = HybridClock(fast.device_id, wall_ms=lambda: int(time.time() * 1000) + hour)
    honest = await login("rep1", "honest")
    await fast.sync.pull()
    await honest.sync.pull()
    cid = next(iter(_customers(fast)))
    fast.sync.update("customer", cid, status="at_risk")
    await fast.sync.push()
    await asyncio.sleep(0.01)
    honest.sync.update("customer", cid, status="churned")  # really made later
    await honest.sync.push()
    await honest.sync.pull()
    assert _customers(honest)[cid]["status"] == "churned"
    [c] = [v for (e, _), v in honest.sync.base.items() if e == "conflict"]
    assert c["lostValue"] == "at_risk" and c["lostDeviceId"] == fast.device_id


# ------------------------------------------------------------------ 4, 7, 8: pull pages, cookies, cost


async def test_incremental_pull_costs_in_proportion_to_changes(app, login):
    """Statement count of an empty incremental pull does not grow with the data set."""
    rep = await login("admin")
    await rep.sync.pull()
    with statements(app) as seen:
        first = (await rep.post("/api/sync/pull", rep.envelope(cookie=rep.sync.cookie))).json()
        n_small = len(seen)
        for _ in range(40):
            rep.sync.mutate("customer.create", {"id": new_uuid(), "name": "More"})
        await rep.sync.sync()
        seen.clear()
        second = (await rep.post("/api/sync/pull", rep.envelope(cookie=rep.sync.cookie))).json()
        n_large = len(seen)
    assert first["patch"] == [] and second["patch"] == []
    assert first["cookie"] != second["cookie"] or first["cookie"] == rep.sync.cookie
    assert n_large == n_small
    assert not any("FROM customer" in s and "change_log" not in s for s in seen)


async def test_cookie_never_goes_backwards_and_unknown_cookies_reset(app, login):
    rep = await login("rep1")
    await rep.sync.pull()
    bad = await rep.post("/api/sync/pull", rep.envelope(cookie="garbage!"))
    assert bad.status_code == 409 and bad.json()["error"] == "reset-required"
    from backend.sync.pull import decode_cookie, encode_cookie

    state = decode_cookie(rep.sync.cookie)
    future = encode_cookie({**state, "v": state["v"] + 1000})  # e.g. the server was restored from a backup
    r = await rep.post("/api/sync/pull", rep.envelope(cookie=future))
    assert r.status_code == 409 and r.json()["error"] == "reset-required"
    old = rep.sync.cookie
    rep.sync.mutate("customer.create", {"id": new_uuid(), "name": "Advance"})
    await rep.sync.sync()
    assert decode_cookie(rep.sync.cookie)["v"] > decode_cookie(old)["v"]


async def test_pull_page_and_last_mutation_ids_agree(login):
    """lastMutationIds comes from the same snapshot as the patch: a confirmed mutation's effect is in it."""
    rep = await login("rep1")
    await rep.sync.pull()
    cid = new_uuid()
    rep.sync.mutate("customer.create", {"id": cid, "name": "Snap"})
    await rep.sync.push()
    page = (await rep.post("/api/sync/pull", rep.envelope(cookie=rep.sync.cookie))).json()
    assert page["lastMutationIds"] == {rep.device_id: 1}
    assert any(op["op"] == "put" and op["id"] == cid for op in page["patch"])


# ------------------------------------------------------------------ audit trail


async def test_every_write_is_audited_with_device_and_values(app, login):
    rep = await login("rep1")
    await rep.sync.pull()
    cid = next(iter(_customers(rep)))
    old_name = _customers(rep)[cid]["name"]
    rep.sync.update("customer", cid, name="Audited Name")
    await rep.sync.sync()
    history = (await rep.get(f"/api/customers/{cid}/history")).json()
    last = history[-1]
    assert last["action"] == "update" and last["source"] == "sync"
    assert last["userId"] == rep.user["id"] and last["deviceId"] == rep.device_id
    assert last["changes"] == {"name": [old_name, "Audited Name"]}
    async with app.state.services.db.read() as s:
        rej = (await s.execute(select(func.count()).select_from(Rejection))).scalar_one()
    assert rej == 0
