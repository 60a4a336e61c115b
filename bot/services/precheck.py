"""Pre-submission check (/cek): small rules over an exporter's answers, most serious first.

Answers are kept as the exporter typed them (dates as ISO text); every rule parses what
it needs, so the bot, the command line and the tests all run the very same rules.
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete

from bot.config import Settings
from bot.db import Database
from bot.i18n import t
from bot.models import PrecheckSession, utcnow
from bot.safeload import InputFileError, load_file
from bot.services.calendar import OfficeCalendar
from knowledge.loader import Country, KnowledgeError, load_knowledge

STEPS = ("commodity", "hs_code", "destination", "form", "exporter_invoice", "exporter_peb",
         "consignee_invoice", "consignee_bl", "quantity", "gross_weight", "net_weight",
         "currency", "invoice_value", "shipment_date", "application_date")
SUMMARY = "summary"
OTHER = "other"
ERROR, WARNING, INFO = "error", "warning", "info"
_RANK = {ERROR: 0, WARNING: 1, INFO: 2}
ICONS = {ERROR: "❌", WARNING: "⚠️", INFO: "ℹ️"}
RETROACTIVE_AFTER = 3        # working days after shipment (Permendag 24/2018 as amended)
PROCESSING_DAYS = 1          # issuance within 1 working day of a complete application (art. 13)
MAX_ANSWER_CHARS = 200
_SAYS_CONFIRM = {"id": "konfirmasi ke petugas", "en": "confirm with the office"}
# an open check stops claiming the user's text after a day of silence: they moved on
IDLE_LIMIT = dt.timedelta(hours=24)
LEGAL_FORMS = frozenset({"PT", "CV", "UD", "CO", "LTD"})
CURRENCIES = ("USD", "EUR", "JPY", "CNY", "IDR")


# -- values a finding carries ----------------------------------------------------------


@dataclass(frozen=True)
class Msg:
    """A catalog text (trusted HTML), rendered in the reader's language."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Local:
    """A bilingual text from the knowledge base (trusted HTML)."""

    texts: Mapping[str, str]


@dataclass(frozen=True)
class Diff:
    """A compared name: (text, differs) segments; the differing ones are marked."""

    segments: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Bullets:
    """Items shown one per line (a checklist)."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    key: str
    values: Mapping[str, Any] = field(default_factory=dict)
    confirm: bool = False     # states a fact the office must confirm


# -- knowledge ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Commodity:
    id: str
    name: dict[str, str]
    aliases: tuple[str, ...]
    headings: tuple[str, ...]
    tropical: dict[str, str] | None = None
    note: dict[str, str] | None = None


@dataclass(frozen=True)
class PrecheckKB:
    countries: dict[str, Country]
    commodities: dict[str, Commodity]
    tropical_species: dict[str, str]

    def forms(self) -> tuple[str, ...]:
        """Every form the destinations table names, Form B first."""
        seen: dict[str, None] = {}
        for c in self.countries.values():
            seen.setdefault(c.non_preferential)
        for c in self.countries.values():
            for form in c.preferential:
                seen.setdefault(form)
        return tuple(seen)

    def find_commodity(self, text: str) -> str | None:
        key = text.strip().lower()
        if key in (OTHER, "lainnya", "lain"):
            return OTHER
        for c in self.commodities.values():
            if key == c.id or key in c.aliases or key in (n.lower() for n in c.name.values()):
                return c.id
        return None

    def find_country(self, text: str) -> str | None:
        key = text.strip()
        for c in self.countries.values():
            if key.upper() == c.iso or key in c.aliases_exact or key.lower() in c.aliases \
                    or key.lower() in (n.lower() for n in c.name.values()):
                return c.iso
        return None

    def find_form(self, text: str) -> str | None:
        key = " ".join(text.lower().split())
        for form in self.forms():
            short = form.split(" (")[0].lower()
            if key in (form.lower(), short, short.removeprefix("form ")):
                return form
        return None


def load_precheck_kb(directory: Path, countries: dict[str, Country] | None = None) -> PrecheckKB:
    """hs_codes.yaml plus the destinations table (reused when already loaded)."""
    if countries is None:
        countries = load_knowledge(directory).countries
    path = directory / "hs_codes.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError([f"hs_codes.yaml: cannot be read ({type(exc).__name__})"]) from None
    problems: list[str] = []
    commodities: dict[str, Commodity] = {}
    for item in raw.get("commodities") or []:
        cid = item.get("id") if isinstance(item, dict) else None
        headings = tuple(str(h) for h in item.get("headings") or []) if cid else ()
        if not cid or not headings or not all(h.isdigit() for h in headings):
            problems.append(f"hs_codes.yaml: {cid or 'an entry'}: needs an id and digit headings")
            continue
        commodities[cid] = Commodity(cid, dict(item["name"]), tuple(item.get("aliases") or []),
                                     headings, item.get("tropical"), item.get("note"))
    if not commodities:
        problems.append("hs_codes.yaml: no commodities")
    if problems:
        raise KnowledgeError(problems)
    return PrecheckKB(countries, commodities, dict(raw.get("tropical_species") or {}))


# -- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: Decimal
    style: str            # plain | id (1.234,56) | en (1,234.56) | ambiguous (1.234 / 1,234)
    decimals: int
    alternative: Decimal | None = None     # the decimal reading of an ambiguous number

    def english(self, decimals: int | None = None) -> str:
        return f"{self.value:,.{self.decimals if decimals is None else decimals}f}"


_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")


def _grouped(parts: list[str]) -> bool:
    return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])


def parse_number(text: str) -> Number | None:
    """'240.795,83' and '240,795.83' -> 240795.83; None when it is not one number."""
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if not _NUMBER_RE.fullmatch(s):
        return None
    seps = [ch for ch in s if ch in ".,"]
    if not seps:
        return Number(Decimal(s), "plain", 0)
    if len(set(seps)) == 2:
        dec = seps[-1]
        group = "," if dec == "." else "."
        whole, _, frac = s.rpartition(dec)
        if dec in whole or not _grouped(whole.split(group)):
            return None
        return Number(Decimal(whole.replace(group, "") + "." + frac),
                      "id" if dec == "," else "en", len(frac))
    sep = seps[0]
    style = "id" if sep == "." else "en"        # the separator used for thousands
    if len(seps) > 1:
        parts = s.split(sep)
        return Number(Decimal("".join(parts)), style, 0) if _grouped(parts) else None
    whole, frac = s.split(sep)
    if len(frac) == 3 and whole != "0":
        # 1.234 is 1234 in an Indonesian document and 1.234 in an English one
        return Number(Decimal(whole + frac), "ambiguous", 0, Decimal(f"{whole}.{frac}"))
    return Number(Decimal(f"{whole}.{frac}"), "en" if sep == "." else "id", len(frac))


def parse_measure(text: str) -> tuple[Number | None, str]:
    """'25.400 kg' -> (25400, 'kg'); the unit is what remains around the number."""
    m = _NUMBER_RE.search(text)
    if m is None:
        return None, ""
    unit = (text[:m.start()] + " " + text[m.end():]).strip(" .,:;()-")
    return parse_number(m.group()), " ".join(unit.split())


_KG_PER_UNIT = {"kg": 1, "kgs": 1, "kilo": 1, "kilogram": 1, "kilograms": 1,
                "t": 1000, "ton": 1000, "tons": 1000, "tonne": 1000, "tonnes": 1000,
                "mt": 1000, "g": Decimal("0.001"), "gr": Decimal("0.001"),
                "gram": Decimal("0.001")}

_MONTHS = {name: i + 1 for i, names in enumerate([
    ("jan", "januari", "january"), ("feb", "februari", "february", "pebruari"),
    ("mar", "maret", "march"), ("apr", "april"), ("mei", "may"), ("jun", "juni", "june"),
    ("jul", "juli", "july"), ("agu", "agt", "agus", "agustus", "aug", "august"),
    ("sep", "sept", "september"), ("okt", "oktober", "oct", "october"),
    ("nov", "nopember", "november"), ("des", "desember", "dec", "december"),
]) for name in names}
_TODAY_WORDS = ("today", "hari ini", "sekarang")


def parse_date(value: Any, today: dt.date | None = None) -> dt.date | None:
    """28-03-2025, 28/03/2025, 2025-03-28, 28 Maret 2025 (day first, as in Indonesia)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = " ".join(str(value).strip().lower().split())
    if today is not None and text in _TODAY_WORDS:
        return today
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text):
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        if (m := re.fullmatch(r"(\d{1,2})[ -]([a-z]+)\.?[ -](\d{4})", text)) and m[2] in _MONTHS:
            return dt.date(int(m[3]), _MONTHS[m[2]], int(m[1]))
    except ValueError:          # 31-02-2025
        return None
    return None


def hs_digits(text: str) -> str | None:
    """'4412.31' -> '441231'; None unless 4 to 10 digits with optional dots."""
    s = text.strip().replace(" ", "")
    if not re.fullmatch(r"\d+(?:\.\d+)*", s):
        return None
    digits = s.replace(".", "")
    return digits if 4 <= len(digits) <= 10 else None


def format_heading(digits: str) -> str:
    """'440131' -> '4401.31' (as headings are written)."""
    return digits[:4] + "".join(f".{digits[i:i + 2]}" for i in range(4, len(digits), 2))


def normalise_name(name: str) -> str:
    """Upper case, no punctuation, no legal forms: 'PT. Kayu Jaya, Ltd' -> 'KAYU JAYA'."""
    return " ".join(w for w in _name_words(name) if w not in LEGAL_FORMS)


def _name_words(name: str) -> list[str]:
    # dots vanish rather than split, so P.T. reads as PT and Co. as CO
    return re.sub(r"[^0-9A-Z]+", " ", name.upper().replace(".", "")).split()


def mark_differences(a: str, b: str) -> tuple[Diff, Diff]:
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        same = tag == "equal"
        if i2 > i1:
            left.append((a[i1:i2], not same))
        if j2 > j1:
            right.append((b[j1:j2], not same))
    return Diff(tuple(left)), Diff(tuple(right))


# -- rules: each returns findings for one concern -------------------------------------


def check_hs_format(hs: str) -> Finding | None:
    if hs_digits(hs) is None:
        return Finding(ERROR, "hs_format", "pc_f_hs_format", {"hs": hs})
    return None


def check_hs_heading(hs: str, commodity: Commodity | None) -> Finding | None:
    digits = hs_digits(hs)
    if digits is None or commodity is None or digits.startswith(commodity.headings):
        return None
    values: dict[str, Any] = {"hs": hs, "commodity": Local(commodity.name),
                              "expected": " / ".join(format_heading(h) for h in commodity.headings)}
    return Finding(ERROR, "hs_heading", "pc_f_hs_heading", values)


def note_hs(commodity: Commodity | None, species: Mapping[str, str]) -> list[Finding]:
    """The tropical-wood and heading notes where the subheading depends on them."""
    notes = []
    if commodity is not None and commodity.tropical:
        notes.append(Finding(INFO, "hs_tropical", "pc_f_hs_tropical",
                             {"note": Local(commodity.tropical), "species": Local(species)}))
    if commodity is not None and commodity.note:
        notes.append(Finding(INFO, "hs_note", "pc_f_hs_note", {"note": Local(commodity.note)}))
    notes.append(Finding(INFO, "hs_peb", "pc_f_hs_peb"))
    return notes


def _in_sentence(country: Country) -> dict[str, str]:
    """The country's name as it reads inside a sentence ("for the Netherlands")."""
    return {lang: country.name_in_sentence(lang) for lang in country.name}


def check_form_valid(form: str, country: Country) -> Finding | None:
    options = (*country.preferential, country.non_preferential)
    if form in options:
        return None
    return Finding(ERROR, "form_invalid", "pc_f_form_invalid",
                   {"form": form, "country": Local(_in_sentence(country)),
                    "options": ", ".join(options)})


def check_form_alternatives(form: str, country: Country) -> Finding | None:
    if form != country.non_preferential or not country.preferential:
        return None
    return Finding(WARNING, "form_alternatives", "pc_f_form_alternatives",
                   {"form": form, "country": Local(_in_sentence(country)),
                    "options": ", ".join(country.preferential)})


def note_destination(country: Country) -> list[Finding]:
    notes = []
    if country.note:
        notes.append(Finding(INFO, "destination_note", "pc_f_destination_note",
                             {"note": Local(country.note)}, confirm=country.confirm))
    if country.eu:
        notes.append(Finding(INFO, "eu_rex", "pc_f_eu_rex"))
    return notes


def check_names(left: str, right: str, party: str, left_doc: str, right_doc: str
                ) -> Finding | None:
    """Exporter (invoice vs PEB) or consignee (invoice vs B/L) spelled the same?"""
    a, b = normalise_name(left), normalise_name(right)
    values: dict[str, Any] = {"party": Msg(f"pc_party_{party}"), "left_doc": Msg(left_doc),
                              "right_doc": Msg(right_doc), "left": left, "right": right}
    if a != b:
        values["left_marked"], values["right_marked"] = mark_differences(a, b)
        return Finding(ERROR, f"{party}_name", "pc_f_name_differs", values)
    if left.strip() == right.strip():
        return None
    legal_a = {w for w in _name_words(left) if w in LEGAL_FORMS}
    legal_b = {w for w in _name_words(right) if w in LEGAL_FORMS}
    if legal_a != legal_b:
        return Finding(WARNING, f"{party}_legal_form", "pc_f_name_legal_form", values)
    return Finding(INFO, f"{party}_name_style", "pc_f_name_style", values)


def check_number(label: str, text: str) -> Finding | None:
    """Indonesian or ambiguous formats are restated as the SKA (English) wants them."""
    number, _ = parse_measure(text)
    values: dict[str, Any] = {"field": Msg(f"pc_label_{label}"), "text": text}
    if number is None:
        return Finding(ERROR, f"{label}_unreadable", "pc_f_number_unreadable", values)
    if number.style == "ambiguous":
        values.update(grouped=number.english(), decimal=f"{number.alternative:,.3f}")
        return Finding(WARNING, f"{label}_ambiguous", "pc_f_number_ambiguous", values)
    if number.style == "id":
        values["english"] = number.english()
        return Finding(INFO, f"{label}_format", "pc_f_number_restated", values)
    return None


def value_to_type(value: str, currency: str) -> Finding | None:
    number = parse_number(re.sub(r"[A-Za-z$€¥]", "", value))
    if number is None:
        return None
    return Finding(INFO, "value_to_type", "pc_f_value_to_type",
                   {"value": number.english(2), "currency": currency or ""})


def check_quantity_unit(quantity: str) -> Finding | None:
    number, unit = parse_measure(quantity)
    if number is not None and not unit:
        return Finding(WARNING, "quantity_unit", "pc_f_quantity_unit", {"text": quantity})
    return None


def weight_kg(text: str) -> Decimal | None:
    number, unit = parse_measure(text)
    factor = _KG_PER_UNIT.get(unit.lower())
    return None if number is None or factor is None else number.value * Decimal(factor)


def check_weights(gross: str, net: str) -> list[Finding]:
    found = []
    for label, text in (("gross_weight", gross), ("net_weight", net)):
        number, unit = parse_measure(text)
        if number is not None and unit.lower() not in _KG_PER_UNIT:
            key = "pc_f_weight_unit" if unit else "pc_f_weight_no_unit"
            found.append(Finding(WARNING, f"{label}_unit", key,
                                 {"field": Msg(f"pc_label_{label}"), "text": text}))
    g, n = weight_kg(gross), weight_kg(net)
    if g is not None and n is not None and n > g:
        found.insert(0, Finding(ERROR, "net_above_gross", "pc_f_net_above_gross",
                                {"gross": gross, "net": net}))
    return found


def retroactive_limit(form: str) -> tuple[Msg, bool]:
    """The agreement's time limit and whether the office must confirm it."""
    if form.startswith("Form E"):
        return Msg("pc_limit_form_e"), False
    if form.startswith("Form D"):
        return Msg("pc_limit_form_d"), False
    return Msg("pc_limit_other"), True


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:          # 29 February
        return day.replace(year=day.year + 1, month=3, day=1)


def check_dates(shipment: dt.date, application: dt.date, form: str, calendar: OfficeCalendar,
                today: dt.date) -> list[Finding]:
    found = []
    if shipment > today:
        found.append(Finding(WARNING, "shipment_future", "pc_f_shipment_future",
                             {"date": shipment.isoformat()}))
    if application < shipment:
        found.append(Finding(ERROR, "application_before_shipment", "pc_f_application_early",
                             {"shipment": shipment.isoformat(),
                              "application": application.isoformat()}))
        return found
    # The mark depends on the day of issuance, and a complete application may take up
    # to PROCESSING_DAYS to be issued: applying on day 3 can mean issuance on day 4.
    applied = calendar.working_days_between(shipment, application)
    issued_by = calendar.add_working_days(application, PROCESSING_DAYS)
    days = calendar.working_days_between(shipment, issued_by)
    if days <= RETROACTIVE_AFTER:
        return found
    limit, confirm = retroactive_limit(form)
    values = {"days": str(applied), "issue_days": str(days), "issued_by": issued_by.isoformat(),
              "deadline": calendar.add_working_days(
                  shipment, RETROACTIVE_AFTER - PROCESSING_DAYS).isoformat(),
              "limit": limit, "form": form or "-"}
    if applied <= RETROACTIVE_AFTER:
        # issued the same day it needs no mark, the next working day it does
        found.append(Finding(WARNING, "retroactive_risk", "pc_f_retroactive_risk", values))
        return found
    # Form B grants no preference, so the agreement's limit does not apply as such
    key = "pc_f_retroactive_form_b" if form == "Form B" else "pc_f_retroactive"
    found.append(Finding(ERROR, "retroactive", key, values, confirm=confirm))
    if issued_by > _one_year_after(shipment):
        found.append(Finding(ERROR, "beyond_limit", "pc_f_beyond_limit", values,
                             confirm=confirm))
    return found


DOCUMENTS = ("pc_doc_peb", "pc_doc_invoice", "pc_doc_packing", "pc_doc_bl", "pc_doc_cost")


def documents(hs: str, country: Country | None) -> Finding:
    """The supporting documents to prepare; V-Legal for wood (chapter 44)."""
    items = [Msg(key) for key in DOCUMENTS]
    if (hs_digits(hs) or "").startswith("44"):
        # the item itself says the upload must be confirmed with the office
        items.append(Msg("pc_doc_vlegal_eu" if country is not None and country.eu
                         else "pc_doc_vlegal"))
    return Finding(INFO, "documents", "pc_f_documents", {"items": Bullets(tuple(items))})


# -- the whole check ---------------------------------------------------------------------


def _text(answers: Mapping[str, Any], key: str) -> str:
    value = answers.get(key)
    return "" if value is None else str(value).strip()


def run_precheck(answers: Mapping[str, Any], calendar: OfficeCalendar, kb: PrecheckKB,
                 today: dt.date | None = None) -> list[Finding]:
    """Every rule over the answers; errors first, then warnings, then notes."""
    today = today or dt.datetime.now(calendar.tz).date()
    a = {key: _text(answers, key) for key in STEPS}
    found: list[Finding | None] = []
    missing = [key for key in STEPS if not a[key]]

    cid = kb.find_commodity(a["commodity"]) if a["commodity"] else None
    commodity = kb.commodities.get(cid or "")
    if a["commodity"] and cid is None:
        found.append(Finding(WARNING, "commodity_unknown", "pc_f_commodity_unknown",
                             {"text": a["commodity"]}))
    if a["hs_code"]:
        found += [check_hs_format(a["hs_code"]), check_hs_heading(a["hs_code"], commodity)]
        found += note_hs(commodity, kb.tropical_species)

    iso = kb.find_country(a["destination"]) if a["destination"] else None
    country = kb.countries.get(iso or "")
    if a["destination"] and country is None:
        found.append(Finding(WARNING, "destination_unknown", "pc_f_destination_unknown",
                             {"text": a["destination"]}))
    form = kb.find_form(a["form"]) or a["form"]
    if country is not None:
        if form:
            found += [check_form_valid(form, country), check_form_alternatives(form, country)]
        found += note_destination(country)

    for party, left, right, docs in (("exporter", "exporter_invoice", "exporter_peb",
                                      ("pc_doc_short_invoice", "pc_doc_short_peb")),
                                     ("consignee", "consignee_invoice", "consignee_bl",
                                      ("pc_doc_short_invoice", "pc_doc_short_bl"))):
        if a[left] and a[right]:
            found.append(check_names(a[left], a[right], party, *docs))

    for key in ("quantity", "gross_weight", "net_weight", "invoice_value"):
        number = check_number(key, a[key]) if a[key] else None
        # the invoice value is restated anyway by value_to_type below
        if number is not None and not (key == "invoice_value" and number.severity == INFO):
            found.append(number)
    if a["quantity"]:
        found.append(check_quantity_unit(a["quantity"]))
    if a["gross_weight"] and a["net_weight"]:
        found += check_weights(a["gross_weight"], a["net_weight"])
    if a["invoice_value"]:
        found.append(value_to_type(a["invoice_value"], a["currency"]))

    for key in ("shipment_date", "application_date"):
        if a[key] and parse_date(answers.get(key)) is None:
            found.append(Finding(ERROR, f"{key}_unreadable", "pc_f_date_unreadable",
                                 {"field": Msg(f"pc_label_{key}"), "text": a[key]}))
    shipment = parse_date(answers.get("shipment_date")) if a["shipment_date"] else None
    application = parse_date(answers.get("application_date")) if a["application_date"] else None
    if shipment is not None and application is not None:
        found += check_dates(shipment, application, form, calendar, today)

    found.append(documents(a["hs_code"], country))
    if missing:
        found.append(Finding(WARNING, "not_answered", "pc_f_not_answered",
                             {"fields": tuple(Msg(f"pc_label_{k}") for k in missing)}))
    # sorted() is stable: within a severity the rules keep the order of the issue
    return sorted((f for f in found if f is not None), key=lambda f: _RANK[f.severity])


# -- rendering ---------------------------------------------------------------------------


def render_value(value: Any, lang: str, markup: bool = True) -> str:
    if isinstance(value, Msg):
        return t(value.key, lang, **{k: render_value(v, lang, markup)
                                     for k, v in value.values.items()})
    if isinstance(value, Local):
        return value.texts.get(lang) or next(iter(value.texts.values()), "")
    if isinstance(value, Diff):
        parts = []
        for text, differs in value.segments:
            text = html.escape(text, quote=False) if markup else text
            if differs:
                text = f"<u><b>{text}</b></u>" if markup else f"[{text}]"
            parts.append(text)
        return "".join(parts)
    if isinstance(value, Bullets):
        return "".join(f"\n• {render_value(v, lang, markup)}" for v in value.items)
    if isinstance(value, tuple):
        return ", ".join(render_value(v, lang, markup) for v in value)
    # anything else came from the exporter: never rendered as HTML
    return html.escape(str(value), quote=False) if markup else str(value)


def render_finding(finding: Finding, lang: str, markup: bool = True) -> str:
    values = {k: render_value(v, lang, markup) for k, v in finding.values.items()}
    text = t(finding.key, lang, **values)
    if finding.confirm and _SAYS_CONFIRM[lang] not in text.lower():
        # a text that already says it (the UAE note) is not told twice
        text += " " + t("pc_confirm", lang)
    if not markup:
        return plain(text)
    return f"{ICONS[finding.severity]} {text}"


def plain(text: str) -> str:
    """Catalog HTML -> terminal text."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", text))


def answer_display(step: str, value: str, kb: PrecheckKB, lang: str) -> str:
    """How a stored answer reads in the summary (names of commodity and country)."""
    if step == "commodity":
        if value == OTHER:
            return t("pc_commodity_other", lang)
        if value in kb.commodities:
            return kb.commodities[value].name[lang]
    if step == "destination" and value in kb.countries:
        return kb.countries[value].name[lang]
    return html.escape(value, quote=False)


def render_summary(answers: Mapping[str, Any], findings: list[Finding], kb: PrecheckKB,
                   lang: str) -> str:
    lines = [t("pc_summary_title", lang), ""]
    for step in STEPS:
        value = _text(answers, step)
        shown = answer_display(step, value, kb, lang) if value else "-"
        lines.append(f"• {t(f'pc_label_{step}', lang)}: {shown}")
    lines += ["", t("pc_findings_title", lang)]
    lines += [render_finding(f, lang) for f in findings]
    lines += ["", t("pc_summary_hint", lang)]
    return "\n".join(lines)


# -- answers one at a time (the bot's flow) -------------------------------------------


def next_step(answers: Mapping[str, Any]) -> str:
    return next((s for s in STEPS if not _text(answers, s)), SUMMARY)


def _choice(find: Callable[[str], str | None]) -> Callable[[str], str | Msg]:
    def accept(text: str) -> str | Msg:
        return find(text) or Msg("pc_bad_choice")
    return accept


def _hs(text: str) -> str | Msg:
    return text.strip() if hs_digits(text) else Msg("pc_bad_hs", {"text": text})


def _name(text: str) -> str | Msg:
    return text.strip() if any(ch.isalpha() for ch in text) else Msg("pc_bad_name")


def _measure(text: str) -> str | Msg:
    number, _ = parse_measure(text)
    return " ".join(text.split()) if number is not None else Msg("pc_bad_measure")


def _money(text: str) -> str | Msg:
    bare = re.sub(r"[A-Za-z$€¥]", "", text)
    return text.strip() if parse_number(bare) is not None else Msg("pc_bad_number")


def _currency(text: str) -> str | Msg:
    code = text.strip().upper()
    return code if re.fullmatch(r"[A-Z]{3}", code) else Msg("pc_bad_currency")


def accept(step: str, text: str, kb: PrecheckKB, today: dt.date) -> str | Msg:
    """The value to store for an answer, or the message that asks again."""
    if len(text) > MAX_ANSWER_CHARS:
        return Msg("pc_bad_long", {"limit": str(MAX_ANSWER_CHARS)})
    if not text.strip():
        return Msg("pc_bad_empty")
    if step in ("shipment_date", "application_date"):
        day = parse_date(text, today if step == "application_date" else None)
        return day.isoformat() if day else Msg("pc_bad_date", {"text": text})
    accepts: dict[str, Callable[[str], str | Msg]] = {
        "commodity": _choice(kb.find_commodity), "destination": _choice(kb.find_country),
        "form": _choice(kb.find_form), "hs_code": _hs, "currency": _currency,
        "quantity": _measure, "gross_weight": _measure, "net_weight": _measure,
        "invoice_value": _money,
    }
    return accepts.get(step, _name)(text)


# -- state: one open check per user ------------------------------------------------------


def waiting_step(step: str, updated_at: dt.datetime, now: dt.datetime) -> str | None:
    """The question a check waits on: none once it reached the summary or went idle
    (then the user's text is a question for the FAQ again)."""
    if step == SUMMARY or now - updated_at > IDLE_LIMIT:
        return None
    return step


@dataclass(frozen=True)
class CheckState:
    step: str
    answers: dict[str, str]
    updated_at: dt.datetime


class PrecheckStore:
    """The PrecheckSession table: survives restarts, one row per user."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, user_id: int) -> CheckState | None:
        with self.db.session() as s:
            row = s.get(PrecheckSession, user_id)
            if row is None:
                return None
            updated = row.updated_at
            if updated.tzinfo is None:       # SQLite hands back naive UTC
                updated = updated.replace(tzinfo=dt.UTC)
            return CheckState(row.step, json.loads(row.answers or "{}"), updated)

    def save(self, user_id: int, step: str, answers: Mapping[str, str]) -> None:
        with self.db.session() as s:
            row = s.get(PrecheckSession, user_id)
            if row is None:
                row = PrecheckSession(user_id=user_id)
                s.add(row)
            row.step = step
            row.answers = json.dumps(dict(answers), ensure_ascii=False)
            row.updated_at = utcnow()

    def delete(self, user_id: int) -> bool:
        with self.db.session() as s:
            return s.execute(delete(PrecheckSession)
                             .where(PrecheckSession.user_id == user_id)).rowcount > 0


# -- command line ------------------------------------------------------------------------


# a file of answers to fifteen questions is under 2 KB
MAX_ANSWERS_BYTES = 64 * 1024

def cli_main(settings: Settings, path: str | Path, lang: str = "id") -> int:
    """`python -m bot precheck FILE`: the findings for a YAML or JSON file of answers."""
    source = Path(path)
    try:
        # JSON is YAML, so one reader serves both; no aliases ("billion laughs"), bounded
        answers = load_file(source, MAX_ANSWERS_BYTES)
    except InputFileError as exc:
        print(f"precheck: {exc}", file=sys.stderr)
        return 2
    if not isinstance(answers, dict):
        print(f"precheck: {source} must hold a mapping of answers ({', '.join(STEPS)})",
              file=sys.stderr)
        return 2
    calendar = OfficeCalendar(settings.office, settings.timezone)
    kb = load_precheck_kb(settings.knowledge_dir)
    unknown = sorted(set(answers) - set(STEPS))
    if unknown:
        print(f"precheck: ignored unknown keys: {', '.join(map(str, unknown))}", file=sys.stderr)
    findings = run_precheck(answers, calendar, kb)
    for finding in findings:
        text = render_finding(finding, lang, markup=False).replace("\n", "\n    ")
        print(f"{finding.severity.upper():8}{finding.code}: {text}")
    counts = {sev: sum(f.severity == sev for f in findings) for sev in _RANK}
    print(f"{counts[ERROR]} error(s), {counts[WARNING]} warning(s), {counts[INFO]} note(s)")
    return 0
