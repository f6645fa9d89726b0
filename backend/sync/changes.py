"""The write transaction: every change to synced data goes through ``write_tx``.

It takes the next value of the commit-ordered change counter, records a change-log entry per row
change (with the row's audience before and after) and an audit entry per write, and pokes the devices
that may care once the transaction has committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.scope import Actor, Audience
from backend.db.base import utcnow
from backend.db.engine import Database
from backend.domain.audit.models import AuditEntry
from backend.sync.models import ChangeLog, SyncState

CHANGE_LOG: Table = ChangeLog.__table__  # type: ignore[assignment]
AUDIT_LOG: Table = AuditEntry.__table__  # type: ignore[assignment]

PokeFn = Callable[[int, set[str], set[str]], Any]


@dataclass
class WriteTx:
    session: AsyncSession
    version: int
    actor: Actor
    source: str
    hlc: str | None = None
    mutation_id: int | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    #: Lookups that cannot change within this transaction's own writes (org paths, valid reps).
    cache: dict[Any, Any] = field(default_factory=dict)

    def changed(self, entity: str, entity_id: str, old: Audience | None, new: Audience | None) -> None:
        o = old or (None, None)
        n = new or (None, None)
        self.changes.append(
            {
                "version": self.version,
                "entity": entity,
                "entity_id": entity_id,
                "old_user": o[0],
                "new_user": n[0],
                "old_path": o[1],
                "new_path": n[1],
            }
        )

    def audit(self, entity: str, entity_id: str, action: str, changes: dict[str, Any]) -> None:
        self.audits.append(
            {
                "at": utcnow(),
                "version": self.version,
                "user_id": self.actor.user_id,
                "device_id": self.actor.device_id,
                "source": self.source,
                "mutation_id": self.mutation_id,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "changes": changes,
            }
        )

    def mark(self) -> tuple[int, int]:
        return len(self.changes), len(self.audits)

    def rollback_to(self, mark: tuple[int, int]) -> None:
        del self.changes[mark[0] :]
        del self.audits[mark[1] :]

    async def flush(self) -> None:
        # Core inserts with a list: one executemany each, whatever the mix of columns left empty.
        if self.changes:
            await self.session.execute(insert(CHANGE_LOG), self.changes)
        if self.audits:
            await self.session.execute(insert(AUDIT_LOG), self.audits)

    def audiences(self) -> tuple[set[str], set[str]]:
        users: set[str] = set()
        paths: set[str] = set()
        for c in self.changes:
            users.update(u for u in (c["old_user"], c["new_user"]) if u)
            paths.update(p for p in (c["old_path"], c["new_path"]) if p)
        return users, paths


async def next_version(session: AsyncSession) -> int:
    """Take the next change version. The row lock is held to commit: versions commit in order."""
    result = await session.execute(
        update(SyncState).where(SyncState.id == 1).values(version=SyncState.version + 1).returning(SyncState.version)
    )
    value = result.scalar_one_or_none()
    if value is None:
        raise RuntimeError("sync_state is missing: run `outpost db upgrade`")
    return int(value)


@asynccontextmanager
async def write_tx(db: Database, actor: Actor, source: str, poke: PokeFn | None = None) -> AsyncIterator[WriteTx]:
    async with db.write() as session:
        tx = WriteTx(session=session, version=await next_version(session), actor=actor, source=source)
        yield tx
        await tx.flush()
    if poke is not None and tx.changes:
        users, paths = tx.audiences()
        await poke(tx.version, users, paths)


async def current_version(session: AsyncSession) -> tuple[int, int]:
    row = (await session.execute(text("SELECT version, min_version FROM sync_state WHERE id = 1"))).one()
    return int(row[0]), int(row[1])
