"""Officers' operations: a long broadcast's preview in the group, application imports."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.models import Company, SkaApplication
from tests.conftest import OFFICER_ID, OFFICERS_CHAT, BotHarness, buttons_of, text_of
from tests.test_broadcast import people

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def test_long_broadcast_preview_is_posted_once_and_presses_edit_only_its_status(
    bot: BotHarness,
) -> None:
    """A text that needs several messages is shown once; the buttons sit under a short
    status, and pressing them (the chosen option again, another audience, Send) edits
    that status only: the group gets no copy of the long text."""
    people(bot)
    text = "Pengumuman: e-SKA <b>gangguan</b> & antrean " + "A&B<C> " * 490
    sent = await bot.say(f"/broadcast {text}", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT)
    assert [c.method for c in sent] == ["sendMessage"] * 4
    *body, status = sent
    assert "&lt;b&gt;gangguan&lt;/b&gt; &amp; antrean" in text_of(body)
    assert all(buttons_of([c]) == [] for c in body)
    assert len(text_of([status])) < 400
    assert "dalam 3 pesan" in text_of([status]) and "10 eksportir" in text_of([status])
    labels = dict(buttons_of([status]))
    status_id = status.result["message_id"]

    def press(label: str) -> object:
        return bot.press(labels[label], user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, message_id=status_id)

    assert await press("• Semua") == []  # already chosen: nothing changes
    edited = await press("Pengajuan terbuka")
    assert [(c.method, c.params["message_id"]) for c in edited] == [("editMessageText", status_id)]
    assert "pengajuan terbuka" in text_of(edited) and "8 eksportir" in text_of(edited)
    assert "A&amp;B" not in text_of(edited)
    edited = await press("📤 Kirim")
    assert [(c.method, c.params["message_id"]) for c in edited] == [("editMessageText", status_id)]
    assert "antrean untuk 8 eksportir" in text_of(edited) and "A&amp;B" not in text_of(edited)
    assert buttons_of(edited) == []
    assert len(bot.api.sent(OFFICERS_CHAT, "sendMessage")) == 4


HEADER = (
    "ref,company_nib,company_name,commodity,hs_code,destination,form,status,note,"
    "submitted_at,volume_tonnes,value_usd\n"
)


def run_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | bytes
) -> list[str]:
    """`applications import FILE` as the admin runs it: what it prints."""
    config = tmp_path / "config.yaml"
    if not config.exists():
        config.write_text(f"database: {{url: 'sqlite:///{tmp_path / 'c.db'}'}}\n")
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    main(["--config", str(config), "applications", "import", str(path)])
    return capsys.readouterr().out.splitlines()


def stored(tmp_path: Path) -> dict[str, tuple[str, str, str, str]]:
    """ref -> (HS code, destination, form, company name) as the database holds them."""
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        with Session(engine) as s:
            rows = s.execute(
                select(
                    SkaApplication.ref,
                    SkaApplication.hs_code,
                    SkaApplication.destination,
                    SkaApplication.form,
                    Company.name,
                ).join(Company, Company.id == SkaApplication.company_id)
            )
            return {ref: (hs, dest, form, company) for ref, hs, dest, form, company in rows}
    finally:
        engine.dispose()


def test_unknown_destination_and_malformed_hs_code_are_refused_an_odd_form_is_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        "I-1,111,PT Satu,Plywood,4412.31,Jepang,IJEPA,submitted,,2026-11-01,10,100",
        "I-2,111,PT Satu,Veneer,4408.39,Narnia,Form B,submitted,,2026-11-01,10,100",
        "I-3,111,PT Satu,Veneer,4408.39,India,Form Z,submitted,,2026-11-01,10,100",
        "I-4,111,PT Satu,Veneer,44.08.39.ABC,India,AIFTA,submitted,,2026-11-01,10,100",
        "I-5,111,PT Satu,Veneer,4408.39.10,Jepun,RCEP,submitted,,2026-11-01,10,100",
        "I-6,111,PT Satu,Moulding,440929,Australia,Form B,submitted,,2026-11-01,10,100",
        "I-7,111,PT Satu,Moulding,4409.29,Polandia,IJEPA,submitted,,2026-11-01,10,100",
        "I-8,111,PT Satu,Veneer,4408.39,Indai,AIFTA,submitted,,2026-11-01,10,100",
    ]
    out = run_import(tmp_path, capsys, "apps.csv", HEADER + "\n".join(rows) + "\n")
    assert out[0].startswith("8 rows: created 5,") and "rejected rows 3, warnings 2" in out[0], out
    assert "line 3, destination: 'Narnia' is not a country the office knows" in "\n".join(out)
    # the knowledge base may spell a real form another way: flagged, not lost
    assert (
        "line 4, warning, form: 'Form Z' is not a form the office knows; imported as written, please check"
    ) in out
    assert "line 5, hs_code: '44.08.39.ABC' is not an HS code" in "\n".join(out)
    # a known form the knowledge base does not give that destination: imported, flagged
    assert "line 8, warning, form: 'IJEPA' is not among the forms for Poland; please check" in out
    assert "line 9, destination: 'Indai' is not a country the office knows" in "\n".join(out)
    assert (
        "'Indai' is not a country the office knows (ISO code or name: JP, Jepang, Japan); did you mean 'India'?"
        in out[-1]
    )
    apps = stored(tmp_path)
    assert sorted(apps) == ["I-1", "I-3", "I-5", "I-6", "I-7"]
    assert apps["I-1"][:3] == ("4412.31", "Japan", "IJEPA")
    assert apps["I-5"][:3] == ("4408.39.10", "Japan", "RCEP")
    assert apps["I-6"][:3] == ("440929", "Australia", "Form B")


def workbook(rows: list[list[object]], formats: dict[str, str] | None = None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER.strip().split(","))
    for row in rows:
        ws.append(row)
    for cell, number_format in (formats or {}).items():
        ws[cell].number_format = number_format
    data = io.BytesIO()
    wb.save(data)
    return data.getvalue()


def test_an_hs_code_in_a_number_cell_is_kept_as_shown_or_refused_when_a_digit_may_be_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    when = dt.date(2026, 11, 2)
    base = ["PT Satu", "Plywood", None, "JP", "IJEPA", "submitted", None, when, 10, 100]
    rows = [
        ["X-1", "111", *base[:2], 4412.31, *base[3:]],
        ["X-2", "111", *base[:2], 4412.10, *base[3:]],  # General format: Excel keeps 4412.1
        ["X-3", "111", *base[:2], 4412.10, *base[3:]],  # formatted 0.00: shown as 4412.10
        ["X-4", "111", *base[:2], 44123110, *base[3:]],
        ["X-5", "111", *base[:2], "4412.10", *base[3:]],
    ]
    out = run_import(tmp_path, capsys, "apps.xlsx", workbook(rows, {"E4": "0.00"}))
    assert out[0].startswith("5 rows: created 4,") and "rejected rows 1" in out[0], out
    assert out[-1] == (
        "line 3, hs_code: read as the number 4412.1: a number cell drops trailing zeros "
        "(4412.10 becomes 4412.1); format the column as Text in Excel and type the code again"
    )
    hs = {ref: row[0] for ref, row in stored(tmp_path).items()}
    assert hs == {"X-1": "4412.31", "X-3": "4412.10", "X-4": "44123110", "X-5": "4412.10"}


def test_another_company_name_for_a_known_nib_is_a_warning_and_the_stored_name_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = "N-1,111,PT. Kayu Lapis Satu,Plywood,4412.31,JP,IJEPA,submitted,,2026-11-01,10,100\n"
    assert run_import(tmp_path, capsys, "one.csv", HEADER + first)[0].startswith("1 rows: created 1,")
    rows = (
        first.replace("PT. Kayu Lapis Satu", "PT KAYU LAPIS SATU")  # the same name, typed otherwise
        + "N-2,111,PT Kayu Lapis Dua,Plywood,4412.31,JP,IJEPA,submitted,,2026-11-01,10,100\n"
    )
    out = run_import(tmp_path, capsys, "two.csv", HEADER + rows)
    assert out[0].startswith("2 rows: created 1, updated 0, unchanged 1,") and "warnings 1" in out[0], out
    assert out[-1] == (
        "line 3, warning, company_name: 'PT Kayu Lapis Dua' differs from 'PT. Kayu Lapis Satu', "
        "the name already stored for NIB 111; the stored name is kept"
    )
    assert {row[3] for row in stored(tmp_path).values()} == {"PT. Kayu Lapis Satu"}


def test_header_problems_are_named_and_a_title_row_or_other_spelling_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = "H-1,111,PT Satu,Plywood,4412.31,JP,IJEPA,submitted,,2026-11-01,10,100"
    # capitals and spaces for underscores name the same columns; 'volume' names none
    header = (
        "Ref,COMPANY NIB,company_name,commodity,hs code,destination,form,status,note,"
        "submitted_at,volume,value_usd,remarks\n"
    )
    out = run_import(tmp_path, capsys, "cols.csv", header + row + ",hello\n")
    assert out[-1] == (
        "line 1, missing columns: volume_tonnes; columns not recognised: "
        "'volume' (did you mean volume_tonnes?), 'remarks'"
    )
    upper = HEADER.upper().replace("_", " ")
    assert run_import(tmp_path, capsys, "upper.csv", upper + row + "\n")[0].startswith("1 rows: created 1,")
    # a title and a blank row above the header, as officers' workbooks have
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["DAFTAR PENGAJUAN SKA DESEMBER 2026"])
    ws.append([])
    ws.append(HEADER.strip().split(","))
    ws.append(["H-2", *row.split(",")[1:]])
    data = io.BytesIO()
    wb.save(data)
    out = run_import(tmp_path, capsys, "title.xlsx", data.getvalue())
    assert out[0].startswith("1 rows: created 1,") and len(out) == 1, out
    assert set(stored(tmp_path)) == {"H-1", "H-2"}
    out = run_import(tmp_path, capsys, "fake.xlsx", "not a workbook")
    assert out[-1].startswith(
        "line 1, the file is named like an Excel workbook but is not one (it holds text), "
        "and no header row found in the first 10 rows"
    )
    out = run_import(tmp_path, capsys, "old.xls", b"\xd0\xcf\x11\xe0" + bytes(600))
    assert "an Excel 97-2003 workbook (.xls)" in out[-1] and "Save As" in out[-1]


def test_the_report_says_in_words_how_amounts_were_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = 'A-1,111,PT Satu,Plywood,4412.31,JP,IJEPA,submitted,,2026-11-01,"1.234,5","25.000,00"\n'
    out = run_import(tmp_path, capsys, "id.csv", HEADER + row)
    assert out[1] == "amounts read as 1.234,56 (comma = decimal point)"
    plain = "A-2,111,PT Satu,Plywood,4412.31,JP,IJEPA,submitted,,2026-11-01,10,100\n"
    out = run_import(tmp_path, capsys, "plain.csv", HEADER + plain)
    assert not [line for line in out if "format" in line], out
