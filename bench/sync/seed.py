"""Bulk data for the benchmarks, written with SQLAlchemy Core in the shape the services write.

The demo org and users come from ``backend.demo.load`` (with no customers). Then, for ``rows`` rows
in rep1's scope: ``rows // 2`` customers assigned to rep1 (GZ-TH) and one contact for each, so half
customers and half contacts. A tenth as many rows go to rep2 (GZ-YX) as data outside rep1's scope.
Every row gets what ``create_customer``/``create_contact`` would write: ``version``, ``field_meta``
``{"*": stamp}``, an assignment-history row for customers, a change-log entry carrying the audience,
and an audit entry. Rows are created in "pushes" of 100 row changes, each with its own version, rep1
and rep2 interleaved; ``sync_state.version`` is set to the last version used.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text, update

from backend.auth.models import User
from backend.auth.passwords import Passwords
from backend.auth.services import AuthService
from backend.auth.tokens import Tokens
from backend.db.engine import Database
from backend.demo import load
from backend.domain.customers.models import Contact, Customer, CustomerAssignment
from backend.domain.org.models import OrgUnit
from backend.kernel.conflicts import stamp
from backend.kernel.models import AuditEntry, ChangeLog, SyncState
from backend.settings import Settings
from sync_protocol.hlc import Hlc

PASSWORD = "bench-password-123"
ROWS_PER_VERSION = 100  # row changes per write transaction, like a push of 100 creates
CHUNK = 5_000  # rows per executemany
KEEP_FOR_UPDATES = 10_000  # (id, version) pairs of rep1's customers kept for the push benchmark's updates

_CITIES = ["广州", "羊城", "南方", "珠江", "华南"]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
_COMPANY = ["科技", "物流", "酒店", "贸易", "制造", "医药", "教育", "地产", "餐饮", "通信"]
_SUFFIX = ["有限公司", "集团", "股份有限公司"]
_TITLES = ["总经理", "采购经理", "IT主管", "财务总监", "行政经理", "Director", "CTO"]
_STREETS = ["天河路", "中山大道", "环市东路", "体育西路", "珠江新城花城大道", "黄埔大道"]
_TAGS = ["VIP", "5G", "宽带", "专线", "IDC"]


@dataclass
class Seeded:
    rows: int  # rows in rep1's scope (customers + contacts)
    customers: int
    contacts: int
    other_rows: int  # rows outside rep1's scope (rep2's)
    version: int  # sync_state.version after seeding
    rep1_customers: list[tuple[str, int]] = field(default_factory=list)  # a sample of (id, version), for updates
    seconds: float = 0.0


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


async def seed(db: Database, settings: Settings, rows: int, *, seed: int = 42) -> Seeded:
    started = time.perf_counter()
    a = settings.auth
    auth = AuthService(db, a, Passwords(a), Tokens(a.jwt_secret, a.access_token_minutes))
    await load(db, auth, PASSWORD, customers_count=0, assets_count=0)  # the org and users only
    async with db.read() as s:
        users = {u.username: u for u in (await s.execute(select(User))).scalars()}
        units = {u.code: u for u in (await s.execute(select(OrgUnit))).scalars()}
        version = int((await s.execute(select(SyncState.version).where(SyncState.id == 1))).scalar_one())

    rng = random.Random(seed)
    now = datetime.now(UTC)
    owners = {
        "rep1": (users["rep1"].id, units["GZ-TH"]),
        "rep2": (users["rep2"].id, units["GZ-YX"]),
    }
    n1 = rows // 2  # rep1's customers; each has one contact
    n2 = max(rows // 20, 1)  # rep2's customers (rows // 10 rows)
    # One "event" = create a customer and its contact (two row changes), rep2 every 10th event.
    plan: list[str] = []
    i1 = i2 = 0
    while i1 < n1 or i2 < n2:
        if i2 < n2 and (i1 >= n1 or (i1 + i2) % 10 == 9):
            plan.append("rep2")
            i2 += 1
        else:
            plan.append("rep1")
            i1 += 1

    customers: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    log: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    rep1_customers: list[tuple[str, int]] = []
    changes = 0
    contacts_rep1 = rows - n1
    made_contacts_rep1 = 0
    for k, rep in enumerate(plan):
        rep_id, unit = owners[rep]
        v = version + 1 + changes // ROWS_PER_VERSION
        at = now - timedelta(days=365) + timedelta(seconds=k * 60)
        hlc = str(Hlc(int(at.timestamp() * 1000), 0, "seed-device"))
        meta = {"*": stamp(v, hlc, rep_id, "seed-device")}
        cid = _uuid(rng)
        kind = rng.choice(["enterprise", "enterprise", "individual", "partner"])
        person = rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN)
        name = (
            f"{rng.choice(_CITIES)}{rng.choice(_COMPANY)}{rng.choice(_SUFFIX)} {k + 1:06d}"
            if kind != "individual"
            else person
        )
        cust = {
            "id": cid,
            "name": name,
            "kind": kind,
            "status": rng.choice(["potential", "active", "active", "at_risk"]),
            "tier": rng.choice(["A", "B", "B", "C", "C", "C"]),
            "phone": f"13{rng.randint(100000000, 999999999)}",
            "address": f"广州市{rng.choice(_STREETS)}{rng.randint(1, 999)}号",
            "org_unit_id": unit.id,
            "assigned_rep_id": rep_id,
            "tags": rng.sample(_TAGS, 2),
            "version": v,
            "created_at": at,
            "updated_at": at,
            "created_by": rep_id,
            "updated_by": rep_id,
            "field_meta": meta,
        }
        customers.append(cust)
        assignments.append(
            {
                "customer_id": cid,
                "action": "assign",
                "from_user_id": None,
                "to_user_id": rep_id,
                "by_user_id": rep_id,
                "reason": None,
                "at": at,
                "version": v,
            }
        )
        entries = [("customer", cid, {f: [None, cust[f]] for f in ("name", "kind", "status", "phone", "tags")})]
        if rep == "rep1":
            rep1_customers.append((cid, v))
        if rep == "rep2" or made_contacts_rep1 < contacts_rep1:
            made_contacts_rep1 += rep == "rep1"
            kid = _uuid(rng)
            contact = {
                "id": kid,
                "customer_id": cid,
                "name": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
                "title": rng.choice(_TITLES),
                "phone": f"139{rng.randint(10000000, 99999999)}",
                "birthday": date(1960, 1, 1) + timedelta(days=rng.randint(0, 15000)) if k % 3 == 0 else None,
                "version": v,
                "created_at": at,
                "updated_at": at,
                "created_by": rep_id,
                "updated_by": rep_id,
                "field_meta": meta,
            }
            contacts.append(contact)
            entries.append(("contact", kid, {f: [None, contact[f]] for f in ("name", "title", "phone")}))
        for entity, eid, diff in entries:
            log.append(
                {
                    "version": v,
                    "entity": entity,
                    "entity_id": eid,
                    "old_user": None,
                    "new_user": rep_id,
                    "old_path": None,
                    "new_path": unit.path,
                }
            )
            audits.append(
                {
                    "at": at,
                    "version": v,
                    "user_id": rep_id,
                    "device_id": "seed-device",
                    "source": "sync",
                    "mutation_id": k + 1,
                    "entity": entity,
                    "entity_id": eid,
                    "action": "create",
                    "changes": diff,
                }
            )
            changes += 1
    last_version = version + (changes + ROWS_PER_VERSION - 1) // ROWS_PER_VERSION

    async with db.write() as s:
        for model, batch in (
            (Customer, customers),
            (Contact, contacts),
            (CustomerAssignment, assignments),
            (ChangeLog, log),
            (AuditEntry, audits),
        ):
            for i in range(0, len(batch), CHUNK):
                await s.execute(insert(model.__table__), batch[i : i + CHUNK])
        await s.execute(update(SyncState).where(SyncState.id == 1).values(version=last_version))
    if not db.is_sqlite:
        # What autovacuum does within a minute of a bulk load; the app never runs ANALYZE on SQLite.
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    rep1_contacts = sum(1 for c in contacts if c["created_by"] == owners["rep1"][0])
    return Seeded(
        rows=n1 + rep1_contacts,
        customers=n1,
        contacts=rep1_contacts,
        other_rows=len(customers) + len(contacts) - n1 - rep1_contacts,
        version=last_version,
        rep1_customers=rng.sample(rep1_customers, min(len(rep1_customers), KEEP_FOR_UPDATES)),
        seconds=time.perf_counter() - started,
    )
