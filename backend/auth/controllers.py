from __future__ import annotations

from typing import Annotated, cast

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import Field

from backend.deps import CurrentActor, Svc
from sync_protocol.base import StrictWireModel, WireModel


class _In(StrictWireModel):
    """Request bodies: camelCase, unknown fields refused, no NUL characters."""


class LoginIn(_In):
    username: Annotated[str, Field(min_length=1, max_length=80)]
    password: Annotated[str, Field(min_length=1, max_length=200)]
    device_name: Annotated[str, Field(min_length=1, max_length=200)] = "device"
    device_id: Annotated[str, Field(max_length=64)] | None = None
    #: At the device limit (409 ``too-many-devices``): one of the user's devices to sign out here.
    replace_device_id: Annotated[str, Field(max_length=64)] | None = None


class RefreshIn(_In):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class PasswordIn(_In):
    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Annotated[str, Field(min_length=1, max_length=200)]


# ---------------------------------------------------------------- answers
# Built as dicts by AuthService and sent as built (timestamps as their ``isoformat``); these models are
# what the OpenAPI document says of them (tests/integration/test_openapi_types.py checks they agree).


class UserOrgUnit(WireModel):
    id: str
    code: str
    name: str
    path: str


class UserView(WireModel):
    """The signed-in user: roles and org unit decide what the app offers."""

    id: str
    username: str
    display_name: str
    roles: list[str]
    org_unit: UserOrgUnit | None
    disabled: bool


class TokensOut(WireModel):
    """A short-lived access token (``expiresIn`` seconds) and the device's rotating refresh token."""

    access_token: str
    expires_in: int
    refresh_token: str
    device_id: str


class LoginOut(TokensOut):
    """Tokens for this device (``deviceId`` is the sync ``clientId``) and the user."""

    user: UserView


class MeOut(UserView):
    device_id: str | None


class DeviceOut(WireModel):
    """A device of the user (one per app install); ``current``: the one asking."""

    id: str
    name: str
    created_at: str
    last_seen_at: str | None
    last_sync_at: str | None
    revoked: bool
    current: bool


class Ok(WireModel):
    ok: bool


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/login", status_code=200, exclude_from_auth=True)
    async def login(self, data: JSONBody[LoginIn], services: Svc, request: Request) -> LoginOut:
        address = request.client.host if request.client else "unknown"
        result = await services.auth.login(
            data.username, data.password, data.device_name, address, data.device_id, data.replace_device_id
        )
        if result["deviceId"] != data.device_id:  # a new device: its first sync follows at once
            actor = await services.auth.actor_for_token(result["accessToken"])
            page_size = services.settings.sync.pull_page_size
            services.read_ahead.first_sync(services.db, actor, result["deviceId"], page_size)
        return cast("LoginOut", result)

    @post("/refresh", status_code=200, exclude_from_auth=True)
    async def refresh(self, data: JSONBody[RefreshIn], services: Svc) -> TokensOut:
        return cast("TokensOut", await services.auth.refresh(data.refresh_token))

    @post("/logout", status_code=200)
    async def logout(self, actor: CurrentActor, services: Svc) -> Ok:
        await services.auth.logout(actor)
        services.sessions_ended(devices=[actor.device_id or ""])
        return Ok(ok=True)

    @get("/me")
    async def me(self, actor: CurrentActor, services: Svc) -> MeOut:
        return cast("MeOut", {**await services.auth.me(actor), "deviceId": actor.device_id})

    @post("/password", status_code=200)
    async def change_password(self, data: JSONBody[PasswordIn], actor: CurrentActor, services: Svc) -> Ok:
        await services.auth.change_password(actor, data.current_password, data.new_password)
        services.sessions_ended(users=[actor.user_id])  # the other devices' live streams end
        return Ok(ok=True)

    @get("/devices")
    async def devices(
        self,
        actor: CurrentActor,
        services: Svc,
        user_id: Annotated[str | None, QueryParameter(name="userId", max_length=36)] = None,
    ) -> list[DeviceOut]:
        return cast("list[DeviceOut]", await services.auth.devices(actor, user_id))

    @post("/devices/{device_id:str}/revoke", status_code=200)
    async def revoke(self, device_id: FromPath[str], actor: CurrentActor, services: Svc) -> Ok:
        await services.auth.revoke_device(actor, device_id)
        services.sessions_ended(devices=[device_id])
        return Ok(ok=True)
