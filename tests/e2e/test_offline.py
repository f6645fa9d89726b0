"""The PWA in a real browser: offline edits, reload offline, exactly-once sync, conflicts, rejections,
reassignment, revocation."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import func, select

from backend.domain.customers.models import Contact, Customer
from backend.kernel.models import AuditEntry
from tests.e2e.conftest import PASSWORD
from tests.support import login


@asynccontextmanager
async def api(live, username):
    async with httpx.AsyncClient(base_url=live["url"], timeout=10) as client:
        yield await login(client, username, PASSWORD)


async def _first_customers(live, username, n):
    async with api(live, username) as s:
        items = (await s.get("/api/customers/", params={"limit": 100})).json()["items"]
    return items[:n]


async def _open_customer(ph, name):
    await ph.go("/customers")
    await ph.page.fill("input[name=q]", name)
    label = json.dumps(name, ensure_ascii=False)
    await ph.page.click(f"[data-testid=customer-list] a:has-text({label})")
    # the customer's own page (the list has a .page-head h1 too): its heading is the name
    await ph.page.wait_for_selector(f".page-head h1:has-text({label})")


async def _edit_field(ph, name, field, value):
    await _open_customer(ph, name)
    await ph.page.click(".page-head button.secondary")
    await ph.page.fill(f"input[name={field}]", value)
    await ph.page.click("form button[type=submit]")
    await ph.page.wait_for_selector(".facts")


async def test_offline_edits_survive_reload_and_sync_exactly_once(live, phone):
    ph = await phone("zh-CN")
    await ph.login("rep1")
    a, b = await _first_customers(live, "rep1", 2)
    await ph.offline(True)
    await _edit_field(ph, a["name"], "address", "离线修改的地址 1号")
    await _edit_field(ph, b["name"], "phone", "13700001111")
    await _open_customer(ph, a["name"])
    await ph.page.click("button.secondary.wide")  # add contact
    await ph.page.fill("input[name=contactName]", "离线联系人")
    await ph.page.fill("input[name=title]", "采购经理")
    await ph.page.click("form button[type=submit]")
    await ph.page.wait_for_selector("text=离线联系人")
    assert await ph.page.get_attribute("[data-testid=sync-pill]", "data-pending") == "3"
    await ph.screen("customer-detail-offline")

    await ph.page.reload()  # still offline: the service worker opens the app with its data
    await ph.page.wait_for_selector("[data-testid=sync-pill][data-online=false]")
    await _open_customer(ph, a["name"])
    await ph.page.wait_for_selector(".facts >> text=离线修改的地址 1号", timeout=5_000)
    await ph.page.wait_for_selector(".list >> text=离线联系人", timeout=5_000)  # contacts are read apart
    assert await ph.page.get_attribute("[data-testid=sync-pill]", "data-pending") == "3"

    await ph.offline(False)
    await ph.synced()
    async with live["services"].db.read() as s:
        device_audits = (
            await s.execute(
                select(AuditEntry.action, func.count()).where(AuditEntry.source == "sync").group_by(AuditEntry.action)
            )
        ).all()
        from backend.sync.models import Rejection

        rejected = (await s.execute(select(Rejection.name, Rejection.code, Rejection.message))).all()
        assert rejected == []
        assert dict(device_audits) == {"update": 2, "create": 1}
        assert (await s.get(Customer, a["id"])).address == "离线修改的地址 1号"
        assert (await s.get(Customer, b["id"])).phone == "13700001111"
        names = (await s.execute(select(Contact.name).where(Contact.customer_id == a["id"]))).scalars().all()
        assert names.count("离线联系人") == 1
    assert ph.errors == []


async def test_same_field_edited_offline_on_two_phones_shows_the_conflict(live, phone):
    one, two = await phone("zh-CN"), await phone("en")
    await one.login("rep1")
    await two.login("rep1")
    [c] = await _first_customers(live, "rep1", 1)
    await one.offline(True)
    await two.offline(True)
    await _edit_field(one, c["name"], "address", "Phone One Road")
    await _edit_field(two, c["name"], "address", "Phone Two Road")  # later: wins
    await one.offline(False)
    await one.synced()
    await two.offline(False)
    await two.synced()
    await one.sync_now()
    for ph in (one, two):
        await _open_customer(ph, c["name"])
        await ph.page.wait_for_selector("[data-testid=conflicts]")
        assert await ph.page.inner_text("[data-testid=conflicts] [data-testid=kept]") == "Phone Two Road"
        assert await ph.page.inner_text("[data-testid=conflicts] [data-testid=lost]") == "Phone One Road"
        assert await ph.page.is_visible(".facts >> text=Phone Two Road")
    await two.page.locator("[data-testid=conflicts]").scroll_into_view_if_needed()
    await two.screen("customer-conflict")
    await one.go("/sync")
    await one.page.wait_for_selector("[data-testid=conflicts]")
    await one.screen("sync-conflict")


async def test_rejected_change_is_undone_explained_and_can_be_resent(live, phone):
    ph = await phone("en")
    await ph.login("rep1")
    [c] = await _first_customers(live, "rep1", 1)
    rep2_id = await rep_id(live, "rep2")
    async with api(live, "manager") as manager:
        await ph.offline(True)
        await _edit_field(ph, c["name"], "name", c["name"] + " (renamed)")
        r = await manager.post(f"/api/customers/{c['id']}/assign", {"repId": rep2_id})
        assert r.status_code == 200
        await ph.offline(False)
        await ph.page.wait_for_selector("[data-testid=sync-pill][data-rejected='1']", timeout=15_000)
        await ph.go("/sync")
        reason = await ph.page.inner_text("[data-testid=rejected] [data-testid=reason]")
        assert "no longer" in reason
        await ph.screen("sync-rejected")
        await ph.go("/customers")
        await ph.page.fill("input[name=q]", c["name"])
        await ph.page.wait_for_timeout(300)
        assert await ph.page.locator("[data-testid=customer-list] li").count() == 0  # undone, and gone
        # the manager gives it back; the user fixes nothing and sends it again
        r = await manager.post(f"/api/customers/{c['id']}/assign", {"repId": await rep_id(live, "rep1")})
        assert r.status_code == 200
        await ph.sync_now()
        await ph.page.click("[data-testid=rejected] button:has-text('Details')")
        await ph.page.click("[data-testid=rejected] button:has-text('send again')")
        await ph.page.wait_for_selector("[data-testid=sync-pill][data-rejected='0'][data-pending='0']", timeout=15_000)
    async with live["services"].db.read() as s:
        assert (await s.get(Customer, c["id"])).name == c["name"] + " (renamed)"


async def rep_id(live, username):
    from backend.auth.models import User

    async with live["services"].db.read() as s:
        return (await s.execute(select(User.id).where(User.username == username))).scalar_one()


async def test_reassigned_customer_moves_between_phones(live, phone):
    p1, p2 = await phone("zh-CN"), await phone("zh-CN")
    await p1.login("rep1")
    await p2.login("rep2")
    [c] = await _first_customers(live, "rep1", 1)
    async with api(live, "manager") as manager:
        r = await manager.post(f"/api/customers/{c['id']}/assign", {"repId": await rep_id(live, "rep2")})
        assert r.status_code == 200
    for ph in (p1, p2):
        await ph.sync_now()
        await ph.go("/customers")
        await ph.page.fill("input[name=q]", c["name"])
        await ph.page.wait_for_timeout(300)
    assert await p1.page.locator("[data-testid=customer-list] li").count() == 0
    label = json.dumps(c["name"], ensure_ascii=False)
    assert await p2.page.locator(f"[data-testid=customer-list] a:has-text({label})").count() == 1


async def _one_change_offline(live, phone, address):
    """rep1's phone (in English) with one customer's address changed offline; the phone stays offline."""
    ph = await phone("en")
    await ph.login("rep1")
    [c] = await _first_customers(live, "rep1", 1)
    await ph.offline(True)
    await _edit_field(ph, c["name"], "address", address)
    return ph, c


async def test_revoked_device_stops_and_keeps_unsynced_changes_exportable(live, phone):
    ph, c = await _one_change_offline(live, phone, "Unsynced Road 9")
    async with api(live, "rep1") as me:
        devices = (await me.get("/api/auth/devices")).json()
        target = next(d for d in devices if d["id"] != me.device_id and not d["revoked"])
        assert (await me.post(f"/api/auth/devices/{target['id']}/revoke", {})).status_code == 200
    await ph.offline(False)
    await ph.page.wait_for_selector(".banner.danger", timeout=15_000)
    assert await ph.page.get_attribute("[data-testid=sync-pill]", "data-pending") == "1"
    await ph.go("/sync")
    async with ph.page.expect_download() as dl:
        await ph.page.click("button:has-text('Export unsynced changes')")
    download = await dl.value
    exported = json.loads(open(await download.path(), encoding="utf-8").read())
    assert exported["changes"][0]["args"]["address"] == "Unsynced Road 9"
    await ph.page.locator(".banner.danger").first.scroll_into_view_if_needed()
    await ph.screen("sync-revoked")
    async with live["services"].db.read() as s:
        assert (await s.get(Customer, c["id"])).address != "Unsynced Road 9"

    # Signing in again: another user is refused while rep1's change is unsent; rep1 sends it.
    await ph.page.click("[data-testid=sign-in-again]")
    await ph.page.wait_for_selector("input[name=password]")
    assert await ph.page.input_value("input[name=username]") == "rep1"
    await ph.page.fill("input[name=username]", "rep2")
    await ph.page.fill("input[name=password]", PASSWORD)
    await ph.page.click("button[type=submit]")
    await ph.page.wait_for_selector("[data-testid=other-user]")
    assert "1" in await ph.page.inner_text("[data-testid=other-user]")
    await ph.screen("login-other-user")
    await ph.page.fill("input[name=username]", "rep1")
    await ph.page.click("form button[type=submit]")
    await ph.page.wait_for_selector("[data-testid=sync-pill]")
    await ph.synced()
    async with live["services"].db.read() as s:
        assert (await s.get(Customer, c["id"])).address == "Unsynced Road 9"
        sent = (
            await s.execute(
                select(AuditEntry.device_id, AuditEntry.mutation_id).where(
                    AuditEntry.source == "sync", AuditEntry.entity_id == c["id"]
                )
            )
        ).all()
    assert len(sent) == 1 and sent[0].device_id != target["id"]  # once, from the phone's new device id


async def test_a_change_made_while_the_server_is_unreachable_is_sent_when_it_answers_again(live, phone):
    """The browser says it is online all along (no `online` event will come), but the server cannot
    be reached for a while: the phone shows it is offline and keeps trying on its own, with backoff,
    until the change is sent."""
    ph = await phone("en")
    await ph.login("rep1")
    [c] = await _first_customers(live, "rep1", 1)

    async def unreachable(route):
        await route.abort("connectionrefused")

    await ph.ctx.route("**/api/sync/**", unreachable)
    await _edit_field(ph, c["name"], "address", "Sent Later Road 3")
    await ph.page.wait_for_selector("[data-testid=sync-pill][data-online=false]", timeout=10_000)
    assert await ph.page.get_attribute("[data-testid=sync-pill]", "data-pending") == "1"
    await ph.ctx.unroute("**/api/sync/**", unreachable)
    await ph.synced(timeout=20_000)  # no event, no tap: the timer's retry
    async with live["services"].db.read() as s:
        assert (await s.get(Customer, c["id"])).address == "Sent Later Road 3"


async def test_signing_out_with_unsynced_changes_warns_and_offers_their_export(live, phone):
    ph, c = await _one_change_offline(live, phone, "Not Yet Sent Road 5")
    await ph.go("/settings")
    await ph.page.click("button:has-text('Sign out')")
    warning = ph.page.locator(".banner.danger")
    assert "Changes not synced yet: 1." in await warning.inner_text()
    await ph.screen("settings-sign-out-warning")
    async with ph.page.expect_download() as dl:
        await warning.locator("button:has-text('Export unsynced changes')").click()
    exported = json.loads(open(await (await dl.value).path(), encoding="utf-8").read())
    assert exported["changes"][0]["args"]["address"] == "Not Yet Sent Road 5"
    assert await ph.page.get_attribute("[data-testid=sync-pill]", "data-pending") == "1"  # still here
    await ph.page.click("button:has-text('Sign out and delete them')")
    await ph.page.wait_for_selector("input[name=username]")
    # nothing of rep1's is left on the phone: no rows, no changes, no one to send them as
    assert await ph.page.evaluate("outpost.store.customerCount()") == 0
    assert await ph.page.evaluate("outpost.store.outbox()") == []
    assert await ph.page.input_value("input[name=username]") == ""
    await ph.offline(False)
    async with live["services"].db.read() as s:
        assert (await s.get(Customer, c["id"])).address != "Not Yet Sent Road 5"
