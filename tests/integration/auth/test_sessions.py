"""Sessions after a compromise, whose devices a manager may sign out, the device limit, the trusted
proxies, and password hashing off the event loop (issue 14, classes 5-7 and 9)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.auth.models import Device, LoginFailure
from backend.auth.passwords import Passwords
from backend.auth.proxies import trusted_proxy_list
from backend.settings import Settings
from tests import support
from tests.conftest import DEMO_PASSWORD
from tests.integration.auth.test_auth import _settings_with, clock, pull, push_one, refresh, refusal

NEW_PASSWORD = "n3w-secret!"
__all__ = ["clock"]  # the fixture, shared with test_auth


def client(app: Any, address: str) -> httpx.AsyncClient:
    """An HTTP client whose requests come from ``address`` (the peer the app sees)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def attempt(http: Any, username: str, password: str = "wrong-password", **extra: Any) -> httpx.Response:
    return await http.post("/api/auth/login", json={"username": username, "password": password, **extra})


# ----------------------------------------------------------------------------------------- 6a password change


async def test_changing_my_password_signs_out_every_other_device_but_this_one(http, login, app):
    phone = await login("rep1", "phone")
    tablet = await login("rep1", "tablet")
    laptop = await login("rep1", "laptop")
    rep2 = await login("rep2", "rep2-phone")
    assert (await push_one(tablet)).status_code == 200

    r = await phone.post("/api/auth/password", {"currentPassword": DEMO_PASSWORD, "newPassword": NEW_PASSWORD})
    assert r.status_code == 200 and r.json() == {"ok": True}

    # The others are signed out as logout does: access tokens at once, refresh tokens too.
    for other in (tablet, laptop):
        refusal(await other.get("/api/auth/me"), 401, "signed-out")
        refusal(await pull(other), 401, "signed-out")
        refusal(await refresh(http, other.refresh), 401, "refresh-invalid")
    # The device making the change carries on.
    assert (await phone.get("/api/auth/me")).status_code == 200
    assert (await pull(phone)).status_code == 200
    fresh = await refresh(http, phone.refresh)
    assert fresh.status_code == 200, fresh.text
    # Another user is untouched.
    assert (await rep2.get("/api/auth/me")).status_code == 200

    # Signed out, not revoked: the tablet signs in again with the new password on the same install,
    # keeps its clientId and its mutation counter goes on where it was.
    again = await attempt(http, "rep1", NEW_PASSWORD, deviceId=tablet.device_id)
    assert again.status_code == 200, again.text
    assert again.json()["deviceId"] == tablet.device_id
    tablet.access, tablet.refresh = again.json()["accessToken"], again.json()["refreshToken"]
    assert (await push_one(tablet, 2)).status_code == 200
    listed = {d["id"]: d for d in (await tablet.get("/api/auth/devices")).json()}
    assert not any(d["revoked"] for d in listed.values())


async def test_a_refused_password_change_signs_nobody_out(login):
    phone = await login("rep1", "phone")
    tablet = await login("rep1", "tablet")
    wrong = await phone.post("/api/auth/password", {"currentPassword": "not-it-at-all", "newPassword": NEW_PASSWORD})
    refusal(wrong, 400, "bad-credentials")
    weak = await phone.post("/api/auth/password", {"currentPassword": DEMO_PASSWORD, "newPassword": "short"})
    refusal(weak, 400, "weak-password")
    assert (await tablet.get("/api/auth/me")).status_code == 200


# ----------------------------------------------------------------------------------------- 6b refresh reuse


class TestReuseSignsTheDeviceOut:
    @pytest.fixture
    def settings(self, db_url: str, tmp_path: Path) -> Settings:
        return _settings_with(db_url, tmp_path, refresh_grace_seconds=0)

    async def test_refresh_reuse_ends_the_devices_access_token_too(self, http, login):
        phone = await login("rep1", "phone")
        tablet = await login("rep1", "tablet")
        rotated = await refresh(http, phone.refresh)
        assert rotated.status_code == 200
        thief_access = rotated.json()["accessToken"]  # whoever holds the newest pair

        refusal(await refresh(http, phone.refresh), 401, "refresh-reused")
        for token in (phone.access, thief_access):
            phone.access = token
            refusal(await phone.get("/api/auth/me"), 401, "signed-out")
            refusal(await pull(phone), 401, "signed-out")
        assert (await tablet.get("/api/auth/me")).status_code == 200  # another device of the user
        again = await attempt(http, "rep1", DEMO_PASSWORD, deviceId=phone.device_id)
        assert again.status_code == 200 and again.json()["deviceId"] == phone.device_id


# ----------------------------------------------------------------------------------------- 6c password limit


class TestPasswordChangeLimit:
    @pytest.fixture
    def settings(self, db_url: str, tmp_path: Path) -> Settings:
        return _settings_with(db_url, tmp_path, login_max_failures_per_account=3)

    @staticmethod
    async def change(s: support.Session, current: str) -> httpx.Response:
        return await s.post("/api/auth/password", {"currentPassword": current, "newPassword": NEW_PASSWORD})

    async def test_wrong_current_passwords_are_limited_per_account(self, http, login, app, clock):
        phone = await login("rep1", "phone")
        tablet = await login("rep1", "tablet")
        for _ in range(3):
            refusal(await self.change(phone, "guess-guess"), 400, "bad-credentials")
        for who in (phone, tablet):  # per account, whichever device asks; even the right password
            r = await self.change(who, DEMO_PASSWORD)
            body = refusal(r, 429, "rate-limited")
            assert int(r.headers["retry-after"]) == body["retryAfterSeconds"] == 900
        # The login of the same account is a limit of its own, and so is another user's password.
        assert (await attempt(http, "rep1", DEMO_PASSWORD)).status_code == 200
        rep2 = await login("rep2")
        refusal(await self.change(rep2, "guess-guess"), 400, "bad-credentials")
        async with app.state.services.db.read() as s:
            keys = set((await s.execute(select(LoginFailure.key))).scalars())
        assert keys == {f"password:{phone.user['id']}", f"password:{rep2.user['id']}"}

        clock.advance(901)
        assert (await self.change(phone, DEMO_PASSWORD)).status_code == 200

    async def test_a_successful_change_resets_the_count(self, login):
        phone = await login("rep1", "phone")
        for _ in range(2):
            refusal(await self.change(phone, "guess-guess"), 400, "bad-credentials")
        assert (await self.change(phone, DEMO_PASSWORD)).status_code == 200
        for _ in range(2):
            refusal(await self.change(phone, "guess-guess"), 400, "bad-credentials")
        ok = await phone.post("/api/auth/password", {"currentPassword": NEW_PASSWORD, "newPassword": "third-one!"})
        assert ok.status_code == 200, ok.text


# ----------------------------------------------------------------------------------------- session_alive


async def test_session_alive_follows_logout_password_change_revocation_and_disabling(http, login, app):
    auth = app.state.services.auth
    phone = await login("rep1", "phone")
    tablet = await login("rep1", "tablet")
    laptop = await login("rep1", "laptop")
    uid = phone.user["id"]
    assert await auth.session_alive(uid, phone.device_id)
    assert not await auth.session_alive(uid, "no-such-device")
    assert not await auth.session_alive((await login("rep2")).user["id"], phone.device_id)  # not theirs

    assert (await laptop.post("/api/auth/logout")).status_code == 200
    assert not await auth.session_alive(uid, laptop.device_id)

    r = await phone.post("/api/auth/password", {"currentPassword": DEMO_PASSWORD, "newPassword": NEW_PASSWORD})
    assert r.status_code == 200
    assert await auth.session_alive(uid, phone.device_id)
    assert not await auth.session_alive(uid, tablet.device_id)

    again = await attempt(http, "rep1", NEW_PASSWORD, deviceId=tablet.device_id)
    assert again.status_code == 200 and await auth.session_alive(uid, tablet.device_id)

    assert (await phone.post(f"/api/auth/devices/{tablet.device_id}/revoke")).status_code == 200
    assert not await auth.session_alive(uid, tablet.device_id)

    await auth.set_disabled("rep1", True)
    assert not await auth.session_alive(uid, phone.device_id)
    await auth.set_disabled("rep1", False)
    assert not await auth.session_alive(uid, phone.device_id)  # disabling ended its tokens: sign in again
    back = await attempt(http, "rep1", NEW_PASSWORD, deviceId=phone.device_id)
    assert back.status_code == 200 and await auth.session_alive(uid, phone.device_id)


# ----------------------------------------------------------------------------------------- 5 whose devices


async def test_whose_devices_a_manager_may_list_and_sign_out(login, app, http):
    """manager is a manager of GZ; see AuthService._check_manages for the table."""
    auth = app.state.services.auth
    await auth.create_user("admin-th", "admin-th-pass", ["admin"], "GZ-TH")
    await auth.create_user("auditor-th", "auditor-th-pass", ["auditor"], "GZ-TH")
    await auth.create_user("manager-gz2", "manager-gz2-pass", ["manager"], "GZ")
    await auth.create_user("manager-th", "manager-th-pass", ["manager"], "GZ-TH")
    await auth.create_user("manager-gd", "manager-gd-pass", ["manager"], "GD")
    manager = await login("manager", "manager-phone")
    sessions = {
        name: await support.login(http, name, password, f"{name}-phone")
        for name, password in [
            ("admin-th", "admin-th-pass"),
            ("auditor-th", "auditor-th-pass"),
            ("manager-gz2", "manager-gz2-pass"),
            ("manager-th", "manager-th-pass"),
            ("manager-gd", "manager-gd-pass"),
        ]
    }
    sessions["auditor"] = await login("auditor", "auditor-phone")  # the demo auditor of GZ
    sessions["rep1"] = await login("rep1", "rep1-phone")
    sessions["stocktaker"] = await login("stocktaker", "stocktaker-phone")  # GZ itself, not a manager

    refused = {
        "admin-th": "admin or an auditor",
        "auditor-th": "admin or an auditor",
        "auditor": "admin or an auditor",
        "manager-gz2": "manager of your own unit",
        "manager-gd": "outside your org unit",
    }
    for name, why in refused.items():
        s = sessions[name]
        body = refusal(await manager.get("/api/auth/devices", params={"userId": s.user["id"]}), 403, "forbidden")
        assert why in body["detail"], (name, body)
        refusal(await manager.post(f"/api/auth/devices/{s.device_id}/revoke"), 403, "forbidden")
        assert (await s.get("/api/auth/me")).status_code == 200, name  # still signed in

    for name in ("manager-th", "rep1", "stocktaker"):
        s = sessions[name]
        listed = await manager.get("/api/auth/devices", params={"userId": s.user["id"]})
        assert listed.status_code == 200 and [d["id"] for d in listed.json()] == [s.device_id], name
        assert (await manager.post(f"/api/auth/devices/{s.device_id}/revoke")).status_code == 200, name
        refusal(await s.get("/api/auth/me"), 401, "device-revoked")

    # An admin anyone's; an auditor or a rep nobody else's; everybody their own; unknown users 404.
    admin = await login("admin", "admin-laptop")
    assert (await admin.post(f"/api/auth/devices/{sessions['manager-gz2'].device_id}/revoke")).status_code == 200
    auditor = sessions["auditor"]
    refusal(await auditor.get("/api/auth/devices", params={"userId": manager.user["id"]}), 403, "forbidden")
    refusal(await auditor.post(f"/api/auth/devices/{manager.device_id}/revoke"), 403, "forbidden")
    own = await auditor.get("/api/auth/devices", params={"userId": auditor.user["id"]})
    assert own.status_code == 200
    refusal(await manager.get("/api/auth/devices", params={"userId": "no-such-user"}), 404, "not-found")
    refusal(await manager.post("/api/auth/devices/no-such-device/revoke"), 404, "not-found")


# ----------------------------------------------------------------------------------------- 9a device limit


class TestDeviceLimit:
    @pytest.fixture
    def settings(self, db_url: str, tmp_path: Path) -> Settings:
        return _settings_with(db_url, tmp_path, max_devices_per_user=2)

    async def test_past_the_limit_a_new_device_is_refused_with_the_list_to_choose_from(self, http, login, app):
        phone = await login("rep1", "phone")
        tablet = await login("rep1", "tablet")
        assert (await push_one(phone)).status_code == 200

        r = await attempt(http, "rep1", DEMO_PASSWORD, deviceName="new phone")
        body = refusal(r, 409, "too-many-devices")
        assert body["maxDevices"] == 2
        assert [(d["id"], d["name"]) for d in body["devices"]] == [
            (phone.device_id, "phone"),
            (tablet.device_id, "tablet"),
        ]
        assert set(body["devices"][0]) == {"id", "name", "lastSeenAt", "lastSyncAt"}
        assert body["devices"][0]["lastSyncAt"] is not None and body["devices"][1]["lastSyncAt"] is None
        assert "accessToken" not in body
        # Nothing was evicted: both devices go on.
        for s in (phone, tablet):
            assert (await s.get("/api/auth/me")).status_code == 200
        # A device signing in again on its own install is not a new device.
        assert (await attempt(http, "rep1", DEMO_PASSWORD, deviceId=tablet.device_id)).status_code == 200

    async def test_the_user_chooses_a_device_to_sign_out_in_the_same_step(self, http, login, app):
        phone = await login("rep1", "phone")
        tablet = await login("rep1", "tablet")
        rep2 = await login("rep2", "rep2-phone")

        # Not one of theirs, or a wrong password: nothing is revoked.
        bad = await attempt(http, "rep1", DEMO_PASSWORD, deviceName="new", replaceDeviceId=rep2.device_id)
        refusal(bad, 400, "invalid-device")
        wrong = await attempt(http, "rep1", "wrong-password", deviceName="new", replaceDeviceId=tablet.device_id)
        refusal(wrong, 401, "bad-credentials")
        for s in (phone, tablet, rep2):
            assert (await s.get("/api/auth/me")).status_code == 200

        r = await attempt(http, "rep1", DEMO_PASSWORD, deviceName="new phone", replaceDeviceId=tablet.device_id)
        assert r.status_code == 200, r.text
        new_id = r.json()["deviceId"]
        assert new_id not in (phone.device_id, tablet.device_id)
        refusal(await tablet.get("/api/auth/me"), 401, "device-revoked")
        refusal(await push_one(tablet), 401, "device-revoked")
        assert (await phone.get("/api/auth/me")).status_code == 200
        async with app.state.services.db.read() as s:
            replaced = await s.get(Device, tablet.device_id)
            assert replaced is not None and replaced.revoked_by == phone.user["id"]
            active = (
                (
                    await s.execute(
                        select(Device.id).where(Device.user_id == phone.user["id"], Device.revoked_at.is_(None))
                    )
                )
                .scalars()
                .all()
            )
        assert sorted(active) == sorted([phone.device_id, new_id])
        # Revoked devices do not count; below the limit replaceDeviceId of a revoked device is harmless.
        assert (await phone.post(f"/api/auth/devices/{new_id}/revoke")).status_code == 200
        again = await attempt(http, "rep1", DEMO_PASSWORD, deviceName="other", replaceDeviceId=tablet.device_id)
        assert again.status_code == 200, again.text


# ----------------------------------------------------------------------------------------- 9b proxies


def test_trusted_proxies_setting_is_checked():
    assert trusted_proxy_list("127.0.0.1") == ["127.0.0.1"]
    assert trusted_proxy_list(" 10.0.0.0/8, 192.168.1.7 ,::1,") == ["10.0.0.0/8", "192.168.1.7", "::1"]
    assert trusted_proxy_list("") == []
    assert trusted_proxy_list("*") == ["*"]
    with pytest.raises(ValueError, match=r"OUTPOST_TRUSTED_PROXIES: 'proxy\.local'"):
        trusted_proxy_list("10.0.0.1, proxy.local")


def _proxies_wired(app: Any) -> bool:
    return any(
        getattr(getattr(m, "middleware", None), "__name__", "") == "ProxyHeadersMiddleware" for m in app.middleware
    )


class TestTrustedProxies:
    """Small limits (5 failures per address); the proxy at 10.0.0.5, in a trusted network."""

    @pytest.fixture
    def settings(self, db_url: str, tmp_path: Path) -> Settings:
        s = _settings_with(db_url, tmp_path, login_max_failures_per_address=5, login_max_failures_per_account=100)
        s.app.trusted_proxies = "127.0.0.1, 10.0.0.0/29"
        return s

    @pytest.fixture(autouse=True)
    def wired(self, app: Any) -> None:
        assert _proxies_wired(app), "create_app must add backend.auth.proxies.trusted_proxies(settings.app)"

    async def test_behind_a_trusted_proxy_failures_count_for_the_forwarded_client(self, app, demo):
        async with client(app, "10.0.0.5") as proxy:
            for i in range(5):
                r = await proxy.post(
                    "/api/auth/login",
                    json={"username": f"nobody{i}", "password": "wrong-password"},
                    headers={"x-forwarded-for": "203.0.113.7"},
                )
                refusal(r, 401, "bad-credentials")
            locked = await proxy.post(
                "/api/auth/login",
                json={"username": "rep1", "password": DEMO_PASSWORD},
                headers={"x-forwarded-for": "203.0.113.7"},
            )
            body = refusal(locked, 429, "rate-limited")
            assert "address" in body["detail"]
            # Everyone else behind the same proxy still signs in.
            other = await proxy.post(
                "/api/auth/login",
                json={"username": "rep1", "password": DEMO_PASSWORD},
                headers={"x-forwarded-for": "203.0.113.8, 10.0.0.5"},
            )
            assert other.status_code == 200, other.text
        async with app.state.services.db.read() as s:
            keys = set((await s.execute(select(LoginFailure.key).where(LoginFailure.key.like("address:%")))).scalars())
        assert keys == {"address:203.0.113.7"}

    async def test_from_an_untrusted_peer_the_header_is_ignored(self, app, demo):
        async with client(app, "198.51.100.9") as direct:
            for i in range(5):  # a new made-up address each time does not escape the limit
                r = await direct.post(
                    "/api/auth/login",
                    json={"username": f"nobody{i}", "password": "wrong-password"},
                    headers={"x-forwarded-for": f"203.0.113.{i + 20}"},
                )
                refusal(r, 401, "bad-credentials")
            locked = await direct.post(
                "/api/auth/login",
                json={"username": "rep1", "password": DEMO_PASSWORD},
                headers={"x-forwarded-for": "203.0.113.99"},
            )
            refusal(locked, 429, "rate-limited")
        async with app.state.services.db.read() as s:
            keys = set((await s.execute(select(LoginFailure.key).where(LoginFailure.key.like("address:%")))).scalars())
        assert keys == {"address:198.51.100.9"}
        # the addresses it named are not locked
        async with client(app, "10.0.0.5") as proxy:
            ok = await proxy.post(
                "/api/auth/login",
                json={"username": "rep1", "password": DEMO_PASSWORD},
                headers={"x-forwarded-for": "203.0.113.20"},
            )
            assert ok.status_code == 200, ok.text


# ----------------------------------------------------------------------------------------- 7 hashing


class TestHashingOffTheLoop:
    """Every argon2 call runs in a worker thread, with no write transaction held, at most
    ``hash_concurrency`` at once (the wrapper below only counts; nothing here is timed). The write lock
    is SQLite's (``Database._writers``); on PostgreSQL that part has nothing to look at."""

    @pytest.fixture
    def settings(self, db_url: str, tmp_path: Path) -> Settings:
        return _settings_with(db_url, tmp_path, hash_concurrency=2, max_devices_per_user=50)

    async def test_logins_and_password_changes_hash_in_bounded_worker_threads(self, app, http, demo, monkeypatch):
        db = app.state.services.db
        loop_thread = threading.get_ident()
        lock = threading.Lock()
        seen: dict[str, Any] = {"running": 0, "most": 0, "calls": 0, "on_loop": 0, "in_write": 0, "alone": False}
        real_verify, real_hash = Passwords.verify, Passwords.hash

        def watched(real: Any) -> Any:
            def call(self: Passwords, *args: Any) -> Any:
                with lock:
                    seen["calls"] += 1
                    seen["running"] += 1
                    seen["most"] = max(seen["most"], seen["running"])
                    seen["on_loop"] += threading.get_ident() == loop_thread
                    # one request at a time: then a held write lock could only be the hashing request's own
                    seen["in_write"] += seen["alone"] and db._writers is not None and db._writers.locked()
                try:
                    threading.Event().wait(0.02)  # long enough for the others to pile up
                    return real(self, *args)
                finally:
                    with lock:
                        seen["running"] -= 1

            return call

        monkeypatch.setattr(Passwords, "verify", watched(real_verify))
        monkeypatch.setattr(Passwords, "hash", watched(real_hash))

        async def one(i: int) -> int:
            password = DEMO_PASSWORD if i % 3 else "wrong-password"
            r = await attempt(http, "rep1" if i % 2 else "rep2", password, deviceName=f"d{i}")
            return r.status_code

        codes = await asyncio.gather(*(one(i) for i in range(8)))
        assert sorted(set(codes)) == [200, 401]
        seen["alone"] = True
        s = await support.login(http, "rep1", DEMO_PASSWORD)
        r = await s.post("/api/auth/password", {"currentPassword": DEMO_PASSWORD, "newPassword": NEW_PASSWORD})
        assert r.status_code == 200
        await app.state.services.auth.create_user("rep9", "rep9-password", ["rep"], "GZ-TH")
        await app.state.services.auth.reset_password("rep9", "rep9-password-2")

        assert seen["calls"] >= 8 + 1 + 2 + 1 + 1
        assert seen["on_loop"] == 0
        assert seen["in_write"] == 0
        assert seen["most"] == 2

    async def test_unknown_users_are_still_checked_against_a_hash(self, http, demo, monkeypatch):
        hashed: list[str] = []
        real = Passwords.verify

        def verify(self: Passwords, h: str, password: str) -> bool:
            hashed.append(h)
            return real(self, h, password)

        monkeypatch.setattr(Passwords, "verify", verify)
        refusal(await attempt(http, "nobody-at-all"), 401, "bad-credentials")
        assert len(hashed) == 1 and hashed[0].startswith("$argon2id$")


async def test_a_password_reset_signs_every_device_of_the_account_out(app, login):
    """An administrator resets a forgotten or leaked password: no device keeps the old session."""
    phone, tablet, other = await login("rep1", "phone"), await login("rep1", "tablet"), await login("rep2")
    await app.state.services.auth.reset_password("rep1", "a-reset-pass-789")
    for s in (phone, tablet):
        r = await s.get("/api/auth/me")
        assert r.status_code == 401 and r.json()["error"] == "signed-out", r.text
        r = await s.http.post("/api/auth/refresh", json={"refreshToken": s.refresh})
        assert r.status_code == 401, r.text
    assert (await other.get("/api/auth/me")).status_code == 200  # nobody else's
    r = await phone.http.post(
        "/api/auth/login", json={"username": "rep1", "password": "a-reset-pass-789", "deviceId": phone.device_id}
    )
    assert r.status_code == 200 and r.json()["deviceId"] == phone.device_id  # the same device carries on
