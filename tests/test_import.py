"""CSV import: idempotent, validated, notifying; number formats detected per file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.models import Company, OutboxMessage, SkaApplication, User
from bot.services import Services
from bot.services.importer import AmbiguousNumber, detect_number_style, parse_amount

HEADER = (
    "ref,company_nib,company_name,commodity,hs_code,destination,form,status,note,"
    "submitted_at,volume_tonnes,value_usd\n"
)


def test_number_styles() -> None:
    # the evidence: numbers that only one style reads, and a ';' separator
    assert detect_number_style(["240.795,83", "12,5"]) == ("id", "id")
    assert detect_number_style(["1.500.000", "10"]) == ("id", "id")
    assert detect_number_style(["240,795.83", "12.5"]) == ("en", "en")
    assert detect_number_style(["1,500,000", "10"]) == ("en", "en")
    assert detect_number_style(["1.234", "5"]) == ("none", "none")
    assert detect_number_style(["1.234", "5"], ";") == ("id", "id")
    assert detect_number_style(["1.234,5", "1,234.5"]) == ("mixed", "id")
    assert detect_number_style(["1,234.5", "2,000.5"], ";") == ("mixed", "en")
    assert parse_amount("240.795,83", "id") == Decimal("240795.83")
    assert parse_amount("240,795.83", "en") == Decimal("240795.83")
    # 1.500 is read only in a decided style; undecided, it is refused, not guessed
    assert (parse_amount("1.500", "id"), parse_amount("1.500", "en")) == (Decimal(1500), Decimal("1.5"))
    assert parse_amount("1500", None) == Decimal(1500) and parse_amount("1,5", None) == Decimal("1.5")
    with pytest.raises(AmbiguousNumber):
        parse_amount("25.000", None)


def test_reimport_updates_instead_of_duplicating(services: Services) -> None:
    rows = HEADER + 'A-1,123,PT Satu,Plywood,4412,Jepang,IJEPA,submitted,,2026-11-01,"1.000,5","20.000,00"\n'
    first = services.importer.import_text(rows)
    again = services.importer.import_text(rows)
    assert (first.created, again.created, again.unchanged) == (1, 0, 1)
    assert first.number_style == "id"
    with services.db.session() as s:
        app = s.scalars(select(SkaApplication)).one()
        assert app.destination == "Japan" and app.volume_tonnes == Decimal("1000.5")
        assert len(s.scalars(select(Company)).all()) == 1


def test_status_change_in_import_notifies_like_an_officer(services: Services) -> None:
    services.importer.import_text(
        HEADER + "A-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n"
    )
    with services.db.session() as s:
        company = s.scalars(select(Company)).one()
        s.add(User(id=555, language="en", company_id=company.id))
    report = services.importer.import_text(
        HEADER + "A-1,123,PT Satu,Plywood,4412,JP,IJEPA,returned,Fix the HS code,2026-11-01,10,100\n"
    )
    assert report.status_changes == 1
    with services.db.session() as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert row.chat_id == 555 and "Returned for correction" in row.text
        assert "Fix the HS code" in row.text


def test_bad_rows_are_reported_with_line_and_reason(services: Services) -> None:
    report = services.importer.import_text(
        HEADER
        + "A-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n"
        + ",123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n"
        + "A-3,123,PT Satu,Plywood,4412,JP,IJEPA,flying,,2026-11-01,10,100\n"
        + "A-4,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,yesterday,10,100\n"
        + "A-5,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,ten,100\n"
    )
    reasons = dict(report.errors)
    assert report.created == 1
    # each reason names its column
    assert reasons[3] == "ref: empty"
    assert reasons[4].startswith("status: 'flying' is not one of")
    assert reasons[5] == "submitted_at: 'yesterday' is not a date (YYYY-MM-DD)"
    assert reasons[6] == "volume_tonnes: 'ten' is not a number"
    # an illegal change is a bad row too, and changes nothing
    report = services.importer.import_text(
        HEADER + "A-1,123,PT Satu,Plywood,4412,JP,IJEPA,issued,,2026-11-01,10,100\n"
    )
    assert dict(report.errors)[2] == "status: status change submitted -> issued is not allowed"


def test_a_note_marked_internal_never_reaches_the_exporter(services: Services) -> None:
    report = services.importer.import_text(
        HEADER
        + 'B-1,123,PT Satu,Plywood,4412,JP,IJEPA,returned,"Foto buram\n// direktur diperiksa",2026-11-01,10,100\n'
        + "B-2,123,PT Satu,Plywood,4412,JP,IJEPA,returned,Foto invoice buram,2026-11-01,10,100\n"
    )
    assert report.created == 1
    assert dict(report.errors)[2].startswith("note: a line starts with '//', an internal mark")
    with services.db.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(SkaApplication).where(SkaApplication.ref == "B-1")) == 0
        )


def test_missing_columns_are_named(services: Services) -> None:
    report = services.importer.import_text("ref,status\nA,submitted\n")
    assert report.errors[0][0] == 1 and "company_nib" in report.errors[0][1]


GOOD = "A-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n"


def _apps(services: Services) -> dict[str, SkaApplication]:
    with services.db.session() as s:
        return {a.ref: a for a in s.scalars(select(SkaApplication))}


def test_hostile_rows_are_each_named_and_the_good_rows_still_imported(services: Services) -> None:
    """Each of these once aborted the import with a traceback (or, on SQLite, was stored
    and then broke /report); now each is one line naming its column."""
    rows = {
        3: (
            "B-3,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,NaN,100",
            "volume_tonnes",
            "'NaN' is not a number",
        ),
        4: (
            "B-4,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,Infinity",
            "value_usd",
            "'Infinity' is not a number",
        ),
        5: (
            "B-5,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,1e400",
            "value_usd",
            "'1e400' is too large (at most 99,999,999,999,999.99)",
        ),
        6: (
            "B-6,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,1e30,100",
            "volume_tonnes",
            "'1e30' is too large (at most 99,999,999,999.999)",
        ),
        7: (
            "B-7,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,0001-01-01,10,100",
            "submitted_at",
            "0001-01-01 is before 2000-01-01",
        ),
        8: (
            "B-8,999,PT \x00Nul,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100",
            "company_name",
            "contains a NUL byte",
        ),
        9: (
            "R" * 65 + ",123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100",
            "ref",
            "65 characters, at most 64",
        ),
        10: (
            "B-10,123,PT Satu,Plywood,44123456789012345,JP,IJEPA,submitted,,2026-11-01,10,100",
            "hs_code",
            "17 characters, at most 16",
        ),
        11: (
            "B-11,123,PT Satu,Plywood,4412,JP,IJEPA,submitted," + "x" * 140_000 + ",2026-11-01,10,100",
            "note",
            "140,000 characters, at most 1,000",
        ),
        12: (
            "B-12,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2099-01-01,10,100",
            "submitted_at",
            "2099-01-01 is in the future",
        ),
        13: (
            "A-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100",
            "ref",
            "A-1 is already on line 2",
        ),
    }
    text = (
        HEADER
        + GOOD
        + "".join(r + "\n" for r, _, _ in rows.values())
        + 'A-14,123,PT Satu,Veneer,4408,JP,IJEPA,submitted,,2026-11-02,"1,234.5",100\n'
    )
    report = services.importer.import_text(text)
    assert report.created == 2 and report.bad_rows == len(rows), report.lines()
    assert dict(report.errors) == {line: f"{col}: {why}" for line, (_, col, why) in rows.items()}
    assert set(_apps(services)) == {"A-1", "A-14"}
    with services.db.session() as s:
        assert [c.nib for c in s.scalars(select(Company))] == ["123"]  # 999 was refused
    printed = report.lines()
    assert "line 8, company_name: contains a NUL byte" in printed
    assert printed[0].startswith("13 rows: created 2,") and "rejected rows 11" in printed[0]


def test_a_file_that_is_not_utf8_is_refused_with_what_to_do(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "apps.csv"
    path.write_bytes(
        (HEADER + GOOD + "A-2,124,PT Café,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n").encode(
            "cp1252"
        )
    )
    report = services.importer.import_file(path)
    assert report.created == 0 and _apps(services) == {}
    assert report.lines()[-1].startswith(
        "line 3, the file is not UTF-8 text (byte 0xe9); in Excel use Save As > 'CSV UTF-8"
    )


def test_check_reports_the_same_and_writes_nothing(services: Services) -> None:
    services.importer.import_text(HEADER + GOOD)
    text = (
        HEADER
        + GOOD.replace("submitted,,", "in_review,Checking,")
        + "A-2,124,PT Dua,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,NaN\n"
        + "A-3,125,PT Tiga,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n"
    )
    with services.db.session() as s:
        before = (
            s.scalar(select(func.count()).select_from(OutboxMessage)),
            s.scalar(select(func.count()).select_from(Company)),
        )
    dry = services.importer.import_text(text, check=True)
    assert (dry.created, dry.updated, dry.status_changes) == (1, 1, 1)
    assert dry.errors == [(3, "value_usd: 'NaN' is not a number")]
    assert dry.lines()[0].startswith("check only, nothing written: 3 rows, would be created 1")
    assert _apps(services)["A-1"].status == "submitted" and "A-3" not in _apps(services)
    with services.db.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(OutboxMessage)),
            s.scalar(select(func.count()).select_from(Company)),
        ) == before
    real = services.importer.import_text(text)
    assert (real.created, real.updated, real.errors) == (dry.created, dry.updated, dry.errors)
    assert _apps(services)["A-1"].status == "in_review"


def _workbook(path: Path, rows: list[list[object]]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    for row in rows:
        ws.append(row)
    wb.save(path)


def test_an_excel_workbook_imports_with_the_same_columns_and_report(
    services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "apps.xlsx"  # the name does not matter: content decides
    _workbook(
        path,
        [
            [
                "X-1",
                9900000000001,
                "PT Excel",
                "Plywood",
                4412,
                "Jepang",
                "IJEPA",
                "Diajukan",
                None,
                dt.datetime(2026, 11, 3, 9, 30),
                12.5,
                20000,
            ],
            [
                "X-2",
                "9900000000001",
                "PT Excel",
                '=HYPERLINK("http://x")',
                "4412",
                "JP",
                "IJEPA",
                "submitted",
                None,
                "2026-11-04",
                "Infinity",
                10,
            ],
            [
                "X-3",
                "9900000000001",
                "PT Excel",
                "Veneer",
                "4408",
                "CN",
                "ACFTA",
                "submitted",
                "catatan",
                "04/11/2026",
                "1.234,5",
                "7.000,00",
            ],
        ],
    )
    report = services.importer.import_file(path)
    assert report.errors == [(3, "volume_tonnes: 'Infinity' is not a number")], report.lines()
    apps = _apps(services)
    assert set(apps) == {"X-1", "X-3"} and report.number_style == "id"
    assert apps["X-1"].volume_tonnes == Decimal("12.5") and apps["X-1"].hs_code == "4412"
    assert apps["X-1"].destination == "Japan" and apps["X-1"].status == "submitted"
    assert apps["X-3"].value_usd == Decimal("7000.00")
    with services.db.session() as s:
        company = s.scalars(select(Company)).one()
        assert company.nib == "9900000000001"  # a number cell, not 9.9e12


def test_excel_semicolon_csv_is_read(services: Services) -> None:
    text = (
        HEADER.replace(",", ";")
        + "A-1;123;PT Satu;Plywood;4412;JP;IJEPA;submitted;;01/11/2026;10,5;1.000,00\n"
    )
    report = services.importer.import_text(text)
    assert report.created == 1 and report.errors == []
    assert _apps(services)["A-1"].value_usd == Decimal("1000.00")


def test_cli_check_prints_the_report_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: 'sqlite:///{tmp_path / 'c.db'}'}}\n")
    path = tmp_path / "apps.csv"
    path.write_text(HEADER + GOOD + "A-2,124,PT Dua,Plywood,4412,JP,IJEPA,submitted,,0001-01-01,10,1\n")
    assert main(["--config", str(config), "applications", "import", "--check", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("check only, nothing written: 2 rows, would be created 1")
    assert out[-1] == "line 3, submitted_at: 0001-01-01 is before 2000-01-01"
    assert main(["--config", str(config), "applications", "import", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv: no such file" in capsys.readouterr().err


def test_the_row_by_row_path_gives_the_same_result(services: Services) -> None:
    """The path taken when the database refuses something in a batch: each row in a
    savepoint. Same rows in, same report and data out as the batched path."""
    from bot.services.import_files import read_csv_text
    from bot.services.importer import ImportReport, _Reading

    text = (
        HEADER
        + GOOD
        + "A-2,124,PT Dua,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,NaN\n"
        + "A-3,124,PT Dua,Veneer,4408,CN,ACFTA,submitted,,2026-11-01,1,2\n"
    )
    importer = services.importer
    report = ImportReport()
    clean = importer._validate(read_csv_text(text), _Reading("en", True, "en"), report)
    importer._batch(clean, "import", report, check=False, savepoints=True)
    assert (report.created, report.errors) == (2, [(3, "value_usd: 'NaN' is not a number")])
    assert set(_apps(services)) == {"A-1", "A-3"}
    again = importer.import_text(text.replace(",submitted,,2026-11-01,1,2", ",in_review,,2026-11-01,1,2"))
    assert (again.unchanged, again.status_changes) == (1, 1)


def test_one_row_in_the_other_number_style_is_refused_alone(services: Services) -> None:
    report = services.importer.import_text(
        HEADER
        + 'A-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,"1.000,5","20.000,00"\n'
        + 'A-2,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,"12,5","7.000,00"\n'
        + 'A-3,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,"1,234.56"\n'
    )
    assert report.created == 2 and report.number_style == "id"
    assert report.errors == [
        (4, "value_usd: '1,234.56' is written in the other number style; this file uses 1.234,56")
    ]
    assert "read as 1.234,56 (most numbers)" in report.notes[0]


def test_returned_or_rejected_without_a_reason_is_refused(services: Services) -> None:
    report = services.importer.import_text(
        HEADER
        + "C-1,123,PT Satu,Plywood,4412,JP,IJEPA,returned,,2026-11-01,10,100\n"
        + "C-2,123,PT Satu,Plywood,4412,JP,IJEPA,rejected,\u200b ,2026-11-01,10,100\n"
        + "C-3,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n"
    )
    errors = dict(report.errors)
    assert errors[2] == "note: a reason is required when the status is returned"
    assert errors[3] == "note: a reason is required when the status is rejected"
    assert report.created == 1
    report = services.importer.import_text(
        HEADER + "C-3,123,PT Satu,Plywood,4412,JP,IJEPA,returned,,2026-11-01,10,100\n"
    )
    assert dict(report.errors)[2].startswith("note: a reason is required")
    with services.db.session() as s:
        assert s.scalar(select(SkaApplication.status).where(SkaApplication.ref == "C-3")) == "submitted"


def test_a_ref_differing_only_by_case_is_refused_not_a_second_application(services: Services) -> None:
    services.importer.import_text(
        HEADER + "SKA-7,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n"
    )
    report = services.importer.import_text(
        HEADER
        + "Ska-7,123,PT Satu,Plywood,4412,JP,IJEPA,in_review,,2026-11-01,10,100\n"
        + "D-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n"
        + "d-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n"
    )
    errors = dict(report.errors)
    assert errors[2].startswith("ref: 'Ska-7' differs from the stored 'SKA-7' only by case")
    # pasted with a zero-width character, or typed in full-width letters: the same ref
    again = services.importer.import_text(
        HEADER + "SKA\u200b-7,123,PT Satu,Plywood,4412,JP,IJEPA,in_review,,2026-11-01,10,100\n"
        "ＳＫＡ-7,123,PT Satu,Plywood,4412,JP,IJEPA,in_review,,2026-11-01,10,100\n"
    )
    assert again.updated == 1 and dict(again.errors)[3] == "ref: SKA-7 is already on line 2"
    assert errors[4] == "ref: d-1 is already on line 3"  # the same ref twice in one file, in any case
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SkaApplication)) == 2


def test_a_column_given_twice_is_refused(services: Services) -> None:
    header = HEADER.rstrip("\n") + ",Status\n"
    report = services.importer.import_text(
        header + "E-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100,issued\n"
    )
    assert "columns given twice: status" in report.lines()[-1] or any(
        "columns given twice: status" in reason for _, reason in report.errors
    )
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SkaApplication)) == 0


# -- the number style is the file's, decided from its evidence ---------------------------

AMBIGUOUS = 'A-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,"1.500","25.000"\n'


def test_a_semicolon_csv_reads_1_500_as_one_thousand_five_hundred(services: Services) -> None:
    # as Excel saves CSV in an Indonesian locale: the ';' says the comma is the decimal mark
    report = services.importer.import_text(
        HEADER.replace(",", ";")
        + "C-1;123;PT Satu;Plywood;4412.31;Jepang;IJEPA;diajukan;;01/12/2026;1.500;25.000\n"
    )
    assert (report.created, report.errors, report.notes, report.number_style) == (1, [], [], "id")
    app = _apps(services)["C-1"]
    assert (app.volume_tonnes, app.value_usd) == (Decimal(1500), Decimal(25000))


@pytest.mark.parametrize(
    "evidence, volume, value",
    [
        ("2,5", "1500", "25000"),  # a decimal comma
        ("1.500.000", "1500", "25000"),  # points that group thousands
        ("1.500,25", "1500", "25000"),
        ("1,500.25", "1.5", "25"),
        ("1,500,000", "1.5", "25"),
        ("2.5", "1.5", "25"),  # a decimal point
    ],
)
def test_one_number_that_only_one_style_reads_decides_the_file(
    services: Services, evidence: str, volume: str, value: str
) -> None:
    report = services.importer.import_text(
        HEADER + AMBIGUOUS + f'A-2,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,"{evidence}",100\n'
    )
    assert (report.created, report.errors) == (2, []), report.lines()
    app = _apps(services)["A-1"]
    assert (app.volume_tonnes, app.value_usd) == (Decimal(volume), Decimal(value))


def test_an_ambiguous_number_in_a_file_without_evidence_is_refused_saying_how_to_write_it(
    services: Services,
) -> None:
    text = HEADER + AMBIGUOUS + "A-2,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n"
    report = services.importer.import_text(text)  # in the office's language
    assert set(_apps(services)) == {"A-2"}  # nothing guessed; the good row is kept
    assert (report.created, report.bad_rows, report.number_style) == (1, 1, "none")
    (line, volume), (_, value) = report.errors  # every ambiguous cell of the row
    assert line == 2 and volume.startswith("volume_tonnes: '1.500' ambigu: 1500 atau 1,50?")
    assert "Tulis 1500 (tanpa pemisah ribuan) atau 1,50 (dengan desimal)" in volume
    assert value.startswith("value_usd: '25.000' ambigu: 25000 atau 25,00?")
    english = services.importer.import_text(text, check=True, lang="en")
    assert english.errors[0][1] == (
        "volume_tonnes: '1.500' is ambiguous: 1500 or 1.50? The file does not show one number "
        "style (a decimal comma as in 1,5 or a decimal point as in 1.5), so the row was not "
        "imported. Write 1500 (no thousands separator) or 1.50 (with decimals)."
    )
    # three decimals would read both ways again: the hint gets a fourth
    tonnes = services.importer.import_text(HEADER + AMBIGUOUS.replace('"1.500"', '"1.234"'), lang="en")
    assert "Write 1234 (no thousands separator) or 1.2340 (with decimals)" in tonnes.errors[0][1]


def test_a_file_mixing_styles_refuses_its_ambiguous_numbers(services: Services) -> None:
    report = services.importer.import_text(
        HEADER
        + 'A-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,"1.000,5","20.000,00"\n'
        + 'A-2,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,"12,5","7.000,00"\n'
        + 'A-3,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,"1,234.56"\n'
        + 'A-4,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,"1.500",100\n'
    )
    assert set(_apps(services)) == {"A-1", "A-2"} and report.number_style == "id"
    (three, other), (four, ambiguous) = report.errors
    assert (three, four) == (4, 5)
    assert other == "value_usd: '1,234.56' is written in the other number style; this file uses 1.234,56"
    assert ambiguous.startswith("volume_tonnes: '1.500' ambigu: 1500 atau 1,50?")
    # a ';' file written with English numbers shows both styles too
    report = services.importer.import_text(
        HEADER.replace(",", ";")
        + "B-1;123;PT Satu;Plywood;4412;JP;IJEPA;submitted;;2026-11-01;1,500.5;2,000.25\n"
        + "B-2;123;PT Satu;Plywood;4412;JP;IJEPA;submitted;;2026-11-01;1.500;100\n"
    )
    assert report.created == 1 and [line for line, _ in report.errors] == [3]
    assert _apps(services)["B-1"].volume_tonnes == Decimal("1500.5")


def test_cli_refuses_an_ambiguous_number_in_the_officers_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: 'sqlite:///{tmp_path / 'c.db'}'}}\n")
    path = tmp_path / "apps.csv"
    path.write_text(HEADER + AMBIGUOUS)
    args = ["--config", str(config), "applications", "import", "--check"]
    assert main([*args, str(path)]) == 1
    assert capsys.readouterr().out.splitlines()[1].startswith("line 2, volume_tonnes: '1.500' ambigu:")
    assert main([*args, "--lang", "en", str(path)]) == 1
    assert capsys.readouterr().out.splitlines()[1].startswith("line 2, volume_tonnes: '1.500' is ambiguous:")
    # the same numbers as Excel writes them in an Indonesian locale: read, not refused
    path.write_text((HEADER + AMBIGUOUS).replace(",", ";").replace('"', ""))
    assert main([*args, str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "amounts read as 1.234,56 (comma = decimal point)"


# -- destinations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["US", "us", "USA", "United States", "Amerika Serikat", "the United States"]
)
def test_a_destination_is_stored_one_way_and_read_in_each_language(services: Services, written: str) -> None:
    report = services.importer.import_text(
        HEADER + f"A-1,123,PT Satu,Furniture,9403.60,{written},Form B,submitted,,2026-11-01,10,100\n"
    )
    assert (report.created, report.errors, report.warnings) == (1, [], [])
    stored = _apps(services)["A-1"].destination
    # the label, as for every other country ("Netherlands", "United Kingdom")
    assert stored == "United States"
    country = services.presenter.country
    assert (country(stored, "id"), country(stored, "en")) == ("Amerika Serikat", "the United States")
    # what imports before this one stored reads in the reader's language too
    assert country("the United States", "id") == "Amerika Serikat"
