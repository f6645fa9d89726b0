"""Accounts over HTTP: login, refresh rotation with its grace window, logout, passwords, devices,
revocation, disabling, expired tokens, login rate limits, and the production security defaults.

The typed refusals (ARCHITECTURE.md §3): 401 ``token-expired``, ``device-revoked``, ``user-disabled``.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy import select

import backend.auth.services as auth_services
from backend.auth.models import Device, RefreshToken
from backend.auth.passwords import Passwords
from backend.auth.tokens import Tokens
from backend.domain.customers.models import Customer
from backend.settings import AppSettings, AuthSettings, Settings
from sync_protocol.client import SyncStopped
from tests import support
from tests.conftest import DEMO_PASSWORD
from tests.support import Session, new_uuid

ROOT = Path(__file__).resolve().parents[3]
OUTPOST = ROOT / ".venv" / "bin" / "outpost"


# ----------------------------------------------------------------------------------------- helpers


async def refresh(http: Any, token: str) -> httpx.Response:
    return await http.post("/api/auth/refresh", json={"refreshToken": token})


async def push_one(s: Session, mutation_id: int = 1) -> httpx.Response:
    """Push one customer.create mutation (a real write) from this device."""
    body = s.envelope(
        mutations=[
            {
                "clientId": s.device_id,
                "id": mutation_id,
                "name": "customer.create",
                "args": {"id": new_uuid(), "name": f"客户 {mutation_id}"},
                "hlc": s.sync.clock.now(),
            }
        ]
    )
    return await s.post("/api/sync/push", body)


async def pull(s: Session) -> httpx.Response:
    return await s.post("/api/sync/pull", s.envelope(cookie=None))


def refusal(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert a typed refusal and return its body."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code, body
    assert body["status"] == status
    assert body["detail"], body
    return body


async def customer_names(app: Any) -> set[str]:
    async with app.state.services.db.read() as s:
        return set((await s.execute(select(Customer.name))).scalars())


class Clock:
    """Moves ``backend.auth.services.utcnow`` forward without sleeping."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.offset = timedelta(0)
        real = auth_services.utcnow
        monkeypatch.setattr(auth_services, "utcnow", lambda: real() + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def _settings_with(db_url: str, tmp_path: Path, **auth: Any) -> Settings:
    s = support.test_settings(db_url, tmp_path / "var")
    for name, value in auth.items():
        setattr(s.auth, name, value)
    return s


# ----------------------------------------------------------------------------------------- login


async def test_login_returns_tokens_device_and_user_with_roles_and_org_unit(http, demo):
    r = await http.post(
        "/api/auth/login", json={"username": "rep1", "password": DEMO_PASSWORD, "deviceName": "Li's phone"}
    )
    assert r.status_code == 200, r.text
    b = r.json()
    assert isinstance(b["accessToken"], str) and b["accessToken"].count(".") == 2  # a JWT
    assert isinstance(b["refreshToken"], str) and len(b["refreshToken"]) >= 32
    assert b["accessToken"] != b["refreshToken"]
    assert b["expiresIn"] == 15 * 60
    assert b["deviceId"]
    user = b["user"]
    assert user["username"] == "rep1"
    assert user["roles"] == ["rep"]
    assert user["orgUnit"]["code"] == "GZ-TH"
    assert user["orgUnit"]["path"] == "/HQ/GD/GZ/GZ-TH/"
    assert user["disabled"] is False
    assert "passwordHash" not in user and "password_hash" not in user

    me = await http.get("/api/auth/me", headers={"authorization": f"Bearer {b['accessToken']}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]
    assert me.json()["deviceId"] == b["deviceId"]

    devices = await http.get("/api/auth/devices", headers={"authorization": f"Bearer {b['accessToken']}"})
    assert [d["name"] for d in devices.json()] == ["Li's phone"]


async def test_login_with_own_device_id_keeps_it_but_not_someone_elses(http, login):
    rep1 = await login("rep1", "phone")
    again = await http.post(
        "/api/auth/login", json={"username": "rep1", "password": DEMO_PASSWORD, "deviceId": rep1.device_id}
    )
    assert again.status_code == 200, again.text
    assert again.json()["deviceId"] == rep1.device_id  # same install, same clientId and mutation counter

    hijack = await http.post(
        "/api/auth/login", json={"username": "rep2", "password": DEMO_PASSWORD, "deviceId": rep1.device_id}
    )
    assert hijack.status_code == 200, hijack.text
    assert hijack.json()["deviceId"] != rep1.device_id


@pytest.mark.parametrize("username", ["rep1", "nobody"])
async def test_wrong_password_or_unknown_user_is_401_bad_credentials(http, demo, username):
    r = await http.post("/api/auth/login", json={"username": username, "password": "wrong-password"})
    body = refusal(r, 401, "bad-credentials")
    assert "accessToken" not in body and "refreshToken" not in body
    assert body["detail"] == "Wrong username or password."  # the same answer: usernames are not revealed


# ----------------------------------------------------------------------------------------- refresh


async def test_refresh_rotates_and_the_previous_token_still_works_inside_the_grace_window(http, login):
    rep = await login("rep1")
    r1 = await refresh(http, rep.refresh)
    assert r1.status_code == 200, r1.text
    first = r1.json()
    assert first["refreshToken"] != rep.refresh
    assert first["deviceId"] == rep.device_id
    me = await http.get("/api/auth/me", headers={"authorization": f"Bearer {first['accessToken']}"})
    assert me.status_code == 200 and me.json()["username"] == "rep1"

    # The reply was lost on a bad network: the phone retries with the previous token (60 s grace).
    again = await refresh(http, rep.refresh)
    assert again.status_code == 200, again.text
    assert again.json()["refreshToken"] not in (rep.refresh, first["refreshToken"])

    # The rotated token is also still good.
    newest = await refresh(http, first["refreshToken"])
    assert newest.status_code == 200, newest.text


async def test_previous_refresh_token_works_until_the_default_grace_ends_then_revokes_the_family(
    http, login, clock, settings
):
    assert settings.auth.refresh_grace_seconds == 60
    rep = await login("rep1")
    first = (await refresh(http, rep.refresh)).json()

    clock.advance(59)
    inside = await refresh(http, rep.refresh)
    assert inside.status_code == 200, inside.text

    clock.advance(2)  # 61 s after the rotation
    refusal(await refresh(http, rep.refresh), 401, "refresh-reused")
    # Treated as theft: every refresh token of the device stops working, the newest ones too.
    refusal(await refresh(http, first["refreshToken"]), 401, "refresh-invalid")
    refusal(await refresh(http, inside.json()["refreshToken"]), 401, "refresh-invalid")
    # Another device of the same user is not part of that family.
    other = await login("rep1", "tablet")
    assert (await refresh(http, other.refresh)).status_code == 200


class TestNoGraceWindow:
    """An app built with ``refresh_grace_seconds = 0``: any reuse of a rotated token is theft."""

    @pytest.fixture
    def settings(self, db_url: str, tmp_path: Path) -> Settings:
        return _settings_with(db_url, tmp_path, refresh_grace_seconds=0)

    async def test_reuse_outside_the_grace_revokes_the_devices_token_family(self, http, login, app):
        assert app.state.services.settings.auth.refresh_grace_seconds == 0
        rep = await login("rep1")
        r1 = await refresh(http, rep.refresh)
        assert r1.status_code == 200, r1.text
        newest = r1.json()["refreshToken"]

        refusal(await refresh(http, rep.refresh), 401, "refresh-reused")
        refusal(await refresh(http, newest), 401, "refresh-invalid")
        async with app.state.services.db.read() as s:
            rows = (await s.execute(select(RefreshToken).where(RefreshToken.device_id == rep.device_id))).scalars()
            assert all(t.revoked_at is not None for t in rows)
        # The user can log in again on the same install and keep its clientId.
        again = await http.post(
            "/api/auth/login", json={"username": "rep1", "password": DEMO_PASSWORD, "deviceId": rep.device_id}
        )
        assert again.status_code == 200 and again.json()["deviceId"] == rep.device_id


# ----------------------------------------------------------------------------------------- logout, password


async def test_logout_ends_the_refresh_token_of_this_device_only(http, login):
    phone = await login("rep1", "phone")
    tablet = await login("rep1", "tablet")
    r = await phone.post("/api/auth/logout")
    assert r.status_code == 200 and r.json() == {"ok": True}
    refusal(await refresh(http, phone.refresh), 401, "refresh-invalid")
    assert (await refresh(http, tablet.refresh)).status_code == 200
    # Logging in again on the same install keeps its clientId.
    again = await http.post(
        "/api/auth/login", json={"username": "rep1", "password": DEMO_PASSWORD, "deviceId": phone.device_id}
    )
    assert again.status_code == 200 and again.json()["deviceId"] == phone.device_id


async def test_logout_ends_the_access_tokens_already_issued_to_this_device_at_once(http, login):
    phone = await login("rep1", "phone")
    tablet = await login("rep1", "tablet")
    assert (await phone.get("/api/auth/me")).status_code == 200
    assert (await phone.post("/api/auth/logout")).status_code == 200
    # the access token it had is still within its 15 minutes, but the device signed out
    refusal(await phone.get("/api/auth/me"), 401, "signed-out")
    refusal(
        await phone.post(
            "/api/sync/pull", {"protocolVersion": 1, "schemaVersion": 1, "clientId": phone.device_id, "cookie": None}
        ),
        401,
        "signed-out",
    )
    me = await tablet.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["deviceId"] == tablet.device_id  # another device: untouched
    # signing in again on the same install: same device, a token that works
    again = await http.post(
        "/api/auth/login", json={"username": "rep1", "password": DEMO_PASSWORD, "deviceId": phone.device_id}
    )
    assert again.json()["deviceId"] == phone.device_id
    r = await http.get("/api/auth/me", headers={"authorization": f"Bearer {again.json()['accessToken']}"})
    assert r.status_code == 200 and r.json()["deviceId"] == phone.device_id
    refusal(await phone.get("/api/auth/me"), 401, "signed-out")  # the old token stays ended
    # and a refreshed token too
    fresh = await refresh(http, again.json()["refreshToken"])
    r = await http.get("/api/auth/me", headers={"authorization": f"Bearer {fresh.json()['accessToken']}"})
    assert r.status_code == 200


async def test_logout_needs_a_login(http, demo):
    refusal(await http.post("/api/auth/logout"), 401, "not-authenticated")


async def test_change_my_password(http, login):
    rep = await login("rep1")
    wrong = await rep.post("/api/auth/password", {"currentPassword": "not-my-password", "newPassword": "n3w-secret!"})
    refusal(wrong, 400, "bad-credentials")

    short = await rep.post("/api/auth/password", {"currentPassword": DEMO_PASSWORD, "newPassword": "short"})
    body = refusal(short, 400, "weak-password")
    assert "8 characters" in body["detail"]

    # Neither refused attempt changed anything.
    assert (await support.login(http, "rep1", DEMO_PASSWORD)).username == "rep1"

    ok = await rep.post("/api/auth/password", {"currentPassword": DEMO_PASSWORD, "newPassword": "n3w-secret!"})
    assert ok.status_code == 200 and ok.json() == {"ok": True}
    refusal(
        await http.post("/api/auth/login", json={"username": "rep1", "password": DEMO_PASSWORD}),
        401,
        "bad-credentials",
    )
    fresh = await support.login(http, "rep1", "n3w-secret!")
    assert fresh.user["username"] == "rep1"


# ----------------------------------------------------------------------------------------- devices


async def test_list_my_devices_with_last_sync_time(login):
    phone = await login("rep1", "phone")
    tablet = await login("rep1", "tablet")
    await login("rep2", "rep2-phone")  # someone else's device is not listed

    before = {d["name"]: d for d in (await phone.get("/api/auth/devices")).json()}
    assert set(before) == {"phone", "tablet"}
    assert before["phone"]["current"] is True and before["tablet"]["current"] is False
    assert before["phone"]["id"] == phone.device_id and before["tablet"]["id"] == tablet.device_id
    assert before["phone"]["lastSyncAt"] is None and before["tablet"]["lastSyncAt"] is None
    assert before["phone"]["revoked"] is False

    r = await push_one(phone)
    assert r.status_code == 200, r.text
    after = {d["name"]: d for d in (await tablet.get("/api/auth/devices")).json()}
    assert after["phone"]["lastSyncAt"] is not None
    assert after["tablet"]["lastSyncAt"] is None
    assert after["tablet"]["current"] is True


async def test_revoking_my_device_stops_its_sync_with_device_revoked(login, app):
    phone = await login("rep1", "phone")
    tablet = await login("rep1", "tablet")
    r = await tablet.post(f"/api/auth/devices/{phone.device_id}/revoke")
    assert r.status_code == 200 and r.json() == {"ok": True}

    refusal(await push_one(phone), 401, "device-revoked")
    refusal(await pull(phone), 401, "device-revoked")
    refusal(await phone.get("/api/auth/me"), 401, "device-revoked")
    assert "客户 1" not in await customer_names(app)  # the refused push stored nothing

    # The reference client stops and keeps its outbox where the user can export it.
    phone.sync.mutate("customer.create", {"id": new_uuid(), "name": "离线客户 offline"})
    with pytest.raises(SyncStopped):
        await phone.sync.sync()
    assert phone.sync.stopped == "device-revoked"
    assert [m["name"] for m in phone.sync.export_outbox()] == ["customer.create"]

    listed = {d["id"]: d for d in (await tablet.get("/api/auth/devices")).json()}
    assert listed[phone.device_id]["revoked"] is True
    assert listed[tablet.device_id]["revoked"] is False
    assert (await push_one(tablet)).status_code == 200  # the other device goes on


async def test_refresh_of_a_revoked_device_answers_device_revoked(http, login):
    """A phone offline for longer than the access token lives refreshes first: it must learn that
    the device was revoked (stop syncing, keep the outbox), not just that the token is invalid."""
    phone = await login("rep1", "phone")
    tablet = await login("rep1", "tablet")
    assert (await tablet.post(f"/api/auth/devices/{phone.device_id}/revoke")).status_code == 200
    refusal(await refresh(http, phone.refresh), 401, "device-revoked")


async def test_manager_revokes_a_device_in_their_subtree_but_not_outside(login, app):
    services = app.state.services
    await services.auth.create_user("rep-sz", "sz-pass-123", ["rep"], "SZ-NS")
    manager = await login("manager", "manager-phone")
    rep1 = await login("rep1", "rep1-phone")
    rep_sz = await support.login(manager.http, "rep-sz", "sz-pass-123", "sz-phone")
    admin = await login("admin", "admin-laptop")

    listed = await manager.get("/api/auth/devices", params={"userId": rep1.user["id"]})
    assert listed.status_code == 200, listed.text
    assert [d["id"] for d in listed.json()] == [rep1.device_id]

    ok = await manager.post(f"/api/auth/devices/{rep1.device_id}/revoke")
    assert ok.status_code == 200, ok.text
    refusal(await push_one(rep1), 401, "device-revoked")
    async with services.db.read() as s:
        device = await s.get(Device, rep1.device_id)
        assert device is not None and device.revoked_by == manager.user["id"]

    for outsider in (rep_sz, admin):  # Shenzhen is not under Guangzhou; HQ is above it
        denied = await manager.post(f"/api/auth/devices/{outsider.device_id}/revoke")
        refusal(denied, 403, "forbidden")
        refusal(await manager.get("/api/auth/devices", params={"userId": outsider.user["id"]}), 403, "forbidden")
        assert (await push_one(outsider)).status_code == 200  # still syncing

    refusal(await manager.post("/api/auth/devices/no-such-device/revoke"), 404, "not-found")


async def test_a_rep_cannot_revoke_another_reps_device(login):
    rep1 = await login("rep1")
    rep2 = await login("rep2")
    refusal(await rep1.post(f"/api/auth/devices/{rep2.device_id}/revoke"), 403, "forbidden")
    assert (await push_one(rep2)).status_code == 200


# ----------------------------------------------------------------------------------------- disabling


async def test_disabling_a_user_stops_the_next_push_and_pull_of_every_device(http, login, app):
    phone = await login("rep1", "phone")
    tablet = await login("rep1", "tablet")
    rep2 = await login("rep2")
    assert (await push_one(phone)).status_code == 200

    await app.state.services.auth.set_disabled("rep1", True)

    # At once, with access tokens that have not expired yet.
    refusal(await push_one(phone, 2), 401, "user-disabled")
    refusal(await pull(phone), 401, "user-disabled")
    refusal(await push_one(tablet), 401, "user-disabled")
    refusal(await pull(tablet), 401, "user-disabled")
    refusal(
        await http.post("/api/auth/login", json={"username": "rep1", "password": DEMO_PASSWORD}), 401, "user-disabled"
    )
    assert "客户 2" not in await customer_names(app)
    assert (await push_one(rep2)).status_code == 200  # other users are untouched

    await app.state.services.auth.set_disabled("rep1", False)
    back = await support.login(http, "rep1", DEMO_PASSWORD, "phone")
    assert (await pull(back)).status_code == 200


async def test_refresh_of_a_disabled_user_answers_user_disabled(http, login, app):
    rep = await login("rep1")
    await app.state.services.auth.set_disabled("rep1", True)
    refusal(await refresh(http, rep.refresh), 401, "user-disabled")


async def test_disabling_with_the_cli_stops_the_running_servers_next_sync(login, settings, tmp_path):
    phone = await login("rep1", "phone")
    assert (await pull(phone)).status_code == 200
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    env |= {"OUTPOST_DATABASE_URL": settings.database_url, "OUTPOST_VAR_DIR": str(tmp_path / "cli-var")}
    proc = await asyncio.create_subprocess_exec(
        str(OUTPOST),
        "user",
        "disable",
        "rep1",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == "done"
    refusal(await pull(phone), 401, "user-disabled")
    refusal(await push_one(phone), 401, "user-disabled")


# ----------------------------------------------------------------------------------------- access tokens


async def test_expired_access_token_is_401_token_expired(login, settings):
    rep = await login("rep1")
    now = int(time.time())
    claims = {"sub": rep.user["id"], "did": rep.device_id, "iat": now - 3600, "exp": now - 60, "typ": "access"}
    expired = jwt.encode(claims, settings.auth.jwt_secret, algorithm=Tokens.ALGORITHM)
    rep.access = expired
    refusal(await push_one(rep), 401, "token-expired")
    refusal(await pull(rep), 401, "token-expired")
    refusal(await rep.get("/api/auth/me"), 401, "token-expired")

    # The same through Tokens with a lifetime already over.
    rep.access, _ = Tokens(settings.auth.jwt_secret, access_minutes=-1).access(rep.user["id"], rep.device_id)
    refusal(await pull(rep), 401, "token-expired")

    # Refresh and retry, as the contract says.
    fresh = (await refresh(rep.http, rep.refresh)).json()
    rep.access = fresh["accessToken"]
    assert (await pull(rep)).status_code == 200


async def test_forged_or_wrong_kind_of_token_is_not_authenticated_not_expired(login, settings):
    rep = await login("rep1")
    now = int(time.time())
    base = {"sub": rep.user["id"], "did": rep.device_id, "iat": now, "exp": now + 600}
    cases = {
        "other secret": jwt.encode({**base, "typ": "access"}, "another-secret-" + "y" * 32, algorithm="HS256"),
        "expired and forged": jwt.encode(
            {**base, "exp": now - 60, "typ": "access"}, "another-secret-" + "y" * 32, algorithm="HS256"
        ),
        "not an access token": jwt.encode({**base, "typ": "refresh"}, settings.auth.jwt_secret, algorithm="HS256"),
        "other user's device": jwt.encode(
            {**base, "sub": (await login("rep2")).user["id"], "typ": "access"},
            settings.auth.jwt_secret,
            algorithm="HS256",
        ),
        "refresh token as bearer": rep.refresh,
    }
    for name, token in cases.items():
        rep.access = token
        r = await pull(rep)
        assert r.status_code == 401, (name, r.text)
        assert r.json()["error"] == "not-authenticated", (name, r.json())


# ----------------------------------------------------------------------------------------- rate limits


class TestLoginRateLimits:
    """Small limits: 3 failures per account, 5 per address (the defaults are 5 and 20)."""

    @pytest.fixture
    def settings(self, db_url: str, tmp_path: Path) -> Settings:
        return _settings_with(db_url, tmp_path, login_max_failures_per_account=3, login_max_failures_per_address=5)

    @staticmethod
    def client(app: Any, address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    @staticmethod
    async def attempt(http: Any, username: str, password: str = "wrong-password") -> httpx.Response:
        return await http.post("/api/auth/login", json={"username": username, "password": password})

    @staticmethod
    def limited(r: httpx.Response, kind: str) -> None:
        body = refusal(r, 429, "rate-limited")
        assert kind in body["detail"]
        retry = int(r.headers["retry-after"])
        assert retry == body["retryAfterSeconds"] == 900
        assert "accessToken" not in body

    async def test_too_many_failures_for_one_account(self, http, demo, app):
        for name in ("rep1", "REP1", " Rep1 "):  # one account, however it is typed
            refusal(await self.attempt(http, name), 401, "bad-credentials")
        self.limited(await self.attempt(http, "rep1", DEMO_PASSWORD), "account")  # even the right password
        async with self.client(app, "10.9.9.9") as elsewhere:
            self.limited(await self.attempt(elsewhere, "rep1", DEMO_PASSWORD), "account")
        # Another account from the same address is not blocked by rep1's failures.
        assert (await self.attempt(http, "rep2", DEMO_PASSWORD)).status_code == 200

    async def test_too_many_failures_from_one_address(self, http, demo, app):
        for i in range(5):
            refusal(await self.attempt(http, f"nobody{i}"), 401, "bad-credentials")
        self.limited(await self.attempt(http, "rep1", DEMO_PASSWORD), "address")
        async with self.client(app, "10.9.9.9") as elsewhere:
            assert (await self.attempt(elsewhere, "rep1", DEMO_PASSWORD)).status_code == 200

    async def test_a_successful_login_resets_the_account_count(self, http, demo):
        for _ in range(2):
            refusal(await self.attempt(http, "rep1"), 401, "bad-credentials")
        assert (await self.attempt(http, "rep1", DEMO_PASSWORD)).status_code == 200
        for _ in range(2):
            refusal(await self.attempt(http, "rep1"), 401, "bad-credentials")
        assert (await self.attempt(http, "rep1", DEMO_PASSWORD)).status_code == 200

    async def test_the_limit_lifts_after_the_window(self, http, demo, clock):
        for _ in range(3):
            refusal(await self.attempt(http, "rep1"), 401, "bad-credentials")
        self.limited(await self.attempt(http, "rep1", DEMO_PASSWORD), "account")
        clock.advance(901)
        assert (await self.attempt(http, "rep1", DEMO_PASSWORD)).status_code == 200


# ----------------------------------------------------------------------------------------- production defaults


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read OUTPOST_* variables: make sure none of the caller's leak in."""
    for name in list(os.environ):
        if name.startswith("OUTPOST_"):
            monkeypatch.delenv(name)


def test_production_password_hashing_defaults_are_argon2id_t3_m64mib_p4(clean_env):
    s = AuthSettings()
    assert (s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism) == (3, 65_536, 4)
    hashed = Passwords(s).hash("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert "$m=65536,t=3,p=4$" in hashed
    assert PasswordHasher().verify(hashed, "correct horse battery staple")
    assert Passwords(s).verify(hashed, "correct horse battery staple")
    assert not Passwords(s).verify(hashed, "wrong")


def test_production_login_and_token_defaults(clean_env):
    s = AuthSettings()
    assert s.login_max_failures_per_account == 5
    assert s.login_max_failures_per_address == 20
    assert s.refresh_grace_seconds == 60
    assert s.refresh_token_days == 30
    assert s.access_token_minutes == 15
    assert s.max_devices_per_user == 10
    assert s.hash_concurrency == max(1, (os.cpu_count() or 1) // 2)  # logins queue, other requests go on
    assert AppSettings().trusted_proxies == "127.0.0.1"  # X-Forwarded-For believed from loopback only


@pytest.mark.parametrize("secret", [None, "", "change-me", "secret"])
def test_production_without_a_real_jwt_secret_refuses_to_start(clean_env, tmp_path, secret):
    auth = AuthSettings() if secret is None else AuthSettings(jwt_secret=secret)
    with pytest.raises(ValidationError, match="OUTPOST_AUTH_JWT_SECRET"):
        Settings(app=AppSettings(environment="production", var_dir=tmp_path), auth=auth)
    assert not (tmp_path / "jwt-secret").exists()  # no secret was made up on the side


def test_production_from_the_environment_refuses_without_secret_and_starts_with_one(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("OUTPOST_ENVIRONMENT", "production")
    monkeypatch.setenv("OUTPOST_VAR_DIR", str(tmp_path))
    with pytest.raises(ValidationError, match="OUTPOST_AUTH_JWT_SECRET"):
        Settings()
    monkeypatch.setenv("OUTPOST_AUTH_JWT_SECRET", "a-real-secret-" + "z" * 40)
    s = Settings()
    assert s.app.is_production
    assert s.auth.jwt_secret == "a-real-secret-" + "z" * 40
    assert not (tmp_path / "jwt-secret").exists()
