"""The service container and request dependencies (who is calling)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from litestar import Request
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.di import NamedDependency

from backend.auth.services import AuthService
from backend.db.engine import Database
from backend.errors import NotAuthenticated
from backend.kernel.actor import Actor
from backend.settings import Settings
from backend.sync.pull import ReadAhead


@dataclass
class Services:
    settings: Settings
    db: Database
    auth: AuthService
    channels: ChannelsPlugin
    #: Next pages of pulls in progress (backend/sync/pull.py).
    read_ahead: ReadAhead = field(default_factory=ReadAhead)
    #: Live event streams per user in this process (backend/sync/controllers.py).
    streams: Counter[str] = field(default_factory=Counter)

    async def poke(self, version: int, users: set[str], paths: set[str]) -> None:
        """Tell connected devices that rows they may see changed (after commit)."""
        self.channels.publish({"v": version, "users": sorted(users), "paths": sorted(paths)}, channels=["pokes"])

    def sessions_ended(self, users: Iterable[str] = (), devices: Iterable[str] = ()) -> None:
        """Tell live event streams that these users' or devices' sessions may have ended (revoked,
        disabled, signed out); each one checks its own session and closes if it has."""
        ended = {"users": sorted(users), "devices": sorted(devices)}
        self.channels.publish({"ended": ended}, channels=["pokes"])


def services(state: State) -> Services:
    return state.services


async def current_actor(request: Request, state: State) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("Log in first: send Authorization: Bearer <access token>.")
    actor = await state.services.auth.actor_for_token(token.strip())
    return actor


#: Handler parameter types: ``services: Svc`` and ``actor: CurrentActor`` are injected by name.
Svc = NamedDependency[Services]
CurrentActor = NamedDependency[Actor]
