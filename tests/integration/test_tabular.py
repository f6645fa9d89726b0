"""Spreadsheets over HTTP (issue 14): every CSV and Excel export is checked for formula cells, and
hostile uploads to the asset import get a clear 4xx problem answer with nothing stored."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import xlsxwriter
from openpyxl import load_workbook

from backend import tabular
from backend.domain.assets import controllers
from tests.support import Session, new_uuid
from tests.unit.backend.test_tabular import raw_xlsx, ref, s, sst_xlsx, zip_bomb

NOTES = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tx", "\r=1+1"]


# ---------------------------------------------------------------- exports


async def _stocktake_with_hostile_notes(login: Any) -> tuple[Session, str, dict[str, str]]:
    """The demo's open stocktake, one scan per hostile note; the manager who may export it."""
    phone, manager = await login("stocktaker", "phone-a"), await login("manager")
    await phone.sync.pull()
    (st,) = [v for (e, _), v in phone.sync.base.items() if e == "stocktake"]
    items = sorted((v for (e, _), v in phone.sync.base.items() if e == "stocktake_item"), key=lambda v: v["tag"])
    notes = {}
    for item, note in zip(items, NOTES, strict=False):
        phone.sync.mutate(
            "stocktake.scan",
            {
                "id": new_uuid(),
                "stocktakeId": st["id"],
                "tag": item["tag"],
                "locationId": item["locationId"],
                "scannedAt": datetime.now(UTC).isoformat(),
                "note": note,
            },
        )
        notes[item["tag"]] = note
    await phone.sync.sync()
    assert phone.sync.rejected == [] and len(notes) == len(NOTES)
    # the notes as stored (the scan may trim them): what the exports must give back
    report = (await manager.get(f"/api/stocktakes/{st['id']}/reconciliation")).json()
    stored = {line["tag"]: line["note"] for line in report["lines"] if line["tag"] in notes}
    assert len(stored) == len(notes) and all(stored.values())
    assert sum(v.startswith(tabular.FORMULA_STARTS) for v in stored.values()) >= 4, stored
    return manager, st["id"], stored


def _check_csv(r: Any, notes: dict[str, str]) -> None:
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    for row in rows:
        for cell in row:  # no cell of the export starts a formula (a negative number would be a bare number)
            assert not cell.startswith(tabular.FORMULA_STARTS), cell
    by_tag = {row[0]: row for row in rows[1:]}
    for tag, note in notes.items():
        cell = "'" + note if note.startswith(tabular.FORMULA_STARTS) else note
        assert cell in by_tag[tag], by_tag[tag]
        assert tabular.restore(cell) == note


def _check_xlsx(r: Any, notes: dict[str, str]) -> None:
    assert r.headers["content-type"] == tabular.XLSX_MEDIA_TYPE
    wb = load_workbook(io.BytesIO(r.content))
    texts = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (c.coordinate, c.value)
                if isinstance(c.value, str):
                    texts.add(tabular.unescape_controls(c.value))
    assert set(notes.values()) <= texts  # the same text, not a neutralized or evaluated one


#: Every export route, and the check that its cells run no formula. A new .csv or .xlsx route fails
#: test_every_export_route_is_checked until it is added here.
EXPORTS: dict[str, Callable[[Any, dict[str, str]], None]] = {
    "/api/stocktakes/{stocktake_id:str}/reconciliation.csv": _check_csv,
    "/api/stocktakes/{stocktake_id:str}/reconciliation.xlsx": _check_xlsx,
}


async def test_exports_never_carry_a_formula(login):
    manager, stocktake_id, notes = await _stocktake_with_hostile_notes(login)
    for path, check in EXPORTS.items():
        r = await manager.get(path.replace("{stocktake_id:str}", stocktake_id))
        assert r.status_code == 200, r.text
        assert r.headers["content-disposition"].startswith("attachment; filename=")
        check(r, notes)


def test_every_export_route_is_checked(app):
    exports = {
        route.path
        for route in app.routes
        if route.path.endswith((".csv", ".xlsx"))
        or any(
            media in str(getattr(h, "media_type", ""))
            for h in getattr(route, "route_handlers", [])
            for media in ("csv", "spreadsheetml")
        )
    }
    assert exports, "no export routes found: the walk is broken"
    assert exports <= set(EXPORTS), f"export routes without a formula check: {sorted(exports - set(EXPORTS))}"


# ---------------------------------------------------------------- imports


async def _import(s: Session, name: str, data: bytes) -> Any:
    return await s.http.post("/api/assets/import", files={"file": (name, data)}, headers=s.headers)


async def _total(s: Session) -> int:
    return int((await s.get("/api/assets")).json()["total"])


def _bomb() -> bytes:
    return zip_bomb(b"0")


HEAD = f'<row r="1">{s("A1", "name")}{s("B1", "category")}{s("C1", "department")}</row>'
ROW2 = f'<row r="2">{s("A2", "Wide")}{s("B2", "0103")}{s("C2", "GZ-TH")}</row>'
HOSTILE: dict[str, tuple[str, Callable[[], bytes], int, str]] = {
    "bomb": ("book.xlsx", _bomb, 413, "file-too-large-uncompressed"),
    "wide heading": (
        "book.xlsx",
        lambda: raw_xlsx(HEAD.replace("</row>", s("XFD1", "far") + "</row>") + ROW2),
        413,
        "too-many-columns",
    ),
    "deep": (
        "book.xlsx",
        lambda: raw_xlsx(HEAD + ROW2 + f'<row r="1000000">{s("A1000000", "deep")}</row>'),
        413,
        "too-many-rows",
    ),
    "nul in csv": ("book.csv", lambda: b"name,category,department\nN\x00UL,0103,GZ-TH\n", 400, "import-failed"),
    "nul in xlsx": (
        "book.xlsx",
        lambda: raw_xlsx(HEAD + ROW2.replace(">Wide<", ">Wi_x0000_de<")),
        400,
        "import-failed",
    ),
    "unsaved formula": (
        "book.xlsx",
        lambda: raw_xlsx(HEAD + ROW2.replace(s("A2", "Wide"), '<c r="A2"><f>HYPERLINK("http://x","y")</f></c>')),
        400,
        "import-failed",
    ),
    "shared strings beyond the sheet": (
        "book.xlsx",
        lambda: sst_xlsx(
            f'<row r="1">{ref("A1", 0)}{ref("B1", 1)}{ref("C1", 2)}</row>',
            ["name", "category", "department", *(f"{i:x}" for i in range(tabular.SHARED_STRINGS_MARGIN + 1))],
        ),
        413,
        "too-many-strings",
    ),
    "empty formatted cells": (
        "book.xlsx",
        lambda: raw_xlsx(
            HEAD
            + ROW2
            + "".join(
                f'<row r="{r}">' + "".join(f'<c r="{c}{r}" s="1"/>' for c in "ABCDEFGHIJ") + "</row>"
                for r in range(3, 4 + tabular.MAX_EMPTY_CELLS // 10)
            )
        ),
        413,
        "too-many-cells",
    ),
    "png named xlsx": ("book.xlsx", lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 400, "unreadable-file"),
    "csv named xlsx": ("book.xlsx", lambda: b"name,category,department\nX,0103,GZ-TH\n", 400, "unreadable-file"),
    "number for a tag": (
        "book.xlsx",
        lambda: raw_xlsx(
            f'<row r="1">{s("A1", "tag")}{s("B1", "name")}{s("C1", "category")}{s("D1", "department")}</row>'
            f'<row r="2"><c r="A2"><v>12345</v></c>{s("B2", "N")}{s("C2", "0103")}{s("D2", "GZ-TH")}</row>'
        ),
        400,
        "import-failed",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_a_hostile_spreadsheet_gets_a_clear_refusal_and_nothing_is_stored(login, case):
    admin = await login("assetadmin")
    before = await _total(admin)
    name, make, status, code = HOSTILE[case]
    r = await _import(admin, name, make())
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code and body["detail"] and body["status"] == status
    if code == "import-failed":
        assert body["errors"] and {"row", "column", "message"} <= set(body["errors"][0])
        assert body["errors"][0]["row"] == 2
    assert await _total(admin) == before


async def test_a_declared_extent_of_the_whole_sheet_is_read_as_the_cells_present(login):
    admin = await login("assetadmin")
    before = await _total(admin)
    r = await _import(admin, "book.xlsx", raw_xlsx(HEAD + ROW2, dimension="A1:XFD1048576"))
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 1 and r.json()["created"] == 1
    assert await _total(admin) == before + 1


async def test_only_asset_administrators_may_import_and_the_file_is_not_read_first(login):
    rep = await login("rep1")
    before = await _total(await login("admin"))
    for name, data in (("book.xlsx", _bomb()), ("book.csv", b"name,category,department\nX,0103,GZ-TH\n")):
        r = await _import(rep, name, data)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    # a body no parser would accept still gets the 403: it was not read
    r = await rep.http.post(
        "/api/assets/import",
        content=b"\x00" * 100_000,
        headers={**rep.headers, "content-type": "multipart/form-data; boundary=nope"},
    )
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = await rep.post("/api/assets/import", {"not": "a file"})
    assert r.status_code == 403
    assert await _total(await login("admin")) == before


async def test_uploads_are_read_one_at_a_time_and_later_ones_wait(login, monkeypatch):
    """Two uploads at once: the second waits for the first file's reading thread (neither is refused),
    so hostile files cannot take more than one core between them."""
    assert controllers.IMPORT_READERS.total_tokens == 1
    admin = await login("assetadmin")
    real = tabular.read_table
    first_in, let_go, lock = threading.Event(), threading.Event(), threading.Lock()
    active, at_start = [0], []  # readers at work; how many there were as each one started

    def read_table(filename: str, data: bytes) -> list[dict[str, str]]:
        with lock:
            active[0] += 1
            at_start.append(active[0])
        try:
            if not first_in.is_set():
                first_in.set()
                assert let_go.wait(30)
            return real(filename, data)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(tabular, "read_table", read_table)
    book = b"name,category,department\nQueued,0103,GZ-TH\n"
    one = asyncio.create_task(_import(admin, "one.csv", book))
    two = asyncio.create_task(_import(admin, "two.csv", book))
    for _ in range(1000):  # until the first file is being read and the second waits for it
        stats = controllers.IMPORT_READERS.statistics()
        if first_in.is_set() and stats.tasks_waiting == 1:
            break
        await asyncio.sleep(0.01)
    stats = controllers.IMPORT_READERS.statistics()
    assert (stats.borrowed_tokens, stats.tasks_waiting) == (1, 1) and at_start == [1]
    let_go.set()
    r1, r2 = await asyncio.gather(one, two)
    assert (r1.status_code, r2.status_code) == (200, 200), (r1.text, r2.text)
    assert at_start == [1, 1]  # the second started once the first had ended
    assert controllers.IMPORT_READERS.statistics().borrowed_tokens == 0


def _xlsx(rows: list[list[Any]]) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is not None:
                ws.write(r, c, v)
    wb.close()
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_export_then_import_keeps_phone_numbers_and_negative_amounts(login, kind):
    admin = await login("assetadmin")
    rows = [
        ["name", "category", "department", "model", "serial"],
        [f"Round trip {kind}", "0103", "GZ-TH", "+86 138 0013 8000", "-12.50"],
        [f"Formula text {kind}", "0103", "GZ-TH", '=HYPERLINK("http://x","y")', "@SUM(1)"],
    ]
    data = tabular.csv_bytes(rows) if kind == "csv" else tabular.xlsx_bytes(rows)
    if kind == "csv":
        assert b"'+86 138 0013 8000" in data and b"'-12.50" in data
    r = await _import(admin, f"book.{kind}", data)
    assert r.status_code == 200, r.text
    for name, _, _, model, serial in rows[1:]:
        got = (await admin.get("/api/assets", params={"q": name})).json()["items"]
        assert [(a["model"], a["serial"]) for a in got] == [(model, serial)]


async def test_a_saved_formula_result_and_dates_are_imported_as_their_text(login):
    admin = await login("assetadmin")
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    for c, h in enumerate(["name", "category", "department", "model", "serial"]):
        ws.write_string(0, c, h)
    ws.write_string(1, 0, "Formula result")
    ws.write_string(1, 1, "0103")
    ws.write_string(1, 2, "GZ-TH")
    ws.write_formula(1, 3, "=1+1", None, 2)  # a real formula cell with its saved result: never evaluated
    ws.write_datetime(1, 4, datetime(2024, 3, 1), wb.add_format({"num_format": "yyyy-mm-dd"}))
    wb.close()
    r = await _import(admin, "book.xlsx", buf.getvalue())
    assert r.status_code == 200, r.text
    (got,) = (await admin.get("/api/assets", params={"q": "Formula result"})).json()["items"]
    assert (got["model"], got["serial"]) == ("2", "2024-03-01")
