"""Every rule of the pre-submission check, with the cases exporters actually get wrong."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.config import parse_settings
from bot.services.calendar import OfficeCalendar
from bot.services.precheck import (
    ERROR,
    INFO,
    WARNING,
    Diff,
    Finding,
    accept,
    check_dates,
    check_form_alternatives,
    check_form_valid,
    check_hs_format,
    check_hs_heading,
    check_names,
    check_number,
    check_quantity_unit,
    check_weights,
    documents,
    load_precheck_kb,
    mark_differences,
    named_country,
    next_step,
    normalise_name,
    note_destination,
    note_hs,
    parse_date,
    parse_measure,
    render_finding,
    render_value,
    run_precheck,
    value_to_type,
)
from bot.services.precheck.parsing import parse_money
from bot.text import parse_number
from tests.conftest import ROOT

KB = load_precheck_kb(ROOT / "knowledge")
_S = parse_settings({"office": {"holidays": ["2025-03-31"], "national_holidays": False}}, env={})
CAL = OfficeCalendar(_S.office, _S.timezone)
TODAY = dt.date(2025, 4, 10)
THU, FRI, TUE = dt.date(2025, 3, 27), dt.date(2025, 3, 28), dt.date(2025, 4, 1)


def text(finding: Finding | None, lang: str = "en") -> str:
    assert finding is not None
    return render_finding(finding, lang, markup=False)


# -- numbers -----------------------------------------------------------------------------


def test_indonesian_and_english_formats_read_the_same_value() -> None:
    ind, eng = parse_number("240.795,83"), parse_number("240,795.83")
    assert ind is not None and eng is not None
    assert ind.value == eng.value == Decimal("240795.83")
    assert (ind.style, eng.style) == ("id", "en")
    assert ind.english() == eng.english() == "240,795.83"


@pytest.mark.parametrize(
    "raw, value, style",
    [
        ("12,5", "12.5", "id"),
        ("12.5", "12.5", "en"),
        ("1.234.567", "1234567", "id"),
        ("1,234,567", "1234567", "en"),
        ("0,500", "0.500", "id"),
        ("2500", "2500", "plain"),
        ("1.234", "1234", "ambiguous"),
        ("1,234", "1234", "ambiguous"),
    ],
)
def test_number_styles(raw: str, value: str, style: str) -> None:
    number = parse_number(raw)
    assert number is not None and (number.value, number.style) == (Decimal(value), style)


@pytest.mark.parametrize("raw", ["", "abc", "1.2.3,4,5", "12,34.5", "1,23,456.00", "1..2"])
def test_malformed_numbers_are_refused(raw: str) -> None:
    assert parse_number(raw) is None


def test_number_rule_restates_indonesian_format_and_flags_ambiguity() -> None:
    assert "type 240,795.83" in text(check_number("invoice_value", "240.795,83"))
    ambiguous = check_number("gross_weight", "25.400 kg")
    assert ambiguous is not None and ambiguous.severity == WARNING
    assert "25,400" in text(ambiguous) and "25.400" in text(ambiguous)
    assert check_number("quantity", "1,250.50 M3") is None
    assert check_number("quantity", "lots").severity == ERROR  # type: ignore[union-attr]


def test_value_to_type_is_in_english_format_with_currency() -> None:
    assert "USD 240,795.83" in text(value_to_type("240.795,83", "USD"))
    assert "EUR 1,500.00" in text(value_to_type("EUR 1500", "EUR"))


def test_quantity_without_unit_is_flagged() -> None:
    assert check_quantity_unit("1.250,5").severity == WARNING  # type: ignore[union-attr]
    assert check_quantity_unit("1.250,5 M3") is None


def test_net_above_gross_compares_across_units() -> None:
    found = check_weights("25,4 ton", "26.100 kg")
    assert found[0].code == "net_above_gross" and found[0].severity == ERROR
    assert check_weights("25.400,00 kg", "24,1 MT") == []
    found = check_weights("25400", "24100 kg")
    assert [f.code for f in found] == ["gross_weight_unit"]
    assert "no unit" in text(found[0])


@pytest.mark.parametrize(
    "raw, value, unit",
    [
        ("-100 pcs", "-100", "pcs"),
        ("- 100 pcs", "-100", "pcs"),
        ("\u22125 kg", "-5", "kg"),  # the minus sign
        ("\u20135 kg", "-5", "kg"),  # the dash a phone's keyboard makes of a hyphen
        ("kg -5", "-5", "kg"),
        ("PCS-100", "100", "PCS"),  # a hyphen joining a unit is no sign
        ("0 kg", "0", "kg"),
    ],
)
def test_a_minus_before_a_measure_is_read(raw: str, value: str, unit: str) -> None:
    number, found_unit = parse_measure(raw)
    assert number is not None and number.value == Decimal(value) and found_unit == unit


@pytest.mark.parametrize(
    "raw, value",
    [("-100", "-100"), ("USD -1.500,00", "-1500.00"), ("$-5", "-5"), ("Rp \u22121.500.000", "-1500000")],
)
def test_a_minus_before_an_amount_is_read(raw: str, value: str) -> None:
    number = parse_money(raw)
    assert number is not None and number.value == Decimal(value)


def test_amounts_of_zero_or_less_are_errors_in_the_summary() -> None:
    """The bot refuses them at their step; a file of answers (`precheck FILE`) is judged."""
    answers = {
        **GOOD,
        "quantity": "-100 pcs",
        "gross_weight": "-5 kg",
        "net_weight": "0 kg",
        "invoice_value": "0",
    }
    found = run_precheck(answers, CAL, KB, today=TODAY)
    wrong = [f for f in found if f.code.endswith("_not_positive")]
    assert [f.code for f in wrong] == [
        "quantity_not_positive",
        "gross_weight_not_positive",
        "net_weight_not_positive",
        "invoice_value_not_positive",
    ]
    assert {f.severity for f in wrong} == {ERROR}
    assert text(wrong[1]) == "Gross weight: -5 kg must be more than zero."
    # nothing to type for a value of zero, no comparison of weights that cannot be
    assert not {"value_to_type", "net_above_gross"} & {f.code for f in found}
    assert check_number("quantity", "0.5 M3") is None


# -- HS codes ----------------------------------------------------------------------------


@pytest.mark.parametrize("hs", ["4412", "4412.31", "4412.31.00", "441231", "4401.31.00.10"])
def test_well_formed_hs_codes(hs: str) -> None:
    assert check_hs_format(hs) is None


@pytest.mark.parametrize("hs", ["44", "44.12.3.", "4412-31", "12345678901", "44x2", "9" * 40])
def test_malformed_hs_codes(hs: str) -> None:
    assert check_hs_format(hs).severity == ERROR  # type: ignore[union-attr]


def test_hs_heading_per_commodity() -> None:
    c = KB.commodities
    assert check_hs_heading("4412.31", c["plywood"]) is None
    assert check_hs_heading("4401.31", c["wood_pellets"]) is None
    assert check_hs_heading("4401.39", c["wood_pellets"]) is not None  # not pellets
    assert check_hs_heading("4409.10", c["finger_joint"]) is None
    assert check_hs_heading("4421.99", c["laminated"]) is None
    assert check_hs_heading("4421.91", c["laminated"]) is not None
    wrong = check_hs_heading("4407.29", c["plywood"])
    assert "4412" in text(wrong) and "Plywood" in text(wrong)
    assert "4401.31" in text(check_hs_heading("4401", c["wood_pellets"]))
    assert check_hs_heading("44", c["plywood"]) is None  # the format rule says it


def test_tropical_note_only_where_the_subheading_depends_on_it() -> None:
    plywood = [text(f) for f in note_hs(KB.commodities["plywood"], KB.tropical_species)]
    assert any("4412.31" in t and "meranti" in t for t in plywood)
    chopsticks = " ".join(text(f) for f in note_hs(KB.commodities["chopsticks"], KB.tropical_species))
    assert "4419.20" in chopsticks and "4419.12" in chopsticks
    veneer = [f.code for f in note_hs(KB.commodities["veneer"], KB.tropical_species)]
    assert "hs_tropical" not in veneer and "hs_peb" in veneer


# -- forms -------------------------------------------------------------------------------


def test_form_valid_for_destination() -> None:
    japan, china = KB.countries["JP"], KB.countries["CN"]
    assert check_form_valid("Form IJEPA", japan) is None
    assert check_form_valid("Form B", japan) is None
    wrong = check_form_valid("Form E (ACFTA)", japan)
    assert wrong is not None and "IJEPA" in text(wrong) and "Japan" in text(wrong)
    assert check_form_valid("Form E (ACFTA)", china) is None


def test_form_b_for_japan_suggests_preferential_alternatives() -> None:
    tip = check_form_alternatives("Form B", KB.countries["JP"])
    assert tip is not None and all(f in text(tip) for f in ("IJEPA", "AJCEP", "RCEP"))
    assert check_form_alternatives("Form B", KB.countries["US"]) is None
    assert check_form_alternatives("Form IJEPA", KB.countries["JP"]) is None


def test_destination_notes_carry_confirm_where_the_table_says_so() -> None:
    uae = note_destination(KB.countries["AE"])
    assert uae[0].confirm and text(uae[0]).count("confirm with the office") == 1
    assert text(uae[0], "id").count("konfirmasi ke petugas") == 1
    assert [f.code for f in note_destination(KB.countries["NL"])] == ["eu_rex"]


def test_forms_typed_loosely_are_recognised() -> None:
    assert KB.find_form("form e") == "Form E (ACFTA)"
    assert KB.find_form("IJEPA") == "Form IJEPA"
    assert KB.find_form("form b") == "Form B"
    assert KB.find_form("form z") is None


# -- names -------------------------------------------------------------------------------


def test_name_normalisation_drops_case_punctuation_and_legal_forms() -> None:
    assert normalise_name("PT. Kayu Jaya") == normalise_name("pt kayu jaya") == "KAYU JAYA"
    assert normalise_name("Tokyo Wood Co., Ltd.") == "TOKYO WOOD"
    assert normalise_name("P.T. Kayu-Jaya") == "KAYU JAYA"
    assert normalise_name("CV Meranti") == normalise_name("UD Meranti")


def test_pt_dot_vs_pt_is_only_a_style_note() -> None:
    note = check_names(
        "PT. Kayu Jaya Abadi", "PT Kayu Jaya Abadi", "exporter", "pc_doc_short_invoice", "pc_doc_short_peb"
    )
    assert note is not None and note.severity == INFO
    assert (
        check_names("PT Kayu Jaya", "PT Kayu Jaya", "exporter", "pc_doc_short_invoice", "pc_doc_short_peb")
        is None
    )


def test_different_legal_form_is_a_warning() -> None:
    found = check_names(
        "PT Kayu Jaya", "CV Kayu Jaya", "exporter", "pc_doc_short_invoice", "pc_doc_short_peb"
    )
    assert found is not None and found.severity == WARNING


def test_different_names_are_shown_with_the_differing_characters_marked() -> None:
    found = check_names(
        "PT. Kayu Jaya Abadi", "PT Kayu Jaya Abadl", "exporter", "pc_doc_short_invoice", "pc_doc_short_peb"
    )
    assert found is not None and found.severity == ERROR
    shown = text(found)
    assert "KAYU JAYA ABAD[I]" in shown and "KAYU JAYA ABAD[L]" in shown
    html = render_finding(found, "en")
    assert "ABAD<u><b>I</b></u>" in html and "PT. Kayu Jaya Abadi" in html


def test_mark_differences_keeps_the_common_parts_unmarked() -> None:
    left, right = mark_differences("KAYU JAYA", "KAYU JAYA ABADI")
    assert left == Diff((("KAYU JAYA", False),))
    assert right == Diff((("KAYU JAYA", False), (" ABADI", True)))


def test_names_are_escaped_in_html() -> None:
    found = check_names("<b>Evil</b> Co", "Evil Co", "consignee", "pc_doc_short_invoice", "pc_doc_short_bl")
    assert "&lt;b&gt;Evil&lt;/b&gt; Co" in render_finding(found, "en")  # type: ignore[arg-type]


# -- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["28-03-2025", "28/03/2025", "28.3.2025", "2025-03-28", "28 Maret 2025", "28 March 2025", "28 mar 2025"],
)
def test_dates_day_first(raw: str) -> None:
    assert parse_date(raw) == FRI


@pytest.mark.parametrize("raw", ["besok", "31-02-2025", "03-28", "28-03-25", "12345"])
def test_unreadable_dates(raw: str) -> None:
    assert parse_date(raw) is None


def test_issued_within_three_working_days_across_weekend_and_holiday_is_not_retroactive() -> None:
    # Thursday -> Tuesday: Fri, (Sat, Sun, holiday Mon), Tue = 2 working days; issued by
    # Wednesday at the latest, working day 3
    assert check_dates(THU, TUE, "Form E (ACFTA)", CAL, TODAY) == []
    # applied on a Saturday: issued by Tuesday (working day 2)
    assert check_dates(THU, dt.date(2025, 3, 29), "Form B", CAL, TODAY) == []


def test_applying_on_day_three_warns_that_issuance_on_day_four_needs_the_mark() -> None:
    # Thursday -> Wednesday is working day 3; 1 working day of processing ends on Thursday,
    # working day 4 (the mark is checked against issuance, not the application)
    found = check_dates(THU, dt.date(2025, 4, 2), "Form E (ACFTA)", CAL, TODAY)
    assert [(f.code, f.severity) for f in found] == [("retroactive_risk", WARNING)]
    en, id_ = text(found[0]), text(found[0], "id")
    assert "issued 4 working days after shipment (03-04-2025)" in en
    assert "ISSUED RETROACTIVELY" in en and "by 01-04-2025" in en
    assert "terbit 4 hari kerja setelah pengapalan (03-04-2025)" in id_


def test_four_working_days_needs_issued_retroactively_with_the_limit() -> None:
    found = check_dates(THU, dt.date(2025, 4, 3), "Form E (ACFTA)", CAL, TODAY)
    assert [f.code for f in found] == ["retroactive"]
    assert "ISSUED RETROACTIVELY" in text(found[0]) and "12 months" in text(found[0])
    assert not found[0].confirm
    form_d = check_dates(THU, dt.date(2025, 4, 3), "Form D (ATIGA)", CAL, TODAY)
    assert "one year" in text(form_d[0]) and not form_d[0].confirm
    other = check_dates(THU, dt.date(2025, 4, 3), "Form B", CAL, TODAY)
    assert "typically 12 months" in text(other[0]) and other[0].confirm
    assert "(confirm with the office)" in text(other[0])


def test_beyond_a_year_is_flagged() -> None:
    found = check_dates(THU, dt.date(2026, 4, 1), "Form E (ACFTA)", CAL, dt.date(2026, 4, 1))
    assert [f.code for f in found] == ["retroactive", "beyond_limit"]


def test_future_shipment_and_application_before_shipment() -> None:
    found = check_dates(dt.date(2025, 5, 1), dt.date(2025, 4, 30), "Form B", CAL, TODAY)
    assert {f.code for f in found} == {"shipment_future", "application_before_shipment"}


# -- documents, whole check, flow answers ------------------------------------------------


def test_documents_checklist_has_v_legal_for_chapter_44_only() -> None:
    wood = text(documents("4412.31", KB.countries["JP"]))
    assert all(d in wood for d in ("PEB", "NPE", "invoice", "Packing list", "B/L", "AWB", "Cost structure"))
    assert "V-Legal" in wood and "confirm with the office" in wood
    assert "FLEGT" in text(documents("4412.31", KB.countries["NL"]))
    assert "V-Legal" not in text(documents("9403.60", KB.countries["JP"]))


GOOD = {
    "commodity": "plywood",
    "hs_code": "4412.31",
    "destination": "JP",
    "form": "Form IJEPA",
    "exporter_invoice": "PT Kayu Jaya",
    "exporter_peb": "PT Kayu Jaya",
    "consignee_invoice": "Tokyo Wood Co., Ltd.",
    "consignee_bl": "Tokyo Wood Co., Ltd.",
    "quantity": "1,250.50 M3",
    "gross_weight": "25,400.00 kg",
    "net_weight": "24100 kg",
    "currency": "USD",
    "invoice_value": "240,795.83",
    "shipment_date": "2025-03-27",
    "application_date": "2025-03-28",
}


def test_clean_answers_give_only_notes() -> None:
    found = run_precheck(GOOD, CAL, KB, today=TODAY)
    assert {f.severity for f in found} == {INFO}
    assert {"hs_tropical", "value_to_type", "documents"} <= {f.code for f in found}


def test_findings_come_most_serious_first() -> None:
    answers = {
        **GOOD,
        "hs_code": "4407",
        "form": "Form B",
        "quantity": "1250",
        "application_date": "2025-04-03",
    }
    found = run_precheck(answers, CAL, KB, today=TODAY)
    ranks = [{ERROR: 0, WARNING: 1, INFO: 2}[f.severity] for f in found]
    assert ranks == sorted(ranks)
    codes = [f.code for f in found]
    assert codes[:2] == ["hs_heading", "retroactive"]
    assert {"form_alternatives", "quantity_unit"} <= set(codes)


def test_a_currency_written_with_the_value_must_be_the_chosen_one() -> None:
    found = run_precheck(
        {**GOOD, "currency": "JPY", "invoice_value": "Rp 1.500.000.000"}, CAL, KB, today=TODAY
    )
    mismatch = next(f for f in found if f.code == "currency_mismatch")
    assert "IDR" in text(mismatch) and "JPY" in text(mismatch)
    found = run_precheck(
        {**GOOD, "currency": "IDR", "invoice_value": "Rp 1.500.000.000"}, CAL, KB, today=TODAY
    )
    assert "currency_mismatch" not in {f.code for f in found}
    # a bare sign may be any dollar: not compared
    found = run_precheck({**GOOD, "currency": "USD", "invoice_value": "$12,500"}, CAL, KB, today=TODAY)
    assert "currency_mismatch" not in {f.code for f in found}


def test_missing_answers_are_listed_not_guessed() -> None:
    found = run_precheck({"commodity": "veneer", "hs_code": "4408.39"}, CAL, KB, today=TODAY)
    missing = next(f for f in found if f.code == "not_answered")
    assert "Destination" in text(missing) and "B/L date" in text(missing)


@pytest.mark.parametrize(
    "step, raw, stored",
    [
        ("commodity", "Kayu Lapis", "plywood"),
        ("commodity", "lainnya", "other"),
        ("destination", "jepang", "JP"),
        ("destination", "KR", "KR"),
        ("form", "form e", "Form E (ACFTA)"),
        ("hs_code", " 4412.31 ", "4412.31"),
        ("currency", "usd", "USD"),
        ("currency", "Rp.", "IDR"),
        ("currency", "rupiah", "IDR"),
        ("currency", "yen", "JPY"),
        ("destination", "hongkong", "HK"),
        ("destination", "Negara lain", "other"),
        ("shipment_date", "27/03/2025", "2025-03-27"),
        ("application_date", "hari ini", TODAY.isoformat()),
        ("gross_weight", "25.400  kg", "25.400 kg"),
        ("invoice_value", "USD 1.500,00", "USD 1.500,00"),
        ("invoice_value", "Rp. 1.500.000", "Rp. 1.500.000"),
        ("invoice_value", "$1,500.00", "$1,500.00"),
        ("quantity", "PCS-100", "PCS-100"),
        ("net_weight", "0,5 ton", "0,5 ton"),
    ],
)
def test_answers_accepted_in_the_flow(step: str, raw: str, stored: str) -> None:
    assert accept(step, raw, KB, TODAY) == stored


@pytest.mark.parametrize(
    "step, raw, key",
    [
        ("commodity", "furniture", "pc_bad_choice"),
        ("hs_code", "9" * 40, "pc_bad_hs"),
        ("hs_code", "44", "pc_bad_hs"),
        ("shipment_date", "next week", "pc_bad_date"),
        ("gross_weight", "heavy", "pc_bad_measure"),
        ("invoice_value", "a lot", "pc_bad_number"),
        ("invoice_value", "Rp 1,5 juta", "pc_bad_number"),
        ("invoice_value", "1e6", "pc_bad_number"),
        ("exporter_peb", "1234", "pc_bad_name"),
        ("currency", "dollar", "pc_bad_currency"),
        ("currency", "RPS", "pc_bad_currency"),
        ("destination", "narnia", "pc_bad_destination"),
        ("exporter_invoice", "x" * 201, "pc_bad_long"),
        ("consignee_bl", "   ", "pc_bad_empty"),
        ("quantity", "-100 pcs", "pc_bad_not_positive"),
        ("quantity", "0", "pc_bad_not_positive"),
        ("gross_weight", "\u22125 kg", "pc_bad_not_positive"),
        ("net_weight", "0,00 kg", "pc_bad_not_positive"),
        ("invoice_value", "0", "pc_bad_not_positive"),
        ("invoice_value", "USD -100", "pc_bad_not_positive"),
        ("invoice_value", "-240.795,83", "pc_bad_not_positive"),
    ],
)
def test_bad_answers_are_refused_with_a_reason(step: str, raw: str, key: str) -> None:
    result = accept(step, raw, KB, TODAY)
    assert not isinstance(result, str) and result.key == key


def test_an_overlong_answer_names_the_limit_the_readers_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.services.precheck.flow.MAX_ANSWER_CHARS", 1200)
    refused = accept("exporter_invoice", "x" * 1201, KB, TODAY)
    assert not isinstance(refused, str)
    assert "maksimal 1.200 karakter" in render_value(refused, "id")
    assert "at most 1,200 characters" in render_value(refused, "en")


def test_next_step_is_the_first_unanswered() -> None:
    assert next_step({}) == "commodity"
    assert next_step({**GOOD, "form": ""}) == "form"
    assert next_step(GOOD) == "summary"


def test_an_amount_of_zero_or_less_is_refused_in_the_readers_language() -> None:
    refused = accept("gross_weight", " -5   kg ", KB, TODAY)
    assert not isinstance(refused, str)
    assert (
        render_value(refused, "en")
        == "<b>-5 kg</b>: the number must be more than zero. Please write it as on the document."
    )
    assert "harus lebih dari nol" in render_value(refused, "id")


def test_a_country_named_after_other_country_is_kept_as_typed() -> None:
    assert named_country("  Republik   Seychelles ") == "Republik Seychelles"
    assert named_country("123") is None
    assert named_country("x" * 61) is None
