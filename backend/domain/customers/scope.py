"""Customer scope: which customers a user reads and writes (PRODUCT §1, issue 3 table).

Every customer read, write and sync pull asks this module. A scope is a union of rules, one per role:

| role       | reads                       | writes                         |
|------------|-----------------------------|--------------------------------|
| rep        | customers assigned to them  | those (and new ones for self)  |
| manager    | their org subtree           | their org subtree              |
| admin      | all                         | all                            |
| auditor    | their org subtree           | none                           |
| care       | guests of their own unit    | those                          |
| stocktaker | none                        | none                           |

The change log records each row change's audience as (user, org path) pairs; ``RULE`` (registered
with backend/kernel/scope.py by this context's ``mutators`` module) listens to those of the read
scope, and every pulled row is checked again by its view.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, true

from backend.domain.customers.models import Customer
from backend.domain.org.models import OrgUnit
from backend.kernel.actor import Actor
from backend.kernel.models import ChangeLog


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

    def hears(self, users: set[str], paths: set[str]) -> bool:
        """Whether a change with this audience may concern this scope (for pokes; a superset)."""
        if self.everything:
            return True
        if users & self.assigned_to:
            return True
        return any(p.startswith(t) for p in paths for t in self.subtrees) or bool(paths & self.guest_units)


NOTHING = CustomerScope()


def read_scope(actor: Actor) -> CustomerScope:
    """The customers ``actor`` reads (computed once per actor)."""
    scope = actor._cache.get("customers.read")
    if scope is None:
        scope = actor._cache["customers.read"] = _scope(actor, write=False)
    return scope


def write_scope(actor: Actor) -> CustomerScope:
    """The customers ``actor`` changes (computed once per actor)."""
    scope = actor._cache.get("customers.write")
    if scope is None:
        scope = actor._cache["customers.write"] = _scope(actor, write=True)
    return scope


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


class CustomerScopeRule:
    """The customers context's rule for backend/kernel/scope.py: the read scope's change-log entries
    and pokes (customers, contacts and their conflicts share the customer's audience)."""

    def log_clause(self, actor: Actor) -> ColumnElement[bool]:
        return read_scope(actor).log_clause()

    def hears(self, actor: Actor, users: set[str], paths: set[str]) -> bool:
        return read_scope(actor).hears(users, paths)


RULE = CustomerScopeRule()
