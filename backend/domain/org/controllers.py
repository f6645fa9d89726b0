from __future__ import annotations

from typing import cast

from litestar import Controller, get

from backend.deps import CurrentActor, Svc
from backend.domain.org import services as svc
from backend.domain.org.schemas import OrgUnitValue


class OrgUnitController(Controller):
    path = "/api/org-units"
    tags = ["org"]

    @get("/")
    async def org_units(self, actor: CurrentActor, services: Svc) -> list[OrgUnitValue]:
        """The org units the caller sees, by path: every one for an administrator, else their own subtree."""
        async with services.db.read() as s:
            return cast("list[OrgUnitValue]", await svc.visible_units(s, actor))
