"""Accounts: login, token refresh and rotation, devices, users, SSE tickets."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.models import ROLES, Device, LoginFailure, RefreshToken, SseTicket, User
from backend.auth.passwords import MIN_PASSWORD_LENGTH, Passwords
from backend.auth.tokens import AccessClaims, Tokens, hash_token, new_refresh_token
from backend.db.base import utcnow
from backend.db.engine import Database
from backend.domain.org.models import OrgUnit
from backend.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, RateLimited, ValidationFailed
from backend.kernel.actor import Actor
from backend.settings import AuthSettings


@dataclass
class AuthService:
    db: Database
    settings: AuthSettings
    passwords: Passwords
    tokens: Tokens

    # ------------------------------------------------------------ login and tokens

    async def login(
        self,
        username: str,
        password: str,
        device_name: str,
        address: str,
        device_id: str | None = None,
        replace_device_id: str | None = None,
    ) -> dict[str, Any]:
        """Sign in. The rate limits are counted and the user read without a transaction; the password is
        checked in a worker thread with no transaction open (``Passwords.verify_in_worker``); then one
        short write transaction records the failure or issues the device's tokens.

        ``replace_device_id``: at the device limit, the user chose one of their own devices to sign out
        here (after the password was verified, in the same transaction as the new device)."""
        keys = {"account": f"account:{username.strip().lower()}", "address": f"address:{address}"}
        for _attempt in range(3):  # again only if the password hash changed while it was being checked
            await self._check_login_limits(keys)
            row = await self._user_by_name(username)
            stored = row.password_hash if row is not None else None
            # Counted again once a hash slot is ours: many attempts queued at once must not all slip past
            # the limit before the first failure is written (at most hash_concurrency can).
            ok, rehashed = await self.passwords.verify_in_worker(
                stored, password, before=lambda: self._check_login_limits(keys)
            )
            if row is None or not ok:
                async with self.db.write() as session:
                    for key in keys.values():
                        session.add(LoginFailure(key=key))
                raise NotAuthenticated("Wrong username or password.", code="bad-credentials")
            if row.disabled_at is not None:
                raise NotAuthenticated("This account is disabled.", code="user-disabled")
            async with self.db.write() as session:
                user = (
                    await session.execute(select(User).where(User.id == row.id).with_for_update())
                ).scalar_one_or_none()
                if user is None or user.password_hash != stored:
                    continue  # changed meanwhile (a password change, another login's rehash): check again
                if user.disabled_at is not None:
                    raise NotAuthenticated("This account is disabled.", code="user-disabled")
                await session.execute(delete(LoginFailure).where(LoginFailure.key == keys["account"]))
                if rehashed is not None:
                    user.password_hash = rehashed
                device = await self._device_for_login(session, user, device_name, device_id, replace_device_id)
                device.last_seen_at = utcnow()
                refresh = await self._issue_refresh(session, device.id)
                access, ttl = self.tokens.access(user.id, device.id, device.token_epoch or 0)
                return {
                    "accessToken": access,
                    "expiresIn": ttl,
                    "refreshToken": refresh,
                    "deviceId": device.id,
                    "user": await self._user_view(session, user),
                }
        raise NotAuthenticated("Wrong username or password.", code="bad-credentials")

    async def _check_login_limits(self, keys: dict[str, str]) -> None:
        s = self.settings
        for kind, key in keys.items():
            limit = s.login_max_failures_per_account if kind == "account" else s.login_max_failures_per_address
            if await self._failures(key) >= limit:
                raise _rate_limited(f"Too many failed logins for this {kind}; wait and try again.", s)

    async def _failures(self, key: str) -> int:
        since = utcnow() - timedelta(seconds=self.settings.login_failure_window_seconds)
        async with self.db.lookup() as conn:
            n = (
                await conn.execute(select(func.count()).where(LoginFailure.key == key, LoginFailure.at > since))
            ).scalar_one()
        return int(n)

    async def _user_by_name(self, username: str) -> Any:
        async with self.db.lookup() as conn:
            return (
                await conn.execute(
                    select(User.id, User.password_hash, User.disabled_at).where(
                        func.lower(User.username) == username.strip().lower()
                    )
                )
            ).one_or_none()

    async def _device_for_login(
        self, session: AsyncSession, user: User, name: str, device_id: str | None, replace_device_id: str | None
    ) -> Device:
        """The install signing in again (its own, not revoked, device id) or a new device, within the
        device limit: past it the user chooses a device to sign out (``replace_device_id``); a device
        that may hold unsent changes is never evicted on its own."""
        if device_id:
            device = await session.get(Device, device_id)
            if device is not None and device.user_id == user.id and device.revoked_at is None:
                return device
        if replace_device_id:
            old = await session.get(Device, replace_device_id)
            if old is None or old.user_id != user.id:
                raise ValidationFailed(
                    "The device to sign out is not one of this account's devices.", code="invalid-device"
                )
            if old.revoked_at is None:
                now = utcnow()
                old.revoked_at = now
                old.revoked_by = user.id
                await session.execute(
                    update(RefreshToken)
                    .where(RefreshToken.device_id == old.id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
                await session.flush()
        active = (
            (
                await session.execute(
                    select(Device)
                    .where(Device.user_id == user.id, Device.revoked_at.is_(None))
                    .order_by(Device.created_at)
                )
            )
            .scalars()
            .all()
        )
        limit = self.settings.max_devices_per_user
        if len(active) >= limit:
            raise Conflict(
                f"This account is signed in on {len(active)} devices, the most allowed ({limit}). Choose one "
                "to sign out here; changes not yet sent from it will not arrive.",
                code="too-many-devices",
                maxDevices=limit,
                devices=[
                    {
                        "id": d.id,
                        "name": d.name,
                        "lastSeenAt": d.last_seen_at.isoformat() if d.last_seen_at else None,
                        "lastSyncAt": d.last_sync_at.isoformat() if d.last_sync_at else None,
                    }
                    for d in active
                ],
            )
        device = Device(user_id=user.id, name=name[:200] or "device")
        session.add(device)
        await session.flush()
        return device

    async def _issue_refresh(self, session: AsyncSession, device_id: str) -> str:
        token, digest = new_refresh_token()
        session.add(
            RefreshToken(
                device_id=device_id,
                token_hash=digest,
                expires_at=utcnow() + timedelta(days=self.settings.refresh_token_days),
            )
        )
        return token

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        now = utcnow()
        async with self.db.write() as session:
            row = (
                await session.execute(select(RefreshToken).where(RefreshToken.token_hash == hash_token(refresh_token)))
            ).scalar_one_or_none()
            if row is None:
                raise NotAuthenticated("The refresh token is not valid; log in again.", code="refresh-invalid")
            # The device and the user first: a phone that was revoked or whose user was disabled must get
            # the typed answer (stop syncing, keep the outbox), even though its tokens were revoked too.
            device = await session.get(Device, row.device_id)
            user = await session.get(User, device.user_id) if device else None
            if device is None or device.revoked_at is not None:
                raise NotAuthenticated("This device was revoked; log in again.", code="device-revoked")
            if user is None or user.disabled_at is not None:
                raise NotAuthenticated("This account is disabled.", code="user-disabled")
            if row.revoked_at is not None or row.expires_at < now:
                raise NotAuthenticated("The refresh token is not valid; log in again.", code="refresh-invalid")
            if row.replaced_at is not None:
                if now - row.replaced_at > timedelta(seconds=self.settings.refresh_grace_seconds):
                    # Reuse outside the grace window: treat as theft, revoke the device's token family and
                    # sign the device out (its access tokens too: whoever holds one must not go on for
                    # its remaining minutes). Its data and outbox stay; the user signs in again.
                    await self._sign_out(session, [device.id], now)
                    await session.commit()
                    raise NotAuthenticated("This refresh token was already used; log in again.", code="refresh-reused")
            else:
                row.replaced_at = now
            token = await self._issue_refresh(session, device.id)
            access, ttl = self.tokens.access(user.id, device.id, device.token_epoch or 0)
            device.last_seen_at = now
            return {"accessToken": access, "expiresIn": ttl, "refreshToken": token, "deviceId": device.id}

    async def logout(self, actor: Actor) -> None:
        """End this device's session: its refresh tokens, and (by moving its token epoch on) every access
        token issued to it so far. The device stays: signing in again on it carries on as before."""
        if actor.device_id is None:
            return
        async with self.db.write() as session:
            await self._sign_out(session, [actor.device_id], utcnow())

    @staticmethod
    async def _sign_out(session: AsyncSession, device_ids: list[str], now: Any) -> None:
        """What logout means: the devices' refresh tokens end and their token epoch moves on, so access
        tokens already issued answer 401 ``signed-out``. The devices, their data and outboxes stay."""
        if not device_ids:
            return
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.device_id.in_(device_ids), RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await session.execute(
            update(Device).where(Device.id.in_(device_ids)).values(token_epoch=Device.token_epoch + 1)
        )

    async def session_alive(self, user_id: str, device_id: str) -> bool:
        """Whether a device's session still stands (for long-lived streams, checked now and then): the
        user exists and is not disabled, the device is theirs and not revoked, and it holds a refresh token
        that is neither revoked nor expired — so a device signed out (logout, a password change on another
        device, refresh-token reuse) is not alive either."""
        now = utcnow()
        live_token = (
            select(RefreshToken.id)
            .where(
                RefreshToken.device_id == Device.id, RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > now
            )
            .exists()
        )
        async with self.db.lookup() as conn:
            row = (
                await conn.execute(
                    select(Device.id)
                    .join(User, User.id == Device.user_id)
                    .where(
                        Device.id == device_id,
                        Device.user_id == user_id,
                        Device.revoked_at.is_(None),
                        User.disabled_at.is_(None),
                        live_token,
                    )
                )
            ).first()
        return row is not None

    async def actor_for_token(self, token: str) -> Actor:
        return await self._actor(self.tokens.decode(token))

    async def _actor(self, claims: AccessClaims, *, check_epoch: bool = True) -> Actor:
        async with self.db.lookup() as conn:
            row = (
                await conn.execute(
                    select(
                        User.username,
                        User.roles,
                        User.org_unit_id,
                        User.scope_epoch,
                        User.disabled_at,
                        OrgUnit.path,
                        Device.revoked_at,
                        Device.user_id,
                        Device.token_epoch,
                    )
                    .join(OrgUnit, OrgUnit.id == User.org_unit_id)
                    .join(Device, Device.id == claims.device_id)
                    .where(User.id == claims.user_id)
                )
            ).one_or_none()
        if row is None or row.user_id != claims.user_id:
            raise NotAuthenticated("The access token is not valid; log in again.")
        if row.disabled_at is not None:
            raise NotAuthenticated("This account is disabled.", code="user-disabled")
        if row.revoked_at is not None:
            raise NotAuthenticated("This device was revoked.", code="device-revoked")
        if check_epoch and claims.epoch != (row.token_epoch or 0):
            raise NotAuthenticated("This device signed out; log in again.", code="signed-out")
        return Actor(
            user_id=claims.user_id,
            username=row.username,
            roles=frozenset(row.roles or []),
            org_unit_id=row.org_unit_id,
            org_path=row.path,
            scope_epoch=row.scope_epoch,
            device_id=claims.device_id,
        )

    # ------------------------------------------------------------ me, devices

    async def me(self, actor: Actor) -> dict[str, Any]:
        async with self.db.read() as session:
            user = await session.get(User, actor.user_id)
            assert user is not None
            return await self._user_view(session, user)

    async def _user_view(self, session: AsyncSession, user: User) -> dict[str, Any]:
        unit = await session.get(OrgUnit, user.org_unit_id)
        return {
            "id": user.id,
            "username": user.username,
            "displayName": user.display_name,
            "roles": list(user.roles or []),
            "orgUnit": {"id": unit.id, "code": unit.code, "name": unit.name, "path": unit.path} if unit else None,
            "disabled": user.disabled_at is not None,
        }

    async def change_password(self, actor: Actor, current: str, new: str) -> None:
        """Change one's own password. Every other device of the user is signed out (as logout does: their
        data and unsent changes stay, the user signs in again there); the device making the change stays
        signed in. Wrong current passwords count towards a per-account limit, like logins."""
        check_password(new)
        s = self.settings
        key = f"password:{actor.user_id}"

        async def limit() -> None:
            if await self._failures(key) >= s.login_max_failures_per_account:
                raise _rate_limited("Too many wrong current passwords; wait and try again.", s)

        for _attempt in range(3):  # again only if the hash changed while it was being checked
            await limit()
            async with self.db.lookup() as conn:
                stored = (await conn.execute(select(User.password_hash).where(User.id == actor.user_id))).scalar_one()
            ok, _ = await self.passwords.verify_in_worker(stored, current, before=limit)
            if not ok:
                async with self.db.write() as session:
                    session.add(LoginFailure(key=key))
                raise ValidationFailed("The current password is wrong.", code="bad-credentials")
            hashed = await self.passwords.hash_in_worker(new)
            async with self.db.write() as session:
                user = (
                    await session.execute(select(User).where(User.id == actor.user_id).with_for_update())
                ).scalar_one()
                if user.password_hash != stored:
                    continue
                user.password_hash = hashed
                await session.execute(delete(LoginFailure).where(LoginFailure.key == key))
                others = (
                    await session.execute(
                        select(Device.id).where(
                            Device.user_id == actor.user_id,
                            Device.revoked_at.is_(None),
                            Device.id != (actor.device_id or ""),
                        )
                    )
                ).scalars()
                await self._sign_out(session, list(others), utcnow())
                return
        raise Conflict("The password was changed at the same time elsewhere; try again.", code="conflict")

    async def devices(self, actor: Actor, user_id: str | None = None) -> list[dict[str, Any]]:
        async with self.db.read() as session:
            target = user_id or actor.user_id
            await self._check_manages(session, actor, target)
            rows = (
                await session.execute(select(Device).where(Device.user_id == target).order_by(Device.created_at))
            ).scalars()
            return [
                {
                    "id": d.id,
                    "name": d.name,
                    "createdAt": d.created_at.isoformat(),
                    "lastSeenAt": d.last_seen_at.isoformat() if d.last_seen_at else None,
                    "lastSyncAt": d.last_sync_at.isoformat() if d.last_sync_at else None,
                    "revoked": d.revoked_at is not None,
                    "current": d.id == actor.device_id,
                }
                for d in rows
            ]

    async def revoke_device(self, actor: Actor, device_id: str) -> None:
        async with self.db.write() as session:
            device = await session.get(Device, device_id)
            if device is None:
                raise NotFound("No such device.", params={"entity": "device"})
            await self._check_manages(session, actor, device.user_id)
            now = utcnow()
            device.revoked_at = device.revoked_at or now
            device.revoked_by = actor.user_id
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.device_id == device_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    async def _check_manages(self, session: AsyncSession, actor: Actor, user_id: str) -> None:
        """Whose devices ``actor`` may list and revoke — the one place this rule lives:

        | actor   | may list and revoke the devices of                                              |
        |---------|---------------------------------------------------------------------------------|
        | anyone  | themselves                                                                      |
        | admin   | any user                                                                        |
        | manager | users in their org subtree who are neither admins nor auditors; other managers  |
        |         | only in units strictly below the manager's own (not peers, not their superiors) |
        | others  | nobody else                                                                     |

        404 when the user does not exist, else 403 ``forbidden`` saying which rule refused."""
        row = (
            await session.execute(
                select(OrgUnit.path, User.roles).join(User, User.org_unit_id == OrgUnit.id).where(User.id == user_id)
            )
        ).one_or_none()
        if row is None:
            raise NotFound("No such user.", params={"entity": "user"})
        if user_id == actor.user_id or actor.has("admin"):
            return
        path, roles = row.path, set(row.roles or [])
        if not actor.has("manager"):
            raise PermissionDenied("Only admins and managers can see or sign out other people's devices.")
        if not path.startswith(actor.org_path):
            raise PermissionDenied("That user's devices are outside your org unit.")
        if roles & {"admin", "auditor"}:
            raise PermissionDenied("Only an admin can see or sign out the devices of an admin or an auditor.")
        if "manager" in roles and path == actor.org_path:
            raise PermissionDenied(
                "That user is a manager of your own unit; only an admin or a manager above can sign out their devices."
            )

    # ------------------------------------------------------------ SSE tickets

    async def sse_ticket(self, actor: Actor) -> dict[str, Any]:
        ticket = secrets.token_urlsafe(24)
        async with self.db.write() as session:
            await session.execute(delete(SseTicket).where(SseTicket.expires_at < utcnow()))
            session.add(
                SseTicket(
                    ticket_hash=hash_token(ticket),
                    user_id=actor.user_id,
                    device_id=actor.device_id or "",
                    expires_at=utcnow() + timedelta(seconds=self.settings.sse_ticket_seconds),
                )
            )
        return {"ticket": ticket, "expiresIn": self.settings.sse_ticket_seconds}

    async def redeem_ticket(self, ticket: str) -> Actor:
        async with self.db.write() as session:
            row = await session.get(SseTicket, hash_token(ticket))
            if row is None or row.used_at is not None or row.expires_at < utcnow():
                raise NotAuthenticated(
                    "The event-stream ticket is not valid; ask for a new one.", code="ticket-invalid"
                )
            row.used_at = utcnow()
            user_id, device_id = row.user_id, row.device_id
        # a single-use ticket of seconds, given to a signed-in device: its epoch was checked then
        return await self._actor(AccessClaims(user_id, device_id), check_epoch=False)

    # ------------------------------------------------------------ user administration (CLI, admins)

    async def create_user(
        self, username: str, password: str, roles: list[str], org_code: str, display_name: str | None = None
    ) -> dict[str, Any]:
        check_password(password)
        bad = [r for r in roles if r not in ROLES]
        if bad or not roles:
            raise ValidationFailed(
                f"Unknown role(s): {', '.join(bad) or '(none given)'}; choose from {', '.join(ROLES)}."
            )
        async with self.db.read() as session:  # the cheap refusals before the costly hash
            await self._check_new_user(session, username, org_code)
        hashed = await self.passwords.hash_in_worker(password)
        async with self.db.write() as session:
            unit = await self._check_new_user(session, username, org_code)
            user = User(
                username=username,
                display_name=display_name or username,
                password_hash=hashed,
                org_unit_id=unit.id,
                roles=sorted(set(roles)),
            )
            session.add(user)
            await session.flush()
            return await self._user_view(session, user)

    @staticmethod
    async def _check_new_user(session: AsyncSession, username: str, org_code: str) -> OrgUnit:
        unit = (await session.execute(select(OrgUnit).where(OrgUnit.code == org_code))).scalar_one_or_none()
        if unit is None:
            raise ValidationFailed(f"No org unit with code {org_code}.")
        if (
            await session.execute(select(User).where(func.lower(User.username) == username.lower()))
        ).scalar_one_or_none():
            raise ValidationFailed(f"User {username} already exists.", code="already-exists")
        return unit

    async def set_disabled(self, username: str, disabled: bool) -> None:
        async with self.db.write() as session:
            user = await _by_name(session, username)
            user.disabled_at = utcnow() if disabled else None
            if disabled:
                ids = select(Device.id).where(Device.user_id == user.id).scalar_subquery()
                await session.execute(
                    update(RefreshToken)
                    .where(RefreshToken.device_id.in_(ids), RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow())
                )

    async def reset_password(self, username: str, password: str) -> None:
        check_password(password)
        async with self.db.read() as session:  # an unknown user is refused before the costly hash
            await _by_name(session, username)
        hashed = await self.passwords.hash_in_worker(password)
        async with self.db.write() as session:
            user = await _by_name(session, username)
            user.password_hash = hashed
            # A password is reset when it is forgotten or may be known to someone else: every device
            # of the account is signed out (as logout does: data and unsent changes stay).
            devices = select(Device.id).where(Device.user_id == user.id, Device.revoked_at.is_(None))
            await self._sign_out(session, list((await session.execute(devices)).scalars()), utcnow())

    async def move_user(self, username: str, org_code: str | None = None, roles: list[str] | None = None) -> None:
        """Move a user to another org unit and/or change roles: their devices re-sync in full."""
        async with self.db.write() as session:
            user = await _by_name(session, username)
            if org_code:
                unit = (await session.execute(select(OrgUnit).where(OrgUnit.code == org_code))).scalar_one_or_none()
                if unit is None:
                    raise ValidationFailed(f"No org unit with code {org_code}.")
                user.org_unit_id = unit.id
            if roles is not None:
                bad = [r for r in roles if r not in ROLES]
                if bad or not roles:
                    raise ValidationFailed(f"Unknown role(s): {', '.join(bad) or '(none)'}.")
                user.roles = sorted(set(roles))
            user.scope_epoch = (user.scope_epoch or 1) + 1

    async def list_users(self) -> list[dict[str, Any]]:
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(User, OrgUnit.code).join(OrgUnit, OrgUnit.id == User.org_unit_id).order_by(User.username)
                )
            ).all()
            return [
                {
                    "username": u.username,
                    "displayName": u.display_name,
                    "roles": list(u.roles or []),
                    "orgUnit": code,
                    "disabled": u.disabled_at is not None,
                }
                for u, code in rows
            ]


async def _by_name(session: AsyncSession, username: str) -> User:
    user = (
        await session.execute(select(User).where(func.lower(User.username) == username.lower()))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user {username}.", params={"entity": "user"})
    return user


def _rate_limited(detail: str, s: AuthSettings) -> RateLimited:
    return RateLimited(
        detail,
        headers={"Retry-After": str(s.login_failure_window_seconds)},
        retryAfterSeconds=s.login_failure_window_seconds,
    )


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", code="weak-password")
