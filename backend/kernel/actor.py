"""Who writes and reads: the actor behind a request or a synced mutation, and a row's audience.

Identity only: user, roles, org unit, device. What an actor may read and write is each context's
scope rule (its ``scope.py``), registered with backend/kernel/scope.py; the kernel knows no context's
tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Audience = tuple[str | None, str | None]
"""Who a row is visible to, by assignment and by place: (assigned user id, org path)."""


@dataclass(frozen=True)
class Actor:
    """The person (and device) behind a request or a synced mutation."""

    user_id: str
    username: str
    roles: frozenset[str]
    org_unit_id: str
    org_path: str
    scope_epoch: int = 1
    device_id: str | None = None
    #: What the contexts' scope rules computed for this actor, by key (``customers.read`` …).
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def sees_org(self, org_path: str) -> bool:
        """Org units this actor may act on (managers: their subtree; admins: all)."""
        return self.has("admin") or (self.has("manager") and org_path.startswith(self.org_path))
