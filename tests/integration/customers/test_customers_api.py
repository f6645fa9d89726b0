"""Customers over REST: the same rules and scope as synced mutations."""

from __future__ import annotations

from tests import support
from tests.support import new_uuid


async def _first(sess) -> dict:
    r = await sess.get("/api/customers/", params={"limit": 1})
    return r.json()["items"][0]


async def test_list_is_scoped_and_searchable(login):
    rep1, manager = await login("rep1"), await login("manager")
    mine = (await rep1.get("/api/customers/", params={"limit": 500})).json()
    assert mine["total"] == len(mine["items"]) > 0
    assert all(c["assignedRepId"] == rep1.user["id"] for c in mine["items"])
    everything = (await manager.get("/api/customers/", params={"limit": 500})).json()
    assert everything["total"] > mine["total"]
    name = mine["items"][0]["name"]
    found = (await rep1.get("/api/customers/", params={"q": name[:4]})).json()
    assert name in [c["name"] for c in found["items"]]
    assert (await rep1.get("/api/customers/", params={"limit": 0})).status_code == 400


async def test_another_reps_customer_is_not_found(login):
    rep1, rep2 = await login("rep1"), await login("rep2")
    theirs = await _first(rep2)
    r = await rep1.get(f"/api/customers/{theirs['id']}")
    assert r.status_code == 404 and r.json()["error"] == "not-found"
    r = await rep1.patch(f"/api/customers/{theirs['id']}", {"id": theirs["id"], "base": theirs["version"], "name": "x"})
    assert r.status_code == 404
    assert (await rep2.get(f"/api/customers/{theirs['id']}")).json()["name"] == theirs["name"]


async def test_create_update_and_contacts(login):
    rep = await login("rep1")
    cid = new_uuid()
    r = await rep.post("/api/customers/", {"id": cid, "name": "华南通信 Ltd", "tier": "A", "phone": "020-12345678"})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["assignedRepId"] == rep.user["id"] and c["orgUnitId"] == rep.user["orgUnit"]["id"]
    r = await rep.patch(f"/api/customers/{cid}", {"id": cid, "base": c["version"], "status": "active", "tier": None})
    assert r.json()["status"] == "active" and r.json()["tier"] is None
    r = await rep.post(
        "/api/contacts/", {"id": new_uuid(), "customerId": cid, "name": "王伟", "birthday": "1980-02-29"}
    )
    assert r.status_code == 201 and r.json()["birthday"] == "1980-02-29"
    contacts = (await rep.get(f"/api/customers/{cid}/contacts")).json()
    assert [x["name"] for x in contacts] == ["王伟"]
    r = await rep.patch(f"/api/contacts/{contacts[0]['id']}", {"id": contacts[0]["id"], "base": 0, "title": "CTO"})
    assert r.json()["title"] == "CTO"
    history = (await rep.get(f"/api/customers/{cid}/history")).json()
    assert [(h["entity"], h["action"]) for h in history] == [
        ("customer", "create"),
        ("customer", "update"),
        ("contact", "create"),
        ("contact", "update"),
    ]
    assert all(h["source"] == "api" and h["userId"] == rep.user["id"] for h in history)


async def test_bad_input_is_a_clear_4xx(login):
    rep = await login("rep1")
    r = await rep.post("/api/customers/", {"id": new_uuid(), "name": "X", "phone": "999"})
    assert r.status_code == 400 and r.json()["error"] == "invalid-phone" and "999" in r.json()["detail"]
    r = await rep.post("/api/customers/", {"id": new_uuid(), "name": "X", "version": 5})
    assert r.status_code == 400 and "version" in r.text
    cid = new_uuid()
    assert (await rep.post("/api/customers/", {"id": cid, "name": "Once"})).status_code == 201
    r = await rep.post("/api/customers/", {"id": cid, "name": "Twice"})
    assert r.status_code == 409 and r.json()["error"] == "already-exists"
    r = await rep.patch(f"/api/customers/{cid}", {"id": cid, "base": 0, "name": None})
    assert r.status_code == 400 and "name" in r.json()["detail"]
    assert (await rep.get(f"/api/customers/{cid}")).json()["name"] == "Once"


async def test_write_scope_per_role(login):
    rep1, rep2, care, auditor = await login("rep1"), await login("rep2"), await login("care"), await login("auditor")
    r = await rep1.post("/api/customers/", {"id": new_uuid(), "name": "For rep2", "assignedRepId": rep2.user["id"]})
    assert r.status_code == 403 and r.json()["error"] == "out-of-scope"
    r = await care.post("/api/customers/", {"id": new_uuid(), "name": "Hotel guest", "kind": "guest"})
    assert r.status_code == 201 and r.json()["orgUnitId"] == care.user["orgUnit"]["id"]
    r = await care.post("/api/customers/", {"id": new_uuid(), "name": "A company", "kind": "enterprise"})
    assert r.status_code == 403
    guest = r = (await care.get("/api/customers/", params={"limit": 1})).json()["items"][0]
    r = await care.patch(
        f"/api/customers/{guest['id']}", {"id": guest["id"], "base": guest["version"], "kind": "enterprise"}
    )
    assert r.status_code == 403  # would leave what care staff may edit
    target = await _first(rep1)
    r = await auditor.patch(
        f"/api/customers/{target['id']}", {"id": target["id"], "base": target["version"], "name": "A"}
    )
    assert r.status_code == 403 and r.json()["error"] == "out-of-scope"
    assert (await auditor.get(f"/api/customers/{target['id']}")).status_code == 200


async def test_reassignment_rules_and_history(app, http, login):
    manager, rep1, rep2, admin = await login("manager"), await login("rep1"), await login("rep2"), await login("admin")
    c = await _first(rep1)
    r = await rep1.post(f"/api/customers/{c['id']}/assign", {"repId": rep2.user["id"]})
    assert r.status_code == 403
    r = await manager.post(f"/api/customers/{c['id']}/assign", {"repId": manager.user["id"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid-rep"
    # a rep outside the manager's subtree cannot receive it
    await app.state.services.auth.create_user("rep_sz", "password-123", ["rep"], "SZ-NS")
    outsider = await support.login(http, "rep_sz", "password-123")
    r = await manager.post(f"/api/customers/{c['id']}/assign", {"repId": outsider.user["id"]})
    assert r.status_code == 403
    r = await manager.post(f"/api/customers/{c['id']}/assign", {"repId": None, "reason": "rep left"})
    assert r.status_code == 200 and r.json()["assignedRepId"] is None
    r = await admin.post(f"/api/customers/{c['id']}/assign", {"repId": outsider.user["id"]})
    assert r.status_code == 200
    history = (await admin.get(f"/api/customers/{c['id']}/assignments")).json()
    assert [(h["action"], h["toUserId"]) for h in history] == [
        ("assign", rep1.user["id"]),
        ("reclaim", None),
        ("assign", outsider.user["id"]),
    ]
    assert history[1]["reason"] == "rep left" and history[1]["byUserId"] == manager.user["id"]
