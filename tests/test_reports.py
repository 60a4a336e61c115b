"""Report figures against hand-computed fixtures, including the office's 2025 table."""

from __future__ import annotations

import datetime as dt
import io
import struct
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.models import (
    Company,
    DocumentUpload,
    OutboxMessage,
    QueryLog,
    Reminder,
    SkaApplication,
    StatusEvent,
    Ticket,
)
from bot.services import Services
from bot.services.demo import load_demo
from bot.services.reports import (
    Issued,
    Period,
    ReportArgsError,
    aggregate,
    check_table,
    compare_rows,
    parse_report_args,
)
from bot.services.reports.charts import export_chart, stats_chart
from bot.services.reports.workbook import export_workbook

WIB = ZoneInfo("Asia/Jakarta")
D = Decimal


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# -- pure aggregation -------------------------------------------------------------------------


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


RECORDS = [
    Issued("PT A", "Plywood", "Japan", D("10.50"), D("1000.00"), utc(2025, 1, 10, 3)),
    Issued("PT A", "plywood", "China", D("4.50"), D("500.00"), utc(2025, 3, 2, 3)),
    # 18:00 UTC on 31 January is 01:00 WIB on 1 February: it counts for February
    Issued("PT A", "Veneer", "Japan", D("2.00"), D("3000.00"), utc(2025, 1, 31, 18)),
    Issued("CV B", "Plywood", "USA", D("1.25"), D("250.25"), utc(2025, 3, 20, 3)),
    Issued("CV B", "Plywood", "United States", None, D("100.00"), utc(2025, 3, 21, 3)),
]


def test_aggregate_sums_rows_destinations_and_months_by_hand() -> None:
    canonical = {"USA": "United States"}.get
    report = aggregate(
        RECORDS, Period(dt.date(2025, 1, 1), dt.date(2025, 4, 30)), WIB, lambda name: canonical(name) or name
    )
    rows = [
        (x.exporter, x.commodity, x.volume_tonnes, x.value_usd, x.destinations, x.count) for x in report.lines
    ]
    assert rows == [
        ("PT A", "Veneer", D("2.00"), D("3000.00"), ("Japan",), 1),
        ("PT A", "Plywood", D("15.00"), D("1500.00"), ("Japan", "China"), 2),
        ("CV B", "Plywood", D("1.25"), D("350.25"), ("USA", "United States"), 2),
    ]
    assert (report.total_volume, report.total_value, report.count) == (D("18.25"), D("4850.25"), 5)
    assert [(b.key, b.value_usd, b.count) for b in report.by_destination] == [
        ("Japan", D("4000.00"), 2),
        ("China", D("500.00"), 1),
        ("United States", D("350.25"), 2),
    ]
    assert [(b.key, b.value_usd) for b in report.by_commodity] == [
        ("Veneer", D("3000.00")),
        ("Plywood", D("1850.25")),
    ]
    assert [(b.key, b.value_usd, b.count) for b in report.by_month] == [
        ("2025-01", D("1000.00"), 1),
        ("2025-02", D("3000.00"), 1),
        ("2025-03", D("850.25"), 3),
        ("2025-04", D("0"), 0),
    ]
    assert report.missing_figures == 1 and report.exporters == 2


def seed_issued(services: Services) -> None:
    """Issued SKAs on every edge the database sums must get right: the office's midnight
    at both ends of a period and between two months, an SKA issued twice, one issued
    before events were recorded, figures missing, spellings and empty destinations."""
    rows = [  # (company, commodity, destination, volume, value, status, issued at..., updated)
        (0, "Plywood", "Japan", D("10.500"), D("1000.25"), "issued", [utc(2025, 1, 31, 16, 59, 59)]),
        (0, "plywood ", "Japan", D("0.001"), D("0.01"), "issued", [utc(2025, 1, 31, 17)]),
        (0, " PLYWOOD", "USA", D("2"), D("3000"), "issued", [utc(2024, 12, 31, 17)]),
        (0, "Plywood", "United States", None, D("5.55"), "issued", [utc(2025, 12, 31, 16, 59)]),
        (1, "Veneer", "", D("7.125"), None, "issued", [utc(2025, 3, 4, 1)]),
        (
            1,
            "Veneer",
            "China",
            D("1.111"),
            D("111.11"),
            "issued",
            [utc(2024, 6, 1), utc(2025, 3, 5, 2)],
        ),  # issued twice: the last
        (1, "veneer", "China", D("3"), D("4"), "issued", [utc(2025, 3, 1), utc(2026, 1, 2)]),
        (2, "Plywood", "Japan", D("100"), D("200"), "issued", []),  # no event: last change
        (2, "Plywood", "Japan", D("5"), D("6"), "approved", [utc(2025, 5, 5)]),  # not issued now
        (0, "Plywood", "Japan", D("9"), D("9"), "issued", [utc(2024, 12, 31, 16, 59)]),  # 2024
        (0, "Plywood", "Japan", D("9"), D("9"), "issued", [utc(2025, 12, 31, 17)]),  # 2026
        (3, "Wood Pellet", "Korea", None, None, "issued", [utc(2025, 8, 8, 8)]),
    ]
    with services.db.session() as s:
        # two companies with one name are one exporter in the office's table
        companies = [
            Company(nib=f"99000000000{i:02d}", name=name)
            for i, name in enumerate(("PT A", "CV B", "PT A", "PT C"))
        ]
        s.add_all(companies)
        s.flush()
        for i, (company, commodity, destination, volume, value, status, events) in enumerate(rows):
            app = SkaApplication(
                ref=f"EDGE-{i:02d}",
                company_id=companies[company].id,
                commodity=commodity,
                destination=destination,
                status=status,
                volume_tonnes=volume,
                value_usd=value,
                updated_at=utc(2025, 7, 10, 3),
            )
            s.add(app)
            s.flush()
            s.add_all(
                StatusEvent(
                    application_id=app.id, from_status="approved", to_status="issued", actor="test", at=at
                )
                for at in events
            )


@pytest.mark.parametrize(
    ("start", "end", "commodity"),
    [
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31), None),
        (dt.date(2025, 1, 15), dt.date(2025, 3, 4), None),
        (dt.date(2025, 2, 1), dt.date(2025, 2, 1), None),
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31), "plywood"),
        (dt.date(2024, 1, 1), dt.date(2026, 12, 31), None),
    ],
)
def test_database_sums_equal_the_records_summed_one_by_one(
    services: Services, start: dt.date, end: dt.date, commodity: str | None
) -> None:
    seed_issued(services)
    reports, period = services.reports, Period(start, end)
    ours = reports.export(period, commodity)
    reference = aggregate(reports.issued(period, commodity), period, reports.tz, reports.canonical, commodity)
    assert ours.lines == reference.lines and ours.missing_figures == reference.missing_figures
    assert (ours.by_commodity, ours.by_destination, ours.by_month) == (
        reference.by_commodity,
        reference.by_destination,
        reference.by_month,
    )
    if period == Period.year(2025) and commodity is None:
        # by hand: 23:59:59 WIB on 31 January is January, a second later February; the
        # first moment of 2025 in WIB counts, the last of 2024 and the first of 2026 do not
        months = {b.key: (b.count, b.value_usd) for b in ours.by_month}
        assert months["2025-01"] == (2, D("4000.25")) and months["2025-02"] == (1, D("0.01"))
        assert months["2025-03"] == (2, D("111.11")) and months["2025-07"] == (1, D("200"))
        assert ours.count == 8 and ours.missing_figures == 3
        assert [(x.exporter, x.commodity, x.count, x.value_usd, x.destinations) for x in ours.lines] == [
            ("PT A", "Plywood", 5, D("4205.81"), ("USA", "Japan", "United States")),
            ("CV B", "Veneer", 2, D("111.11"), ("China",)),
            ("PT C", "Wood Pellet", 1, D("0"), ("Korea",)),
        ]
        assert [(b.key, b.count) for b in ours.by_destination][:2] == [("United States", 2), ("Japan", 3)]


@pytest.mark.parametrize(
    ("args", "start", "end", "commodity"),
    [
        ([], dt.date(2026, 1, 1), dt.date(2026, 12, 31), None),
        (["2025"], dt.date(2025, 1, 1), dt.date(2025, 12, 31), None),
        (["2025-02"], dt.date(2025, 2, 1), dt.date(2025, 2, 28), None),
        (
            ["2025-01", "2025-06-15", "Veneer", "Keruing"],
            dt.date(2025, 1, 1),
            dt.date(2025, 6, 15),
            "Veneer Keruing",
        ),
        (["Plywood"], dt.date(2026, 1, 1), dt.date(2026, 12, 31), "Plywood"),
    ],
)
def test_report_arguments(args: list[str], start: dt.date, end: dt.date, commodity: str | None) -> None:
    period, found = parse_report_args(args, dt.date(2026, 11, 26))
    assert (period.start, period.end, found) == (start, end, commodity)


@pytest.mark.parametrize("args", [["2025-13"], ["2025", "2024"], ["25"], ["2025-02-30"]])
def test_bad_periods_are_refused(args: list[str]) -> None:
    with pytest.raises(ReportArgsError):
        parse_report_args(args, dt.date(2026, 11, 26))


def test_period_labels() -> None:
    assert Period.year(2025).label("id") == "2025"
    assert Period(dt.date(2025, 3, 1), dt.date(2025, 3, 31)).label("id") == "Maret 2025"
    assert Period(dt.date(2025, 3, 1), dt.date(2025, 4, 30)).label("en") == "01-03-2025 to 30-04-2025"


# -- the office's 2025 table ---------------------------------------------------------------


def test_published_2025_table_total_is_usd_4000_above_its_rows(services: Services) -> None:
    rows = services.answers.kb.exports
    check = check_table(rows, D("240795.83"), D("49000166.36"))
    assert (check.rows, check.volume_tonnes, check.value_usd) == (7, D("240795.83"), D("48996166.36"))
    assert check.differences() == [("value_usd", D("49000166.36"), D("48996166.36"))]


def test_demo_applications_reproduce_the_published_rows(services: Services) -> None:
    load_demo(services.db, services.answers.kb.exports)
    load_demo(services.db, services.answers.kb.exports)  # idempotent: no double count
    report = services.reports.export(Period.year(2025))
    assert compare_rows(services.answers.kb.exports, report) == []
    assert (report.count, report.exporters, len(report.by_destination)) == (17, 5, 13)
    assert report.total_volume == D("240795.83") and report.total_value == D("48996166.36")
    first = report.lines[0]
    assert (first.exporter, first.commodity, first.volume_tonnes, first.value_usd) == (
        "PT. Korindo Aria Bima Sari",
        "Plywood",
        D("137782.70"),
        D("30986633.82"),
    )
    # Japan: a quarter of Plywood (7,746,658.46), half of Wood Pellet (1,172,676.00),
    # all of Finger Joint (226,123.45) and of Chopsticks (170,092.00)
    japan = report.by_destination[0]
    assert (japan.key, japan.value_usd, japan.count) == ("Japan", D("9315549.91"), 4)
    # "USA" in the table is the same country as "the United States" in the knowledge base
    assert "United States" in {b.key for b in report.by_destination}
    summary = services.reports.export_summary(report, "id")
    assert "240.795,83 ton" in summary and "USD 48.996.166,36" in summary
    assert "USD 49.000.166,36, selisih USD 4.000,00" in summary
    english = services.reports.export_summary(report, "en")
    assert "240,795.83 tonnes" in english and "USD 4,000.00 off" in english
    # another year, or one commodity, is not the published table: no comparison
    plywood = services.reports.export(Period.year(2025), "plywood")
    assert plywood.commodity == "Plywood" and plywood.total_value == D("30986633.82")
    assert "4.000,00" not in services.reports.export_summary(plywood, "id")
    assert services.reports.export(Period.year(2024)).lines == ()


def test_workbook_has_the_office_sheets_and_totals(services: Services) -> None:
    load_demo(services.db, services.answers.kb.exports)
    report = services.reports.export(Period.year(2025))
    data = export_workbook(report, "id", "IPSKA Kalteng", services.reports.country_name, "now")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Realisasi", "Per Komoditas", "Per Negara", "Per Bulan"]
    ws = wb["Realisasi"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "No")
    assert header == ("No", "Nama Eksportir", "Komoditi", "Volume (Ton)", "Nilai FOB (USD)", "Negara Tujuan")
    total = next(r for r in ws.iter_rows() if r[1].value == "JUMLAH")
    assert total[3].value == pytest.approx(240795.83) and total[4].value == pytest.approx(48996166.36)
    assert total[4].number_format == "#,##0.00"
    row1 = next(r for r in ws.iter_rows(values_only=True) if r[0] == 1)
    assert row1[1:5] == (
        "PT. Korindo Aria Bima Sari",
        "Plywood",
        pytest.approx(137782.70),
        pytest.approx(30986633.82),
    )
    months = [r for r in wb["Per Bulan"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert [r[1] for r in months][:2] == ["Januari 2025", "Februari 2025"] and len(months) == 12
    per_country = wb["Per Negara"]
    jumlah = next(r for r in per_country.iter_rows(values_only=True) if r[1] == "JUMLAH")
    assert jumlah[2] == 17 and jumlah[4] == pytest.approx(48996166.36)
    english = load_workbook(
        io.BytesIO(export_workbook(report, "en", "IPSKA", services.reports.country_name, "now"))
    )
    assert english.sheetnames == ["Realisation", "By commodity", "By destination", "By month"]


def test_chart_is_a_png_a_phone_can_show(services: Services) -> None:
    load_demo(services.db, services.answers.kb.exports)
    report = services.reports.export(Period.year(2025))
    data = export_chart(report, "id", services.reports.country_name)
    width, height = png_size(data)
    # sharp on a phone, within Telegram's photo limits (sides sum <= 10000, ratio <= 20)
    assert 900 <= width <= 1280 and 900 <= height <= 2500
    assert 20_000 < len(data) < 1_000_000


# -- help-desk figures ---------------------------------------------------------------------

NOW = dt.datetime(2026, 3, 31, 8, 0, tzinfo=dt.UTC)


def seed_helpdesk(services: Services) -> None:
    t0 = NOW - dt.timedelta(days=2)
    q = [  # (user, text, topic, outcome, feedback, at)
        (1, "alamat kantor dimana", "office-contact", "answer", None, t0),
        (1, "alamat kantor ska", "office-contact", "answer", -1, t0),  # 👎
        (2, "data ekspor 2025", "export-statistics", "answer", None, t0),  # ticket soon after
        (3, "form apa ya", "form-by-destination", "ask_destination", None, t0),
        (4, "biaya", None, "suggest", None, t0),
        (5, "Bisa kirim pakai kapal laut?", None, "no_match", None, t0),
        (6, "bisa kirim pakai  kapal laut", None, "no_match", None, t0),
        (7, "halo", "greeting", "smalltalk", None, t0),
        (8, "lama sekali", "office-contact", "answer", None, NOW - dt.timedelta(days=40)),
    ]
    tickets = [  # (user, created, status, first response s, resolution s, breached, rating)
        (2, t0 + dt.timedelta(minutes=30), "closed", 600.0, 3600.0, None, 5),
        (9, t0, "closed", 1200.0, 7200.0, t0 + dt.timedelta(hours=5), 4),
        (10, t0, "claimed", 3000.0, None, None, None),
        (11, t0, "open", None, None, None, None),
        (12, NOW - dt.timedelta(days=45), "closed", 99999.0, 99999.0, None, 1),
    ]
    for uid in range(1, 9):  # query_log.user_id refers to users
        services.users.touch(uid, f"U{uid}", None, "id")
    with services.db.session() as s:
        for user, text, topic, outcome, feedback, at in q:
            s.add(
                QueryLog(
                    user_id=user,
                    text=text,
                    language="id",
                    matched_id=topic,
                    score=80.0,
                    outcome=outcome,
                    feedback=feedback,
                    created_at=at,
                )
            )
        for user, created, status, first, res, breached, rating in tickets:
            s.add(
                Ticket(
                    user_id=user,
                    question="?",
                    status=status,
                    created_at=created,
                    first_response_seconds=first,
                    resolution_seconds=res,
                    sla_breached_at=breached,
                    rating=rating,
                )
            )
        company = Company(nib="9911111111111", name="PT Uji")
        s.add(company)
        s.flush()
        apps = []
        for i in range(3):
            app = SkaApplication(ref=f"R-{i}", company_id=company.id, status="returned")
            s.add(app)
            apps.append(app)
        s.flush()
        # (application, reminder kind, sent at): two reached exporters in the window
        for i, (app, kind, sent) in enumerate(
            [
                (apps[0], "exporter", t0),
                (apps[1], "exporter", t0),
                (apps[0], "exporter", None),  # not sent yet
                (apps[0], "alert", t0),
            ]
        ):  # to officers
            row = OutboxMessage(
                chat_id=100 + i,
                text="x",
                kind=f"reminder_{kind}",
                sent_at=sent,
                status="sent" if sent else "pending",
            )
            s.add(row)
            s.flush()
            s.add(
                Reminder(
                    application_id=app.id,
                    chat_id=100 + i,
                    kind=kind,
                    local_date=dt.date(2026, 3, 1 + i),
                    outbox_id=row.id,
                )
            )
        s.add(OutboxMessage(chat_id=1, text="x", kind="status", sent_at=t0, status="sent"))
        # uploads after a reminder: app 0 at +1 h and app 1 at +2 h count; one before the
        # reminder, one abandoned and one for an application never reminded do not
        for app, status, at in [
            (apps[0], "received", t0 + dt.timedelta(hours=1)),
            (apps[1], "accepted", t0 + dt.timedelta(hours=2)),
            (apps[0], "accepted", t0 - dt.timedelta(hours=1)),
            (apps[0], "discarded", t0 + dt.timedelta(hours=3)),
            (apps[2], "received", t0 + dt.timedelta(hours=1)),
        ]:
            s.add(
                DocumentUpload(
                    application_id=app.id,
                    user_id=1,
                    doc_id="invoice",
                    file_id="f",
                    file_unique_id="u",
                    mime_type="application/pdf",
                    file_size=10,
                    status=status,
                    created_at=at,
                )
            )


def test_helpdesk_figures_by_hand(services: Services) -> None:
    seed_helpdesk(services)
    st = services.reports.stats(30, now=NOW)
    # 7 questions (greeting and the 40-day-old one left out), 4 answered; of those, the
    # 👎 one and the one followed by a ticket within the hour were not resolved by the bot
    assert (st.questions, st.answered, st.suggested, st.no_match) == (7, 4, 1, 2)
    assert st.deflected == 2 and st.deflection_rate == pytest.approx(2 / 7)
    assert (st.tickets, st.tickets_closed, st.sla_breaches) == (4, 2, 1)
    assert (st.first_response.median, st.first_response.p90) == (1200.0, 3000.0)
    assert (st.resolution.median, st.resolution.p90) == (5400.0, 7200.0)
    assert (st.ratings, st.rating_avg) == (2, 4.5)
    assert st.top_topics == (("office-contact", 2), ("export-statistics", 1), ("form-by-destination", 1))
    assert st.top_unanswered == (("bisa kirim pakai kapal laut", 2),)
    assert (st.reminders_sent, st.documents_after_reminder) == (2, 2)
    titles = {tid: services.answers.title(tid, "id") for tid, _ in st.top_topics}
    text = services.reports.stats_summary(st, "id", titles)
    assert "Pertanyaan: 7" in text and "Selesai oleh bot tanpa petugas: 2 (28,6%)" in text
    assert "median 0 j 20 m, P90 0 j 50 m (n=3)" in text
    assert "median 1 j 30 m, P90 2 j 0 m (n=2)" in text
    assert "Rata-rata penilaian: 4,5 / 5 (2 penilaian)" in text
    assert (
        "Pengingat terkirim: 2; dokumen diterima setelah pengingat: 2" in text
        and "Melewati SLA: 1 tiket" in text
    )
    assert f"{titles['office-contact']}: 2" in text
    assert "<i>bisa kirim pakai kapal laut</i>: 2" in text
    english = services.reports.stats_summary(st, "en", titles)
    assert "Resolved by the bot without an officer: 2 (28.6%)" in english
    width, height = png_size(stats_chart(st, "id", titles))
    assert 900 <= width <= 1280 and 900 <= height <= 2500


def test_stats_workbook_sheets(services: Services) -> None:
    seed_helpdesk(services)
    out = services.reports.stats_files(30, "id", "IPSKA", chart=True, workbook=True, now=NOW)
    assert out.png is not None and png_size(out.png)[0] >= 900
    wb = load_workbook(io.BytesIO(out.xlsx))
    assert wb.sheetnames == ["Ringkasan", "Topik", "Tanpa jawaban"]
    figures = {r[0]: r[1] for r in wb["Ringkasan"].iter_rows(values_only=True) if r[0]}
    assert figures["Pertanyaan"] == 7 and figures["Tiket ke petugas"] == 4
    assert figures["Tingkat penyelesaian oleh bot"] == pytest.approx(0.2857)
    assert figures["Penyelesaian, median (jam kerja)"] == "1 j 30 m"
    assert figures["Pengingat terkirim"] == 2
    assert figures["Dokumen diterima setelah pengingat"] == 2
