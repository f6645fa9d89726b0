"""Engine and session setup for SQLite (aiosqlite, WAL) and PostgreSQL (asyncpg).

Writes run in ``write()``: on SQLite the transaction starts with ``BEGIN IMMEDIATE`` (writers queue on
the busy timeout instead of failing half-way), using SQLAlchemy's documented pysqlite workaround so
savepoints work. Reads run in ``read()``: on PostgreSQL a REPEATABLE READ snapshot, so a pull sees the
change counter and the rows at one instant.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool


class Database:
    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10, busy_timeout_ms: int = 15_000):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
            if ":memory:" in url or url.endswith("sqlite+aiosqlite://"):
                raise ValueError("use an SQLite file: an in-memory database is not shared between connections")
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._writers = asyncio.Lock() if self.is_sqlite else None
        self._busy_timeout_s = busy_timeout_ms / 1000
        if self.is_sqlite:
            self._setup_sqlite(busy_timeout_ms)
        self._write_engine = self.engine.execution_options(outpost_write=True)
        self._read_engine = (
            self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="REPEATABLE READ")
        )
        # SQLite: no BEGIN at all (changing the isolation level would undo isolation_level = None on the
        # connection when it goes back to the pool); PostgreSQL: asyncpg's autocommit, no round trip.
        self._lookup_engine = (
            self.engine.execution_options(outpost_lookup=True)
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    def _setup_sqlite(self, busy_timeout_ms: int) -> None:
        sync_engine = self.engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let us emit BEGIN ourselves (pysqlite's own transaction handling breaks SAVEPOINT).
            dbapi_connection.isolation_level = None
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint the WAL every 10,000 pages (~40 MB), not SQLite's 1,000: every push rewrites the
            # same hot pages (the counter row, index tails), which a checkpoint then copies and fsyncs
            # once instead of ten times; at 1,000 every fifth push of 100 paid a 35-60 ms checkpoint.
            cur.execute("PRAGMA wal_autocheckpoint=10000")
            # Read the database through a memory map (up to 256 MB): pages come straight from the OS's
            # page cache, shared by every pooled connection, instead of being copied by a read() call
            # into each connection's own 2 MB cache. A first sync's page read ~5 MB of rows and indexes
            # through that small cache: 130-200 ms a page in the SQLite shell, 80-90 ms mapped.
            cur.execute("PRAGMA mmap_size=268435456")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.close()

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            options = conn.get_execution_options()
            if options.get("outpost_lookup", False):
                return  # the connection is in autocommit at the driver (isolation_level = None above)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("outpost_write", False) else "BEGIN")

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed when the block ends, rolled back on an exception.

        On SQLite this process's writers take turns here, first come first served, before taking a
        connection: SQLite's busy handler retries blindly, so under many writers one could lose every
        retry until its busy timeout ran out, and each waiting writer held a pooled connection the
        others needed (seen in the simulation: every request stalled 15 s, then a 500)."""
        if self._writers is None:
            async with AsyncSession(self._write_engine, expire_on_commit=False) as session, session.begin():
                yield session
            return
        try:
            await asyncio.wait_for(self._writers.acquire(), self._busy_timeout_s)
        except TimeoutError:
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")) from None
        try:
            async with AsyncSession(self._write_engine, expire_on_commit=False) as session, session.begin():
                yield session
        finally:
            self._writers.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with AsyncSession(self._read_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @asynccontextmanager
    async def lookup(self) -> AsyncIterator[AsyncConnection]:
        """For one read statement that needs no transaction around it (e.g. the token check on every
        request): a plain connection in autocommit, one round trip instead of three or four."""
        async with self._lookup_engine.connect() as conn:
            yield conn

    async def analyze(self) -> None:
        """Refresh the query planner's statistics (SQLite; PostgreSQL's autovacuum keeps its own).
        Without them SQLite guesses that a rep's customers are few: an incremental pull asking for 100
        customers by id walked all 30,000 of the rep's through ``assigned_rep_id`` (14 ms, with them
        2 ms). ``analysis_limit`` samples each index, so this stays in milliseconds."""
        if not self.is_sqlite:
            return
        async with self.write() as s:
            await s.execute(text("PRAGMA analysis_limit = 1000"))
            await s.execute(text("ANALYZE"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def is_transient(exc: BaseException) -> bool:
    """A failure worth retrying: SQLite busy/locked, PostgreSQL serialization failure or deadlock."""
    if isinstance(exc, OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
        return True
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if code in {"40001", "40P01", "55P03"}:
            return True
        text = str(exc)
        if "SerializationError" in text or "DeadlockDetected" in text or "could not serialize" in text:
            return True
    return False


__all__ = ["Database", "NullPool", "is_transient"]
