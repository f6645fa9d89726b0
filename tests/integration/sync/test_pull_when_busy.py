import sqlite3

import pytest

from tests import support


@pytest.fixture
def settings(db_url, tmp_path, sync_options):
    s = support.test_settings(db_url, tmp_path / "var", **sync_options)
    s.db.sqlite_busy_timeout_ms = 300  # production: 15 s; the point is "a writer holds the lock longer"
    return s


@pytest.fixture(params=["sqlite"])
def engine_kind(request):
    """SQLite's single writer lock is what this is about."""
    return request.param


async def test_pull_is_a_read_and_survives_a_busy_writer(login, db_url):
    rep = await login("rep1")
    writer = sqlite3.connect(db_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # e.g. a long push holding SQLite's write lock
    try:
        r = await rep.post("/api/sync/pull", rep.envelope(cookie=None))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert r.status_code == 200, r.text  # the last-sync stamp is best effort


async def test_token_checks_leave_pooled_connections_as_writes_need_them(app, login):
    """The token check runs without a transaction. It must not hand back to the pool a connection in
    which the driver starts transactions of its own (writes rely on their explicit BEGIN IMMEDIATE)."""
    from tests.support import new_uuid, statements

    engine = app.state.services.db.engine
    with statements(app) as seen:
        rep = await login("rep1")
        for _ in range(3):
            assert (await rep.get("/api/auth/me")).status_code == 200
        rep.sync.mutate("customer.create", {"id": new_uuid(), "name": "Lock check"})
        await rep.sync.sync()
    assert rep.sync.pending == [] and rep.sync.rejected == []
    assert "BEGIN IMMEDIATE" in seen
    assert not any("read_uncommitted" in s.lower() for s in seen)
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert raw.driver_connection.isolation_level is None
