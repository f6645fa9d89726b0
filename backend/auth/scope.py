"""Data scope, in one place: which customers a user reads and writes (PRODUCT §1, issue 3 table).

Every read, write and sync pull asks this module. A scope is a union of rules, one per role:

| role       | reads                       | writes                         |
|------------|-----------------------------|--------------------------------|
| rep        | customers assigned to them  | those (and new ones for self)  |
| manager    | their org subtree           | their org subtree              |
| admin      | all                         | all                            |
| auditor    | their org subtree           | none                           |
| care       | guests of their own unit    | those                          |
| stocktaker | none                        | none                           |

Assets and stocktakes have a scope of their own (``AssetScope``): admins see all; managers, asset
admins, finance and auditors their org subtree; everyone the assets they are custodian of; a
stocktaker the campaigns they are assigned to (with their frozen expected lists and scans). Asset
admins (and admins) write assets and run campaigns in their subtree.

The change log records each row change's audience as (user, org path) pairs; ``Actor.log_clause``
is the union of what the actor's scopes listen to, and every pulled row is checked again by its view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from backend.domain.customers.models import Customer
from backend.domain.org.models import OrgUnit
from backend.kernel.models import ChangeLog

Audience = tuple[str | None, str | None]
"""Who a row is visible to, by assignment and by place: (assigned user id, org path)."""


@dataclass(frozen=True)
class CustomerScope:
    everything: bool = False
    assigned_to: frozenset[str] = frozenset()
    subtrees: frozenset[str] = frozenset()
    guest_units: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.assigned_to or self.subtrees or self.guest_units)

    def union(self, other: CustomerScope) -> CustomerScope:
        return CustomerScope(
            self.everything or other.everything,
            self.assigned_to | other.assigned_to,
            self.subtrees | other.subtrees,
            self.guest_units | other.guest_units,
        )

    def contains(self, *, assigned_rep_id: str | None, org_path: str, kind: str) -> bool:
        if self.everything:
            return True
        if assigned_rep_id is not None and assigned_rep_id in self.assigned_to:
            return True
        if any(org_path.startswith(p) for p in self.subtrees):
            return True
        return kind == "guest" and org_path in self.guest_units

    def clause(self) -> ColumnElement[bool]:
        """SQL condition over ``customer`` joined with its ``org_unit``."""
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.assigned_to:
            parts.append(Customer.assigned_rep_id.in_(sorted(self.assigned_to)))
        parts.extend(OrgUnit.path.startswith(p, autoescape=True) for p in sorted(self.subtrees))
        parts.extend(and_(OrgUnit.path == p, Customer.kind == "guest") for p in sorted(self.guest_units))
        return or_(*parts) if parts else false()

    def log_clause(self) -> ColumnElement[bool]:
        """Change-log entries that may concern this scope (a superset is fine: the pull re-checks)."""
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.assigned_to:
            users = sorted(self.assigned_to)
            parts += [ChangeLog.old_user.in_(users), ChangeLog.new_user.in_(users)]
        for p in sorted(self.subtrees):
            parts += [
                ChangeLog.old_path.startswith(p, autoescape=True),
                ChangeLog.new_path.startswith(p, autoescape=True),
            ]
        for p in sorted(self.guest_units):
            parts += [ChangeLog.old_path == p, ChangeLog.new_path == p]
        return or_(*parts) if parts else false()


NOTHING = CustomerScope()

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
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @cached_property
    def read_scope(self) -> CustomerScope:
        return _scope(self, write=False)

    @cached_property
    def write_scope(self) -> CustomerScope:
        return _scope(self, write=True)

    @cached_property
    def asset_scope(self) -> AssetScope:
        if self.has("admin"):
            return AssetScope(everything=True, user_id=self.user_id)
        subtrees = frozenset({self.org_path}) if self.roles & ASSET_READERS else frozenset()
        return AssetScope(subtrees=subtrees, user_id=self.user_id)

    @cached_property
    def asset_write_scope(self) -> AssetScope:
        if self.has("admin"):
            return AssetScope(everything=True)
        return AssetScope(subtrees=frozenset({self.org_path}) if self.roles & ASSET_WRITERS else frozenset())

    def log_clause(self) -> ColumnElement[bool]:
        """Change-log entries that may concern this actor, whatever the entity (a superset)."""
        return or_(self.read_scope.log_clause(), self.asset_scope.log_clause())

    def hears(self, users: Iterable[str], paths: Iterable[str]) -> bool:
        """Whether a change with this audience may concern this actor (for pokes; a superset)."""
        scope, assets = self.read_scope, self.asset_scope
        if scope.everything or assets.everything:
            return True
        users, paths = set(users), set(paths)
        if self.user_id in users or users & scope.assigned_to:
            return True
        subtrees = scope.subtrees | assets.subtrees
        return any(p.startswith(t) for p in paths for t in subtrees) or bool(paths & scope.guest_units)

    def sees_org(self, org_path: str) -> bool:
        """Org units this actor may act on (managers: their subtree; admins: all)."""
        return self.has("admin") or (self.has("manager") and org_path.startswith(self.org_path))


def _scope(actor: Actor, *, write: bool) -> CustomerScope:
    scope = NOTHING
    for role in actor.roles:
        if role == "admin":
            scope = scope.union(CustomerScope(everything=True))
        elif role == "manager" or (role == "auditor" and not write):
            scope = scope.union(CustomerScope(subtrees=frozenset({actor.org_path})))
        elif role == "rep":
            scope = scope.union(CustomerScope(assigned_to=frozenset({actor.user_id})))
        elif role == "care":
            scope = scope.union(CustomerScope(guest_units=frozenset({actor.org_path})))
    return scope
