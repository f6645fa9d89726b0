"""Spreadsheets in and out: the one place that writes CSV and Excel exports and reads imported tables.

Out: ``csv_response`` and ``xlsx_response`` serve every export. No cell of theirs runs as a formula
in Excel, WPS or LibreOffice: a CSV text cell that starts with ``= + - @ TAB CR`` gets a leading
``'`` (the OWASP CSV-injection rule, ``neutralize``); an .xlsx text cell is always a string cell
(XlsxWriter, with its string-to-formula/URL/number conversions off).

In: ``read_table`` reads a .csv or .xlsx upload without trusting it. The zip archive is checked
(members, uncompressed size, compression ratio) before anything is expanded; the sheet is scanned as
a stream with bounds on rows, columns and cells before openpyxl reads it, so cost follows the cells
really present and never a declared extent (cells with values: the row limit × the columns headed;
empty formatted cells: far fewer); the shared strings are counted as a stream before openpyxl reads
them, at most as many as the sheet has values (plus room for other sheets'); formulas are never
evaluated (a saved result is taken,
a formula without one is refused); NUL characters are refused; our own ``'`` prefix is taken off
again (``restore``), so ``+86 138…`` and ``-12.50`` survive an export→import round trip.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any
from urllib.parse import quote

from litestar import Response

from backend.errors import TooLarge, ValidationFailed

CSV_MEDIA_TYPE = "text/csv"  # Litestar adds "; charset=utf-8" to text/* types, once
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: A cell starting with one of these is a formula (or becomes one) in Excel, WPS and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Rows of an import (besides the heading); the importer refuses more.
MAX_IMPORT_ROWS = 50_000
#: Columns an import may have (headings beyond are refused, not silently dropped).
MAX_COLUMNS = 100
#: Bounds on an .xlsx before it is expanded: all members together, one member's compression ratio
#: (checked on members above RATIO_FLOOR), members in the archive, and each part that is not a
#: worksheet or the shared strings (styles, workbook: parsed whole).
MAX_UNCOMPRESSED = 128 * 1024 * 1024
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024
MAX_MEMBERS = 1000
MAX_OTHER_PART = 16 * 1024 * 1024
#: Bounds of the sheet scan: cells in one row (Excel's widest), row elements in all.
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_ROWS = 1_048_576
#: Cells with a value: at most the rows read × the columns headed in row 1, plus this many (values
#: outside the headed columns, notes under the table).
CELL_MARGIN = 100_000
#: Cells without a value (formatting only: ``<c r="B7" s="3"/>``) and rows without cells, which nobody
#: imports; each still costs the scan as much as a value does.
MAX_EMPTY_CELLS = 200_000
#: Shared strings (the workbook's table of texts, parsed whole by openpyxl): at most as many as the
#: first sheet has cells with values, plus this many (the texts of other sheets), and at most
#: MAX_SHARED_TEXT characters in all.
SHARED_STRINGS_MARGIN = 100_000
MAX_SHARED_TEXT = 32 * 1024 * 1024


class ImportFailed(ValidationFailed):
    """A file that was not imported; with ``errors=[{row, column, message}]`` when it is row by row."""

    code = "import-failed"
    title = "The file was not imported"


class UnreadableFile(ImportFailed):
    code = "unreadable-file"


class SpreadsheetTooLarge(TooLarge):
    """A file beyond the import's bounds (size once expanded, rows, columns, cells): 413."""

    code = "file-too-large"
    title = "The file is too large to import"


# ---------------------------------------------------------------- the CSV-injection rule


def neutralize(text: str) -> str:
    """The CSV text of a cell: ``'`` before a cell that would start a formula, and before a cell that
    already starts with ``'`` + such a character (so that ``restore`` gives back exactly the text)."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def restore(text: str) -> str:
    """The text of an imported cell: our ``neutralize`` prefix taken off again."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS):
        return text[1:]
    return text


# ---------------------------------------------------------------- exports


def _disposition(filename: str) -> str:
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return str(value)  # a number (negative ones too) is no formula
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return neutralize(str(value))


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM (so Excel reads Chinese), every text cell neutralized."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_response(rows: Iterable[Sequence[Any]], filename: str) -> Response[bytes]:
    return Response(
        csv_bytes(rows),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": _disposition(filename)},
    )


def xlsx_bytes(rows: Iterable[Sequence[Any]], sheet_name: str = "Sheet1") -> bytes:
    """An .xlsx whose text cells are all string cells: never a formula, URL or number made from text."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True},
    )
    ws = wb.add_worksheet(_sheet_title(sheet_name))
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(r, c, v)
            elif isinstance(v, int | float | Decimal) and math.isfinite(v) and abs(float(v)) < 1e15:
                ws.write_number(r, c, float(v))  # beyond 1e15 Excel rounds: written as text below
            elif isinstance(v, datetime):
                ws.write_datetime(r, c, v.replace(tzinfo=None), datetime_format)
            elif isinstance(v, date):
                ws.write_datetime(r, c, v, date_format)
            else:
                ws.write_string(r, c, str(v))
    wb.close()
    return buf.getvalue()


def _sheet_title(name: str) -> str:
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in name).strip("'")
    return cleaned[:31] or "Sheet1"


def xlsx_response(rows: Iterable[Sequence[Any]], filename: str, sheet_name: str = "Sheet1") -> Response[bytes]:
    return Response(
        xlsx_bytes(rows, sheet_name),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": _disposition(filename)},
    )


# ---------------------------------------------------------------- imports


def read_table(filename: str, data: bytes, max_rows: int = MAX_IMPORT_ROWS) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, with or without BOM, or GB18030) or Excel (.xlsx) file, as heading -> text,
    blank rows left out. Reading stops after ``max_rows`` + 1 rows (the importer refuses the file
    then). A file that cannot be read is an ``UnreadableFile``, one beyond the bounds a
    ``SpreadsheetTooLarge``, one with NUL characters or unsaved formulas an ``ImportFailed`` with the
    cells to fix; whatever the parser says."""
    name = filename.lower()
    if not (name.endswith(".xlsx") or name.endswith(".csv")):
        raise ImportFailed("Upload a .csv or .xlsx file.", code="unsupported-file")
    kind = "XLSX" if name.endswith(".xlsx") else "CSV"
    try:
        table = _read_xlsx(filename, data, max_rows) if kind == "XLSX" else _read_csv(filename, data, max_rows)
        return _rows(table)
    except (ImportFailed, TooLarge):
        raise
    except Exception:  # zip, XML or CSV errors: what the parser says is no use to the person
        raise UnreadableFile(
            f"The file {filename} could not be read as {kind}{_looks_like(data)}.", code="unreadable-file"
        ) from None


@dataclass
class _Table:
    """Cells as read: the heading, then (sheet row number, values) for each row."""

    heading: list[str]
    rows: list[tuple[int, list[str]]]
    errors: list[dict[str, Any]] = field(default_factory=list)


def _rows(table: _Table) -> list[dict[str, str]]:
    heads = table.heading
    errors = list(table.errors)
    for col, h in enumerate(heads):
        if "\x00" in h:
            errors.append({"row": 1, "column": h.replace("\x00", "") or _letter(col), "message": "contains NUL"})
    out: list[dict[str, str]] = []
    for n, values in table.rows:
        if not any(values):
            continue
        row: dict[str, str] = {}
        for i, h in enumerate(heads):
            if not h:
                continue
            v = values[i] if i < len(values) else ""  # a short row: the rest is blank
            if "\x00" in v:
                errors.append({"row": n, "column": h, "message": "contains a NUL character; remove it"})
            row[h] = v
        out.append(row)
    if errors:
        errors.sort(key=lambda e: e["row"])
        bad = len({e["row"] for e in errors})
        raise ImportFailed(
            f"{bad} {'row has' if bad == 1 else 'rows have'} cells that cannot be imported (see the list); "
            "nothing was imported.",
            errors=errors[:1000],
        )
    return out


def _letter(col: int) -> str:
    from openpyxl.utils.cell import get_column_letter

    return get_column_letter(col + 1)


def _check_columns(heading: Sequence[str]) -> list[str]:
    used = [i for i, h in enumerate(heading) if h]
    if used and used[-1] >= MAX_COLUMNS:
        raise SpreadsheetTooLarge(
            f"The heading row has {used[-1] + 1} columns; at most {MAX_COLUMNS} are read. "
            "Delete the columns you do not import.",
            code="too-many-columns",
            params={"columns": used[-1] + 1, "most": MAX_COLUMNS},
        )
    return list(heading[:MAX_COLUMNS])


def _looks_like(data: bytes) -> str:
    """What an unreadable file seems to be, for the message."""
    head = data[:8]
    if head.startswith(b"\x89PNG"):
        return " (it is a PNG image)"
    if head.startswith(b"\xff\xd8\xff"):
        return " (it is a JPEG image)"
    if head.startswith(b"%PDF"):
        return " (it is a PDF)"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return " (it is an old .xls or a password-protected workbook: save it as .xlsx without a password)"
    if head.startswith(b"PK\x03\x04"):
        return " (it is a zip archive; if it is an Excel workbook, name it .xlsx)"
    if data and b"\x00" not in data[:4096]:
        return " (it looks like text; if it is CSV, name it .csv)"
    return ""


# ---------------------------------------------------------------- CSV


def _read_csv(filename: str, data: bytes, max_rows: int) -> _Table:
    if data.startswith(b"PK\x03\x04"):
        raise UnreadableFile(f"The file {filename} could not be read as CSV{_looks_like(data)}.")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile("The CSV file is neither UTF-8 nor GB18030 text.")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return _Table([], [])
    heading = _check_columns([_text(h) for h in header])
    rows: list[tuple[int, list[str]]] = []
    for record in reader:
        values = [_text(v) for v in record[:MAX_COLUMNS]]
        if any(values):
            rows.append((reader.line_num, values))
            if len(rows) > max_rows:
                break
    return _Table(heading, rows)


def _text(raw: str) -> str:
    return restore(raw.strip()).strip()


# ---------------------------------------------------------------- Excel


def _read_xlsx(filename: str, data: bytes, max_rows: int) -> _Table:
    from openpyxl import load_workbook

    if not data.startswith(b"PK\x03\x04"):
        raise UnreadableFile(f"The file {filename} is not an Excel .xlsx workbook{_looks_like(data)}.")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        _check_archive(archive)
    sheet_path, strings_path, archive = _workbook_parts(data)
    with archive:
        if sheet_path is None:
            return _Table([], [])
        with archive.open(sheet_path) as src:  # the first sheet's XML, as openpyxl will read it
            scan = _scan_sheet(src, max_rows + 1)
        if scan.last_row == 0:
            return _Table([], [])
        if strings_path is not None:  # before openpyxl reads them all (load_workbook does, at once)
            with archive.open(strings_path) as src:
                _scan_shared_strings(src, scan)
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None or getattr(ws, "_worksheet_path", None) != sheet_path:
            raise UnreadableFile(f"The first sheet of {filename} could not be found.")  # not what was scanned
        ws.reset_dimensions()  # the declared extent is not trusted: rows are not padded to it
        width = min(scan.last_column, MAX_COLUMNS)
        it: Iterator[tuple[Any, ...]] = ws.iter_rows(max_col=width, max_row=scan.last_row, values_only=True)
        heading = _check_columns([_cell(v) for v in next(it, ())])
        rows = [(n, [_cell(v) for v in values]) for n, values in enumerate(it, start=2)]
    finally:
        wb.close()
    errors = [
        {
            "row": r,
            "column": heading[c - 1] if c - 1 < len(heading) and heading[c - 1] else _letter(c - 1),
            "message": "a formula without a saved result; open and save the file in Excel, or paste values",
        }
        for r, c in scan.unsaved_formulas
        if c <= len(heading) and heading[c - 1]
    ]
    return _Table(heading, rows, errors)


def _workbook_parts(data: bytes) -> tuple[str | None, str | None, zipfile.ZipFile]:
    """The first worksheet's part and the shared strings' part, found as openpyxl finds them (its own
    manifest and workbook readers: small parts, bounded by ``_check_archive``), and the open archive."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        reader.read_manifest()
        reader.read_workbook()
        sheets = [
            rel.target
            for _, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ]
        strings = reader.package.find(SHARED_STRINGS)
    except BaseException:
        reader.archive.close()
        raise
    return (sheets[0] if sheets else None), (strings.PartName[1:] if strings is not None else None), reader.archive


def _check_archive(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise SpreadsheetTooLarge(
            f"The workbook has {len(members):,} parts; at most {MAX_MEMBERS:,}.", code="file-too-large-uncompressed"
        )
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED:
        raise SpreadsheetTooLarge(
            f"The workbook expands to {total / 2**20:,.0f} MB; at most {MAX_UNCOMPRESSED // 2**20} MB. "
            "Split it, or delete unused sheets and pictures.",
            code="file-too-large-uncompressed",
            params={"uncompressed": total, "most": MAX_UNCOMPRESSED},
        )
    for m in members:
        if m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise SpreadsheetTooLarge(
                f"A part of the workbook ({m.filename}) is compressed {m.file_size // max(m.compress_size, 1):,} "
                f"times; at most {MAX_RATIO} times. This is not a workbook as Excel writes it.",
                code="file-too-large-uncompressed",
                params={"part": m.filename, "ratio": m.file_size // max(m.compress_size, 1), "most": MAX_RATIO},
            )
        bulk = m.filename.startswith("xl/worksheets/") or m.filename == "xl/sharedStrings.xml"
        if not bulk and m.file_size > MAX_OTHER_PART:
            raise SpreadsheetTooLarge(
                f"A part of the workbook ({m.filename}) is {m.file_size / 2**20:,.0f} MB; "
                f"at most {MAX_OTHER_PART // 2**20} MB.",
                code="file-too-large-uncompressed",
                params={"part": m.filename, "most": MAX_OTHER_PART},
            )


@dataclass
class _SheetScan:
    last_row: int = 0  # the last row with a value in it
    last_column: int = 0  # the rightmost column with a value in it
    unsaved_formulas: list[tuple[int, int]] = field(default_factory=list)
    values: int = 0  # cells with a value
    empty: int = 0  # cells without one (formatting, or a formula without a saved result), rows without cells
    headed: set[int] = field(default_factory=set)  # the columns with a value in row 1


def value_cell_bound(max_row: int, headed: int) -> int:
    """Cells with a value that a sheet may have: ``max_row`` rows (the heading among them) of the
    ``headed`` columns, plus ``CELL_MARGIN``."""
    return max_row * headed + CELL_MARGIN


def _scan_sheet(src: IO[bytes], max_row: int) -> _SheetScan:
    """One streaming pass over the sheet XML, holding one row at a time: where the values really are,
    refusing a sheet with values below ``max_row``, headings beyond ``MAX_COLUMNS``, more cells with
    values than ``max_row`` rows of the headed columns hold (``value_cell_bound``; ``MAX_COLUMNS``
    columns until the first row is read), or more than ``MAX_EMPTY_CELLS`` cells without one (and rows
    without cells)."""
    from defusedxml.ElementTree import iterparse
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    scan = _SheetScan()
    sheet_data = None
    heading_read = False
    value_bound = value_cell_bound(max_row, MAX_COLUMNS)
    rows = in_row = row = column = 0
    for event, el in iterparse(src, events=("start", "end")):
        tag = el.tag.rpartition("}")[2]
        if event == "start":
            if tag == "sheetData":
                sheet_data = el
            elif tag == "row":
                rows += 1
                r = el.get("r")
                row = int(r) if r else row + 1
                column = in_row = 0
                if rows > EXCEL_MAX_ROWS or not 1 <= row <= EXCEL_MAX_ROWS:
                    raise UnreadableFile(f"Row {row:,} is beyond the last row of an Excel sheet.")
            elif tag == "c":
                in_row += 1
                if in_row > EXCEL_MAX_COLUMNS:
                    raise UnreadableFile(f"Row {row:,} has more cells than an Excel sheet has columns.")
            continue
        if tag == "c":
            ref = el.get("r")
            cell_row = row
            if ref:
                letters, cell_row = coordinate_from_string(ref)
                column = column_index_from_string(letters)
            else:
                column += 1
            if column > EXCEL_MAX_COLUMNS or not 1 <= cell_row <= EXCEL_MAX_ROWS:
                raise UnreadableFile(f"A cell ({ref}) is beyond the edges of an Excel sheet.")
            parts = {child.tag.rpartition("}")[2]: child for child in el}
            if "v" in parts or "is" in parts:
                scan.values += 1
                if scan.values > value_bound:
                    _too_many_values(max_row, len(scan.headed) if heading_read else MAX_COLUMNS)
                if cell_row > max_row:
                    raise SpreadsheetTooLarge(
                        f"The sheet has a value in row {cell_row:,}; at most {max_row - 1:,} rows and a heading "
                        "are imported. Delete the rows below your data, or split the file.",
                        code="too-many-rows",
                        params={"row": cell_row, "most": max_row - 1},
                    )
                if cell_row == 1:
                    if column > MAX_COLUMNS:
                        _check_columns(["x"] * column)
                    scan.headed.add(column)
                scan.last_row = max(scan.last_row, cell_row)
                scan.last_column = max(scan.last_column, column)
            else:
                _count_empty(scan)
                if "f" in parts:
                    scan.unsaved_formulas.append((cell_row, column))
            el.clear()
        elif tag == "row":
            if in_row == 0:  # a row element without cells (a height or a format): as costly as an empty cell
                _count_empty(scan)
            el.clear()
            if sheet_data is not None:
                sheet_data.clear()  # the rows read so far: one row in memory at a time
            if not heading_read:  # the first row (the heading, when it is row 1) is read: the bound is known
                heading_read = True
                value_bound = value_cell_bound(max_row, len(scan.headed))
                if scan.values > value_bound:
                    _too_many_values(max_row, len(scan.headed))
    return scan


def _count_empty(scan: _SheetScan) -> None:
    scan.empty += 1
    if scan.empty > MAX_EMPTY_CELLS:
        raise SpreadsheetTooLarge(
            f"The sheet has more than {MAX_EMPTY_CELLS:,} empty cells or rows that only carry formatting. "
            "Select the rows and columns around your table and clear them (Clear All), or copy the table into "
            "a new workbook and import that.",
            code="too-many-cells",
            params={"most": MAX_EMPTY_CELLS},
        )


def _too_many_values(max_row: int, headed: int) -> None:
    most = value_cell_bound(max_row, headed)
    raise SpreadsheetTooLarge(
        f"The sheet has more than {most:,} cells with values; at most {max_row - 1:,} rows of the {headed} "
        f"columns headed in row 1 are imported (and {CELL_MARGIN:,} cells besides). Delete the values outside "
        "your table, or split the file.",
        code="too-many-cells",
        params={"most": most, "rows": max_row - 1, "columns": headed},
    )


def _scan_shared_strings(src: IO[bytes], scan: _SheetScan) -> None:
    """One streaming pass over the workbook's shared strings (``<si>`` entries, which openpyxl reads
    all at once into memory), refusing more entries than the first sheet could use (its cells with
    values, plus ``SHARED_STRINGS_MARGIN`` for other sheets) or more than ``MAX_SHARED_TEXT``
    characters of text."""
    from defusedxml.ElementTree import iterparse

    most = scan.values + SHARED_STRINGS_MARGIN
    root = None
    entries = chars = 0
    for event, el in iterparse(src, events=("start", "end")):
        tag = el.tag.rpartition("}")[2]
        if event == "start":
            if root is None:
                root = el
            elif tag == "si":
                entries += 1
                if entries > most:
                    raise SpreadsheetTooLarge(
                        f"The workbook's table of texts (shared strings) has more than {most:,} entries, but its "
                        f"first sheet has only {scan.values:,} cells with values. Delete the other sheets, or copy "
                        "the table into a new workbook and import that.",
                        code="too-many-strings",
                        params={"most": most, "values": scan.values},
                    )
            continue
        if tag == "t":
            chars += len(el.text or "")
            if chars > MAX_SHARED_TEXT:
                raise SpreadsheetTooLarge(
                    f"The workbook's texts (shared strings) add up to more than {MAX_SHARED_TEXT:,} characters. "
                    "Delete the other sheets and long texts you do not import, or split the file.",
                    code="too-many-strings",
                    params={"mostCharacters": MAX_SHARED_TEXT},
                )
        elif tag == "si":
            el.clear()
            if root is not None:
                root.clear()  # the entries read so far: one in memory at a time


def _cell(v: Any) -> str:
    """The text of an Excel cell: dates as YYYY-MM-DD, whole numbers without ``.0``, our prefix off."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat(sep=" ")
    if isinstance(v, date | time):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return _text(unescape_controls(str(v)))


_CONTROL_ESCAPE = re.compile("_x(00[01][0-9A-Fa-f])_")


def unescape_controls(text: str) -> str:
    """Control characters as Excel and XlsxWriter store them (``_x000D_``), which openpyxl leaves
    escaped; other ``_xHHHH_`` text is left as it is."""
    return _CONTROL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text
