"""Spreadsheets in and out (backend/tabular.py): exports that never run a formula, and an import
reader that checks a file's bounds before it expands or pads anything."""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from backend import tabular
from backend.tabular import ImportFailed, SpreadsheetTooLarge, UnreadableFile, read_table

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
    "\tx",
    "\r=1",
    "'=already quoted",
    "+86 138 0013 8000",
    "-12.50",
]


# ---------------------------------------------------------------- the rule


@given(st.text())
def test_restore_undoes_neutralize_for_any_text(text: str) -> None:
    assert tabular.restore(tabular.neutralize(text)) == text


@given(st.text())
def test_a_neutralized_cell_never_starts_a_formula(text: str) -> None:
    assert not tabular.neutralize(text).startswith(tabular.FORMULA_STARTS)


def test_plain_text_is_left_alone() -> None:
    for text in ("", "abc", "盘点", "it's", "'quoted", "1+1", "a=b"):
        assert tabular.neutralize(text) == text
        assert tabular.restore(text) == text


# ---------------------------------------------------------------- exports


def _csv_cells(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the Chinese as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_export_prefixes_every_formula_start_and_keeps_numbers() -> None:
    rows: list[list[Any]] = [["标签 Tag", "note", "n"], *[["T1", h, -2] for h in HOSTILE]]
    rows.append(["T2", None, Decimal("-1.5")])
    cells = _csv_cells(tabular.csv_bytes(rows))
    for h, row in zip(HOSTILE, cells[1:], strict=False):
        assert row[1] == "'" + h
        assert row[2] == "-2"  # a number is no formula: it stays a number
    assert cells[-1] == ["T2", "", "-1.5"]


def test_xlsx_export_has_no_formula_cells_and_gives_back_the_same_text() -> None:
    rows: list[list[Any]] = [["标签 Tag", "note", "n", "when", "flag"]]
    rows += [["T1", h, -2, date(2024, 3, 1), True] for h in HOSTILE]
    rows += [["T2", None, 12_345_678_901_234_567, datetime(2024, 3, 1, 8, 30), False]]
    wb = load_workbook(io.BytesIO(tabular.xlsx_bytes(rows, "盘点 Stocktake")))
    ws = wb.active
    assert ws is not None and ws.title == "盘点 Stocktake"
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
    text = tabular.unescape_controls  # openpyxl leaves "\r" as Excel stores it, _x000D_
    got = [[text(c.value) if isinstance(c.value, str) else c.value for c in r] for r in ws.iter_rows()]
    assert [r[1] for r in got[1:-1]] == HOSTILE
    assert got[1][2] == -2 and got[1][3] == datetime(2024, 3, 1) and got[1][4] is True
    assert got[-1][1] is None and got[-1][2] == "12345678901234567"  # beyond what a double holds: text


@pytest.mark.parametrize("writer", ["csv", "xlsx"])
def test_export_then_import_keeps_phone_numbers_negative_amounts_and_formula_text(writer: str) -> None:
    # (an .xlsx cell that starts with ' and a formula character loses the ' on import, as a CSV cell does:
    # that is what our CSV export turns into once Excel saves it as .xlsx)
    texts = [h for h in HOSTILE if h.strip() == h and (writer == "csv" or not h.startswith("'"))]
    rows = [["name", "phone", "amount"], *[[h, "+86 138 0013 8000", "-12.50"] for h in texts]]
    data = tabular.csv_bytes(rows) if writer == "csv" else tabular.xlsx_bytes(rows)
    back = read_table(f"book.{writer}", data)
    assert back == [{"name": r[0], "phone": r[1], "amount": r[2]} for r in rows[1:]]


def test_response_headers() -> None:
    r = tabular.csv_response([["a"]], "stocktake-1.csv")
    assert r.media_type == "text/csv"  # Litestar adds "; charset=utf-8" itself (checked over HTTP)
    assert r.headers["Content-Disposition"] == 'attachment; filename="stocktake-1.csv"'
    r = tabular.xlsx_response([["a"]], "盘点.xlsx", "s")
    assert r.headers["Content-Disposition"] == (
        "attachment; filename=\"__.xlsx\"; filename*=UTF-8''%E7%9B%98%E7%82%B9.xlsx"
    )


# ---------------------------------------------------------------- hostile imports

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def raw_xlsx(sheet_data: str, *, dimension: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal workbook whose first sheet is exactly the XML given (cells as inline strings)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>{dim}<sheetData>{sheet_data}</sheetData>'
    sheet += "</worksheet>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in PARTS.items():
            z.writestr(name, text)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def s(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _xlsx(rows: list[list[Any]]) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet()
    dates = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, datetime):
                ws.write_datetime(r, c, v, dates)
            elif v is not None:
                ws.write(r, c, v)
    wb.close()
    return buf.getvalue()


@pytest.fixture
def row_widths(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The width of every row openpyxl hands out: padding to a declared extent would show here."""
    widths: list[int] = []
    original = ReadOnlyWorksheet._cells_by_row

    def spy(self: Any, *args: Any, **kw: Any) -> Any:
        for row in original(self, *args, **kw):
            widths.append(len(row))
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", spy)
    return widths


def zip_bomb(filler: bytes = b" ") -> bytes:
    """A .xlsx of ~300 KB whose sheet expands to 300 MB (of ``filler`` inside valid XML)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in PARTS.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w") as w:
            w.write(f'<worksheet {NS}><sheetData><row r="1">'.encode())
            chunk = filler * (1 << 20)
            for _ in range(300):
                w.write(chunk)
            w.write(b"</row></sheetData></worksheet>")
    return buf.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_expanded() -> None:
    data = zip_bomb()
    assert len(data) < 512 * 1024
    with pytest.raises(SpreadsheetTooLarge) as e:
        read_table("book.xlsx", data)
    assert e.value.status == 413 and e.value.code == "file-too-large-uncompressed"
    assert "MB" in e.value.detail


def test_a_highly_compressed_part_is_refused_even_under_the_total_bound() -> None:
    data = raw_xlsx(s("A1", "name"), extra={"xl/media/pad.bin": b"\0" * (8 << 20)})  # ~1000x
    with pytest.raises(SpreadsheetTooLarge) as e:
        read_table("book.xlsx", data)
    assert e.value.code == "file-too-large-uncompressed" and "xl/media/pad.bin" in e.value.detail


def test_a_part_that_inflates_beyond_its_declared_size_is_unreadable() -> None:
    data = bytearray(raw_xlsx(s("A1", "name") + "<!--" + " " * (4 << 20) + "-->"))
    # declare the sheet 2 KB, local and central headers alike: zipfile stops there and the CRC fails
    name = b"xl/worksheets/sheet1.xml"
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while (at := data.find(sig, at)) != -1:
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                struct.pack_into("<I", data, at + offset, 2048)
            at += 4
    with pytest.raises(UnreadableFile) as e:
        read_table("book.xlsx", bytes(data))
    assert e.value.status == 400 and "could not be read" in e.value.detail


def test_too_many_parts_are_refused() -> None:
    data = raw_xlsx(s("A1", "name"), extra={f"xl/x/{i}.xml": b"<a/>" for i in range(tabular.MAX_MEMBERS)})
    with pytest.raises(SpreadsheetTooLarge, match="parts"):
        read_table("book.xlsx", data)


def test_a_declared_extent_of_the_whole_sheet_costs_only_the_cells_present(row_widths: list[int]) -> None:
    data = raw_xlsx(
        f'<row r="1">{s("A1", "name")}{s("B1", "model")}</row><row r="2">{s("A2", "x")}{s("B2", "y")}</row>',
        dimension="A1:XFD1048576",
    )
    assert read_table("book.xlsx", data) == [{"name": "x", "model": "y"}]
    assert row_widths == [2, 2]  # not 16,384 wide, not 1,048,576 deep


def test_a_heading_beyond_the_column_bound_is_refused() -> None:
    data = raw_xlsx(f'<row r="1">{s("A1", "name")}{s("XFD1", "far")}</row><row r="2">{s("A2", "x")}</row>')
    with pytest.raises(SpreadsheetTooLarge) as e:
        read_table("book.xlsx", data)
    assert e.value.code == "too-many-columns" and "16384 columns" in e.value.detail
    csv_wide = (",".join(["h"] * (tabular.MAX_COLUMNS + 1)) + "\n" + "x\n").encode()
    with pytest.raises(SpreadsheetTooLarge, match="at most 100"):
        read_table("book.csv", csv_wide)


def test_values_far_right_without_a_heading_are_ignored_cheaply(row_widths: list[int]) -> None:
    data = raw_xlsx(f'<row r="1">{s("A1", "name")}</row><row r="2">{s("A2", "x")}{s("XFD2", "stray")}</row>')
    assert read_table("book.xlsx", data) == [{"name": "x"}]
    assert max(row_widths) <= tabular.MAX_COLUMNS


def test_a_row_with_more_cells_than_excel_has_columns_is_unreadable() -> None:
    cells = "<c/>" * (tabular.EXCEL_MAX_COLUMNS + 1)
    with pytest.raises(UnreadableFile):
        read_table("book.xlsx", raw_xlsx(f'<row r="1">{s("A1", "name")}</row><row r="2">{cells}</row>'))


def test_cells_with_values_are_bounded_by_the_rows_of_the_headed_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "CELL_MARGIN", 5)
    head = f'<row r="1">{s("A1", "name")}{s("B1", "model")}</row>'
    full = "".join(f'<row r="{r}">{s(f"A{r}", "x")}{s(f"B{r}", "y")}</row>' for r in range(2, 12))
    assert len(read_table("book.xlsx", raw_xlsx(head + full), max_rows=10)) == 10  # 22 values: 11 rows x 2 + 5
    # the same rows with values in two columns nobody headed: 42 values, more than 11 x 2 + 5
    wide = "".join(
        f'<row r="{r}">{s(f"A{r}", "x")}{s(f"B{r}", "y")}{s(f"C{r}", "z")}{s(f"D{r}", "w")}</row>' for r in range(2, 12)
    )
    with pytest.raises(SpreadsheetTooLarge) as e:
        read_table("book.xlsx", raw_xlsx(head + wide), max_rows=10)
    assert e.value.status == 413 and e.value.code == "too-many-cells"
    assert "more than 27 cells with values" in e.value.detail and "2 columns headed in row 1" in e.value.detail
    assert e.value.params == {"most": 27, "rows": 10, "columns": 2}


def test_the_value_cell_bound_follows_the_import_not_a_fixed_five_million() -> None:
    rows = tabular.MAX_IMPORT_ROWS + 1  # and the heading
    assert tabular.value_cell_bound(rows, 12) == rows * 12 + tabular.CELL_MARGIN < 1_000_000
    assert tabular.value_cell_bound(rows, 0) == tabular.CELL_MARGIN  # no heading: nothing is imported
    assert tabular.MAX_EMPTY_CELLS * 20 <= 5_000_000


def test_empty_formatted_cells_are_refused_long_before_five_million(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reviewer's sheet: a heading, then rows of ``<c r=".." s=".."/>`` and no values (5 million of
    them cost 33 s per import); at the real bound, refused after MAX_EMPTY_CELLS and before openpyxl."""
    loaded: list[Any] = []
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: loaded.append(a))
    per_row = 10_000
    rows = [f'<row r="1">{s("A1", "name")}{s("B1", "category_code")}</row>']
    for r in range(2, 2 + tabular.MAX_EMPTY_CELLS // per_row + 1):
        cells = "".join(f'<c r="{"ABCDEFGH"[i % 8]}{r}" s="{i % 10}"/>' for i in range(per_row))
        rows.append(f'<row r="{r}">{cells}</row>')
    with pytest.raises(SpreadsheetTooLarge) as e:
        read_table("book.xlsx", raw_xlsx("".join(rows)))
    assert e.value.status == 413 and e.value.code == "too-many-cells"
    assert f"more than {tabular.MAX_EMPTY_CELLS:,} empty cells" in e.value.detail and "Clear All" in e.value.detail
    assert loaded == []


def test_a_million_rows_without_cells_count_as_empty_cells() -> None:
    rows = "".join(f'<row r="{r}" ht="20" customHeight="1"/>' for r in range(3, 4 + tabular.MAX_EMPTY_CELLS))
    data = raw_xlsx(f'<row r="1">{s("A1", "name")}</row><row r="2">{s("A2", "x")}</row>{rows}')
    with pytest.raises(SpreadsheetTooLarge) as e:
        read_table("book.xlsx", data)
    assert e.value.code == "too-many-cells" and "empty cells or rows" in e.value.detail


def test_a_few_empty_formatted_cells_are_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_EMPTY_CELLS", 4)
    styled = "".join(f'<row r="{r}"><c r="A{r}" s="1"/></row>' for r in range(3, 7))
    data = raw_xlsx(f'<row r="1">{s("A1", "name")}</row><row r="2">{s("A2", "x")}</row>{styled}')
    assert read_table("book.xlsx", data) == [{"name": "x"}]
    with pytest.raises(SpreadsheetTooLarge, match="more than 4 empty cells"):
        read_table("book.xlsx", raw_xlsx(f'<row r="1">{s("A1", "name")}</row>{styled}<row r="9"><c r="A9"/></row>'))


def test_a_value_a_million_rows_down_is_refused_not_padded_to() -> None:
    data = raw_xlsx(f'<row r="1">{s("A1", "name")}</row><row r="1000000">{s("A1000000", "deep")}</row>')
    with pytest.raises(SpreadsheetTooLarge) as e:
        read_table("book.xlsx", data)
    assert e.value.code == "too-many-rows" and "1,000,000" in e.value.detail


def test_an_empty_styled_cell_far_down_is_not_data(row_widths: list[int]) -> None:
    far = '<row r="1000000"><c r="A1000000" s="0"/></row>'
    data = raw_xlsx(f'<row r="1">{s("A1", "name")}</row><row r="2">{s("A2", "x")}</row>{far}')
    assert read_table("book.xlsx", data) == [{"name": "x"}]
    assert len(row_widths) == 2


def test_rows_beyond_the_sheet_are_unreadable() -> None:
    with pytest.raises(UnreadableFile):
        read_table("book.xlsx", raw_xlsx(f'<row r="2000000">{s("A2000000", "x")}</row>'))


def test_nul_characters_are_refused_cell_by_cell() -> None:
    with pytest.raises(ImportFailed) as e:
        read_table("book.csv", b"name,model\nok,fine\nbad\x00name,x\n")
    assert e.value.code == "import-failed"
    assert e.value.extra["errors"] == [{"row": 3, "column": "name", "message": "contains a NUL character; remove it"}]
    with pytest.raises(ImportFailed) as e:
        read_table("book.xlsx", _xlsx([["name", "model"], ["ok", "a\x00b"]]))  # stored as _x0000_
    assert e.value.extra["errors"] == [{"row": 2, "column": "model", "message": "contains a NUL character; remove it"}]


def test_formulas_give_their_saved_result_and_are_never_evaluated() -> None:
    saved = '<c r="B2"><f>1+1</f><v>2</v></c>'
    unsaved = '<c r="B3"><f>HYPERLINK("http://x","y")</f></c>'
    data = raw_xlsx(
        f'<row r="1">{s("A1", "name")}{s("B1", "model")}</row>'
        f'<row r="2">{s("A2", "a")}{saved}</row><row r="3">{s("A3", "b")}{unsaved}</row>'
    )
    with pytest.raises(ImportFailed) as e:
        read_table("book.xlsx", data)
    assert [(x["row"], x["column"]) for x in e.value.extra["errors"]] == [(3, "model")]
    assert "formula" in e.value.extra["errors"][0]["message"]
    data = raw_xlsx(f'<row r="1">{s("A1", "name")}{s("B1", "model")}</row><row r="2">{s("A2", "a")}{saved}</row>')
    assert read_table("book.xlsx", data) == [{"name": "a", "model": "2"}]


SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def sst_xlsx(sheet_data: str, strings: Iterable[str], part: str = "xl/sharedStrings.xml") -> bytes:
    """A minimal workbook with a shared strings table (declared in the content types, as openpyxl
    finds it) at ``part``; cells refer to it as ``<c t="s"><v>index</v></c>``."""
    sst = f'<?xml version="1.0" encoding="UTF-8"?><sst {NS}>' + "".join(f"<si><t>{x}</t></si>" for x in strings)
    sst += "</sst>"
    types = PARTS["[Content_Types].xml"].replace(
        "</Types>", f'<Override PartName="/{part}" ContentType="{SST_TYPE}"/></Types>'
    )
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>{sheet_data}</sheetData></worksheet>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in {**PARTS, "[Content_Types].xml": types}.items():
            z.writestr(name, text)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr(part, sst)
    return buf.getvalue()


def ref(cell: str, index: int) -> str:
    return f'<c r="{cell}" t="s"><v>{index}</v></c>'


SST_SHEET = f'<row r="1">{ref("A1", 0)}{ref("B1", 1)}</row><row r="2">{ref("A2", 2)}{ref("B2", 3)}</row>'


def test_shared_strings_are_read_as_the_sheet_refers_to_them() -> None:
    assert read_table("book.xlsx", sst_xlsx(SST_SHEET, ["name", "model", "x", "y", "unused"])) == [
        {"name": "x", "model": "y"}
    ]


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/elsewhere.xml"])
def test_a_shared_strings_table_far_larger_than_the_sheet_is_refused_before_openpyxl_reads_it(
    monkeypatch: pytest.MonkeyPatch, part: str
) -> None:
    """The reviewer's workbook: a heading and millions of small, varied shared strings (6 million cost
    55 s and 1 GB in openpyxl's read_string_table); refused after the sheet's values + the margin."""
    read: list[Any] = []
    monkeypatch.setattr("openpyxl.reader.excel.read_string_table", lambda src: read.append(src) or [])
    many = (f"{i:x}" for i in range(tabular.SHARED_STRINGS_MARGIN + 10))
    data = sst_xlsx(SST_SHEET, many, part)
    assert len(data) < 2 << 20  # small on the wire; compressed well under the ratio bound
    with pytest.raises(SpreadsheetTooLarge) as e:
        read_table("book.xlsx", data)
    assert e.value.status == 413 and e.value.code == "too-many-strings"
    most = 4 + tabular.SHARED_STRINGS_MARGIN
    assert f"more than {most:,} entries" in e.value.detail and "only 4 cells with values" in e.value.detail
    assert "new workbook" in e.value.detail
    assert read == []


def test_other_sheets_texts_fit_in_the_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "SHARED_STRINGS_MARGIN", 3)
    assert read_table("book.xlsx", sst_xlsx(SST_SHEET, ["name", "model", "x", "y", "a", "b", "c"])) == [
        {"name": "x", "model": "y"}
    ]
    with pytest.raises(SpreadsheetTooLarge, match="more than 7 entries"):
        read_table("book.xlsx", sst_xlsx(SST_SHEET, ["name", "model", "x", "y", "a", "b", "c", "d"]))


def test_the_text_of_the_shared_strings_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_SHARED_TEXT", 100)
    assert read_table("book.xlsx", sst_xlsx(SST_SHEET, ["name", "model", "x", "y" * 90]))[0]["model"] == "y" * 90
    with pytest.raises(SpreadsheetTooLarge) as e:
        read_table("book.xlsx", sst_xlsx(SST_SHEET, ["name", "model", "x", "y" * 95]))
    assert e.value.code == "too-many-strings" and "more than 100 characters" in e.value.detail


def test_formula_text_in_a_csv_is_just_text() -> None:
    assert read_table("book.csv", b'name\n"=HYPERLINK(""http://x"",""y"")"\n') == [
        {"name": '=HYPERLINK("http://x","y")'}
    ]


@pytest.mark.parametrize(
    ("name", "data", "hint"),
    [
        ("book.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "PNG image"),
        ("book.xlsx", b"name,model\nx,y\n", "name it .csv"),
        ("book.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "old .xls"),
        ("book.csv", raw_xlsx(s("A1", "x")), "name it .xlsx"),
        ("book.xlsx", b"PK\x03\x04 broken", ""),
        ("book.xlsx", b"", ""),
        ("book.csv", b"\xff\xfe\x00\xd8", ""),
    ],
)
def test_a_file_of_the_wrong_type_is_unreadable_with_a_hint(name: str, data: bytes, hint: str) -> None:
    with pytest.raises(UnreadableFile) as e:
        read_table(name, data)
    assert e.value.code == "unreadable-file" and hint in e.value.detail


def test_numbers_and_dates_where_text_is_expected_become_their_text() -> None:
    rows: list[list[Any]] = [["tag", "name", "acquired_on", "original_value", "serial"]]
    rows += [[12345, datetime(2024, 3, 1), datetime(2024, 3, 1, 9, 5), 8500.5, 1e20]]
    assert read_table("book.xlsx", _xlsx(rows)) == [
        {
            "tag": "12345",
            "name": "2024-03-01",
            "acquired_on": "2024-03-01 09:05:00",
            "original_value": "8500.5",
            "serial": "1e+20",
        }
    ]


def test_short_rows_and_blank_rows() -> None:
    assert read_table("book.csv", b"name,model\n\nx\n,\n") == [{"name": "x", "model": ""}]
    assert read_table("book.csv", b"") == []
    assert read_table("book.xlsx", raw_xlsx("")) == []
