"""Import of applications from CSV or Excel (re-import updates, never duplicates).

Every row is validated before anything is written: a bad row is reported with its line,
column and reason and changes nothing; the good rows are imported. `check=True` is a dry
run that reports the same and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from bot.i18n import DEFAULT_LANG, lang_or_default, t
from bot.models import ChecklistItem, Company, SkaApplication, StatusEvent
from bot.services.applications import (
    STATUSES,
    TRANSITIONS,
    ApplicationService,
    lacks_reason,
    parse_status,
)
from bot.services.countries import stored_name
from bot.services.import_files import (
    HEADER_SEARCH_ROWS,
    Cell,
    ImportFileError,
    Table,
    read_csv_text,
    read_table,
)
from bot.services.notemarks import marked_line, visible
from bot.text import Written, format_number, plain, read_written
from knowledge.loader import Country, Place

if TYPE_CHECKING:
    from bot.services.documents import DocumentService

REQUIRED = (
    "ref",
    "company_nib",
    "company_name",
    "commodity",
    "hs_code",
    "destination",
    "form",
    "status",
    "note",
    "submitted_at",
    "volume_tonnes",
    "value_usd",
)
OPTIONAL = ("npwp", "missing_documents")
NUMBER_COLUMNS = ("volume_tonnes", "value_usd")
# the widths of the database columns (bot/models.py); PostgreSQL refuses longer values
TEXT_LIMITS = {
    "ref": 64,
    "company_nib": 32,
    "company_name": 200,
    "npwp": 32,
    "commodity": 120,
    "hs_code": 16,
    "destination": 64,
    "form": 64,
    "note": 1000,
    "missing_documents": 500,
}
# Numeric(14, 3) and Numeric(16, 2): the largest values the columns hold
NUMBER_LIMITS = {
    "volume_tonnes": (Decimal("99999999999.999"), Decimal("0.001")),
    "value_usd": (Decimal("99999999999999.99"), Decimal("0.01")),
}
EARLIEST = dt.date(2000, 1, 1)  # e-SKA is younger; earlier dates are typing slips
# 4 to 10 digits in pairs after the heading, dots optional: 4412, 4412.31, 4412.31.10
HS_CODE = re.compile(r"\d{4}(?:\.?\d{2}){0,3}")
ROWS_PER_TRANSACTION = 200


@dataclass(frozen=True)
class RowProblem:
    """Why one row (or the whole file, column None) was not imported."""

    line: int
    column: str | None
    reason: str

    def text(self) -> str:
        return f"{self.column}: {self.reason}" if self.column else self.reason

    def __str__(self) -> str:
        return f"line {self.line}, {self.text()}" if self.line else f"file: {self.text()}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    rows: int = 0
    number_style: str = "none"  # id | en | none
    check: bool = False  # a dry run: nothing was written
    notes: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    # imported, but something in the row deserves a look
    warnings: list[RowProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[tuple[int, str]]:
        """(line, 'column: reason') per problem."""
        return [(p.line, p.text()) for p in self.problems]

    def counts(self) -> tuple[int, int, int, int]:
        return self.created, self.updated, self.unchanged, self.status_changes

    def mark(self) -> tuple[tuple[int, int, int, int], int, int]:
        return self.counts(), len(self.problems), len(self.warnings)

    def restore(self, counts: tuple[int, int, int, int], problems: int, warnings: int | None = None) -> None:
        """Back to an earlier state (its rows were rolled back)."""
        self.created, self.updated, self.unchanged, self.status_changes = counts
        del self.problems[problems:]
        if warnings is not None:
            del self.warnings[warnings:]

    @property
    def bad_rows(self) -> int:
        return len({p.line for p in self.problems})

    def lines(self) -> list[str]:
        verb = "would be " if self.check else ""
        first = f"check only, nothing written: {self.rows} rows, " if self.check else f"{self.rows} rows: "
        out = [
            first + f"{verb}created {self.created}, {verb}updated {self.updated}, "
            f"unchanged {self.unchanged}, status changes {self.status_changes} "
            f"({verb}notified), rejected rows {self.bad_rows}"
            + (f", warnings {len(self.warnings)}" if self.warnings else ""),
        ]
        if self.number_style in NUMBER_STYLE_WORDS:
            out.append(NUMBER_STYLE_WORDS[self.number_style])
        out += [f"note: {n}" for n in self.notes]
        listed = [(p.line, str(p)) for p in self.problems]
        listed += [(w.line, f"line {w.line}, warning, {w.text()}") for w in self.warnings]
        out += [text for _, text in sorted(listed, key=lambda item: item[0])]
        return out


NUMBER_STYLE_WORDS = {
    "id": "amounts read as 1.234,56 (comma = decimal point)",
    "en": "amounts read as 1,234.56 (point = decimal point)",
}


@dataclass(frozen=True)
class _Reading:
    """How a file's amounts are read: the style, whether the file's evidence decided it
    (else a number such as 1.500 is refused), the language the officer reads reasons in."""

    style: str  # id | en | none
    decided: bool
    lang: str
    # each number cell's text read once for the whole file (Babel's strict reading is
    # ten times the cost of a regular expression)
    cells: dict[str, Written] = field(default_factory=dict)

    def read(self, text: str) -> Written:
        written = self.cells.get(text)
        return written if written is not None else read_written(text)


def ambiguous_reason(written: Written, lang: str) -> str:
    """Why a number is refused and how to write it: both readings, each written so that
    it reads one way only (the whole number without a separator, the other with decimals
    in the officer's style)."""
    whole, fraction = sorted(written.readings.values(), reverse=True)
    exponent = fraction.normalize().as_tuple().exponent
    decimals = max(2, -exponent if isinstance(exponent, int) else 0)
    # three decimals (1,234) would read both ways again
    decimals += decimals == 3
    return plain(
        t(
            "imp_number_ambiguous",
            lang,
            text=written.text[:40],
            whole=f"{whole:f}",
            fraction=format_number(fraction, lang, decimals),
        )
    )


class RowError(ValueError):
    """One bad cell of a row; `also`: more cells refused for the same cause, reported
    together so that the officer fixes them in one go."""

    def __init__(self, column: str | None, reason: str, also: tuple[RowError, ...] = ()) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason
        self.also = also


@dataclass(frozen=True)
class CleanRow:
    """A row that passed every check that needs no database."""

    line: int
    ref: str
    nib: str
    company_name: str
    npwp: str | None
    status: str
    note: str
    submitted: dt.datetime
    fields: dict[str, object]
    missing: list[str]
    warnings: tuple[RowProblem, ...] = ()


def _cell_style(cell: str | Written) -> str | None:
    """'id', 'en', 'ambiguous' (1.500) or None (a plain or unreadable number) as written."""
    style = (read_written(cell) if isinstance(cell, str) else cell).style
    return None if style in (None, "plain") else style


def detect_number_style(values: Iterable[str | Written], delimiter: str | None = None) -> tuple[str, str]:
    """What the file shows of its number style, and the style its amounts are read in.

    The evidence: a ';' separator (Excel writes one where the comma is the decimal mark,
    as in an Indonesian locale) and every number that only one style reads (1,5 or
    1.500.000 or 1.500,25; 1.5 or 1,500.25 or 1,500,000). It is 'id' or 'en' when it all
    agrees, 'mixed' when it does not (read in the style most of it shows, a tie in the
    office's own), 'none' when the file shows nothing. Only a decided style reads a
    number such as 1.500; see parse_amount."""
    votes = Counter(style for v in values if (style := _cell_style(v)) in ("id", "en"))
    if delimiter == ";":
        votes["id"] += 1
    if not votes:
        return "none", "none"
    read = "id" if votes["id"] >= votes["en"] else "en"
    return ("mixed" if len(votes) == 2 else read), read


class AmbiguousNumber(ValueError):
    """A number that reads differently in the two styles (1.500: 1500 or 1.5) in a file
    whose style is not decided: refused rather than guessed."""

    def __init__(self, written: Written) -> None:
        super().__init__(f"{written.text[:40]!r} reads {' or '.join(map(str, written.readings.values()))}")
        self.written = written


def parse_amount(
    cell: str | Written | Decimal, style: str | None, limit: tuple[Decimal, Decimal] | None = None
) -> Decimal | None:
    """A cell as written in the file's style (or an Excel number) -> Decimal; finite, not
    negative, in range. None for an empty cell. `style` 'id' or 'en' when the file decided
    it; otherwise a number the two styles read differently raises AmbiguousNumber."""
    if isinstance(cell, Decimal):
        value, shown = cell, str(cell)
    else:
        written = read_written(cell) if isinstance(cell, str) else cell
        shown = written.text[:40]
        if not shown:
            return None
        readings = written.readings
        if not readings:
            raise ValueError(f"{shown!r} is not a number")
        if any(v.is_finite() and v < 0 for v in readings.values()):
            raise ValueError("negative amount")
        if style in ("id", "en"):
            if style not in readings:  # well formed only in the other style
                raise ValueError(f"{shown!r} is not a number")
            value = readings[style]
        elif written.style == "ambiguous":
            raise AmbiguousNumber(written)
        else:  # one reading, or two that agree
            value = next(iter(readings.values()))
    # Decimal reads NaN and Infinity (and Excel may hand one over); neither is an amount
    if not value.is_finite():
        raise ValueError(f"{shown!r} is not a number")
    if value < 0:
        raise ValueError("negative amount")
    if limit is not None:
        top, step = limit
        if value > top:
            raise ValueError(f"{shown!r} is too large (at most {top:,})")
        value = value.quantize(step)
    return value


def parse_when(text: Cell, tz: ZoneInfo, latest: dt.datetime | None = None) -> dt.datetime:
    """ISO date/datetime or dd/mm/yyyy (office time) -> aware UTC, in a sane window."""
    if isinstance(text, dt.datetime):
        moment = text
    elif isinstance(text, dt.date):
        moment = dt.datetime.combine(text, dt.time())
    else:
        text = str(text).strip()
        for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y"):
            try:
                moment = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            try:
                moment = dt.datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if moment.date() < EARLIEST:
        raise ValueError(f"{moment.date()} is before {EARLIEST}")
    latest = latest or dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    if moment > latest:
        raise ValueError(f"{moment.date()} is in the future")
    return moment.astimezone(dt.UTC)


def clean_text(value: Cell, column: str, required: bool = False) -> str:
    """A text cell, stripped, refused when it could not be stored or shown as written."""
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    text = str(value).strip()
    if "\x00" in text:
        raise RowError(column, "contains a NUL byte")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise RowError(column, "contains control characters")
    limit = TEXT_LIMITS[column]
    if len(text) > limit:
        raise RowError(column, f"{len(text):,} characters, at most {limit:,}")
    if required and not text:
        raise RowError(column, "empty")
    if column != "note" and ("\n" in text or "\r" in text):
        raise RowError(column, "contains a line break")
    return text


def hs_code(cell: Cell) -> str:
    """An HS code as the officer wrote it; refused when it is not one, or when a number
    cell may have lost a digit (Excel keeps 4412.10 as the number 4412.1)."""
    if isinstance(cell, Decimal):
        exponent = cell.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        text = f"{cell:f}"
        if decimals not in (0, 2) or not HS_CODE.fullmatch(text):
            raise RowError(
                "hs_code",
                f"read as the number {text}: a number cell drops trailing zeros (4412.10 "
                "becomes 4412.1); format the column as Text in Excel and type the code again",
            )
        return text
    text = clean_text(cell, "hs_code")
    if text and not HS_CODE.fullmatch(text):
        raise RowError("hs_code", f"{text[:40]!r} is not an HS code (4 to 10 digits: 4412.31 or 4412.31.10)")
    return text


def _same_name(name: str) -> str:
    """A company name without the differences nobody means: case, dots, spaces."""
    return " ".join(re.sub(r"[\W_]+", " ", name).casefold().split())


def _form_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower().removeprefix("form "))


def _form_keys(form: str) -> set[str]:
    """How a form may be written: 'Form E (ACFTA)' as Form E, E, ACFTA or the whole."""
    match = re.fullmatch(r"(.*?)\s*\(([^()]*)\)", form.strip())
    names = [form] if match is None else [form, match.group(1), match.group(2)]
    return {key for name in names if (key := _form_key(name))}


def _suggest(key: str, known: dict[str, str]) -> str:
    """'; did you mean X?' with the known name closest to how `key` was written."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    return f"; did you mean {known[close[0]]!r}?" if close else ""


class _DryRun(Exception):
    """Raised inside the check run's transaction so that it is rolled back."""


class Importer:
    def __init__(
        self,
        applications: ApplicationService,
        countries: dict[str, Country],
        tz: ZoneInfo,
        documents: DocumentService | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        places: dict[str, Place] | None = None,
    ) -> None:
        self.applications = applications
        self.tz = tz
        # optional column missing_documents: ids (';'-separated) that start missing
        self.documents = documents
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._country: dict[str, str] = {}
        # the forms the knowledge base gives each destination (none for a place it knows
        # only by name), and every way a known form may be written
        self._forms_of: dict[str, set[str] | None] = {}
        self._form: dict[str, str] = {}
        for c in countries.values():
            # stored as the English label, which every reader's CountryNames maps to their
            # language: the in-sentence "the United States" was shown as is in Indonesian
            stored = stored_name(c.name["en"])
            for name in (*c.aliases, c.iso, c.name["en"], stored, c.name["id"]):
                self._country.setdefault(name.lower(), stored)
            keys: set[str] = set()
            for form in (*c.preferential, c.non_preferential):
                keys |= _form_keys(form)
                for key in _form_keys(form):
                    self._form.setdefault(key, form)
            self._forms_of[stored] = keys
        for p in (places or {}).values():
            name = stored_name(p.name["en"])
            for alias in (*p.aliases, *p.aliases_exact, *p.aliases_cued, p.iso, p.name["en"], p.name["id"]):
                self._country.setdefault(alias.lower(), name)
            self._forms_of.setdefault(name, None)

    def destination(self, text: str) -> str:
        """ISO code or a name in Indonesian or English -> the name applications record
        (the English label: "United States", "Japan")."""
        key = text.strip().lower()
        return self._country.get(key, text.strip())

    def _destination_and_form(self, text: dict[str, str]) -> tuple[str, list[RowProblem]]:
        """The destination's stored name; a destination the knowledge base does not know
        is refused. A form is only flagged: the knowledge base names forms its own way
        (Form AJCEP, where e-SKA may say Form AJ), and a good row must not be lost."""
        written = text["destination"]
        destination = self.destination(written)
        if not self._forms_of:  # no knowledge base to check against
            return destination, []
        if written and destination not in self._forms_of:
            raise RowError(
                "destination",
                f"{written[:40]!r} is not a country the office knows (ISO code or name: JP, Jepang, "
                f"Japan){_suggest(written.strip().lower(), self._country)}",
            )
        form = text["form"]
        key = _form_key(form)
        if not form:
            return destination, []
        forms = self._forms_of.get(destination)
        if key not in self._form:
            if forms is None and destination:
                why = f"{form[:40]!r}: the office's forms table has no row for {destination}"
            else:
                why = f"{form[:40]!r} is not a form the office knows{_suggest(key, self._form)}"
            return destination, [RowProblem(0, "form", why + "; imported as written, please check")]
        if forms is not None and key not in forms:
            return destination, [
                RowProblem(0, "form", f"{form[:40]!r} is not among the forms for {destination}; please check")
            ]
        return destination, []

    # -- entry points ----------------------------------------------------------------------

    def import_file(
        self, path: Path | str, actor: str = "import", check: bool = False, lang: str = DEFAULT_LANG
    ) -> ImportReport:
        """A CSV or .xlsx file (told apart by content). OSError when it cannot be opened.
        `lang`: the officer's language, for the reasons that tell how to write a cell."""
        try:
            table = read_table(path, REQUIRED + OPTIONAL)
        except ImportFileError as exc:
            return _file_problem(exc, check)
        return self.import_table(table, actor, check, lang)

    import_csv = import_file

    def import_text(
        self, raw: str, actor: str = "import", check: bool = False, lang: str = DEFAULT_LANG
    ) -> ImportReport:
        try:
            table = read_csv_text(raw, REQUIRED + OPTIONAL)
        except ImportFileError as exc:
            return _file_problem(exc, check)
        return self.import_table(table, actor, check, lang)

    def import_table(
        self, table: Table, actor: str = "import", check: bool = False, lang: str = DEFAULT_LANG
    ) -> ImportReport:
        report = ImportReport(check=check, rows=len(table.rows))
        problem = _header_problem(table)
        if problem is not None:
            report.problems.append(RowProblem(table.header_line, None, problem))
            return report
        unknown = _unknown_columns(table, REQUIRED + OPTIONAL)
        if unknown:
            report.notes.append(f"ignored columns: {unknown}")
        cells: dict[str, Written] = {}
        written: list[Written] = []  # every cell: a value in many rows counts as often
        for _, row, _ in table.rows:
            for column in NUMBER_COLUMNS:
                if isinstance(text := row.get(column) or "", str):
                    if text not in cells:
                        cells[text] = read_written(text)
                    written.append(cells[text])
        evidence, style = detect_number_style(written, table.delimiter)
        if evidence == "mixed":
            # one row typed the other way must not cost the whole file: the style most
            # numbers use wins, the rows written the other way are refused, and so is a
            # number that reads both ways (the file does not settle it)
            report.notes.append(
                f"numbers mix 1.234,56 and 1,234.56 styles; read as "
                f"{'1.234,56' if style == 'id' else '1,234.56'} (most numbers), rows "
                "written the other way or with a number that reads both ways (1.500) are refused"
            )
        report.number_style = style
        reading = _Reading(style, evidence in ("id", "en"), lang_or_default(lang), cells)
        clean = self._validate(table, reading, report)
        self._write(clean, actor, report, check)
        return report

    # -- validation (no database) ----------------------------------------------------------

    def _validate(self, table: Table, reading: _Reading, report: ImportReport) -> list[CleanRow]:
        clean: list[CleanRow] = []
        seen: dict[str, int] = {}
        latest = self.clock() + dt.timedelta(days=1)
        width = len(table.header)
        for line, row, count in table.rows:
            try:
                if count > width:
                    raise RowError(None, f"{count} cells, but the header has {width} columns")
                parsed = self._clean(line, row, reading, latest)
            except RowError as exc:
                report.problems += [RowProblem(line, e.column, e.reason) for e in (exc, *exc.also)]
                continue
            # "D-1" and "d-1" in one file would be two applications of one shipment
            if parsed.ref.lower() in seen:
                report.problems.append(
                    RowProblem(line, "ref", f"{parsed.ref} is already on line {seen[parsed.ref.lower()]}")
                )
                continue
            seen[parsed.ref.lower()] = line
            clean.append(parsed)
        return clean

    def _clean(self, line: int, row: dict[str, Cell], reading: _Reading, latest: dt.datetime) -> CleanRow:
        text = {c: clean_text(row.get(c) or "", c) for c in TEXT_LIMITS}
        # a ref pasted with a zero-width character or in full-width letters is the same ref
        text["ref"] = unicodedata.normalize("NFKC", visible(text["ref"]))
        for column in ("ref", "company_nib"):
            if not text[column]:
                raise RowError(column, "empty")
        status = parse_status(text_status := str(row.get("status") or "").strip())
        if status is None:
            raise RowError("status", f"{text_status[:40]!r} is not one of {', '.join(STATUSES)}")
        numbers: dict[str, Decimal | None] = {}
        style = reading.style
        ambiguous: list[RowError] = []
        for column in NUMBER_COLUMNS:
            cell = row.get(column) or ""
            written = reading.read(cell) if isinstance(cell, str) else cell
            as_written = _cell_style(written) if isinstance(written, Written) else None
            if as_written in ("id", "en") and as_written != style:
                raise RowError(
                    column,
                    f"{str(cell)[:40]!r} is written in the other number style; "
                    f"this file uses {'1.234,56' if style == 'id' else '1,234.56'}",
                )
            try:
                numbers[column] = parse_amount(
                    written if isinstance(written, Written | Decimal) else str(written),
                    style if reading.decided else None,
                    NUMBER_LIMITS[column],
                )
            except AmbiguousNumber as exc:
                ambiguous.append(RowError(column, ambiguous_reason(exc.written, reading.lang)))
            except ValueError as exc:
                raise RowError(column, str(exc)) from None
        if ambiguous:
            raise RowError(ambiguous[0].column, ambiguous[0].reason, tuple(ambiguous[1:]))
        try:
            submitted = parse_when(row.get("submitted_at") or "", self.tz, latest)
        except ValueError as exc:
            raise RowError("submitted_at", str(exc)) from None
        hs = hs_code(row.get("hs_code") or "")
        mark = marked_line(text["note"])
        if mark is not None:
            # the note is pushed to the exporter: what an officer marked internal stays out
            raise RowError(
                "note", f"a line starts with {mark!r}, an internal mark; the note reaches the exporter"
            )
        destination, warnings = self._destination_and_form(text)
        if len(destination) > TEXT_LIMITS["destination"]:
            raise RowError("destination", "too long")
        try:
            missing = (
                self.documents.catalog.parse_ids(text["missing_documents"])
                if self.documents is not None
                else []
            )
        except ValueError as exc:
            raise RowError("missing_documents", str(exc)) from None
        return CleanRow(
            line=line,
            ref=text["ref"],
            nib=text["company_nib"],
            company_name=text["company_name"],
            npwp=text["npwp"] or None,
            status=status,
            note=text["note"],
            submitted=submitted,
            fields={
                "commodity": text["commodity"],
                "hs_code": hs,
                "destination": destination,
                "form": text["form"],
                **numbers,
            },
            missing=missing,
            warnings=tuple(RowProblem(line, w.column, w.reason) for w in warnings),
        )

    # -- writing ---------------------------------------------------------------------------

    def _write(self, rows: list[CleanRow], actor: str, report: ImportReport, check: bool) -> None:
        """Good rows in batches of one transaction each. Every rule is checked before a row
        changes anything, so a refused row needs no rollback; should the database still
        refuse one, its batch is rolled back and redone a row at a time, each in a
        savepoint, so that only that row is lost. A check run rolls everything back."""
        size = len(rows) if check else ROWS_PER_TRANSACTION
        for i in range(0, len(rows), size or 1):
            batch = rows[i : i + size]
            before = report.mark()
            try:
                self._batch(batch, actor, report, check, savepoints=False)
            except SQLAlchemyError:
                report.restore(*before)
                self._batch(batch, actor, report, check, savepoints=True)

    def _batch(
        self, batch: list[CleanRow], actor: str, report: ImportReport, check: bool, savepoints: bool
    ) -> None:
        db = self.applications.db
        try:
            with db.session() as s:
                if s.get_bind().dialect.name == "sqlite":
                    # pysqlite opens no transaction before the first write, so a first
                    # SAVEPOINT would become the outer transaction and its RELEASE a
                    # commit. Open it ourselves (and take the write lock now rather than
                    # fail to upgrade a read lock halfway).
                    s.connection().exec_driver_sql("BEGIN IMMEDIATE")
                known = _Known.load(s, batch)
                if savepoints:
                    for row in batch:
                        self._saved_row(s, row, actor, report, known)
                else:
                    self._fast(s, batch, actor, report, known)
                if check:
                    raise _DryRun
        except _DryRun:
            pass

    def _checked_row(
        self, s: Session, row: CleanRow, actor: str, report: ImportReport, known: _Known
    ) -> None:
        try:
            self._row(s, row, actor, report, known)
        except RowError as exc:
            report.problems.append(RowProblem(row.line, exc.column, exc.reason))

    def _saved_row(self, s: Session, row: CleanRow, actor: str, report: ImportReport, known: _Known) -> None:
        counts, _, warnings = report.mark()
        try:
            with s.begin_nested():
                self._checked_row(s, row, actor, report, known)
                s.flush()
        except SQLAlchemyError as exc:
            report.restore(counts, len(report.problems), warnings)
            known.forget(row)
            # nothing above should leave the database anything to refuse; if it does,
            # say so in a line rather than lose the rest of the file
            name = type(getattr(exc, "orig", None) or exc).__name__
            report.problems.append(RowProblem(row.line, None, f"the database refused the row ({name})"))

    def _fast(
        self, s: Session, batch: list[CleanRow], actor: str, report: ImportReport, known: _Known
    ) -> None:
        """The batch in a few statements: new companies, then new applications, then their
        history and checklists, each kind inserted together (one round trip for many)."""
        pending: list[tuple[CleanRow, Company, SkaApplication | None]] = []
        for row in batch:
            try:
                company, app = self._check(row, known, report)
            except RowError as exc:
                report.problems.append(RowProblem(row.line, exc.column, exc.reason))
                continue
            if company is None:
                company = Company(nib=row.nib, name=row.company_name, npwp=row.npwp)
                s.add(company)
                known.companies[row.nib] = company
            pending.append((row, company, app))
        s.flush()
        created = []
        for row, company, app in pending:
            if app is None:
                created.append((row, self._new_app(s, row, company, known)))
            else:
                self._update(s, row, app, actor, report, known)
        s.flush()
        for row, app in created:
            self._history(s, row, app, actor, report, known)

    def _row(self, s: Session, row: CleanRow, actor: str, report: ImportReport, known: _Known) -> None:
        """One row on its own (the careful path, inside a savepoint)."""
        company, app = self._check(row, known, report)
        if company is None:
            company = Company(nib=row.nib, name=row.company_name, npwp=row.npwp)
            s.add(company)
            s.flush()
            known.companies[row.nib] = company
        if app is None:
            app = self._new_app(s, row, company, known)
            s.flush()
            self._history(s, row, app, actor, report, known)
        else:
            self._update(s, row, app, actor, report, known)

    @staticmethod
    def _check(
        row: CleanRow, known: _Known, report: ImportReport
    ) -> tuple[Company | None, SkaApplication | None]:
        """Every rule that needs the database, before anything changes: a row refused here
        has changed nothing. The row's warnings are reported once it passes."""
        company = known.companies.get(row.nib)
        if company is None and not row.company_name:
            raise RowError("company_name", "empty for a new company")
        app = known.apps.get(row.ref)
        stored = known.alike.get(row.ref.lower())
        if app is None and stored is not None and stored != row.ref:
            # a second application that differs only by case would split one shipment
            raise RowError(
                "ref", f"{row.ref!r} differs from the stored {stored!r} only by case: write it as stored"
            )
        changes = app is None or app.status != row.status
        if changes and lacks_reason(row.status, row.note):
            # the exporter is told to act on the officer's note: there must be one
            raise RowError("note", f"a reason is required when the status is {row.status}")
        if app is not None:
            if company is None or app.company_id != company.id:
                raise RowError("company_nib", f"ref {row.ref} belongs to another company")
            if row.status != app.status and row.status not in TRANSITIONS[app.status]:
                raise RowError("status", f"status change {app.status} -> {row.status} is not allowed")
        report.warnings.extend(row.warnings)
        renamed = company is not None and _same_name(company.name) != _same_name(row.company_name)
        if company is not None and row.company_name and renamed:
            # the NIB identifies the company; a name typed another way must not rename it
            report.warnings.append(
                RowProblem(
                    row.line,
                    "company_name",
                    f"{row.company_name[:60]!r} differs from {company.name[:60]!r}, the name "
                    f"already stored for NIB {row.nib}; the stored name is kept",
                )
            )
        return company, app

    @staticmethod
    def _new_app(s: Session, row: CleanRow, company: Company, known: _Known) -> SkaApplication:
        app = SkaApplication(
            ref=row.ref,
            company_id=company.id,
            status=row.status,
            note=row.note,
            submitted_at=row.submitted,
            updated_at=row.submitted,
            **row.fields,
        )
        s.add(app)
        known.apps[row.ref] = app
        known.alike.setdefault(row.ref.lower(), row.ref)
        return app

    def _history(
        self, s: Session, row: CleanRow, app: SkaApplication, actor: str, report: ImportReport, known: _Known
    ) -> None:
        """A new application's first status event and its checklist."""
        s.add(
            StatusEvent(
                application_id=app.id,
                from_status=None,
                to_status=row.status,
                note=row.note,
                actor=actor,
                at=row.submitted,
            )
        )
        if self.documents is not None:
            self.documents.create_checklist(s, app, row.missing, actor, fresh=True)
            known.with_checklist.add(app.id)
        report.created += 1

    def _update(
        self, s: Session, row: CleanRow, app: SkaApplication, actor: str, report: ImportReport, known: _Known
    ) -> None:
        fields = row.fields
        changed = any(getattr(app, k) != v for k, v in fields.items())
        for key, value in fields.items():
            setattr(app, key, value)
        # an application imported before checklists existed gets its checklist now
        if self.documents is not None and app.id not in known.with_checklist:
            self.documents.create_checklist(s, app, row.missing, actor)
            known.with_checklist.add(app.id)
        if row.status != app.status:
            self.applications.change(s, app, row.status, row.note, actor)
            report.status_changes += 1
            report.updated += 1
        elif changed or row.note != app.note:
            app.note = row.note
            report.updated += 1
        else:
            report.unchanged += 1


@dataclass
class _Known:
    """What a batch's rows find in the database, read in three queries instead of three
    per row."""

    companies: dict[str, Company]
    apps: dict[str, SkaApplication]
    with_checklist: set[int]
    alike: dict[str, str] = field(default_factory=dict)  # lower-case ref -> the stored one

    @classmethod
    def load(cls, s: Session, batch: list[CleanRow]) -> _Known:
        nibs = sorted({r.nib for r in batch})
        refs = sorted({r.ref for r in batch})
        companies = {c.nib: c for c in s.scalars(select(Company).where(Company.nib.in_(nibs)))}
        # locked: an officer's /setstatus on one of them waits for this batch
        apps = {
            a.ref: a
            for a in s.scalars(select(SkaApplication).where(SkaApplication.ref.in_(refs)).with_for_update())
        }
        # new refs that a stored one differs from only by case (one query a batch)
        fresh = sorted({r.lower() for r in refs if r not in apps})
        alike = {a.lower(): a for a in apps}
        if fresh:
            alike |= {
                ref.lower(): ref
                for ref in s.scalars(
                    select(SkaApplication.ref).where(func.lower(SkaApplication.ref).in_(fresh))
                )
            }
        ids = [a.id for a in apps.values()]
        with_checklist = (
            set(
                s.scalars(
                    select(ChecklistItem.application_id)
                    .where(ChecklistItem.application_id.in_(ids))
                    .distinct()
                )
            )
            if ids
            else set()
        )
        return cls(companies, apps, with_checklist, alike)

    def forget(self, row: CleanRow) -> None:
        """A row rolled back to its savepoint: what it created is gone again."""
        for key, table in ((row.nib, self.companies), (row.ref, self.apps)):
            obj = table.get(key)
            if obj is not None and not instance_state(obj).persistent:
                del table[key]


def _unknown_columns(table: Table, wanted: tuple[str, ...]) -> str:
    """The columns not recognised, as written, each with the closest wanted one."""
    out = []
    for key, written in zip(table.header, table.written or table.header, strict=False):
        if not key or key in REQUIRED + OPTIONAL:
            continue
        close = difflib.get_close_matches(key, wanted, n=1, cutoff=0.6)
        out.append(f"{written[:40]!r}" + (f" (did you mean {close[0]}?)" if close else ""))
    return ", ".join(out)


def _header_problem(table: Table) -> str | None:
    """What is wrong with the header, in words an officer can act on; None when it is fine."""
    known = [key for key in table.header if key in REQUIRED + OPTIONAL]
    twice = sorted({key for key in known if known.count(key) > 1})
    if twice:
        # which one would win is a guess: the officer decides (`Status` beside `status`)
        return f"columns given twice: {', '.join(twice)} (keep one of each)"
    missing = tuple(c for c in REQUIRED if c not in table.header)
    if not missing:
        return None
    if len(missing) == len(REQUIRED):
        what = (
            "the file is named like an Excel workbook but is not one (it holds text), and "
            if table.named_workbook
            else ""
        )
        return (
            f"{what}no header row found in the first {HEADER_SEARCH_ROWS} rows: the header names "
            f"the columns {', '.join(REQUIRED)} (see README, 'Application import format')"
        )
    text = f"missing columns: {', '.join(missing)}"
    unknown = _unknown_columns(table, missing)
    return text + (f"; columns not recognised: {unknown}" if unknown else "")


def _file_problem(exc: ImportFileError, check: bool) -> ImportReport:
    report = ImportReport(check=check)
    report.problems.append(RowProblem(exc.line, None, str(exc)))
    return report
