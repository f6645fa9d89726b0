"""A synced row's JSON built by the database (first sync, pulls) equals the one built in Python (REST,
rows a transaction holds), on both engines — awkward values included."""

import json
from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from backend.auth.models import User
from backend.domain.customers.models import Contact, Customer
from backend.kernel.actor import Actor
from backend.kernel.registry import VIEWS
from tests.support import new_uuid

AWKWARD = 'Quote " back\\slash \n tab\t ctrl\x01 表情😀 </script> \u2028'


async def test_database_and_python_build_the_same_wire_value(app, demo):
    db = app.state.services.db
    async with db.write() as s:
        rep = (await s.execute(select(User.id, User.org_unit_id).where(User.username == "rep1"))).one()
        odd, plain = new_uuid(), new_uuid()
        await s.execute(
            insert(Customer),
            [
                dict(  # a whole-second time (isoformat leaves out the fraction), no tier, tags null
                    id=odd,
                    name=AWKWARD,
                    kind="enterprise",
                    status="active",
                    tier=None,
                    phone=None,
                    address=AWKWARD,
                    org_unit_id=rep.org_unit_id,
                    assigned_rep_id=None,
                    tags=None,
                    version=2**40,
                    created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                    updated_at=datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
                    field_meta={},
                ),
                dict(
                    id=plain,
                    name="广州天河",
                    kind="individual",
                    status="active",
                    org_unit_id=rep.org_unit_id,
                    assigned_rep_id=rep.id,
                    tags=["5G", AWKWARD],
                    version=1,
                    field_meta={},
                ),
            ],
        )
        await s.execute(
            insert(Contact),
            [
                dict(id=new_uuid(), customer_id=odd, name=AWKWARD, title=None, phone=None, birthday=None, version=3,
                     field_meta={}),
                dict(id=new_uuid(), customer_id=plain, name="王", title="经理", phone="13800138000",
                     birthday=date(1990, 2, 28), version=4, field_meta={}),
            ],
        )  # fmt: skip

    admin = Actor(user_id="x", username="admin", roles=frozenset({"admin"}), org_unit_id="", org_path="/")
    wired = [v for v in VIEWS.values() if v.wire is not None]
    assert {v.name for v in wired} >= {"customer", "contact"}
    async with db.read() as s:
        dialect = s.get_bind().dialect.name
        for view in wired:
            q = view.select(admin)
            rows = {r.id: r for r in (await s.execute(q)).all()}
            built = (await s.execute(view.wire.page(q.with_only_columns(view.id_column), dialect))).all()
            assert len(rows) >= 2 and {i for i, _ in built} == set(rows)
            for row_id, text in built:
                op = json.loads(text)
                assert op == {"op": "put", "entity": view.name, "id": row_id, "value": view.value(rows[row_id])}
    by_id = {r.id: r for r in rows.values()}  # contacts: the awkward one kept every character
    assert any(r.name == AWKWARD for r in by_id.values())
    customer = VIEWS["customer"]
    async with db.read() as s:
        got = {
            i: json.loads(t)["value"]
            for i, t in (
                await s.execute(customer.wire.page(select(Customer.id).where(Customer.id.in_([odd, plain])), dialect))
            ).all()
        }
    assert got[odd]["tags"] == [] and got[odd]["createdAt"] == "2026-01-02T03:04:05+00:00"
    assert got[odd]["updatedAt"] == "2026-01-02T03:04:05.000600+00:00" and got[odd]["name"] == AWKWARD
    assert got[plain]["tags"] == ["5G", AWKWARD] and got[odd]["version"] == 2**40


async def test_a_page_joined_by_the_database_is_its_rows_in_id_order(app, demo):
    """A first sync's page comes as one text (``WireShape.joined``): the same ops as row by row, in id
    order, with their count and the last id (where the next page starts)."""
    db = app.state.services.db
    admin = Actor(user_id="x", username="admin", roles=frozenset({"admin"}), org_unit_id="", org_path="/")
    async with db.read() as s:
        dialect = s.get_bind().dialect.name
        for name in ("customer", "contact"):
            view = VIEWS[name]
            ids = view.select(admin).with_only_columns(view.id_column).order_by(view.id_column)
            expected = (await s.execute(view.wire.page(ids, dialect, ordered=True))).all()
            assert len(expected) >= 8
            for limit in (1, 7, len(expected) + 5):
                got = (await s.execute(view.wire.joined(ids.limit(limit), dialect))).one()
                want = expected[:limit]
                assert (got.n, got.last) == (len(want), want[-1][0])
                assert json.loads(f"[{got.ops}]") == [json.loads(t) for _, t in want]
            nothing = (await s.execute(view.wire.joined(ids.where(view.id_column > "~"), dialect))).one()
            assert (nothing.n, nothing.last, nothing.ops) == (0, None, None)
