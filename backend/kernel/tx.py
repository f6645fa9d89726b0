"""The write transaction: every change to synced data goes through ``write_tx``.

It takes the next value of the commit-ordered change counter, records a change-log entry per row
change (with the row's audience before and after) and an audit entry per write, and pokes the devices
that may care once the transaction has committed.

Synced rows are read and written through it as plain dicts (``Row``), not ORM objects: ``get`` and
``load`` read them once per transaction, ``insert`` and ``update`` queue writes, and ``write_rows``
sends them as one executemany per table — every update of a table with the same columns. A push of a
hundred mutations is then a handful of statements (see ``backend/sync/push.py``), and the rules in the
services stay plain code over values.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, Table, any_, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.base import Base, utcnow
from backend.db.engine import Database
from backend.kernel.actor import Actor, Audience
from backend.kernel.models import AuditEntry, ChangeLog, SyncState

CHANGE_LOG: Table = ChangeLog.__table__  # type: ignore[assignment]
AUDIT_LOG: Table = AuditEntry.__table__  # type: ignore[assignment]

PokeFn = Callable[[int, set[str], set[str]], Any]

#: Tables in foreign-key order: queued inserts are written parents first.
_TABLE_ORDER: dict[Table, int] = {}


def _table_order(table: Table) -> int:
    if table not in _TABLE_ORDER:  # a context's models imported after this module: order them all again
        _TABLE_ORDER.clear()
        _TABLE_ORDER.update({t: i for i, t in enumerate(Base.metadata.sorted_tables)})
    return _TABLE_ORDER[table]


@functools.cache
def _by_ids(table: Table, postgres: bool) -> Select:
    """Rows by a list of ids. On PostgreSQL ``id = ANY(:ids)``: one statement text whatever the number
    of ids, so its prepared statement and plan are reused (an IN-list is a new statement per length)."""
    if postgres:
        return select(table).where(table.c.id == any_(bindparam("ids", type_=ARRAY(table.c.id.type))))
    return select(table).where(table.c.id.in_(bindparam("ids", expanding=True)))


class Row(dict[str, Any]):
    """A synced row as this transaction sees it: column name -> value, also readable as attributes
    (``row.name``), like the ORM and Core rows the wire-shape functions are given elsewhere."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


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
    #: Rows read or inserted in this transaction, by table and id, and ids known not to exist.
    _rows: dict[tuple[Table, str], Row] = field(default_factory=dict)
    _absent: set[tuple[Table, str]] = field(default_factory=set)
    #: Writes not yet sent: rows to insert, and rows changed since they were read or written.
    _new: dict[Table, dict[str, Row]] = field(default_factory=dict)
    _dirty: dict[Table, dict[str, Row]] = field(default_factory=dict)
    _dirty_columns: dict[Table, set[str]] = field(default_factory=dict)

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

    # ------------------------------------------------------------ synced rows

    async def get(self, table: Table, row_id: str) -> Row | None:
        """The row with this id as this transaction sees it (read at most once)."""
        key = (table, row_id)
        if key in self._rows:
            return self._rows[key]
        if key in self._absent:
            return None
        found = (await self.session.execute(select(table).where(table.c.id == row_id))).mappings().one_or_none()
        if found is None:
            self._absent.add(key)
            return None
        row = self._rows[key] = Row(found)
        return row

    async def load(self, table: Table, ids: set[str]) -> list[Row]:
        """Read many rows in one query (a batch's preload); the ids not found are remembered as absent."""
        wanted = {i for i in ids if (table, i) not in self._rows and (table, i) not in self._absent}
        if wanted:
            query = _by_ids(table, self.session.get_bind().dialect.name == "postgresql")
            for found in (await self.session.execute(query, {"ids": list(wanted)})).mappings():
                self._rows[(table, found["id"])] = Row(found)
            self._absent.update((table, i) for i in wanted if (table, i) not in self._rows)
        return [self._rows[(table, i)] for i in ids if (table, i) in self._rows]

    def insert(self, table: Table, values: dict[str, Any]) -> Row:
        """Queue a new row (the caller has checked that its id is free)."""
        row = Row(values)
        key = (table, row["id"])
        self._absent.discard(key)
        self._rows[key] = row
        self._new.setdefault(table, {})[row["id"]] = row
        return row

    def update(self, table: Table, row: Row, columns: Iterable[str]) -> None:
        """Queue the write of these columns of a row changed in place (a row from ``get``, ``load`` or
        ``insert``)."""
        if row["id"] not in self._new.get(table, {}):
            self._dirty.setdefault(table, {})[row["id"]] = row
            self._dirty_columns.setdefault(table, set()).update(columns)

    async def write_rows(self) -> None:
        """Send the queued writes: one executemany per table for inserts (parents first), and one per
        table for updates, writing in every row the columns that any of them changed."""
        new, dirty, columns = self._new, self._dirty, self._dirty_columns
        self._new, self._dirty, self._dirty_columns = {}, {}, {}
        for table in sorted(new, key=_table_order):
            if new[table]:
                await self.session.execute(insert(table), list(new[table].values()))
        for table, rows in dirty.items():
            if rows:
                names = sorted(columns[table])
                params = [{"_id": r["id"], **{c: r[c] for c in names}} for r in rows.values()]
                await self.session.execute(update(table).where(table.c.id == bindparam("_id")), params)

    # ------------------------------------------------------------ records

    def mark(self) -> dict[Table, int]:
        return {table: len(rows) for table, rows in self.records.items()}

    def rollback_to(self, mark: dict[Table, int]) -> None:
        """Undo what was recorded since ``mark``, after the savepoint taken there was rolled back; what
        this transaction knew of its rows is dropped too (it may have changed since, and is read again)."""
        for table, rows in self.records.items():
            del rows[mark.get(table, 0) :]
        self._rows.clear()
        self._absent.clear()
        self._new.clear()
        self._dirty.clear()
        self._dirty_columns.clear()

    async def flush(self) -> None:
        await self.write_rows()  # the rows these records refer to first
        await self.session.flush()
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
