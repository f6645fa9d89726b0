import pytest

from tests.support import new_uuid


@pytest.fixture
def sync_options():
    return {"pull_page_size": 2}


async def test_rejections_reach_the_client_when_the_pull_has_pages(login):
    rep = await login("rep1")
    await rep.sync.pull()
    rep.sync.mutate("customer.delete", {"id": new_uuid()})  # rejected: unknown-mutation
    for _ in range(3):  # 3 change-log entries: the next pull has 2 pages
        rep.sync.mutate("customer.create", {"id": new_uuid(), "name": "x"})
    await rep.sync.sync()
    assert rep.sync.pending == []
    assert [r.code for r in rep.sync.rejected] == ["unknown-mutation"]


async def test_kind_change_moves_contacts_with_the_customer(login):
    rep = await login("rep1")  # customers in GZ-TH
    care = await login("care")  # guests of GZ-TH
    await rep.sync.pull()
    await care.sync.pull()
    cid = sorted(i for (e, i), v in rep.sync.base.items() if e == "customer" and v["kind"] != "guest")[0]
    contact_ids = {i for (e, i), v in rep.sync.base.items() if e == "contact" and v["customerId"] == cid}
    assert contact_ids  # demo customers that are not guests have 1–3 contacts
    rep.sync.update("customer", cid, kind="guest")
    await rep.sync.sync()
    await care.sync.pull()
    assert ("customer", cid) in care.sync.base  # the customer came into care's scope ...
    r = await care.get(f"/api/customers/{cid}/contacts")
    assert {c["id"] for c in r.json()} == contact_ids  # ... and care may read its contacts over REST ...
    held = {i for (e, i), v in care.sync.base.items() if e == "contact" and v["customerId"] == cid}
    assert held == contact_ids  # ... but the device never receives them: held == set()
