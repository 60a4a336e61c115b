"""CSV import of applications (re-import updates, never duplicates) and the demo data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Company, SkaApplication, StatusEvent
from bot.services.applications import STATUSES, ApplicationService, TransitionError, parse_status
from knowledge.loader import Country

if TYPE_CHECKING:
    from bot.services.documents import DocumentService

REQUIRED = ("ref", "company_nib", "company_name", "commodity", "hs_code", "destination", "form",
            "status", "note", "submitted_at", "volume_tonnes", "value_usd")
NUMBER_COLUMNS = ("volume_tonnes", "value_usd")
_ID_GROUPED = re.compile(r"^\d{1,3}(\.\d{3})+$")     # 1.234 : id thousands or en decimal
_EN_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+$")      # 1,234 : en thousands or id decimal


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    number_style: str = "none"       # id | en | none
    notes: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
               f"status changes {self.status_changes} (notified), rejected rows {len(self.errors)}",
               f"number format: {self.number_style}"]
        out += [f"note: {n}" for n in self.notes]
        out += [f"line {line}: {reason}" for line, reason in self.errors]
        return out


def _cell_style(text: str) -> str | None:
    """'id', 'en', 'ambiguous' or None (a plain integer) for one number as written."""
    text = text.strip().replace(" ", "")
    if "," in text and "." in text:
        return "id" if text.rfind(",") > text.rfind(".") else "en"
    if _ID_GROUPED.match(text) or _EN_GROUPED.match(text):
        return "ambiguous"
    if "," in text:
        return "id"
    if "." in text:
        return "en"
    return None


def detect_number_style(values: list[str]) -> tuple[str, str | None]:
    """The file's style and, when the file cannot tell for sure, a note saying so."""
    styles = {_cell_style(v) for v in values if v.strip()}
    styles.discard(None)
    decided = styles - {"ambiguous"}
    if decided == {"id", "en"}:
        return "mixed", "numbers mix 1.234,56 and 1,234.56 styles; fix the file"
    if decided:
        return decided.pop(), None
    if "ambiguous" in styles:
        return "en", ("numbers such as 1.234 or 1,234 can be read both ways; read as "
                      "1,234.56 style (point = decimal). Write decimals to make it clear")
    return "none", None


def parse_number(text: str, style: str) -> Decimal | None:
    text = text.strip().replace(" ", "")
    if not text:
        return None
    if style == "id":
        text = text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if value < 0:
        raise ValueError("negative amount")
    return value


def parse_when(text: str, tz: ZoneInfo) -> dt.datetime:
    """ISO date/datetime or dd/mm/yyyy (office time) -> aware UTC."""
    text = text.strip()
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
            raise ValueError(f"submitted_at {text!r} is not a date (YYYY-MM-DD)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(dt.UTC)


class Importer:
    def __init__(self, applications: ApplicationService, countries: dict[str, Country],
                 tz: ZoneInfo, documents: DocumentService | None = None) -> None:
        self.applications = applications
        self.tz = tz
        # optional column missing_documents: ids (';'-separated) that start missing
        self.documents = documents
        self._country = {}
        for c in countries.values():
            for name in (*c.aliases, c.iso.lower(), c.name["en"].lower(), c.name["id"].lower()):
                self._country.setdefault(name, c.name["en"])

    def destination(self, text: str) -> str:
        """ISO code or a name in Indonesian or English -> the English country name."""
        key = text.strip().lower()
        return self._country.get(key, text.strip())

    def import_csv(self, path: Path | str, actor: str = "import") -> ImportReport:
        raw = Path(path).read_text(encoding="utf-8-sig")
        return self.import_text(raw, actor)

    def import_text(self, raw: str, actor: str = "import") -> ImportReport:
        report = ImportReport()
        reader = csv.DictReader(io.StringIO(raw))
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            report.errors.append((1, f"missing columns: {', '.join(missing)}"))
            return report
        rows = list(reader)
        style, note = detect_number_style([r.get(c) or "" for r in rows for c in NUMBER_COLUMNS])
        report.number_style = style
        if note:
            report.notes.append(note)
        if style == "mixed":
            report.errors.append((1, note or "mixed number formats"))
            return report
        for line, row in enumerate(rows, start=2):
            try:
                with self.applications.db.session() as s:
                    self._row(s, row, style, actor, report)
            except (ValueError, TransitionError) as exc:
                reason = exc.key if isinstance(exc, TransitionError) else str(exc)
                if isinstance(exc, TransitionError):
                    reason = (f"status change {exc.values.get('old')} -> {exc.values.get('new')} "
                              f"is not allowed" if exc.key == "status_illegal" else exc.key)
                report.errors.append((line, reason))
        return report

    def _row(self, s: Session, row: dict[str, str], style: str, actor: str,
             report: ImportReport) -> None:
        ref = (row.get("ref") or "").strip()
        nib = (row.get("company_nib") or "").strip()
        if not ref:
            raise ValueError("ref is empty")
        if not nib:
            raise ValueError("company_nib is empty")
        status = parse_status(row.get("status") or "")
        if status is None:
            raise ValueError(f"status {row.get('status')!r} is not one of {', '.join(STATUSES)}")
        fields = {
            "commodity": (row.get("commodity") or "").strip(),
            "hs_code": (row.get("hs_code") or "").strip(),
            "destination": self.destination(row.get("destination") or ""),
            "form": (row.get("form") or "").strip(),
            "volume_tonnes": parse_number(row.get("volume_tonnes") or "", style),
            "value_usd": parse_number(row.get("value_usd") or "", style),
        }
        submitted = parse_when(row.get("submitted_at") or "", self.tz)
        note = (row.get("note") or "").strip()
        missing = self.documents.catalog.parse_ids(row.get("missing_documents") or "") \
            if self.documents is not None else []
        company = s.scalar(select(Company).where(Company.nib == nib))
        if company is None:
            name = (row.get("company_name") or "").strip()
            if not name:
                raise ValueError("company_name is empty for a new company")
            company = Company(nib=nib, name=name, npwp=(row.get("npwp") or "").strip() or None)
            s.add(company)
            s.flush()
        app = s.scalar(select(SkaApplication).where(SkaApplication.ref == ref).with_for_update())
        if app is None:
            app = SkaApplication(ref=ref, company_id=company.id, status=status, note=note,
                                 submitted_at=submitted, updated_at=submitted, **fields)
            s.add(app)
            s.flush()
            s.add(StatusEvent(application_id=app.id, from_status=None, to_status=status,
                              note=note, actor=actor, at=submitted))
            if self.documents is not None:
                self.documents.create_checklist(s, app, missing, actor)
            report.created += 1
            return
        if app.company_id != company.id:
            raise ValueError(f"ref {ref} belongs to another company")
        changed = any(getattr(app, k) != v for k, v in fields.items())
        for key, value in fields.items():
            setattr(app, key, value)
        # an application imported before checklists existed gets its checklist now
        if self.documents is not None and not self.documents.has_checklist(s, app.id):
            self.documents.create_checklist(s, app, missing, actor)
        if status != app.status:
            self.applications.change(s, app, status, note, actor)
            report.status_changes += 1
            report.updated += 1
        elif changed or note != app.note:
            app.note = note
            report.updated += 1
        else:
            report.unchanged += 1
