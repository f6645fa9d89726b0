"""REST wire schemas of the org context."""

from __future__ import annotations

from sync_protocol.base import WireModel


class OrgUnitValue(WireModel):
    """A node of the org-unit tree; ``path`` is the codes from the root, e.g. ``/HQ/GD/GZ/``."""

    id: str
    code: str
    name: str
    level: str
    parent_id: str | None
    path: str


__all__ = ["OrgUnitValue"]
