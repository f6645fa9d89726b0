"""SQLite plans without statistics unless someone gathers them: the server does (Database.analyze)."""

import pytest
from sqlalchemy import insert, select, text

from backend.auth.models import User
from backend.db.engine import Database
from backend.domain.customers.models import Customer
from backend.kernel.actor import Actor
from backend.kernel.registry import VIEWS
from tests.support import new_uuid


@pytest.fixture(params=["sqlite"])
def engine_kind(request):
    """PostgreSQL keeps its own statistics (autovacuum)."""
    return request.param


async def _plan(db_url, customer_ids, rep_id):
    """How a fresh connection (as the pool opens them) plans an incremental pull's customer lookup."""
    db = Database(db_url)
    try:
        view = VIEWS["customer"]
        q = view.select(Actor(rep_id, "rep", frozenset({"rep"}), "", "/none/")).where(view.id_column.in_(customer_ids))
        sql = str(q.compile(db.engine.sync_engine, compile_kwargs={"literal_binds": True}))
        async with db.read() as s:
            return " / ".join(r[-1] for r in (await s.execute(text("EXPLAIN QUERY PLAN " + sql))).all())
    finally:
        await db.dispose()


async def test_an_incremental_pull_looks_rows_up_by_id_not_through_the_reps_index(app, login, db_url):
    await login("rep1")  # the app has started (and gathered statistics of the demo data)
    db = app.state.services.db
    async with db.write() as s:
        rep = (await s.execute(select(User.id, User.org_unit_id).where(User.username == "rep1"))).one()
        await s.execute(
            insert(Customer),
            [
                dict(
                    id=new_uuid(),
                    name=f"Shop {i}",
                    kind="enterprise",
                    status="active",
                    org_unit_id=rep.org_unit_id,
                    assigned_rep_id=rep.id,
                    tags=[],
                    version=1,
                    field_meta={},
                )
                for i in range(2000)
            ],
        )
        ids = (await s.execute(select(Customer.id).where(Customer.assigned_rep_id == rep.id).limit(5))).scalars().all()
    assert "assigned_rep_id" in await _plan(db_url, ids, rep.id)  # the statistics predate the 2,000 rows
    await db.analyze()
    plan = await _plan(db_url, ids, rep.id)
    assert "customer USING INDEX sqlite_autoindex_customer_1 (id=?)" in plan, plan
