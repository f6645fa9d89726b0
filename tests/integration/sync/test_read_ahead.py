"""The next page of a pull is built while the device writes this one (ReadAhead): handed out once,
only to the device, user and scope it was built for."""

import json

import pytest


@pytest.fixture
def sync_options():
    return {"pull_page_size": 7}


async def _first_page(rep, app):
    page = (await rep.post("/api/sync/pull", rep.envelope(cookie=None))).json()
    assert page["more"] and page["patch"][0] == {"op": "clear"}
    task = app.state.services.read_ahead.peek(rep.device_id, page["cookie"])
    assert task is not None  # the next page is on its way before anyone asks for it
    return page, await task


async def test_the_page_built_ahead_is_handed_out_once_then_built_afresh(app, login):
    rep, admin = await login("rep1"), await login("admin")
    await admin.sync.pull()
    page1, ahead = await _first_page(rep, app)
    second = [op for op in json.loads(bytes(ahead["patch"])) if op["entity"] == "customer"]
    assert second  # the second page holds customers
    target = second[0]["id"]
    admin.sync.update("customer", target, address="Changed after the page was built")
    await admin.sync.sync()

    got = (await rep.post("/api/sync/pull", rep.envelope(cookie=page1["cookie"]))).json()
    assert json.loads(bytes(ahead["patch"])) == got["patch"] and got["cookie"] == ahead["cookie"]
    assert {op["id"]: op["value"]["address"] for op in got["patch"]}[target] != "Changed after the page was built"
    assert app.state.services.read_ahead.peek(rep.device_id, page1["cookie"]) is None  # taken

    again = (await rep.post("/api/sync/pull", rep.envelope(cookie=page1["cookie"]))).json()
    assert {op["id"]: op["value"]["address"] for op in again["patch"]}[target] == "Changed after the page was built"
    # the change is not lost either way: the pull after the first sync brings it (it is after the start)
    await rep.sync.pull()
    assert rep.sync.base[("customer", target)]["address"] == "Changed after the page was built"


async def test_a_page_built_ahead_is_not_handed_to_another_device(app, login):
    phone, tablet = await login("rep1"), await login("rep1", device="tablet")
    page1, _ = await _first_page(phone, app)
    r = await tablet.post("/api/sync/pull", tablet.envelope(cookie=page1["cookie"]))
    assert r.status_code == 200  # a cookie is not secret, but the page built for the phone stays the phone's
    assert app.state.services.read_ahead.peek(phone.device_id, page1["cookie"]) is not None


async def test_a_page_built_before_the_users_scope_changed_is_not_handed_out(app, login):
    rep = await login("rep1")
    page1, ahead = await _first_page(rep, app)
    assert ahead["patch"] and json.loads(bytes(ahead["patch"]))[0]["op"] == "put"
    await app.state.services.auth.move_user("rep1", roles=["rep"])  # the scope changes: a full resync
    got = (await rep.post("/api/sync/pull", rep.envelope(cookie=page1["cookie"]))).json()
    assert got["patch"][0] == {"op": "clear"}


async def test_a_new_devices_first_two_pages_are_built_at_login_and_served_once(app, http, demo, login):
    ahead = app.state.services.read_ahead
    rep = await login("rep1")
    first = await ahead.peek(rep.device_id, None)  # built while the phone stores its tokens
    assert first["more"] and json.loads(bytes(first["patch"]))[0] == {"op": "clear"}
    second = ahead.peek(rep.device_id, first["cookie"])
    assert second is not None  # and the page after it

    got = (await rep.post("/api/sync/pull", rep.envelope(cookie=None))).json()
    assert got["cookie"] == first["cookie"] and got["patch"] == json.loads(bytes(first["patch"]))
    assert ahead.peek(rep.device_id, None) is None  # handed out once
    nxt = (await rep.post("/api/sync/pull", rep.envelope(cookie=got["cookie"]))).json()
    assert nxt["patch"] == json.loads(bytes((await second)["patch"]))

    # The same device signing in again (it sends its id back) carries on from its cookie: nothing is built.
    r = await http.post(
        "/api/auth/login",
        json={"username": "rep1", "password": demo["password"], "deviceName": "phone", "deviceId": rep.device_id},
    )
    assert r.status_code == 200 and r.json()["deviceId"] == rep.device_id
    assert ahead.peek(rep.device_id, None) is None
    # Another user's new device gets its own pages, never rep1's.
    rep2 = await login("rep2")
    theirs = await ahead.peek(rep2.device_id, None)
    assert {op["entity"] for op in json.loads(bytes(theirs["patch"]))[1:]} <= {"customer", "contact"}
    mine = {op["id"] for op in got["patch"][1:]}
    assert mine.isdisjoint(op["id"] for op in json.loads(bytes(theirs["patch"]))[1:])


async def test_a_first_page_built_at_login_is_not_served_once_something_the_user_sees_changed(app, login):
    ahead = app.state.services.read_ahead
    admin = await login("admin")
    await admin.sync.pull()
    rep = await login("rep1")
    first = await ahead.peek(rep.device_id, None)
    target = next(op["id"] for op in json.loads(bytes(first["patch"])) if op.get("entity") == "customer")
    admin.sync.update("customer", target, address="Changed after login")
    await admin.sync.sync()
    got = (await rep.post("/api/sync/pull", rep.envelope(cookie=None))).json()
    assert {op["id"]: op["value"]["address"] for op in got["patch"][1:]}[target] == "Changed after login"
