"""What can be synced: mutation names mapped to service calls, and entity views for pull."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from backend.kernel.actor import Actor
from backend.kernel.wire import WireShape
from sync_protocol.base import StrictWireModel

MutatorFn = Callable[[Any, Any], Awaitable[Any]]
PreloadFn = Callable[[Any, dict[str, list[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class MutatorSpec:
    name: str
    args: type[StrictWireModel]
    fn: MutatorFn


@dataclass(frozen=True)
class EntityView:
    """How one entity is pulled: the rows an actor sees (keyed by ``id``) and their wire shape."""

    name: str
    select: Callable[[Actor], Select]
    id_column: Any
    value: Callable[[Any], dict[str, Any]]
    #: The same value built by the database, for entities that come by the thousand (backend/kernel/wire.py).
    wire: WireShape | None = None


MUTATORS: dict[str, MutatorSpec] = {}
VIEWS: dict[str, EntityView] = {}
#: Called before a batch of mutations is applied, with their validated arguments by mutation name, to
#: load in a few queries what the batch will touch (a context's rows and lookups, into the session and
#: ``tx.cache``). An optimisation only: a mutation must give the same result without it.
PRELOADERS: list[PreloadFn] = []


def register_mutator(name: str, args: type[StrictWireModel], fn: MutatorFn) -> None:
    MUTATORS[name] = MutatorSpec(name, args, fn)


def register_preloader(fn: PreloadFn) -> None:
    PRELOADERS.append(fn)


def register_view(view: EntityView) -> None:
    VIEWS[view.name] = view
