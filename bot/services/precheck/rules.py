"""The rules of the check, most serious first; each returns findings for one concern."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.services.calendar import OfficeCalendar
from bot.services.precheck.knowledge import OTHER, Commodity, PrecheckKB
from bot.services.precheck.model import (
    ERROR,
    INFO,
    RANK,
    STEPS,
    WARNING,
    Bullets,
    Finding,
    Local,
    Msg,
    answer_text,
)
from bot.services.precheck.parsing import (
    KG_PER_UNIT,
    LEGAL_FORMS,
    format_heading,
    hs_digits,
    mark_differences,
    money_currency,
    name_words,
    normalise_name,
    parse_date,
    parse_measure,
    parse_money,
)
from bot.text import format_number
from knowledge.loader import Country

RETROACTIVE_AFTER = 3  # working days after shipment (Permendag 24/2018 as amended)
PROCESSING_DAYS = 1  # issuance within 1 working day of a complete application (art. 13)


def check_hs_format(hs: str) -> Finding | None:
    if hs_digits(hs) is None:
        return Finding(ERROR, "hs_format", "pc_f_hs_format", {"hs": hs})
    return None


def check_hs_heading(hs: str, commodity: Commodity | None) -> Finding | None:
    digits = hs_digits(hs)
    if digits is None or commodity is None or digits.startswith(commodity.headings):
        return None
    values: dict[str, Any] = {
        "hs": hs,
        "commodity": Local(commodity.name),
        "expected": " / ".join(format_heading(h) for h in commodity.headings),
    }
    return Finding(ERROR, "hs_heading", "pc_f_hs_heading", values)


def note_hs(commodity: Commodity | None, species: Mapping[str, str]) -> list[Finding]:
    """The tropical-wood and heading notes where the subheading depends on them."""
    notes = []
    if commodity is not None and commodity.tropical:
        notes.append(
            Finding(
                INFO,
                "hs_tropical",
                "pc_f_hs_tropical",
                {"note": Local(commodity.tropical), "species": Local(species)},
            )
        )
    if commodity is not None and commodity.note:
        notes.append(Finding(INFO, "hs_note", "pc_f_hs_note", {"note": Local(commodity.note)}))
    notes.append(Finding(INFO, "hs_peb", "pc_f_hs_peb"))
    return notes


def _day(day: dt.date) -> str:
    """A date as the bot writes every date (day first, as Indonesian documents do)."""
    return f"{day:%d-%m-%Y}"


def _in_sentence(country: Country) -> dict[str, str]:
    """The country's name as it reads inside a sentence ("for the Netherlands")."""
    return {lang: country.name_in_sentence(lang) for lang in country.name}


def check_form_valid(form: str, country: Country) -> Finding | None:
    options = (*country.preferential, country.non_preferential)
    if form in options:
        return None
    return Finding(
        ERROR,
        "form_invalid",
        "pc_f_form_invalid",
        {"form": form, "country": Local(_in_sentence(country)), "options": ", ".join(options)},
    )


def check_form_alternatives(form: str, country: Country) -> Finding | None:
    if form != country.non_preferential or not country.preferential:
        return None
    return Finding(
        WARNING,
        "form_alternatives",
        "pc_f_form_alternatives",
        {"form": form, "country": Local(_in_sentence(country)), "options": ", ".join(country.preferential)},
    )


def note_destination(country: Country) -> list[Finding]:
    notes = []
    if country.note:
        notes.append(
            Finding(
                INFO,
                "destination_note",
                "pc_f_destination_note",
                {"note": Local(country.note)},
                confirm=country.confirm,
            )
        )
    if country.eu:
        notes.append(Finding(INFO, "eu_rex", "pc_f_eu_rex"))
    return notes


def check_names(left: str, right: str, party: str, left_doc: str, right_doc: str) -> Finding | None:
    """Exporter (invoice vs PEB) or consignee (invoice vs B/L) spelled the same?"""
    a, b = normalise_name(left), normalise_name(right)
    values: dict[str, Any] = {
        "party": Msg(f"pc_party_{party}"),
        "left_doc": Msg(left_doc),
        "right_doc": Msg(right_doc),
        "left": left,
        "right": right,
    }
    if a != b:
        values["left_marked"], values["right_marked"] = mark_differences(a, b)
        return Finding(ERROR, f"{party}_name", "pc_f_name_differs", values)
    if left.strip() == right.strip():
        return None
    legal_a = {w for w in name_words(left) if w in LEGAL_FORMS}
    legal_b = {w for w in name_words(right) if w in LEGAL_FORMS}
    if legal_a != legal_b:
        return Finding(WARNING, f"{party}_legal_form", "pc_f_name_legal_form", values)
    return Finding(INFO, f"{party}_name_style", "pc_f_name_style", values)


def check_number(label: str, text: str) -> Finding | None:
    """Indonesian or ambiguous formats are restated as the SKA (English) wants them."""
    number, _ = parse_measure(text)
    values: dict[str, Any] = {"field": Msg(f"pc_label_{label}"), "text": text}
    if number is None:
        return Finding(ERROR, f"{label}_unreadable", "pc_f_number_unreadable", values)
    # the bot refuses these at their step; answers from a file (`precheck FILE`) or
    # stored before that come here unchecked
    if number.value <= 0:
        return Finding(ERROR, f"{label}_not_positive", "pc_f_number_not_positive", values)
    if number.style == "ambiguous":
        assert number.alternative is not None  # an ambiguous number has both readings
        values.update(grouped=number.english(), decimal=format_number(number.alternative, "en", 3))
        return Finding(WARNING, f"{label}_ambiguous", "pc_f_number_ambiguous", values)
    if number.style == "id":
        values["english"] = number.english()
        return Finding(INFO, f"{label}_format", "pc_f_number_restated", values)
    return None


def value_to_type(value: str, currency: str) -> Finding | None:
    number = parse_money(value)
    if number is None or number.value <= 0:
        return None  # nothing to type: check_number says what is wrong with it
    return Finding(
        INFO, "value_to_type", "pc_f_value_to_type", {"value": number.english(2), "currency": currency or ""}
    )


def check_quantity_unit(quantity: str) -> Finding | None:
    number, unit = parse_measure(quantity)
    if number is not None and not unit:
        return Finding(WARNING, "quantity_unit", "pc_f_quantity_unit", {"text": quantity})
    return None


def weight_kg(text: str) -> Decimal | None:
    number, unit = parse_measure(text)
    factor = KG_PER_UNIT.get(unit.lower())
    return None if number is None or factor is None else number.value * Decimal(factor)


def check_weights(gross: str, net: str) -> list[Finding]:
    found = []
    for label, text in (("gross_weight", gross), ("net_weight", net)):
        number, unit = parse_measure(text)
        if number is not None and unit.lower() not in KG_PER_UNIT:
            key = "pc_f_weight_unit" if unit else "pc_f_weight_no_unit"
            found.append(
                Finding(WARNING, f"{label}_unit", key, {"field": Msg(f"pc_label_{label}"), "text": text})
            )
    g, n = weight_kg(gross), weight_kg(net)
    # a weight of zero or less is an error of its own (check_number), not a comparison
    if g is not None and n is not None and 0 < g < n:
        found.insert(
            0, Finding(ERROR, "net_above_gross", "pc_f_net_above_gross", {"gross": gross, "net": net})
        )
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
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, month=3, day=1)


def check_dates(
    shipment: dt.date, application: dt.date, form: str, calendar: OfficeCalendar, today: dt.date
) -> list[Finding]:
    found = []
    if shipment > today:
        found.append(Finding(WARNING, "shipment_future", "pc_f_shipment_future", {"date": _day(shipment)}))
    if application < shipment:
        found.append(
            Finding(
                ERROR,
                "application_before_shipment",
                "pc_f_application_early",
                {"shipment": _day(shipment), "application": _day(application)},
            )
        )
        return found
    # The mark depends on the day of issuance, and a complete application may take up
    # to PROCESSING_DAYS to be issued: applying on day 3 can mean issuance on day 4.
    applied = calendar.working_days_between(shipment, application)
    issued_by = calendar.add_working_days(application, PROCESSING_DAYS)
    days = calendar.working_days_between(shipment, issued_by)
    if days <= RETROACTIVE_AFTER:
        return found
    limit, confirm = retroactive_limit(form)
    values = {
        "days": str(applied),
        "issue_days": str(days),
        "issued_by": _day(issued_by),
        "deadline": _day(calendar.add_working_days(shipment, RETROACTIVE_AFTER - PROCESSING_DAYS)),
        "limit": limit,
        "form": form or "-",
    }
    if applied <= RETROACTIVE_AFTER:
        # issued the same day it needs no mark, the next working day it does
        found.append(Finding(WARNING, "retroactive_risk", "pc_f_retroactive_risk", values))
        return found
    # Form B grants no preference, so the agreement's limit does not apply as such
    key = "pc_f_retroactive_form_b" if form == "Form B" else "pc_f_retroactive"
    found.append(Finding(ERROR, "retroactive", key, values, confirm=confirm))
    if issued_by > _one_year_after(shipment):
        found.append(Finding(ERROR, "beyond_limit", "pc_f_beyond_limit", values, confirm=confirm))
    return found


DOCUMENTS = ("pc_doc_peb", "pc_doc_invoice", "pc_doc_packing", "pc_doc_bl", "pc_doc_cost")


def documents(hs: str, country: Country | None) -> Finding:
    """The supporting documents to prepare; V-Legal for wood (chapter 44)."""
    items = [Msg(key) for key in DOCUMENTS]
    if (hs_digits(hs) or "").startswith("44"):
        # the item itself says the upload must be confirmed with the office
        items.append(Msg("pc_doc_vlegal_eu" if country is not None and country.eu else "pc_doc_vlegal"))
    return Finding(INFO, "documents", "pc_f_documents", {"items": Bullets(tuple(items))})


# -- the whole check ---------------------------------------------------------------------


def run_precheck(
    answers: Mapping[str, Any], calendar: OfficeCalendar, kb: PrecheckKB, today: dt.date | None = None
) -> list[Finding]:
    """Every rule over the answers; errors first, then warnings, then notes."""
    today = today or dt.datetime.now(calendar.tz).date()
    a = {key: answer_text(answers, key) for key in STEPS}
    found: list[Finding | None] = []
    missing = [key for key in STEPS if not a[key]]

    cid = kb.find_commodity(a["commodity"]) if a["commodity"] else None
    commodity = kb.commodities.get(cid or "")
    if a["commodity"] and cid is None:
        found.append(
            Finding(WARNING, "commodity_unknown", "pc_f_commodity_unknown", {"text": a["commodity"]})
        )
    if a["hs_code"]:
        found += [check_hs_format(a["hs_code"]), check_hs_heading(a["hs_code"], commodity)]
        found += note_hs(commodity, kb.tropical_species)

    iso = kb.find_destination(a["destination"]) if a["destination"] else None
    country = kb.countries.get(iso or "")
    if a["destination"] and country is None:
        name = kb.destination_name(iso or "")
        if iso == OTHER:
            found.append(Finding(WARNING, "destination_unknown", "pc_f_destination_other", {}))
        else:
            shown: Any = Local(name) if name is not None else a["destination"]
            found.append(Finding(WARNING, "destination_unknown", "pc_f_destination_unknown", {"text": shown}))
    form = kb.find_form(a["form"]) or a["form"]
    if country is not None:
        if form:
            found += [check_form_valid(form, country), check_form_alternatives(form, country)]
        found += note_destination(country)

    for party, left, right, docs in (
        ("exporter", "exporter_invoice", "exporter_peb", ("pc_doc_short_invoice", "pc_doc_short_peb")),
        ("consignee", "consignee_invoice", "consignee_bl", ("pc_doc_short_invoice", "pc_doc_short_bl")),
    ):
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
        written = money_currency(a["invoice_value"])
        # a bare sign ("$", "¥") may be any dollar or yen: only a written code is compared
        if written is not None and written.isalpha() and a["currency"] and written != a["currency"]:
            found.append(
                Finding(
                    WARNING,
                    "currency_mismatch",
                    "pc_f_currency_mismatch",
                    {"written": written, "currency": a["currency"]},
                )
            )

    for key in ("shipment_date", "application_date"):
        if a[key] and parse_date(answers.get(key)) is None:
            found.append(
                Finding(
                    ERROR,
                    f"{key}_unreadable",
                    "pc_f_date_unreadable",
                    {"field": Msg(f"pc_label_{key}"), "text": a[key]},
                )
            )
    shipment = parse_date(answers.get("shipment_date")) if a["shipment_date"] else None
    application = parse_date(answers.get("application_date")) if a["application_date"] else None
    if shipment is not None and application is not None:
        found += check_dates(shipment, application, form, calendar, today)

    found.append(documents(a["hs_code"], country))
    if missing:
        found.append(
            Finding(
                WARNING,
                "not_answered",
                "pc_f_not_answered",
                {"fields": tuple(Msg(f"pc_label_{k}") for k in missing)},
            )
        )
    # sorted() is stable: within a severity the rules keep the order of the issue
    return sorted((f for f in found if f is not None), key=lambda f: RANK[f.severity])
