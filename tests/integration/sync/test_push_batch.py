"""Push applies a batch in one go, and falls back to one mutation at a time when anything in it fails.

The fast path (backend/sync/push.py) must give exactly what applying the mutations one by one gives:
the same rows, the same rejections, one audit entry per write — and it must really be a batch: the
statements a push costs do not grow with the number of mutations in it.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from backend.domain.customers.models import Contact, Customer, CustomerAssignment
from backend.kernel.models import AuditEntry, ChangeLog
from sync_protocol.hlc import Hlc
from tests.support import new_uuid, statements


def _mut(i: int, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": i, "name": name, "args": args, "hlc": str(Hlc(int(time.time() * 1000), i, "t"))}


async def _rows(app: Any, stmt: Any) -> list[Any]:
    async with app.state.services.db.read() as s:
        return list((await s.execute(stmt)).all())


def _mixed(start: int, customers: list[str], n: int) -> list[dict[str, Any]]:
    """n mutations: half updates of existing customers, a quarter new customers, a quarter new contacts
    (half of those on customers created earlier in the same batch)."""
    out: list[dict[str, Any]] = []
    created: list[str] = []
    for k in range(n):
        i = start + k
        if k % 4 in (0, 2):
            target = customers[k % len(customers)]
            out.append(_mut(i, "customer.update", {"id": target, "base": 10**6, "address": f"路{i}号"}))
        elif k % 4 == 1:
            created.append(new_uuid())
            out.append(_mut(i, "customer.create", {"id": created[-1], "name": f"新客户 {i}", "phone": "13912345678"}))
        else:
            owner = created[-1] if k % 8 == 3 else customers[k % len(customers)]
            out.append(_mut(i, "contact.create", {"id": new_uuid(), "customerId": owner, "name": f"联系人 {i}"}))
    return out


async def test_a_push_costs_the_same_statements_for_10_or_100_mutations(app, login):
    rep = await login("rep1")
    await rep.sync.pull()
    customers = [k[1] for k in rep.sync.base if k[0] == "customer"]
    assert len(customers) >= 5
    with statements(app) as seen:
        small = await rep.post("/api/sync/push", rep.envelope(mutations=_mixed(1, customers[:5], 10)))
        n_small = len(seen)
        seen.clear()
        large = await rep.post("/api/sync/push", rep.envelope(mutations=_mixed(11, customers, 100)))
        n_large = len(seen)
    assert small.json() == {"ok": True, "lastMutationId": 10}
    assert large.json() == {"ok": True, "lastMutationId": 110}
    assert n_large <= n_small + 2, (n_small, n_large, seen)  # +2: a batch may add a table or two
    assert n_large < 30
    assert not any("SAVEPOINT" in s for s in seen[2:-2] if "sa_savepoint_1" not in s)
    # and everything arrived: 110 audit entries from this device, the rows, the assignment history
    audits = await _rows(app, select(func.count()).select_from(AuditEntry).where(AuditEntry.device_id == rep.device_id))
    assert audits[0][0] == 110
    new = await _rows(app, select(Customer.id).where(Customer.name.like("新客户 %")))
    assert len(new) == 3 + 25
    assignments = await _rows(
        app,
        select(func.count())
        .select_from(CustomerAssignment)
        .where(CustomerAssignment.customer_id.in_([r[0] for r in new])),
    )
    assert assignments[0][0] == 28
    contacts = await _rows(app, select(func.count()).select_from(Contact).where(Contact.name.like("联系人 %")))
    assert contacts[0][0] == 2 + 25


async def test_a_batch_with_a_failure_gives_what_one_by_one_gives(app, login):
    """Rows created and changed within one batch, a duplicate id, an out-of-scope write and a bad phone
    between good mutations: the bad ones are rejected with their reasons, the rest applied once."""
    rep1, rep2 = await login("rep1"), await login("rep2")
    await rep2.sync.pull()
    foreign = next(k[1] for k in rep2.sync.base if k[0] == "customer")
    cid, kid = new_uuid(), new_uuid()
    body = rep1.envelope(
        mutations=[
            _mut(1, "customer.create", {"id": cid, "name": "批量 Ltd", "phone": "13800000000"}),
            _mut(2, "customer.update", {"id": cid, "base": 0, "status": "active"}),
            _mut(3, "contact.create", {"id": kid, "customerId": cid, "name": "王经理"}),
            _mut(4, "customer.create", {"id": cid, "name": "Twice"}),
            _mut(5, "customer.update", {"id": foreign, "base": 1, "name": "Stolen"}),
            _mut(6, "contact.update", {"id": kid, "base": 0, "title": "总经理"}),
            _mut(7, "contact.update", {"id": kid, "base": 0, "phone": "999"}),
            _mut(8, "customer.update", {"id": cid, "base": 0, "tier": "A"}),
        ]
    )
    r = await rep1.post("/api/sync/push", body)
    assert r.json() == {"ok": True, "lastMutationId": 8}
    page = (await rep1.post("/api/sync/pull", rep1.envelope(cookie=None))).json()
    assert {x["mutationId"]: x["code"] for x in page["rejections"]} == {
        4: "already-exists",
        5: "not-found",
        7: "invalid-phone",
    }
    puts = {(op["entity"], op["id"]): op["value"] for op in page["patch"] if op["op"] == "put"}
    customer, contact = puts[("customer", cid)], puts[("contact", kid)]
    assert (customer["name"], customer["status"], customer["tier"], customer["phone"]) == (
        "批量 Ltd",
        "active",
        "A",
        "13800000000",
    )
    assert (contact["name"], contact["title"], contact["phone"]) == ("王经理", "总经理", None)
    # each applied mutation wrote its audit entry once; the failed fast attempt left nothing behind
    actions = await _rows(
        app,
        select(AuditEntry.mutation_id, AuditEntry.action)
        .where(AuditEntry.device_id == rep1.device_id)
        .order_by(AuditEntry.id),
    )
    assert [(m, a) for m, a in actions if a != "rejected"] == [
        (1, "create"),
        (2, "update"),
        (3, "create"),
        (6, "update"),
        (8, "update"),
    ]
    changes = await _rows(app, select(ChangeLog.entity, ChangeLog.entity_id).where(ChangeLog.entity_id.in_([cid, kid])))
    assert sorted(changes) == sorted([("customer", cid)] * 3 + [("contact", kid)] * 2)
    # a retry of the same push applies nothing again
    again = await rep1.post("/api/sync/push", body)
    assert again.json() == {"ok": True, "lastMutationId": 8}
    assert len(await _rows(app, select(AuditEntry.id).where(AuditEntry.device_id == rep1.device_id))) == len(actions)
