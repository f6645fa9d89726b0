"""Asset scope: which assets (and stocktakes) a user reads and writes (PRODUCT §1).

Assets and stocktakes have a scope of their own (``AssetScope``): admins see all; managers, asset
admins, finance and auditors their org subtree; everyone the assets they are custodian of; a
stocktaker the campaigns they are assigned to (with their frozen expected lists and scans). Asset
admins (and admins) write assets and run campaigns in their subtree.

The change log records each row change's audience as (user, org path) pairs; ``RULE`` (registered
with backend/kernel/scope.py by this context's ``mutators`` module) listens to those of the read
scope — the subtree and the actor's own user id (custody, assigned campaigns) — and every pulled row
is checked again by its view. The stocktake context reads this scope through ``assets.services``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

from backend.kernel.actor import Actor
from backend.kernel.models import ChangeLog

#: Roles that read the assets (and campaigns) of their org subtree.
ASSET_READERS = frozenset({"manager", "asset_admin", "finance", "auditor"})
#: Roles that write assets and run campaigns in their org subtree.
ASSET_WRITERS = frozenset({"asset_admin"})


@dataclass(frozen=True)
class AssetScope:
    everything: bool = False
    subtrees: frozenset[str] = frozenset()
    #: This user's id: the assets they are custodian of, and the campaigns they count.
    user_id: str | None = None

    def sees_path(self, org_path: str) -> bool:
        return self.everything or any(org_path.startswith(p) for p in self.subtrees)

    def path_clause(self, path_column: Any) -> ColumnElement[bool]:
        if self.everything:
            return true()
        parts = [path_column.startswith(p, autoescape=True) for p in sorted(self.subtrees)]
        return or_(*parts) if parts else false()

    def log_clause(self) -> ColumnElement[bool]:
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.user_id:
            parts += [ChangeLog.old_user == self.user_id, ChangeLog.new_user == self.user_id]
        for p in sorted(self.subtrees):
            parts += [
                ChangeLog.old_path.startswith(p, autoescape=True),
                ChangeLog.new_path.startswith(p, autoescape=True),
            ]
        return or_(*parts) if parts else false()

    def hears(self, users: set[str], paths: set[str]) -> bool:
        """Whether a change with this audience may concern this scope (for pokes; a superset)."""
        if self.everything:
            return True
        if self.user_id is not None and self.user_id in users:
            return True
        return any(p.startswith(t) for p in paths for t in self.subtrees)


def asset_scope(actor: Actor) -> AssetScope:
    """The assets and campaigns ``actor`` reads (computed once per actor)."""
    scope = actor._cache.get("assets.read")
    if scope is None:
        if actor.has("admin"):
            scope = AssetScope(everything=True, user_id=actor.user_id)
        else:
            subtrees = frozenset({actor.org_path}) if actor.roles & ASSET_READERS else frozenset()
            scope = AssetScope(subtrees=subtrees, user_id=actor.user_id)
        actor._cache["assets.read"] = scope
    return scope


def asset_write_scope(actor: Actor) -> AssetScope:
    """The assets ``actor`` changes and the campaigns they run (computed once per actor)."""
    scope = actor._cache.get("assets.write")
    if scope is None:
        if actor.has("admin"):
            scope = AssetScope(everything=True)
        else:
            scope = AssetScope(subtrees=frozenset({actor.org_path}) if actor.roles & ASSET_WRITERS else frozenset())
        actor._cache["assets.write"] = scope
    return scope


class AssetScopeRule:
    """The assets context's rule for backend/kernel/scope.py: the read scope's change-log entries and
    pokes (assets, locations, and the stocktake context's campaigns, which share this scope)."""

    def log_clause(self, actor: Actor) -> ColumnElement[bool]:
        return asset_scope(actor).log_clause()

    def hears(self, actor: Actor, users: set[str], paths: set[str]) -> bool:
        return asset_scope(actor).hears(users, paths)


RULE = AssetScopeRule()
