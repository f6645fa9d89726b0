from tests.support import new_uuid


async def test_kind_change_away_from_guest_takes_its_contacts_off_the_care_phone(login):
    care = await login("care")  # guests of GZ-TH
    manager = await login("manager")  # GZ subtree
    await care.sync.pull()
    gid = sorted(i for (e, i) in care.sync.base if e == "customer")[0]
    care.sync.mutate("contact.create", {"id": new_uuid(), "customerId": gid, "name": "家属"})
    await care.sync.sync()
    version = care.sync.base[("customer", gid)]["version"]
    r = await manager.patch(f"/api/customers/{gid}", {"id": gid, "base": version, "kind": "individual"})
    assert r.status_code == 200, r.text
    await care.sync.pull()
    assert ("customer", gid) not in care.sync.base  # the customer left care's scope ...
    left = [k for k, v in care.sync.base.items() if k[0] == "contact" and v["customerId"] == gid]
    assert left == []  # ... but its contact stays on the device: [('contact', '…')]
