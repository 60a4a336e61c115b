"""CSV import: idempotent, validated, notifying; number formats detected per file."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bot.models import Company, OutboxMessage, SkaApplication, User
from bot.services import Services
from bot.services.importer import detect_number_style, parse_number

HEADER = ("ref,company_nib,company_name,commodity,hs_code,destination,form,status,note,"
          "submitted_at,volume_tonnes,value_usd\n")


def test_number_styles() -> None:
    assert detect_number_style(["240.795,83", "12,5"]) == ("id", None)
    assert detect_number_style(["240,795.83", "12.5"]) == ("en", None)
    style, note = detect_number_style(["1.234", "5"])
    assert style == "en" and "both ways" in note
    assert detect_number_style(["1.234,5", "1,234.5"])[0] == "mixed"
    assert parse_number("240.795,83", "id") == Decimal("240795.83")
    assert parse_number("240,795.83", "en") == Decimal("240795.83")


def test_reimport_updates_instead_of_duplicating(services: Services) -> None:
    rows = HEADER + "A-1,123,PT Satu,Plywood,4412,Jepang,IJEPA,submitted,,2026-11-01,\"1.000,5\",\"20.000,00\"\n"
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
        HEADER + "A-1,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,10,100\n")
    with services.db.session() as s:
        company = s.scalars(select(Company)).one()
        s.add(User(id=555, language="en", company_id=company.id))
    report = services.importer.import_text(
        HEADER + "A-1,123,PT Satu,Plywood,4412,JP,IJEPA,returned,Fix the HS code,2026-11-01,10,100\n")
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
        + "A-5,123,PT Satu,Plywood,4412,JP,IJEPA,submitted,,2026-11-01,ten,100\n")
    reasons = dict(report.errors)
    assert report.created == 1
    assert "ref is empty" in reasons[3]
    assert "status 'flying'" in reasons[4]
    assert "not a date" in reasons[5]
    assert "not a number" in reasons[6]
    # an illegal change is a bad row too, and changes nothing
    report = services.importer.import_text(
        HEADER + "A-1,123,PT Satu,Plywood,4412,JP,IJEPA,issued,,2026-11-01,10,100\n")
    assert "not allowed" in dict(report.errors)[2]


def test_missing_columns_are_named(services: Services) -> None:
    report = services.importer.import_text("ref,status\nA,submitted\n")
    assert report.errors[0][0] == 1 and "company_nib" in report.errors[0][1]
