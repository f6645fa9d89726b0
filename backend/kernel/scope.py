"""Scope rules, one per context: which change-log entries and pokes may concern an actor.

Each context registers a ``ScopeRule`` where it registers its mutations and views (its ``mutators``
module, imported by the composition root). The change log records each row change's audience as
(user, org path) pairs; ``log_clause`` is the union of what the registered rules listen to, and
every pulled row is checked again by its view. ``hears`` tells whether a poke concerns the actor.
Both may answer a superset.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import ColumnElement, false, or_

from backend.kernel.actor import Actor


class ScopeRule(Protocol):
    def log_clause(self, actor: Actor) -> ColumnElement[bool]:
        """Change-log entries whose audience may concern ``actor`` (a superset is fine)."""
        ...

    def hears(self, actor: Actor, users: set[str], paths: set[str]) -> bool:
        """Whether a change with this audience may concern ``actor`` (for pokes; a superset)."""
        ...


SCOPE_RULES: list[ScopeRule] = []


def register_scope(rule: ScopeRule) -> None:
    SCOPE_RULES.append(rule)


def log_clause(actor: Actor) -> ColumnElement[bool]:
    """Change-log entries that may concern this actor, whatever the entity (a superset)."""
    parts = [rule.log_clause(actor) for rule in SCOPE_RULES]
    return or_(*parts) if parts else false()


def hears(actor: Actor, users: Iterable[str], paths: Iterable[str]) -> bool:
    """Whether a change with this audience may concern this actor (for pokes; a superset)."""
    users, paths = set(users), set(paths)
    return any(rule.hears(actor, users, paths) for rule in SCOPE_RULES)
