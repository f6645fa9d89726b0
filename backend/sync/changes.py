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
    #: Append-only rows (change log, audit trail, histories), inserted when the transaction ends: one
    #: executemany per table, whatever the mix of columns left empty.
    records: dict[Table, list[dict[str, Any]]] = field(default_factory=dict)
    #: Lookups that cannot change within this transaction's own writes (org paths, valid reps), and
    #: what a batch preloaded (see ``backend/sync/push.py``).
    cache: dict[Any, Any] = field(default_factory=dict)
    #: Set while push applies a whole batch at once: rows are written in one flush at the end.
    batched: bool = False

    @property
    def changes(self) -> list[dict[str, Any]]:
        return self.records.get(CHANGE_LOG, [])

    def record(self, table: Table, row: dict[str, Any]) -> None:
        self.records.setdefault(table, []).append(row)

    def changed(self, entity: str, entity_id: str, old: Audience | None, new: Audience | None) -> None:
        o = old or (None, None)
        n = new or (None, None)
        self.record(
            CHANGE_LOG,
            {
                "version": self.version,
                "entity": entity,
                "entity_id": entity_id,
                "old_user": o[0],
                "new_user": n[0],
                "old_path": o[1],
                "new_path": n[1],
            },
        )

    def audit(self, entity: str, entity_id: str, action: str, changes: dict[str, Any]) -> None:
        self.record(
            AUDIT_LOG,
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
            },
        )

    async def flush_rows(self) -> None:
        """Write one change's rows now, so that a failure belongs to it — except in a batch, whose rows
        are written together (one statement per table) and which is replayed change by change if that fails."""
        if not self.batched:
            await self.session.flush()

    def mark(self) -> dict[Table, int]:
        return {table: len(rows) for table, rows in self.records.items()}

    def rollback_to(self, mark: dict[Table, int]) -> None:
        for table, rows in self.records.items():
            del rows[mark.get(table, 0) :]

    async def flush(self) -> None:
        await self.session.flush()  # the rows these records refer to first
        for table, rows in self.records.items():
            if rows:
                await self.session.execute(insert(table), rows)

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
