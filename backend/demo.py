"""Demo data: an org tree, one user per role, ~300 customers with contacts, ~2,000 tagged assets in
their locations and one open stocktake campaign. Idempotent."""

from __future__ import annotations

import os
import random
import secrets
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import select

from backend.auth.models import User
from backend.auth.services import AuthService, check_password
from backend.db.base import new_id
from backend.db.engine import Database
from backend.domain.customers import services as customers
from backend.domain.org.models import OrgUnit
from backend.kernel.actor import Actor
from backend.kernel.tx import WriteTx, write_tx
from sync_protocol import mutations as m
from sync_protocol.hlc import Hlc

ORG = [  # code, name, level, parent
    ("HQ", "总部 Headquarters", "hq", None),
    ("GD", "广东省分公司 Guangdong", "province", "HQ"),
    ("GZ", "广州市分公司 Guangzhou", "city", "GD"),
    ("SZ", "深圳市分公司 Shenzhen", "city", "GD"),
    ("GZ-TH", "天河区 Tianhe", "district", "GZ"),
    ("GZ-YX", "越秀区 Yuexiu", "district", "GZ"),
    ("SZ-NS", "南山区 Nanshan", "district", "SZ"),
    ("SZ-FT", "福田区 Futian", "district", "SZ"),
]

USERS = [  # username, display name, roles, org code
    ("admin", "系统管理员 Admin", ["admin"], "HQ"),
    ("manager", "王主管 Manager Wang", ["manager"], "GZ"),
    ("rep1", "李经理 Rep Li", ["rep"], "GZ-TH"),
    ("rep2", "张经理 Rep Zhang", ["rep"], "GZ-YX"),
    ("stocktaker", "陈盘点 Stocktaker Chen", ["stocktaker"], "GZ"),
    ("stocktaker2", "周盘点 Stocktaker Zhou", ["stocktaker"], "GZ"),
    ("assetadmin", "黄资产 Asset Admin Huang", ["asset_admin"], "GZ"),
    ("care", "刘服务 Care Liu", ["care"], "GZ-TH"),
    ("auditor", "赵审计 Auditor Zhao", ["auditor"], "GZ"),
]

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
_COMPANY = ["科技", "物流", "酒店", "贸易", "制造", "医药", "教育", "地产", "餐饮", "通信"]
_SUFFIX = ["有限公司", "集团", "股份有限公司"]
_TITLES = ["总经理", "采购经理", "IT主管", "财务总监", "行政经理", "Director", "CTO"]
_STREETS = ["天河路", "中山大道", "环市东路", "体育西路", "珠江新城花城大道", "黄埔大道"]


def credentials_path(var_dir: Path) -> Path:
    return var_dir / "demo-credentials"


def demo_password(var_dir: Path) -> str:
    """OUTPOST_DEMO_PASSWORD when set, else generated once and kept in var/demo-credentials (0600)."""
    env = os.environ.get("OUTPOST_DEMO_PASSWORD")
    if env:
        return env
    path = credentials_path(var_dir)
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(9)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def banner(url: str, password: str) -> str:
    users = ", ".join(u[0] for u in USERS)
    return f"\n  Outpost is running at {url}\n  Demo logins: {users}\n  Password for every demo login: {password}\n"


async def load(
    db: Database,
    auth: AuthService,
    password: str,
    *,
    customers_count: int = 300,
    assets_count: int = 2000,
    seed: int = 7,
) -> bool:
    """Load the demo data, all of it or nothing (one transaction). Returns False when it was already
    there. A password too short is refused before anything is written."""
    check_password(password)
    async with db.read() as s:
        if (await s.execute(select(User).where(User.username == "admin"))).scalar_one_or_none():
            return False
    hashed = await auth.passwords.hash_in_worker(password)  # off the event loop, before the transaction
    admin_id = new_id()
    hq_path = "/" + ORG[0][0] + "/"
    actor = Actor(
        user_id=admin_id,
        username="admin",
        roles=frozenset({"admin"}),
        org_unit_id="",
        org_path=hq_path,
        device_id=None,
    )
    async with write_tx(db, actor, "demo") as tx:
        s = tx.session
        units: dict[str, OrgUnit] = {}
        for code, name, level, parent in ORG:
            p = units[parent] if parent else None
            unit = OrgUnit(
                id=new_id(),
                code=code,
                name=name,
                level=level,
                parent_id=p.id if p else None,
                path=(p.path if p else "/") + code + "/",
            )
            s.add(unit)
            units[code] = unit
        await s.flush()  # the units before the users that belong to them
        users: dict[str, User] = {}
        for username, display, roles, org in USERS:
            users[username] = User(
                id=admin_id if username == "admin" else new_id(),
                username=username,
                display_name=display,
                password_hash=hashed,
                org_unit_id=units[org].id,
                roles=sorted(set(roles)),
            )
            s.add(users[username])
            tx.audit("user", users[username].id, "create", {"username": [None, username], "roles": [None, roles]})
        await s.flush()
        rng = random.Random(seed)
        await _customers(tx, users, units, rng, customers_count)
        await _assets(tx, users, units, rng, assets_count)
    return True


async def _customers(
    tx: WriteTx, users: dict[str, User], units: dict[str, OrgUnit], rng: random.Random, customers_count: int
) -> None:
    plan: list[tuple[str, str | None, str]] = []
    for i in range(customers_count):
        if i % 15 == 14:
            plan.append(("guest", None, "GZ-TH"))
        elif i % 2 == 0:
            plan.append((rng.choice(["enterprise", "enterprise", "individual", "partner"]), "rep1", "GZ-TH"))
        else:
            plan.append((rng.choice(["enterprise", "enterprise", "individual", "partner"]), "rep2", "GZ-YX"))
    tx.hlc = str(Hlc(0, 0, "demo"))
    for i, (kind, rep, org) in enumerate(plan):
        cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        person = rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN)
        if kind in ("enterprise", "partner"):
            name = f"{rng.choice(['广州', '羊城', '南方', '珠江', '华南'])}{rng.choice(_COMPANY)}{rng.choice(_SUFFIX)}"
            name = f"{name} {i + 1:03d}"
        else:
            name = person
        await customers.create_customer(
            tx,
            m.CustomerCreate(
                id=cid,
                name=name,
                kind=kind,
                status=rng.choice(["potential", "active", "active", "at_risk"]),
                tier=rng.choice(["A", "B", "B", "C", "C", "C"]),
                phone=f"13{rng.randint(100000000, 999999999)}",
                address=f"广州市{rng.choice(_STREETS)}{rng.randint(1, 999)}号",
                org_unit_id=units[org].id,
                assigned_rep_id=users[rep].id if rep else None,
                tags=rng.sample(["VIP", "5G", "宽带", "专线", "IDC"], 2),
            ),
        )
        for _ in range(rng.randint(1, 3) if kind != "guest" else 0):
            await customers.create_contact(
                tx,
                m.ContactCreate(
                    id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    customer_id=cid,
                    name=rng.choice(_SURNAMES) + rng.choice(_GIVEN),
                    title=rng.choice(_TITLES),
                    phone=f"139{rng.randint(10000000, 99999999)}",
                ),
            )


_SITES = ["营业厅 Service hall", "机房 Equipment room", "办公室 Office", "仓库 Store room", "会议室 Meeting room"]
#: Category code (hierarchical: 2 digits per level), name, model choices, value range in yuan.
_CATEGORIES = [
    ("0101", "基站设备 Base station unit", ["BBU5900", "RRU3959"], (20_000, 180_000)),
    ("0102", "传输设备 Transmission unit", ["OptiX OSN 1800", "ZXCTN 6120"], (15_000, 90_000)),
    ("0201", "服务器 Server", ["PowerEdge R750", "RH2288H V5"], (25_000, 120_000)),
    ("0202", "笔记本电脑 Laptop", ["ThinkPad T14", "MateBook 14"], (5_000, 12_000)),
    ("0203", "打印机 Printer", ["LaserJet M406", "Canon LBP623"], (1_500, 6_000)),
    ("0301", "办公桌 Desk", ["1.4 m", "1.6 m"], (800, 3_000)),
    ("0302", "空调 Air conditioner", ["KFR-72LW", "KFR-35GW"], (3_000, 15_000)),
]


async def _assets(
    tx: WriteTx, users: dict[str, User], units: dict[str, OrgUnit], rng: random.Random, count: int
) -> None:
    """Locations in each district, ``count`` tagged assets spread over them, and one open stocktake of
    Tianhe counted by both demo stocktakers."""
    from decimal import Decimal

    from backend.domain.assets import services as assets
    from backend.domain.stocktake import services as stocktake

    districts = ["GZ-TH", "GZ-YX", "SZ-NS", "SZ-FT"]
    custodians = [users[u].id for u in ("rep1", "rep2", "manager", "care", "assetadmin")]
    locations: dict[str, list[str]] = {}
    for code in districts:
        name = units[code].name.split(" ")[0]
        for site in _SITES:
            loc = await assets.create_location(tx, f"{name}{site}", units[code].id)
            locations.setdefault(code, []).append(loc.id)
    tags = await assets.next_tags(tx.session, count)
    for i, tag in enumerate(tags):
        unit = districts[i % len(districts)]
        category, kind, models, (low, high) = rng.choice(_CATEGORIES)
        original = Decimal(rng.randint(low, high))
        await assets.create_asset(
            tx,
            {
                "tag": tag,
                "name": kind,
                "category_code": category,
                "model": rng.choice(models),
                "serial": f"SN{rng.randint(10**9, 10**10 - 1)}",
                "location_id": rng.choice(locations[unit]),
                "custodian_id": rng.choice(custodians),
                "org_unit_id": units[unit].id,
                "status": rng.choice(["in_use"] * 8 + ["idle", "under_repair"]),
                "lifecycle": rng.choice(["fixed"] * 8 + ["provisional", "construction"]),
                "acquired_on": date(2018 + rng.randint(0, 7), rng.randint(1, 12), rng.randint(1, 28)),
                "original_value": original,
                "net_value": (original * Decimal(rng.randint(20, 95)) / 100).quantize(Decimal("0.01")),
            },
            tag_is_free=True,  # the next free tags, taken above
        )
    await stocktake.create_stocktake(
        tx,
        name="2026年第四季度天河盘点 Q4 2026 Tianhe stocktake",
        org_unit_id=units["GZ-TH"].id,
        location_ids=[],
        assignee_ids=[users["stocktaker"].id, users["stocktaker2"].id],
        start=True,
    )
