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
