"""The asset book over HTTP and sync: tags, changes with movements and history, scope, import with a
row-by-row report (all or nothing), label batches decoded back with zxing-cpp, and the label link."""

from __future__ import annotations

import io

import pypdfium2
import zxingcpp
from openpyxl import Workbook

from backend.domain.assets import services as assets


async def _unit(s, code):
    tree = (await s.get("/api/org-units")).json()
    stack = list(tree)
    while stack:
        u = stack.pop()
        if u["code"] == code:
            return u
        stack.extend(u.get("children", []))
    raise AssertionError(code)


async def test_create_change_and_history_with_movements(login):
    admin = await login("assetadmin")
    th = await _unit(admin, "GZ-TH")
    yx = await _unit(admin, "GZ-YX")
    r = await admin.post(
        "/api/assets",
        {"name": "投影仪 Projector", "categoryCode": "0204", "orgUnitId": th["id"], "originalValue": "4999.5"},
    )
    assert r.status_code == 201, r.text
    a = r.json()
    assert assets.CODES.assets.is_valid(a["tag"]) and a["originalValue"] == "4999.50" and a["status"] == "in_use"
    rep = await login("rep1")
    r = await admin.patch(f"/api/assets/{a['id']}", {"custodianId": rep.user["id"], "reason": "交接 handover"})
    assert r.status_code == 200 and r.json()["custodianId"] == rep.user["id"]
    r = await admin.patch(f"/api/assets/{a['id']}", {"orgUnitId": yx["id"]})
    moved = r.json()
    assert moved["orgUnitId"] == th["id"] and moved["status"] == "in_transfer"  # waits for approval
    h = (await admin.get(f"/api/assets/{a['id']}/history")).json()
    assert [(m["kind"], m["state"]) for m in h["movements"]] == [("custodian", "done"), ("unit", "pending")]
    assert h["movements"][0]["reason"] == "交接 handover"
    assert [c["action"] for c in h["changes"]] == ["create", "update", "update"]
    assert h["changes"][1]["changes"]["custodian_id"] == [None, rep.user["id"]]
    # the custodian now holds it on the phone; rep2 does not
    await rep.sync.pull()
    assert rep.sync.base[("asset", a["id"])]["custodianId"] == rep.user["id"]
    rep2 = await login("rep2")
    await rep2.sync.pull()
    assert ("asset", a["id"]) not in rep2.sync.base
    # moving custodianship away removes it from rep1's phone at the next pull
    await admin.patch(f"/api/assets/{a['id']}", {"custodianId": None})
    await rep.sync.pull()
    assert ("asset", a["id"]) not in rep.sync.base


async def test_who_may_read_and_change_assets(login):
    admin = await login("assetadmin")
    manager = await login("manager")
    rep = await login("rep1")
    hq = await login("admin")
    every = (await hq.get("/api/assets", params={"limit": 500})).json()["items"]
    assert len(every) == 60  # the demo's assets, in Guangzhou and Shenzhen
    gz = {(await _unit(hq, c))["id"] for c in ("GZ", "GZ-TH", "GZ-YX")}
    listed = (await admin.get("/api/assets", params={"limit": 500})).json()["items"]
    # Guangzhou's asset admin: Guangzhou's assets, and those they are custodian of
    want = sorted(x["tag"] for x in every if x["orgUnitId"] in gz or x["custodianId"] == admin.user["id"])
    assert sorted(x["tag"] for x in listed) == want and 0 < len(want) < 60
    listed = [x for x in listed if x["orgUnitId"] in gz]
    r = await manager.patch(f"/api/assets/{listed[0]['id']}", {"name": "x"})
    assert r.status_code == 403 and r.json()["error"] == "out-of-scope"
    mine = (await rep.get("/api/assets", params={"limit": 500})).json()["items"]
    assert all(x["custodianId"] == rep.user["id"] for x in mine)
    r = await rep.patch(f"/api/assets/{listed[0]['id']}", {"name": "x"})
    assert r.status_code in (403, 404)
    assert (await admin.get(f"/api/assets/{listed[0]['id']}")).json()["name"] != "x"
    r = await rep.get(f"/api/assets/by-tag/{listed[0]['tag'][:-1]}0")
    assert r.status_code == 400 or r.json()["error"] in ("invalid-tag", "not-found")


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def _import(s, name, data):
    return await s.http.post("/api/assets/import", files={"file": (name, data)}, headers=s.headers)


async def test_import_is_all_or_nothing_with_a_row_by_row_report(login):
    admin = await login("assetadmin")
    before = (await admin.get("/api/assets")).json()["total"]
    existing = (await admin.get("/api/assets", params={"limit": 1})).json()["items"][0]
    free = assets.CODES.assets.make(70_000_001)
    csv_bad = (
        "资产编号,资产名称,资产分类,使用部门,状态,原值,购置日期,责任人\n"
        f"{free},交换机 Switch,0103,GZ-TH,在用,12000,2024-03-01,rep1\n"
        ",路由器 Router,0103,GZ-NOPE,在用,abc,2024-13-01,nobody\n"
        f"{free},重复 Duplicate,0103,GZ-TH,,,,\n"
        f"{free[:-1]}0,坏标签 Bad tag,0103,GZ-TH,,,,\n"
    ).encode()
    r = await _import(admin, "book.csv", csv_bad)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "import-failed"
    got = {(e["row"], e["column"]) for e in body["errors"]}
    assert got == {
        (3, "department"),
        (3, "original_value"),
        (3, "acquired_on"),
        (3, "custodian"),
        (4, "tag"),
        (5, "tag"),
    }
    assert (await admin.get("/api/assets")).json()["total"] == before  # nothing half-imported

    good = _xlsx(
        [
            ["tag", "name", "category", "department", "status", "lifecycle", "original_value", "custodian"],
            [free, "交换机 Switch", "0103", "GZ-TH", "在用", "暂估资产", 12000, "rep1"],
            [None, "路由器 Router", "0103", "GZ-YX", "idle", "fixed", "8,500.5", None],
            [existing["tag"], "改名 Renamed", existing["categoryCode"], "GZ-TH", None, None, None, None],
        ]
    )
    r = await _import(admin, "book.xlsx", good)
    assert r.status_code == 200, r.text
    assert r.json() | {"unknownColumns": []} == {"rows": 3, "created": 2, "updated": 1, "unknownColumns": []}
    assert (await admin.get("/api/assets")).json()["total"] == before + 2
    switch = (await admin.get(f"/api/assets/by-tag/{free}")).json()
    assert (switch["lifecycle"], switch["originalValue"], switch["status"]) == ("provisional", "12000.00", "in_use")
    router = (await admin.get("/api/assets", params={"q": "Router"})).json()["items"][0]
    assert (
        assets.CODES.assets.is_valid(router["tag"])
        and router["netValue"] is None
        and router["originalValue"] == "8500.50"
    )
    assert (await admin.get(f"/api/assets/{existing['id']}")).json()["name"] == "改名 Renamed"
    r = await _import(admin, "book.txt", b"x")
    assert r.status_code == 400 and r.json()["error"] == "unsupported-file"
    r = await _import(admin, "book.xlsx", b"not a zip")
    assert r.status_code == 400 and r.json()["error"] == "unreadable-file"
    rep = await login("rep1")
    r = await _import(rep, "book.csv", b"name,category,department\nX,01,GZ-TH\n")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"  # asked before the file is read
    # an asset admin of Guangzhou still gets the row-by-row report for a unit outside theirs
    r = await _import(admin, "book.csv", b"name,category,department\nX,01,NO-SUCH\n")
    assert r.status_code == 400 and r.json()["errors"][0]["column"] == "department"


def _decode_pdf(data: bytes) -> list[str]:
    pdf = pypdfium2.PdfDocument(data)
    out = []
    for page in pdf:
        image = page.render(scale=300 / 72).to_pil()
        out += [r.text for r in zxingcpp.read_barcodes(image)]
    return out


async def test_label_batches_print_decodable_labels_and_count_reprints(login, settings):
    admin = await login("assetadmin")
    listed = (await admin.get("/api/assets", params={"limit": 4})).json()["items"]
    tags = [x["tag"] for x in listed]
    r = await admin.post("/api/assets/labels", {"tags": [t.lower() for t in tags[:3]]})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    urls = _decode_pdf(r.content)
    assert sorted(urls) == sorted(f"{settings.app.public_url}/t/{t}" for t in tags[:3])
    r2 = await admin.post("/api/assets/labels", {"tags": tags[2:4], "layout": "50x30"})
    assert len(_decode_pdf(r2.content)) == 2
    batches = (await admin.get("/api/label-batches")).json()
    assert [(b["count"], b["reprints"], b["layout"]) for b in batches[:2]] == [(2, 1, "50x30"), (3, 0, "a4")]
    assert batches[0]["id"] == r2.headers["x-label-batch"] and batches[0]["createdBy"] == admin.user["id"]
    r = await admin.post("/api/assets/labels", {"tags": [assets.CODES.assets.make(99_999_999)]})
    assert r.status_code == 404 and r.json()["params"]["tags"] == [assets.CODES.assets.make(99_999_999)]
    r = await admin.post("/api/assets/labels", {})
    assert r.status_code == 400 and r.json()["error"] == "no-labels"


async def test_a_label_link_opens_the_app_on_the_asset(http):
    r = await http.get("/t/AS00000001X", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/#/t/AS00000001X"


async def test_location_labels_print_for_the_admins_units(login, settings):
    admin = await login("assetadmin")
    locations = (await admin.get("/api/locations")).json()
    assert len(locations) == 10  # Guangzhou's two districts, five places each
    r = await admin.post("/api/assets/labels", {"kind": "location", "all": True, "layout": "50x30"})
    assert r.status_code == 200, r.text
    assert sorted(_decode_pdf(r.content)) == sorted(f"{settings.app.public_url}/t/{x['code']}" for x in locations)
    r = await admin.post("/api/assets/labels", {"kind": "location", "tags": [locations[0]["code"].lower()]})
    assert r.status_code == 200
    batches = (await admin.get("/api/label-batches")).json()
    assert [(b["kind"], b["count"], b["reprints"]) for b in batches[:2]] == [("location", 1, 1), ("location", 10, 0)]
    r = await admin.post("/api/assets/labels", {"kind": "location", "tags": ["AS00000001X"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid-tag"  # an asset tag is not a location code


async def test_scope_of_places_labels_and_batches(login):
    gz = await login("assetadmin")
    hq = await login("admin")
    gz_codes = {y["code"] for y in (await gz.get("/api/locations")).json()}
    shenzhen = next(x for x in (await hq.get("/api/locations")).json() if x["code"] not in gz_codes)
    mine = (await gz.get("/api/assets", params={"limit": 500})).json()["items"]
    th = await _unit(gz, "GZ-TH")
    asset = next(a for a in mine if a["orgUnitId"] == th["id"])
    # an asset cannot be put in another unit's place, nor a campaign cover one
    r = await gz.patch(f"/api/assets/{asset['id']}", {"locationId": shenzhen["id"]})
    assert r.status_code == 400 and r.json()["error"] == "unknown-location"
    stocktaker = await login("stocktaker")
    r = await gz.post(
        "/api/stocktakes",
        {"name": "x", "orgUnitId": th["id"], "locationIds": [shenzhen["id"]], "assigneeIds": [stocktaker.user["id"]]},
    )
    assert r.status_code == 400 and r.json()["params"]["ids"] == [shenzhen["id"]]
    # a location code is used once
    r = await gz.post("/api/locations", {"name": "又一个", "orgUnitId": th["id"], "code": shenzhen["code"]})
    assert r.status_code == 400 and r.json()["error"] == "tag-taken"
    # printing is the asset admins' work; they list their own units' batches only
    for who in ("auditor", "manager", "rep1"):
        s = await login(who)
        r = await s.post("/api/assets/labels", {"all": True})
        assert r.status_code == 403, who
    r = await hq.post("/api/assets/labels", {"kind": "location", "tags": [shenzhen["code"]]})
    assert r.status_code == 200
    assert [b["kind"] for b in (await hq.get("/api/label-batches")).json()] == ["location"]
    assert (await gz.get("/api/label-batches")).json() == []


async def test_import_refuses_unreadable_files_and_overlong_cells_and_keeps_absent_columns(login):
    admin = await login("assetadmin")
    one = (await admin.get("/api/assets", params={"limit": 1})).json()["items"][0]
    assert one["model"] and one["serial"]
    r = await _import(admin, "book.csv", f"tag,name,category,department\n{one['tag']},改名,{'9' * 41},GZ-TH\n".encode())
    assert r.status_code == 400 and r.json()["errors"] == [
        {"row": 2, "column": "category_code", "message": "longer than 40 characters"}
    ]
    r = await _import(admin, "book.csv", f"name,category,department\n{'x' * 140_000},01,GZ-TH\n".encode())
    assert r.status_code == 400  # a cell beyond the CSV reader's limit is a clear refusal, not a 500
    good = _xlsx([["tag", "name"], [one["tag"], "x"]])
    r = await _import(admin, "book.xlsx", good[: len(good) // 2])
    assert r.status_code == 400 and r.json()["error"] == "unreadable-file"
    r = await _import(admin, "book.csv", f"tag,name,category,department\n{one['tag']},改名,0301,GZ-TH\n".encode())
    assert r.status_code == 200, r.text
    after = (await admin.get(f"/api/assets/{one['id']}")).json()
    assert after["name"] == "改名" and (after["model"], after["serial"]) == (one["model"], one["serial"])


async def test_import_of_a_tag_of_another_units_asset_is_a_row_error_not_a_404(login):
    """A Guangzhou asset admin imports the tag of a Shenzhen asset: a row error naming the tag (an unused
    tag would create an asset), nothing imported, the Shenzhen asset untouched."""
    admin = await login("assetadmin")
    hq = await login("admin")
    gz = {(await _unit(hq, c))["id"] for c in ("GZ", "GZ-TH", "GZ-YX")}
    every = (await hq.get("/api/assets", params={"limit": 500})).json()["items"]
    sz = next(x for x in every if x["orgUnitId"] not in gz)
    ours = next(x for x in every if x["orgUnitId"] in gz)
    before = (await hq.get("/api/assets")).json()["total"]
    free = assets.CODES.assets.make(70_000_002)
    data = (
        "tag,name,category_code,department\n"
        f"{free},new,0103,GZ\n"
        f"{sz['tag']},hijacked,0103,GZ\n"
        f"{ours['tag']},renamed,{ours['categoryCode']},GZ-TH\n"
    ).encode()
    r = await _import(admin, "book.csv", data)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "import-failed"
    assert body["errors"] == [
        {"row": 3, "column": "tag", "message": f"{sz['tag']} is the tag of an asset in a unit you do not manage"}
    ]
    assert (await hq.get(f"/api/assets/{sz['id']}")).json()["name"] == sz["name"]
    assert (await hq.get(f"/api/assets/{ours['id']}")).json()["name"] == ours["name"]
    assert (await hq.get("/api/assets")).json()["total"] == before
    # the same rows from head office, which manages every unit: imported
    r = await _import(hq, "book.csv", data)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"]) == (1, 2)


async def test_labels_of_assets_held_in_another_unit_are_left_out_and_counted(login):
    """The app prints the labels of the assets on its list; an asset admin's list also holds assets
    they are custodian of in units they do not manage: those are left out and counted."""
    admin = await login("assetadmin")
    everything = (await admin.get("/api/assets", params={"limit": 500})).json()["items"]
    gz_unit = admin.user["orgUnit"]["id"]
    units = {u["id"]: u["path"] for u in (await (await login("admin")).get("/api/org-units")).json()}
    mine = [a["tag"] for a in everything if units[a["orgUnitId"]].startswith(units[gz_unit])][:2]
    held = [a["tag"] for a in everything if not units[a["orgUnitId"]].startswith(units[gz_unit])][:1]
    assert mine and held, "the demo gives the asset admin custody of assets elsewhere"
    r = await admin.post("/api/assets/labels", {"tags": mine + held})
    assert r.status_code == 200 and r.headers["x-labels-skipped"] == "1", r.text[:200]
    assert sorted(u.rsplit("/t/", 1)[1] for u in _decode_pdf(r.content)) == sorted(mine)
    r = await admin.post("/api/assets/labels", {"tags": held})
    assert r.status_code == 403 and r.json()["error"] == "out-of-scope", r.text
