"""Who may do what, as data: a role x endpoint x scope matrix (issue 14, item 5; README "Who may do what").

Each row of ``ROWS`` is one test: an actor (a demo user, or one made below), an action, a target in or
out of the actor's scope, and the answer the server must give (status and error code). Every create
and assign path is here next to the update it must agree with, over REST and as a synced mutation;
so are stocktakes, asset import and labels, devices and photos. A pull per role is compared with the
read scope worked out independently in Python from the database.

One app and one demo database serve the whole module (a module-scoped event loop): rows never depend on
each other — a row that changes something works on a customer, campaign or device made for it.

Org: HQ > GD > GZ (GZ-TH, GZ-YX) and SZ (SZ-NS, SZ-FT). Besides the demo users (backend/demo.py)
the module makes: mgr_sz (manager, SZ), mgr_th (manager, GZ-TH: below the GZ manager), mgr_gz2 (a
second manager of GZ: a peer), rep_sz (rep, SZ-NS), rep_gz (rep, GZ: a unit with children), rep_gone
(rep, GZ-TH, disabled), st_th (stocktaker, GZ-TH), st_yx (stocktaker, GZ-YX), st_sz (stocktaker, SZ),
st_gone (stocktaker, GZ, disabled), admin_th (admin, GZ-TH) and finance (finance, GZ).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import httpx
import pytest
import pytest_asyncio
from PIL import Image
from sqlalchemy import select

from backend.app import create_app
from backend.auth.models import User
from backend.demo import load
from backend.domain.assets.models import Asset
from backend.domain.customers.models import Customer
from backend.domain.org.models import OrgUnit
from backend.domain.stocktake.models import Stocktake, StocktakeAssignee
from sync_protocol.client import SyncClient
from tests import support
from tests.conftest import DEMO_PASSWORD
from tests.support import Session, new_uuid

EXTRA_USERS = [  # username, roles, org code
    ("mgr_sz", ["manager"], "SZ"),
    ("mgr_th", ["manager"], "GZ-TH"),
    ("mgr_gz2", ["manager"], "GZ"),
    ("rep_sz", ["rep"], "SZ-NS"),
    ("rep_gz", ["rep"], "GZ"),
    ("rep_gone", ["rep"], "GZ-TH"),
    ("st_th", ["stocktaker"], "GZ-TH"),
    ("st_yx", ["stocktaker"], "GZ-YX"),
    ("st_sz", ["stocktaker"], "SZ"),
    ("st_gone", ["stocktaker"], "GZ"),
    ("admin_th", ["admin"], "GZ-TH"),
    ("finance", ["finance"], "GZ"),
]
DISABLED = ("rep_gone", "st_gone")


def _jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (seed % 256, (seed * 7) % 256, (seed * 13) % 256)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


@dataclass
class World:
    app: Any
    http: httpx.AsyncClient
    units: dict[str, str] = field(default_factory=dict)  # org code -> id
    paths: dict[str, str] = field(default_factory=dict)  # org code -> path
    users: dict[str, str] = field(default_factory=dict)  # username -> id
    customers: dict[str, str] = field(default_factory=dict)  # label -> id
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> {"id", "tag"}
    campaign: str = ""
    items: list[str] = field(default_factory=list)  # tags expected by the demo campaign
    photos: dict[str, str] = field(default_factory=dict)  # label -> sha256
    sessions: dict[str, Session] = field(default_factory=dict)
    seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def as_(self, username: str) -> Session:
        if username not in self.sessions:
            self.sessions[username] = await support.login(self.http, username, DEMO_PASSWORD, "matrix")
        return self.sessions[username]

    def user(self, name: str, actor: Session) -> str | None:
        """A user id named in a row: a username, ``self`` (the actor), ``none``, or ``ghost`` (no such user)."""
        if name == "none":
            return None
        if name == "self":
            return str(actor.user["id"])
        if name == "ghost":
            return new_uuid()
        return self.users[name]

    async def customer(self, unit: str, rep: str | None, kind: str = "enterprise") -> str:
        """A customer made by admin for one row."""
        admin = await self.as_("admin")
        cid = new_uuid()
        body = {"id": cid, "name": f"Matrix {next(self.seq)}", "kind": kind, "orgUnitId": self.units[unit]}
        if rep:
            body["assignedRepId"] = self.users[rep]
        r = await admin.post("/api/customers/", body)
        assert r.status_code == 201, r.text
        return cid

    async def stocktake(self, unit: str, *, start: bool = False) -> str:
        admin = await self.as_("admin")
        r = await admin.post(
            "/api/stocktakes/",
            {
                "name": f"Matrix {next(self.seq)}",
                "orgUnitId": self.units[unit],
                "assigneeIds": [self.users["stocktaker"] if unit.startswith("GZ") else self.users["st_sz"]],
                "start": start,
            },
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def scan_args(self, tag: str, photo: str | None = None) -> dict[str, Any]:
        args = {"id": new_uuid(), "stocktakeId": self.campaign, "tag": tag, "scannedAt": datetime.now(UTC).isoformat()}
        if photo:
            args["photo"] = photo
        return args


async def _put_photo(s: Session, data: bytes) -> httpx.Response:
    sha = hashlib.sha256(data).hexdigest()
    return await s.http.put(
        f"/api/attachments/{sha}", content=data, headers={**s.headers, "content-type": "image/jpeg"}
    )


async def _synced(s: Session, name: str, args: dict[str, Any]) -> tuple[str, str | None]:
    """Push one mutation and pull: ("accepted", None) or ("rejected", its code)."""
    pending = s.sync.mutate(name, args)
    await s.sync.sync()
    assert pending not in s.sync.pending
    codes = [r.code for r in s.sync.rejected if r.mutation is pending]
    return ("rejected", codes[0]) if codes else ("accepted", None)


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=support.engines())
async def world(
    request: pytest.FixtureRequest, templates: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    kind = str(request.param)
    tmp = tmp_path_factory.mktemp("scope-matrix")
    url, drop = await support.new_database(kind, templates[kind], tmp)
    app: Any = create_app(support.test_settings(url, tmp / "var"))
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    await started.wait()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            w = World(app, http)
            await _set_up(w)
            yield w
    finally:
        stop.set()
        await task
        await drop()


async def _set_up(w: World) -> None:
    services = w.app.state.services
    await load(services.db, services.auth, DEMO_PASSWORD, customers_count=30, assets_count=60)
    for username, roles, org in EXTRA_USERS:
        await services.auth.create_user(username, DEMO_PASSWORD, roles, org, username)
    for username in DISABLED:
        await services.auth.set_disabled(username, True)
    async with services.db.read() as s:
        for u in (await s.execute(select(OrgUnit))).scalars():
            w.units[u.code], w.paths[u.code] = u.id, u.path
        w.users = {u.username: u.id for u in (await s.execute(select(User))).scalars()}
        demo = list((await s.execute(select(Customer).order_by(Customer.name))).scalars())
        by_unit: dict[str, list[Asset]] = {}
        for a in (await s.execute(select(Asset).order_by(Asset.tag))).scalars():
            by_unit.setdefault(a.org_unit_id, []).append(a)
    units_by_id = {v: k for k, v in w.units.items()}
    w.customers["rep1's"] = next(c.id for c in demo if c.assigned_rep_id == w.users["rep1"])
    w.customers["rep2's"] = next(c.id for c in demo if c.assigned_rep_id == w.users["rep2"])
    w.customers["guest"] = next(c.id for c in demo if c.kind == "guest" and units_by_id[c.org_unit_id] == "GZ-TH")
    w.customers["other-city"] = await w.customer("SZ-NS", "rep_sz")

    # Assets with a known custodian: what a custodian reads (and may not change) is tested with them.
    admin = await w.as_("admin")
    th, ns = by_unit[w.units["GZ-TH"]], by_unit[w.units["SZ-NS"]]
    plan = {"GZ-TH": (th[0], "rep2"), "SZ-NS": (ns[0], "rep2"), "SZ-NS held by rep1": (ns[1], "rep1")}
    plan["SZ-NS held by assetadmin"] = (ns[2], "assetadmin")
    plan["GZ-TH spare"] = (th[1], "rep2")  # for the rows that hand custody on
    for label, (asset, custodian) in plan.items():
        r = await admin.patch(f"/api/assets/{asset.id}", {"custodianId": w.users[custodian]})
        assert r.status_code == 200, r.text
        w.assets[label] = {"id": asset.id, "tag": asset.tag}

    # The demo campaign (GZ-TH, counted by stocktaker and stocktaker2) and photos named by its scans.
    stocktaker, stocktaker2 = await w.as_("stocktaker"), await w.as_("stocktaker2")
    await stocktaker.sync.pull()
    (st,) = [v for (e, _), v in stocktaker.sync.base.items() if e == "stocktake"]
    w.campaign = st["id"]
    w.items = sorted(v["tag"] for (e, _), v in stocktaker.sync.base.items() if e == "stocktake_item")
    uploads = {"scan photo": ("stocktaker", 1), "named by another": ("assetadmin", 2), "unnamed": ("rep1", 3)}
    for label, (username, seed) in uploads.items():
        data = _jpeg(seed)
        assert (await _put_photo(await w.as_(username), data)).status_code == 201
        w.photos[label] = hashlib.sha256(data).hexdigest()
    # stocktaker names the photo they sent; stocktaker2 names assetadmin's photo, whose bytes they never sent
    assert await _synced(stocktaker, "stocktake.scan", w.scan_args(w.items[0], w.photos["scan photo"])) == (
        "accepted",
        None,
    )
    assert await _synced(stocktaker2, "stocktake.scan", w.scan_args(w.items[1], w.photos["named by another"])) == (
        "accepted",
        None,
    )


# ----------------------------------------------------------------------------------------- the actions


class Outcome(NamedTuple):
    status: int | str  # an HTTP status, or "accepted"/"rejected" for a synced mutation
    error: str | None = None


def _outcome(r: httpx.Response) -> Outcome:
    error = None
    if r.status_code >= 400 and r.headers.get("content-type", "").startswith(
        ("application/json", "application/problem")
    ):
        error = r.json().get("error")
    return Outcome(r.status_code, error)


def _spec(target: str) -> dict[str, str]:
    """``unit=GZ-TH rep=rep1 kind=guest`` -> a dict."""
    return dict(part.split("=", 1) for part in target.split())


Action = Callable[[World, Session, str], Awaitable[Outcome]]


async def customer_read(w: World, s: Session, target: str) -> Outcome:
    return _outcome(await s.get(f"/api/customers/{w.customers[target]}"))


async def customer_update(w: World, s: Session, target: str) -> Outcome:
    label, _, kind = target.partition(" to kind=")
    cid = w.customers[label]
    current = (await (await w.as_("admin")).get(f"/api/customers/{cid}")).json()
    body: dict[str, Any] = {"id": cid, "base": current["version"], "address": f"Matrix road {next(w.seq)}"}
    if kind:
        body["kind"] = kind
    return _outcome(await s.patch(f"/api/customers/{cid}", body))


def _create_body(w: World, s: Session, target: str) -> dict[str, Any]:
    spec = _spec(target)
    body: dict[str, Any] = {"id": new_uuid(), "name": f"Matrix {next(w.seq)}", "kind": spec.get("kind", "enterprise")}
    if "unit" in spec:
        body["orgUnitId"] = w.units[spec["unit"]]
    if "rep" in spec:
        body["assignedRepId"] = w.user(spec["rep"], s)
    return body


async def customer_create(w: World, s: Session, target: str) -> Outcome:
    body = _create_body(w, s, target)
    r = await s.post("/api/customers/", body)
    if r.status_code == 201:  # where it went is what the row asked (or the actor's defaults)
        c = r.json()
        assert c["orgUnitId"] == body.get("orgUnitId", s.user["orgUnit"]["id"])
        if "assignedRepId" in body:
            assert c["assignedRepId"] == body["assignedRepId"]
    return _outcome(r)


async def customer_create_synced(w: World, s: Session, target: str) -> Outcome:
    return Outcome(*await _synced(s, "customer.create", _create_body(w, s, target)))


async def customer_assign(w: World, s: Session, target: str) -> Outcome:
    """``cust=GZ-TH:rep1 to=rep2``: a fresh customer of that unit and rep, handed to ``to``."""
    spec = _spec(target)
    unit, _, rep = spec["cust"].partition(":")
    cid = await w.customer(unit, rep or None)
    r = await s.post(f"/api/customers/{cid}/assign", {"repId": w.user(spec["to"], s), "reason": "matrix"})
    if r.status_code == 200:
        assert r.json()["assignedRepId"] == w.user(spec["to"], s)
    return _outcome(r)


async def contact_create(w: World, s: Session, target: str) -> Outcome:
    body = {"id": new_uuid(), "customerId": w.customers[target], "name": f"Contact {next(w.seq)}"}
    return _outcome(await s.post("/api/contacts/", body))


async def stocktake_create(w: World, s: Session, target: str) -> Outcome:
    """``unit=GZ-TH who=stocktaker``."""
    spec = _spec(target)
    body = {
        "name": f"Matrix {next(w.seq)}",
        "orgUnitId": w.units[spec["unit"]],
        "assigneeIds": [w.user(spec["who"], s)],
    }
    return _outcome(await s.post("/api/stocktakes/", body))


async def stocktake_assignees(w: World, s: Session, target: str) -> Outcome:
    """``unit=GZ-TH who=stocktaker2``: a fresh draft campaign of that unit, its stocktakers set to ``who``."""
    spec = _spec(target)
    sid = await w.stocktake(spec["unit"])
    return _outcome(await s.post(f"/api/stocktakes/{sid}/assignees", {"assigneeIds": [w.user(spec["who"], s)]}))


async def stocktake_start(w: World, s: Session, target: str) -> Outcome:
    return _outcome(await s.post(f"/api/stocktakes/{await w.stocktake(target)}/start"))


async def stocktake_close(w: World, s: Session, target: str) -> Outcome:
    sid = await w.stocktake(target, start=True)
    return _outcome(await s.post(f"/api/stocktakes/{sid}/close", {"reason": "matrix"}))


async def stocktake_scan(w: World, s: Session, target: str) -> Outcome:
    """A synced scan in the demo campaign (GZ-TH)."""
    return Outcome(*await _synced(s, "stocktake.scan", w.scan_args(w.items[2])))


async def stocktake_undo(w: World, s: Session, target: str) -> Outcome:
    """``target``'s scan (made for this row), taken back by the actor."""
    author = await w.as_(target)
    args = w.scan_args(w.items[3])
    assert await _synced(author, "stocktake.scan", args) == ("accepted", None)
    return Outcome(*await _synced(s, "stocktake.undo", {"id": args["id"]}))


async def asset_read(w: World, s: Session, target: str) -> Outcome:
    return _outcome(await s.get(f"/api/assets/{w.assets[target]['id']}"))


async def asset_update(w: World, s: Session, target: str) -> Outcome:
    return _outcome(await s.patch(f"/api/assets/{w.assets[target]['id']}", {"model": f"M{next(w.seq)}"}))


async def asset_custodian(w: World, s: Session, target: str) -> Outcome:
    """``GZ-TH spare to=rep1``: the asset's custody handed to a user (an assign path of assets)."""
    label, _, to = target.partition(" to=")
    return _outcome(await s.patch(f"/api/assets/{w.assets[label]['id']}", {"custodianId": w.user(to, s)}))


async def asset_import(w: World, s: Session, target: str) -> Outcome:
    """A file the server would parse; refused before that unless the actor may import. Those who may
    get past the permission to the parser's refusal (a file that is not a table), and nothing is stored."""
    files = {"file": ("book.csv", b"\x00\x01 not a table", "text/csv")}
    return _outcome(await s.http.post("/api/assets/import", files=files, headers=s.headers))


async def asset_labels(w: World, s: Session, target: str) -> Outcome:
    r = await s.post("/api/assets/labels", {"tags": [w.assets[target]["tag"]]})
    if r.status_code == 200:
        assert r.headers["content-type"].startswith("application/pdf")
    return _outcome(r)


async def devices_list(w: World, s: Session, target: str) -> Outcome:
    if target not in ("self", "ghost"):
        await w.as_(target)  # signed in (once): has a device to list
    r = await s.get("/api/auth/devices", params={"userId": w.user(target, s)})
    if r.status_code == 200:
        assert r.json(), "a user who signed in has a device"
    return _outcome(r)


async def device_revoke(w: World, s: Session, target: str) -> Outcome:
    """A device of ``target`` signed in for this row, signed out by the actor (or by admin afterwards)."""
    if target == "ghost":
        return _outcome(await s.post(f"/api/auth/devices/{new_uuid()}/revoke"))
    username = str(s.username) if target == "self" else target
    victim = await support.login(w.http, username, DEMO_PASSWORD, f"revoke-{next(w.seq)}")
    r = await s.post(f"/api/auth/devices/{victim.device_id}/revoke")
    signed_out = (await victim.get("/api/auth/me")).status_code == 401
    assert signed_out == (r.status_code == 200), "a refused revoke changes nothing, a granted one signs out"
    if not signed_out:  # do not let refused rows fill the user's device limit
        assert (await (await w.as_("admin")).post(f"/api/auth/devices/{victim.device_id}/revoke")).status_code == 200
    return _outcome(r)


async def photo_read(w: World, s: Session, target: str) -> Outcome:
    r = await s.get(f"/api/attachments/{w.photos[target]}")
    if r.status_code == 200:
        assert hashlib.sha256(r.content).hexdigest() == w.photos[target]
    return _outcome(r)


async def photo_upload(w: World, s: Session, target: str) -> Outcome:
    r = await _put_photo(s, _jpeg(1000 + next(w.seq)))
    if r.status_code == 201:
        assert (await s.get(f"/api/attachments/{r.json()['sha256']}")).status_code == 200
    return _outcome(r)


async def pull(w: World, s: Session, target: str) -> Outcome:
    """A full pull on a fresh device brings exactly the customers, assets and stocktakes of the read
    scope, worked out here from the rows and the rules (and the REST lists agree)."""
    fresh = await support.login(w.http, s.username, DEMO_PASSWORD, f"pull-{next(w.seq)}")
    client = SyncClient(fresh.device_id, fresh.transport)
    await client.pull()
    pulled: dict[str, set[str]] = {}
    for entity, row_id in client.base:
        pulled.setdefault(entity, set()).add(row_id)
    expected = await _read_scope(w, s)
    for entity in ("customer", "asset", "stocktake"):
        assert pulled.get(entity, set()) == expected[entity], entity
    listed = {c["id"] for c in (await fresh.get("/api/customers/", params={"limit": 500})).json()["items"]}
    assert listed == expected["customer"]
    listed = {a["id"] for a in (await fresh.get("/api/assets/", params={"limit": 500})).json()["items"]}
    assert listed == expected["asset"]
    assert target == "own scope" and (await fresh.post("/api/auth/logout")).status_code == 200
    return Outcome(200)


async def _read_scope(w: World, s: Session) -> dict[str, set[str]]:
    """The read scope by the rules of the README, from the rows (not through the app's scope code)."""
    roles, uid = set(s.user["roles"]), str(s.user["id"])
    path = str(s.user["orgUnit"]["path"])
    admin = "admin" in roles
    asset_reader = admin or bool(roles & {"manager", "asset_admin", "finance", "auditor"})
    out: dict[str, set[str]] = {"customer": set(), "asset": set(), "stocktake": set()}
    async with w.app.state.services.db.read() as db:
        rows = await db.execute(select(Customer, OrgUnit.path).join(OrgUnit, OrgUnit.id == Customer.org_unit_id))
        for c, p in rows.all():
            if (
                admin
                or (roles & {"manager", "auditor"} and p.startswith(path))
                or ("rep" in roles and c.assigned_rep_id == uid)
                or ("care" in roles and c.kind == "guest" and p == path)
            ):
                out["customer"].add(c.id)
        rows = await db.execute(select(Asset, OrgUnit.path).join(OrgUnit, OrgUnit.id == Asset.org_unit_id))
        for a, p in rows.all():
            if admin or (asset_reader and p.startswith(path)) or a.custodian_id == uid:
                out["asset"].add(a.id)
        assigned = set(
            (await db.execute(select(StocktakeAssignee.stocktake_id).where(StocktakeAssignee.user_id == uid))).scalars()
        )
        rows = await db.execute(select(Stocktake, OrgUnit.path).join(OrgUnit, OrgUnit.id == Stocktake.org_unit_id))
        for st, p in rows.all():
            if admin or (asset_reader and p.startswith(path)) or st.id in assigned:
                out["stocktake"].add(st.id)
    return out


ACTIONS: dict[str, Action] = {
    "read customer": customer_read,
    "update customer": customer_update,
    "create customer": customer_create,
    "create customer (sync)": customer_create_synced,
    "assign customer": customer_assign,
    "add contact": contact_create,
    "create stocktake": stocktake_create,
    "set stocktakers": stocktake_assignees,
    "start stocktake": stocktake_start,
    "close stocktake": stocktake_close,
    "scan (sync)": stocktake_scan,
    "undo scan of (sync)": stocktake_undo,
    "read asset": asset_read,
    "update asset": asset_update,
    "hand asset to": asset_custodian,
    "import assets": asset_import,
    "print label": asset_labels,
    "list devices of": devices_list,
    "revoke device of": device_revoke,
    "read photo": photo_read,
    "upload photo": photo_upload,
    "pull": pull,
}


# ----------------------------------------------------------------------------------------- the matrix


class Row(NamedTuple):
    actor: str
    action: str
    target: str
    status: int | str
    error: str | None = None


OK, CREATED = 200, 201
FORBIDDEN, OOS = (403, "forbidden"), (403, "out-of-scope")
NOT_FOUND = (404, "not-found")
INVALID_REP = (400, "invalid-rep")
NOT_A_STOCKTAKER, ELSEWHERE = (400, "not-a-stocktaker"), (400, "stocktaker-elsewhere")
REJECTED_OOS = ("rejected", "out-of-scope")
ACCEPTED = ("accepted", None)

ROWS: list[Row] = [
    # --- customers: reads. Out of scope is 404: existence is not revealed.
    Row("admin", "read customer", "other-city", OK),
    Row("manager", "read customer", "rep1's", OK),
    Row("manager", "read customer", "rep2's", OK),
    Row("manager", "read customer", "guest", OK),
    Row("manager", "read customer", "other-city", *NOT_FOUND),
    Row("mgr_sz", "read customer", "other-city", OK),
    Row("mgr_sz", "read customer", "rep1's", *NOT_FOUND),
    Row("mgr_th", "read customer", "rep1's", OK),
    Row("mgr_th", "read customer", "rep2's", *NOT_FOUND),  # sibling unit
    Row("rep1", "read customer", "rep1's", OK),
    Row("rep1", "read customer", "rep2's", *NOT_FOUND),
    Row("rep1", "read customer", "guest", *NOT_FOUND),
    Row("care", "read customer", "guest", OK),
    Row("care", "read customer", "rep1's", *NOT_FOUND),
    Row("auditor", "read customer", "rep2's", OK),
    Row("auditor", "read customer", "other-city", *NOT_FOUND),
    Row("stocktaker", "read customer", "rep1's", *NOT_FOUND),
    Row("assetadmin", "read customer", "rep1's", *NOT_FOUND),
    Row("finance", "read customer", "rep1's", *NOT_FOUND),
    # --- customers: updates. Readable but not writable is 403 out-of-scope; unreadable stays 404.
    Row("admin", "update customer", "other-city", OK),
    Row("manager", "update customer", "rep2's", OK),
    Row("manager", "update customer", "guest", OK),
    Row("manager", "update customer", "other-city", *NOT_FOUND),
    Row("mgr_sz", "update customer", "other-city", OK),
    Row("mgr_sz", "update customer", "rep1's", *NOT_FOUND),
    Row("rep1", "update customer", "rep1's", OK),
    Row("rep1", "update customer", "rep2's", *NOT_FOUND),
    Row("care", "update customer", "guest", OK),
    Row("care", "update customer", "guest to kind=enterprise", *OOS),  # would leave what care may edit
    Row("care", "update customer", "rep1's", *NOT_FOUND),
    Row("auditor", "update customer", "rep1's", *OOS),
    Row("auditor", "update customer", "guest", *OOS),
    Row("auditor", "update customer", "other-city", *NOT_FOUND),
    Row("stocktaker", "update customer", "rep1's", *NOT_FOUND),
    Row("finance", "update customer", "rep1's", *NOT_FOUND),
    Row("manager", "add contact", "rep1's", CREATED),
    Row("rep1", "add contact", "rep2's", *NOT_FOUND),
    Row("auditor", "add contact", "rep1's", *OOS),
    # --- customers: creates, the same scope as updates (empty target: the actor's defaults)
    Row("rep1", "create customer", "", CREATED),  # own unit, assigned to themself
    Row("rep1", "create customer", "unit=GZ-TH rep=self", CREATED),
    Row("rep1", "create customer", "kind=guest", CREATED),
    Row("rep1", "create customer", "unit=GZ", *OOS),  # above
    Row("rep1", "create customer", "unit=GZ-YX", *OOS),  # sibling unit
    Row("rep1", "create customer", "unit=SZ-NS", *OOS),  # other city
    Row("rep1", "create customer", "rep=rep2", *OOS),  # a rep assigns nobody but themself
    Row("rep1", "create customer", "rep=rep_sz", *OOS),
    Row("rep1", "create customer", "rep=manager", *INVALID_REP),
    Row("rep_gz", "create customer", "unit=GZ-TH", CREATED),  # child unit, assigned to themself
    Row("rep_gz", "create customer", "unit=SZ-NS", *OOS),
    Row("manager", "create customer", "", CREATED),  # own unit, unassigned
    Row("manager", "create customer", "unit=GZ-TH", CREATED),  # child unit
    Row("manager", "create customer", "unit=GZ-TH rep=rep1", CREATED),  # team rep
    Row("manager", "create customer", "unit=GZ-TH rep=rep2", CREATED),  # team rep of a sibling district
    Row("manager", "create customer", "unit=SZ-NS", *OOS),  # other city
    Row("manager", "create customer", "unit=GD", *OOS),  # above
    Row("manager", "create customer", "unit=GZ-TH rep=rep_sz", *OOS),  # other-city rep
    Row("manager", "create customer", "unit=SZ-NS rep=rep_sz", *OOS),
    Row("manager", "create customer", "rep=self", *INVALID_REP),  # not a rep
    Row("manager", "create customer", "rep=stocktaker", *INVALID_REP),
    Row("manager", "create customer", "rep=rep_gone", *INVALID_REP),  # disabled
    Row("manager", "create customer", "rep=ghost", *INVALID_REP),
    Row("mgr_th", "create customer", "unit=GZ-YX", *OOS),  # sibling unit
    Row("mgr_th", "create customer", "unit=GZ-TH rep=rep2", *OOS),  # a rep of the sibling unit
    Row("mgr_sz", "create customer", "unit=SZ-NS rep=rep_sz", CREATED),
    Row("mgr_sz", "create customer", "unit=SZ-NS rep=rep1", *OOS),
    Row("mgr_sz", "create customer", "unit=GZ-TH", *OOS),
    Row("admin", "create customer", "unit=SZ-NS rep=rep_sz", CREATED),
    Row("admin", "create customer", "unit=HQ", CREATED),
    Row("admin", "create customer", "rep=rep_gone", *INVALID_REP),
    Row("care", "create customer", "kind=guest", CREATED),
    Row("care", "create customer", "kind=guest unit=GZ", *OOS),  # above: guests of their own unit only
    Row("care", "create customer", "kind=enterprise", *OOS),
    Row("care", "create customer", "kind=guest rep=rep1", *OOS),
    Row("auditor", "create customer", "", *OOS),
    Row("stocktaker", "create customer", "", *OOS),
    Row("assetadmin", "create customer", "", *OOS),
    Row("finance", "create customer", "", *OOS),
    # --- customers: creates from a phone's outbox, the same rule
    Row("rep1", "create customer (sync)", "", *ACCEPTED),
    Row("rep1", "create customer (sync)", "unit=SZ-NS", *REJECTED_OOS),
    Row("rep1", "create customer (sync)", "rep=rep2", *REJECTED_OOS),
    Row("manager", "create customer (sync)", "unit=GZ-TH rep=rep1", *ACCEPTED),
    Row("manager", "create customer (sync)", "unit=SZ-NS", *REJECTED_OOS),
    Row("manager", "create customer (sync)", "unit=GZ-TH rep=rep_sz", *REJECTED_OOS),
    Row("manager", "create customer (sync)", "rep=stocktaker", "rejected", "invalid-rep"),
    Row("care", "create customer (sync)", "kind=enterprise", *REJECTED_OOS),
    Row("auditor", "create customer (sync)", "", *REJECTED_OOS),
    # --- customers: assign, reassign, reclaim (分配/调换/回收)
    Row("manager", "assign customer", "cust=GZ-TH:rep1 to=rep2", OK),  # team rep
    Row("manager", "assign customer", "cust=GZ-TH to=rep1", OK),
    Row("manager", "assign customer", "cust=GZ-TH:rep1 to=none", OK),  # reclaim
    Row("manager", "assign customer", "cust=GZ-TH:rep1 to=rep_sz", *OOS),  # other-city rep
    Row("manager", "assign customer", "cust=GZ-TH:rep1 to=stocktaker", *INVALID_REP),
    Row("manager", "assign customer", "cust=GZ-TH:rep1 to=rep_gone", *INVALID_REP),
    Row("manager", "assign customer", "cust=SZ-NS:rep_sz to=rep1", *NOT_FOUND),
    Row("mgr_th", "assign customer", "cust=GZ-TH:rep1 to=rep2", *OOS),  # a rep of the sibling unit
    Row("mgr_sz", "assign customer", "cust=SZ-NS:rep_sz to=rep1", *OOS),
    Row("mgr_sz", "assign customer", "cust=GZ-TH:rep1 to=rep_sz", *NOT_FOUND),
    Row("admin", "assign customer", "cust=GZ-TH:rep1 to=rep_sz", OK),
    Row("rep1", "assign customer", "cust=GZ-TH:rep1 to=rep2", *FORBIDDEN),  # as rep
    Row("rep1", "assign customer", "cust=GZ-TH to=self", *FORBIDDEN),
    Row("auditor", "assign customer", "cust=GZ-TH:rep1 to=rep2", *FORBIDDEN),
    Row("care", "assign customer", "cust=GZ-TH to=rep1", *FORBIDDEN),
    # --- stocktakes: who runs a campaign, and who may count it
    Row("admin", "create stocktake", "unit=SZ-NS who=st_sz", CREATED),
    Row("manager", "create stocktake", "unit=GZ-TH who=stocktaker", CREATED),  # the city's stocktaker
    Row("manager", "create stocktake", "unit=GZ who=st_th", CREATED),  # a district's, for the city
    Row("manager", "create stocktake", "unit=GZ-TH who=st_yx", *ELSEWHERE),  # sibling unit
    Row("manager", "create stocktake", "unit=GZ-TH who=st_sz", *ELSEWHERE),  # other city
    Row("manager", "create stocktake", "unit=GZ-TH who=rep1", *NOT_A_STOCKTAKER),
    Row("manager", "create stocktake", "unit=GZ-TH who=care", *NOT_A_STOCKTAKER),
    Row("manager", "create stocktake", "unit=GZ-TH who=st_gone", 400, "invalid-user"),
    Row("manager", "create stocktake", "unit=SZ-NS who=st_sz", *FORBIDDEN),
    Row("mgr_th", "create stocktake", "unit=GZ who=stocktaker", *FORBIDDEN),  # above their unit
    Row("mgr_sz", "create stocktake", "unit=GZ-TH who=stocktaker", *FORBIDDEN),
    Row("assetadmin", "create stocktake", "unit=GZ-TH who=stocktaker", CREATED),
    Row("stocktaker", "create stocktake", "unit=GZ-TH who=stocktaker", *FORBIDDEN),
    Row("rep1", "create stocktake", "unit=GZ-TH who=stocktaker", *FORBIDDEN),
    Row("care", "create stocktake", "unit=GZ-TH who=stocktaker", *FORBIDDEN),
    Row("auditor", "create stocktake", "unit=GZ-TH who=stocktaker", *FORBIDDEN),
    Row("finance", "create stocktake", "unit=GZ-TH who=stocktaker", *FORBIDDEN),
    Row("manager", "set stocktakers", "unit=GZ-TH who=stocktaker2", OK),
    Row("manager", "set stocktakers", "unit=GZ-TH who=rep1", *NOT_A_STOCKTAKER),
    Row("manager", "set stocktakers", "unit=GZ-TH who=care", *NOT_A_STOCKTAKER),
    Row("manager", "set stocktakers", "unit=GZ-TH who=st_sz", *ELSEWHERE),
    Row("assetadmin", "set stocktakers", "unit=GZ-TH who=st_th", OK),
    Row("stocktaker", "set stocktakers", "unit=GZ-TH who=stocktaker2", *FORBIDDEN),  # counts it, runs nothing
    Row("auditor", "set stocktakers", "unit=GZ-TH who=stocktaker2", *FORBIDDEN),  # sees it, runs nothing
    Row("finance", "set stocktakers", "unit=GZ-TH who=stocktaker2", *FORBIDDEN),
    Row("mgr_sz", "set stocktakers", "unit=GZ-TH who=stocktaker2", *NOT_FOUND),
    Row("rep1", "set stocktakers", "unit=GZ-TH who=stocktaker2", *NOT_FOUND),
    Row("manager", "start stocktake", "GZ-TH", OK),
    Row("stocktaker", "start stocktake", "GZ-TH", *FORBIDDEN),
    Row("mgr_sz", "start stocktake", "GZ-TH", *NOT_FOUND),
    Row("assetadmin", "close stocktake", "GZ-TH", OK),
    Row("stocktaker", "close stocktake", "GZ-TH", *FORBIDDEN),
    Row("auditor", "close stocktake", "GZ-TH", *FORBIDDEN),
    Row("rep1", "close stocktake", "GZ-TH", *NOT_FOUND),
    Row("stocktaker", "scan (sync)", "demo campaign", *ACCEPTED),
    Row("stocktaker2", "scan (sync)", "demo campaign", *ACCEPTED),
    Row("manager", "scan (sync)", "demo campaign", "rejected", "not-assigned"),
    Row("assetadmin", "scan (sync)", "demo campaign", "rejected", "not-assigned"),
    Row("st_th", "scan (sync)", "demo campaign", "rejected", "not-found"),  # of the unit, not assigned
    Row("rep1", "scan (sync)", "demo campaign", "rejected", "not-found"),
    Row("mgr_sz", "scan (sync)", "demo campaign", "rejected", "not-found"),
    Row("stocktaker2", "undo scan of (sync)", "stocktaker2", *ACCEPTED),
    Row("stocktaker", "undo scan of (sync)", "stocktaker2", "rejected", "not-your-scan"),
    Row("manager", "undo scan of (sync)", "stocktaker2", "rejected", "not-your-scan"),
    # --- assets: read by subtree (managers, asset admins, finance, auditors) or custody; written by
    # asset admins of the subtree; import and labels are the asset admins' work
    Row("admin", "read asset", "SZ-NS", OK),
    Row("manager", "read asset", "GZ-TH", OK),
    Row("manager", "read asset", "SZ-NS", *NOT_FOUND),
    Row("assetadmin", "read asset", "GZ-TH", OK),
    Row("finance", "read asset", "GZ-TH", OK),
    Row("auditor", "read asset", "GZ-TH", OK),
    Row("mgr_sz", "read asset", "SZ-NS", OK),
    Row("rep1", "read asset", "GZ-TH", *NOT_FOUND),
    Row("rep1", "read asset", "SZ-NS held by rep1", OK),  # custodian
    Row("assetadmin", "read asset", "SZ-NS held by assetadmin", OK),
    Row("stocktaker", "read asset", "GZ-TH", *NOT_FOUND),
    Row("admin", "update asset", "SZ-NS", OK),
    Row("assetadmin", "update asset", "GZ-TH", OK),
    Row("assetadmin", "update asset", "SZ-NS", *NOT_FOUND),
    Row("manager", "update asset", "GZ-TH", *OOS),
    Row("finance", "update asset", "GZ-TH", *OOS),
    Row("auditor", "update asset", "GZ-TH", *OOS),
    Row("rep1", "update asset", "GZ-TH", *NOT_FOUND),
    Row(
        "rep1",
        "update asset",
        "SZ-NS held by rep1",
        *OOS,
    ),
    Row(
        "assetadmin",
        "update asset",
        "SZ-NS held by assetadmin",
        *OOS,
    ),
    Row("assetadmin", "hand asset to", "GZ-TH spare to=rep1", OK),
    Row(
        "assetadmin",
        "hand asset to",
        "GZ-TH spare to=rep_sz",
        *OOS,
    ),
    Row("admin", "import assets", "a file", 400, "import-failed"),  # past the permission: the parser refuses
    Row("assetadmin", "import assets", "a file", 400, "import-failed"),
    Row("manager", "import assets", "a file", *FORBIDDEN),
    Row("finance", "import assets", "a file", *FORBIDDEN),
    Row("auditor", "import assets", "a file", *FORBIDDEN),
    Row("rep1", "import assets", "a file", *FORBIDDEN),
    Row("stocktaker", "import assets", "a file", *FORBIDDEN),
    Row("care", "import assets", "a file", *FORBIDDEN),
    Row("admin", "print label", "SZ-NS", OK),
    Row("assetadmin", "print label", "GZ-TH", OK),
    Row("assetadmin", "print label", "SZ-NS", *NOT_FOUND),
    Row(
        "assetadmin",
        "print label",
        "SZ-NS held by assetadmin",
        *OOS,  # seen (custody) but not managed: told so, nothing printed
    ),
    Row("manager", "print label", "GZ-TH", *FORBIDDEN),
    Row("finance", "print label", "GZ-TH", *FORBIDDEN),
    Row("auditor", "print label", "GZ-TH", *FORBIDDEN),
    Row("rep1", "print label", "SZ-NS held by rep1", *FORBIDDEN),
    Row("stocktaker", "print label", "GZ-TH", *FORBIDDEN),
    # --- devices (signed-in phones): everyone their own; admin anyone's; a manager those of their
    # subtree, except admins, auditors and managers of their own unit or above
    Row("rep1", "list devices of", "self", OK),
    Row("rep1", "revoke device of", "self", OK),
    Row("rep1", "list devices of", "rep2", *FORBIDDEN),
    Row("rep1", "revoke device of", "rep2", *FORBIDDEN),
    Row("manager", "list devices of", "rep1", OK),  # rep in the subtree
    Row("manager", "revoke device of", "rep1", OK),
    Row("manager", "list devices of", "rep_sz", *FORBIDDEN),  # rep in another city
    Row("manager", "revoke device of", "rep_sz", *FORBIDDEN),
    Row("manager", "list devices of", "auditor", *FORBIDDEN),
    Row("manager", "revoke device of", "auditor", *FORBIDDEN),
    Row("manager", "list devices of", "admin", *FORBIDDEN),
    Row("manager", "revoke device of", "admin_th", *FORBIDDEN),  # an admin inside the subtree
    Row("manager", "list devices of", "mgr_gz2", *FORBIDDEN),  # peer manager
    Row("manager", "revoke device of", "mgr_gz2", *FORBIDDEN),
    Row("manager", "list devices of", "mgr_th", OK),  # subordinate manager
    Row("manager", "revoke device of", "mgr_th", OK),
    Row("mgr_th", "revoke device of", "manager", *FORBIDDEN),  # their superior
    Row("mgr_th", "revoke device of", "rep2", *FORBIDDEN),  # sibling unit
    Row("manager", "revoke device of", "ghost", *NOT_FOUND),
    Row("manager", "list devices of", "ghost", *NOT_FOUND),
    Row("admin", "list devices of", "rep_sz", OK),
    Row("admin", "revoke device of", "manager", OK),
    Row("admin", "revoke device of", "auditor", OK),
    Row("auditor", "list devices of", "manager", *FORBIDDEN),
    Row("auditor", "revoke device of", "manager", *FORBIDDEN),
    Row("care", "revoke device of", "rep1", *FORBIDDEN),
    # --- photos: whoever sent the bytes, and whoever sees a scan naming it whose author sent them
    Row("stocktaker", "read photo", "scan photo", OK),  # uploader
    Row("stocktaker2", "read photo", "scan photo", OK),  # counts the same campaign
    Row("manager", "read photo", "scan photo", OK),  # sees the campaign
    Row("auditor", "read photo", "scan photo", OK),
    Row("admin", "read photo", "scan photo", OK),
    Row("rep1", "read photo", "scan photo", *NOT_FOUND),
    Row("care", "read photo", "scan photo", *NOT_FOUND),
    Row("mgr_sz", "read photo", "scan photo", *NOT_FOUND),
    Row("assetadmin", "read photo", "named by another", OK),  # uploader
    Row("stocktaker2", "read photo", "named by another", *NOT_FOUND),  # named it, never sent it
    Row("stocktaker", "read photo", "named by another", *NOT_FOUND),
    Row("manager", "read photo", "named by another", *NOT_FOUND),
    Row("rep1", "read photo", "unnamed", OK),
    Row("rep2", "read photo", "unnamed", *NOT_FOUND),
    Row("admin", "read photo", "unnamed", *NOT_FOUND),
    Row("care", "upload photo", "new", CREATED),
    Row("finance", "upload photo", "new", CREATED),
    # --- a pull per role brings exactly the read scope
    *(
        Row(u, "pull", "own scope", OK)
        for u in ("admin", "manager", "mgr_sz", "mgr_th", "rep1", "care", "auditor", "stocktaker", "assetadmin")
    ),
    Row("finance", "pull", "own scope", OK),
    Row("st_yx", "pull", "own scope", OK),  # a stocktaker of no campaign: nothing
]


def _id(row: Row) -> str:
    return (
        f"{row.actor} {row.action} {row.target or '(defaults)'} -> {row.status}{' ' + row.error if row.error else ''}"
    )


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    "row",
    [pytest.param(r, id=_id(r)) for r in ROWS],
)
async def test_scope_matrix(world: World, row: Row) -> None:
    actor = await world.as_(row.actor)
    got = await ACTIONS[row.action](world, actor, row.target)
    assert got == Outcome(row.status, row.error), f"{_id(row)}: got {got}"


def test_the_matrix_has_no_duplicate_rows() -> None:
    assert len({(r.actor, r.action, r.target) for r in ROWS}) == len(ROWS)
