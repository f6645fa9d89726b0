from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.domain.org.models import OrgUnit
from backend.errors import NotFound
from backend.kernel.actor import Actor


async def org_path(session: AsyncSession, org_unit_id: str) -> str:
    path = (await session.execute(select(OrgUnit.path).where(OrgUnit.id == org_unit_id))).scalar_one_or_none()
    if path is None:
        raise NotFound(f"Org unit {org_unit_id} does not exist.", params={"entity": "org unit"})
    return path


async def by_code(session: AsyncSession, code: str) -> OrgUnit:
    unit = (await session.execute(select(OrgUnit).where(OrgUnit.code == code))).scalar_one_or_none()
    if unit is None:
        raise NotFound(f"No org unit with code {code}.", params={"entity": "org unit"})
    return unit


async def tree(session: AsyncSession, under_path: str | None = None) -> list[dict]:
    q = select(OrgUnit).order_by(OrgUnit.path)
    if under_path:
        q = q.where(OrgUnit.path.startswith(under_path, autoescape=True))
    return [
        {"id": u.id, "code": u.code, "name": u.name, "level": u.level, "parentId": u.parent_id, "path": u.path}
        for u in (await session.execute(q)).scalars()
    ]


async def visible_units(session: AsyncSession, actor: Actor) -> list[dict]:
    """The org units the actor sees (``tree``): every one for an administrator, else their own subtree."""
    return await tree(session, None if actor.has("admin") else actor.org_path)
