"""What can be synced: mutation names mapped to service calls, and entity views for pull."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from backend.auth.scope import Actor, CustomerScope
from sync_protocol.base import StrictWireModel

MutatorFn = Callable[[Any, Any], Awaitable[Any]]


@dataclass(frozen=True)
class MutatorSpec:
    name: str
    args: type[StrictWireModel]
    fn: MutatorFn


@dataclass(frozen=True)
class EntityView:
    """How one entity is pulled: the rows a scope sees (keyed by ``id``) and their wire shape."""

    name: str
    select: Callable[[CustomerScope], Select]
    id_column: Any
    value: Callable[[Any], dict[str, Any]]


MUTATORS: dict[str, MutatorSpec] = {}
VIEWS: dict[str, EntityView] = {}


def register_mutator(name: str, args: type[StrictWireModel], fn: MutatorFn) -> None:
    MUTATORS[name] = MutatorSpec(name, args, fn)


def register_view(view: EntityView) -> None:
    VIEWS[view.name] = view


def load_all() -> None:
    """Import every context's mutators (they register themselves)."""
    from backend.domain.customers import mutators  # noqa: F401


def actor_scope(actor: Actor) -> CustomerScope:
    return actor.read_scope
