from tests.support import new_uuid


async def test_rep_first_pull_then_push_roundtrip(login):
    rep = await login("rep1")
    await rep.sync.pull()
    customers = [v for (e, _), v in rep.sync.base.items() if e == "customer"]
    assert customers and all(c["assignedRepId"] == rep.user["id"] for c in customers)
    cid = new_uuid()
    rep.sync.mutate("customer.create", {"id": cid, "name": "新客户 New", "phone": "13800138000"})
    await rep.sync.sync()
    assert rep.sync.pending == []
    assert rep.sync.base[("customer", cid)]["name"] == "新客户 New"
    assert rep.sync.base[("customer", cid)]["assignedRepId"] == rep.user["id"]
