"""Reading an import file (CSV or Excel .xlsx) into a header and numbered rows.

Nothing here knows what the columns mean; it only turns a file into cells and refuses,
with one clear line, a file it cannot read (not UTF-8, too large, not a table).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

# what an officer exports from e-SKA for a year is a few MB; far beyond that is not one
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
# cells longer than any column are reported per row; the csv module's own limit (128 KB)
# would otherwise abort the whole file at the first such cell
MAX_CELL_CHARS = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# a title and blank rows may sit above the header; further down it is not a header
HEADER_SEARCH_ROWS = 10
# a number format with a fixed count of decimals ("0.00", "#,##0.00")
_FIXED_DECIMALS = re.compile(r"[#,0]*0\.(0+)")

Cell = str | Decimal | dt.datetime | dt.date


class ImportFileError(Exception):
    """The file as a whole cannot be read; `line` is where the problem is (0: the file)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Table:
    header: list[str]  # column keys: `Company NIB` and `company_nib` are the same column
    rows: list[tuple[int, dict[str, Cell], int]]  # (line, cells, number of cells)
    kind: str  # csv | xlsx
    header_line: int = 1
    written: list[str] = field(default_factory=list)  # the header as the file writes it
    # a text file whose name says workbook: worth saying when its header is not found
    named_workbook: bool = False
    # a CSV's separator (None for a workbook): ';' tells how its numbers are written
    delimiter: str | None = None


def column_key(name: object) -> str:
    """A header cell as a column key; case, spaces, hyphens and underscores do not count."""
    return "_".join(str(name).replace("-", " ").replace("_", " ").lower().split())


def _header_index(rows: list[list[Cell]], expected: Collection[str]) -> int:
    """Which of the first rows is the header: the first that names two expected columns
    (else the first row, and the caller says what is missing)."""
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if len({column_key(c) for c in cells if isinstance(c, str)} & set(expected)) >= 2:
            return index
    return 0


def _table(rows: list[tuple[int, list[Cell]]], kind: str, expected: Collection[str]) -> Table:
    """The header row found, the rows below it keyed by column; blank rows dropped."""
    at = _header_index([cells for _, cells in rows], expected) if expected else 0
    line, header = rows[at]
    written = [str(h).strip() for h in header]
    names = [column_key(h) for h in written]
    body: list[tuple[int, dict[str, Cell], int]] = [
        (number, dict(zip(names, cells, strict=False)), len(cells))
        for number, cells in rows[at + 1 :]
        if any(c != "" and not (isinstance(c, str) and not c.strip()) for c in cells)
    ]
    return Table(names, body, kind, header_line=line, written=written)


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode Text" export
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x}); in Excel use "
            "Save As > 'CSV UTF-8 (Comma delimited)', or send the .xlsx workbook itself",
            line,
        ) from None


def _delimiter(first_line: str) -> str:
    """Excel in an Indonesian locale writes ';' (the comma is the decimal mark there)."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv_text(text: str, expected: Collection[str] = ()) -> Table:
    delimiter = _delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, MAX_CELL_CHARS))
    try:
        rows = list(_numbered(reader))
    except csv.Error as exc:
        raise ImportFileError(f"not a readable CSV table ({exc})", reader.line_num) from None
    finally:
        csv.field_size_limit(previous)
    filled: list[tuple[int, list[Cell]]] = [
        (line, list(cells)) for line, cells in rows if any(c.strip() for c in cells)
    ]
    if not filled:
        raise ImportFileError("the file is empty", 1)
    table = _table(filled, "csv", expected)
    table.delimiter = delimiter
    return table


def _numbered(reader: csv._reader) -> Iterator[tuple[int, list[str]]]:  # type: ignore[name-defined]
    """Rows with the line they start on (a quoted cell may span several lines)."""
    last = 0
    for count, cells in enumerate(reader):
        if count > MAX_ROWS:
            raise ImportFileError(f"more than {MAX_ROWS:,} rows; split the file", last + 1)
        yield last + 1, cells
        last = reader.line_num


def _xlsx_cell(value: object, number_format: str | None = None) -> Cell:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: 12.5, not 12.4999...
        number = Decimal(repr(value))
        # a cell formatted with fixed decimals shows 4412.10 where the float is 4412.1:
        # keep the zeros the officer sees (the same amount; an HS code needs them)
        fixed = _FIXED_DECIMALS.fullmatch(number_format or "")
        if fixed is not None:
            shown = number.quantize(Decimal(1).scaleb(-len(fixed.group(1))))
            if shown == number:
                return shown
        return number
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)


def read_xlsx(data: bytes, expected: Collection[str] = ()) -> Table:
    from openpyxl import load_workbook

    try:
        # read-only streams the sheet; data_only gives what Excel last computed for a
        # formula cell, never the formula itself
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(f"not a readable Excel workbook ({type(exc).__name__})") from None
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            raise ImportFileError("the workbook has no sheet")
        rows: list[tuple[int, list[Cell]]] = []
        for number, row in enumerate(ws.iter_rows(), start=1):
            cells = [_xlsx_cell(c.value, getattr(c, "number_format", None)) for c in row]
            while cells and cells[-1] == "":
                cells.pop()
            if not any(c != "" and not (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if len(rows) > MAX_ROWS:
                raise ImportFileError(f"more than {MAX_ROWS:,} rows; split the file", number)
            rows.append((number, cells))
    finally:
        wb.close()
    if not rows:
        raise ImportFileError("the sheet is empty", 1)
    return _table(rows, "xlsx", expected)


def read_table(path: Path | str, expected: Collection[str] = ()) -> Table:
    """A CSV or .xlsx file, told apart by content (an .xlsx is a zip), not by the name.
    `expected`: column keys that tell the header row from a title above it."""
    source = Path(path)
    size = source.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportFileError(f"the file has {size:,} bytes, at most {MAX_FILE_BYTES:,}; split it")
    data = source.read_bytes()
    if data.startswith(_ZIP_MAGIC):
        return read_xlsx(data, expected)
    if data.startswith(_OLE_MAGIC):
        raise ImportFileError(
            "an Excel 97-2003 workbook (.xls) or another Office file, which cannot be read; "
            "in Excel use Save As > 'Excel Workbook (.xlsx)' or 'CSV UTF-8'"
        )
    named_workbook = source.suffix.lower() in WORKBOOK_SUFFIXES
    try:
        text = _decode(data)
    except ImportFileError:
        if named_workbook:
            raise ImportFileError(
                f"the file is named {source.suffix} but is not an Excel workbook; "
                "save it again from Excel as 'Excel Workbook (.xlsx)'"
            ) from None
        raise
    # a CSV renamed .xlsx still imports: the content decides
    table = read_csv_text(text, expected)
    table.named_workbook = named_workbook
    return table
