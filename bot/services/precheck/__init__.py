"""Pre-submission check (/cek): small rules over an exporter's answers, most serious first.

model      the fifteen questions, findings and the values they carry
knowledge  commodities (hs_codes.yaml) and destinations the rules compare with
parsing    measures, dates, HS codes and names as exporters type them
rules      one function per concern, and run_precheck over all of them
render     findings and the summary as Telegram HTML or terminal text
flow       one answer at a time: the next question, what an answer stores
store      the open check per user (PrecheckSession)

Each module imports only from the ones above it in this list, never from this file,
which gathers the names the handlers, the command line and the tests use.
"""

from bot.services.precheck.flow import (
    CURRENCIES,
    MAX_ANSWER_CHARS,
    MAX_COUNTRY_CHARS,
    OTHER_COUNTRY,
    accept,
    named_country,
    next_step,
)
from bot.services.precheck.knowledge import OTHER, Commodity, PrecheckKB, load_precheck_kb
from bot.services.precheck.model import (
    ERROR,
    INFO,
    RANK,
    STEPS,
    SUMMARY,
    WARNING,
    Bullets,
    Diff,
    Finding,
    Local,
    Msg,
)
from bot.services.precheck.parsing import (
    mark_differences,
    normalise_name,
    parse_date,
    parse_measure,
)
from bot.services.precheck.render import (
    answer_display,
    render_finding,
    render_summary,
    render_value,
)
from bot.services.precheck.rules import (
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
    note_destination,
    note_hs,
    run_precheck,
    value_to_type,
)
from bot.services.precheck.store import CheckState, PrecheckStore, waiting_step

__all__ = [
    "CURRENCIES",
    "ERROR",
    "INFO",
    "MAX_ANSWER_CHARS",
    "MAX_COUNTRY_CHARS",
    "OTHER",
    "OTHER_COUNTRY",
    "RANK",
    "STEPS",
    "SUMMARY",
    "WARNING",
    "Bullets",
    "CheckState",
    "Commodity",
    "Diff",
    "Finding",
    "Local",
    "Msg",
    "PrecheckKB",
    "PrecheckStore",
    "accept",
    "answer_display",
    "check_dates",
    "check_form_alternatives",
    "check_form_valid",
    "check_hs_format",
    "check_hs_heading",
    "check_names",
    "check_number",
    "check_quantity_unit",
    "check_weights",
    "documents",
    "load_precheck_kb",
    "mark_differences",
    "named_country",
    "next_step",
    "normalise_name",
    "note_destination",
    "note_hs",
    "parse_date",
    "parse_measure",
    "render_finding",
    "render_summary",
    "render_value",
    "run_precheck",
    "value_to_type",
    "waiting_step",
]
