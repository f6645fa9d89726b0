"""The sequences that matter, end to end over HTTP (Litestar emits no OpenAPI links, so schemathesis
cannot chain them): sign in → create → update → count → export, and a password change in the middle
of two devices' work. Each step checks the body, not only the status.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from tests.conftest import DEMO_PASSWORD
from tests.support import login as sign_in
from tests.support import new_uuid

HOSTILE_NAME = '=HYPERLINK("http://evil.invalid","点我")'


async def test_sign_in_create_update_count_and_export(http, login):
    admin, manager, counter = await login("assetadmin"), await login("manager"), await login("stocktaker")
    unit = admin.user["orgUnit"]
    r = await admin.post("/api/locations", {"name": "库房 Store 9", "orgUnitId": unit["id"]})
    assert r.status_code == 201, r.text
    place = r.json()
    made = []
    for name in ("+86 冷柜 Fridge", "-12.50 打印机 Printer"):
        r = await admin.post(
            "/api/assets", {"name": name, "categoryCode": "05", "orgUnitId": unit["id"], "locationId": place["id"]}
        )
        assert r.status_code == 201 and r.json()["locationId"] == place["id"], r.text
        made.append(r.json())
    r = await admin.patch(f"/api/assets/{made[0]['id']}", {"name": HOSTILE_NAME, "reason": "relabelled"})
    assert r.status_code == 200 and r.json()["name"] == HOSTILE_NAME, r.text

    r = await manager.post(
        "/api/stocktakes",
        {
            "name": "Store 9 count",
            "orgUnitId": unit["id"],
            "locationIds": [place["id"]],
            "assigneeIds": [counter.user["id"]],
            "start": True,
        },
    )
    assert r.status_code == 201 and r.json()["state"] == "open", r.text
    st = r.json()
    await counter.sync.pull()
    items = [v for (e, _), v in counter.sync.base.items() if e == "stocktake_item" and v["stocktakeId"] == st["id"]]
    assert sorted(i["tag"] for i in items) == sorted(a["tag"] for a in made)
    counter.sync.mutate(
        "stocktake.scan",
        {
            "id": new_uuid(),
            "stocktakeId": st["id"],
            "tag": made[0]["tag"],
            "locationId": place["id"],
            "scannedAt": datetime.now(UTC).isoformat(),
            "note": "@SUM(1+1)*cmd|' /C calc'!A0",
        },
    )
    counter.sync.mutate("stocktake.finish", {"stocktakeId": st["id"]})
    await counter.sync.sync()
    assert counter.sync.rejected == []
    report = (await manager.get(f"/api/stocktakes/{st['id']}/reconciliation")).json()
    assert report["state"] == "closed"  # the only stocktaker finished
    assert {line["tag"]: line["result"] for line in report["lines"]} == {
        made[0]["tag"]: "matched",
        made[1]["tag"]: "missing",
    }

    r = await manager.get(f"/api/stocktakes/{st['id']}/reconciliation.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    by_tag = {row[0]: row for row in rows[1:]}
    assert by_tag[made[0]["tag"]][1] == "'" + HOSTILE_NAME  # shown as text, never run
    assert by_tag[made[0]["tag"]][7] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert by_tag[made[1]["tag"]][1] == "'-12.50 打印机 Printer"
    r = await manager.get(f"/api/stocktakes/{st['id']}/reconciliation.xlsx")
    sheet = load_workbook(io.BytesIO(r.content)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert HOSTILE_NAME in [c.value for c in cells]  # the same text, as a text cell


async def test_a_password_change_between_two_devices_work(http, login, demo):
    phone, tablet = await login("rep1", "phone"), await login("rep1", "tablet")
    cid = new_uuid()
    r = await tablet.post("/api/customers/", {"id": cid, "name": "平板上建的 Made on the tablet"})
    assert r.status_code == 201, r.text
    r = await phone.post("/api/auth/password", {"currentPassword": demo["password"], "newPassword": "a-new-pass-456"})
    assert r.status_code == 200, r.text
    r = await tablet.get(f"/api/customers/{cid}")
    assert r.status_code == 401 and r.json()["error"] == "signed-out", r.text  # at once, not in 15 minutes
    assert (await phone.get(f"/api/customers/{cid}")).json()["name"] == "平板上建的 Made on the tablet"
    r = await http.post("/api/auth/login", json={"username": "rep1", "password": DEMO_PASSWORD})
    assert r.status_code == 401 and r.json()["error"] == "bad-credentials"
    again = await sign_in(http, "rep1", "a-new-pass-456", "tablet")
    await again.sync.pull()
    assert ("customer", cid) in again.sync.base
