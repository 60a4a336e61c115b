"""`python -m bot report export|check|stats` as an admin runs them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from tests.conftest import ROOT
from tests.test_cli import run_cli
from tests.test_reports import png_size

TABLE = ROOT / "knowledge" / "export-2025-wood.csv"


@pytest.fixture
def cli(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):  # type: ignore[no-untyped-def]
    """Run a sub-command in-process on the test database; (exit code, stdout)."""
    monkeypatch.setenv("SKA_DATABASE_URL", database_url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no config.yaml of a developer's

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        return code, capsys.readouterr().out

    return run


def test_check_finds_the_usd_4000_gap_of_the_2025_table() -> None:
    out = run_cli("report", "check", str(TABLE))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "7 rows" in out.stdout
    assert "rows sum to USD 48,996,166.36; published USD 49,000,166.36" in out.stdout
    assert "DIFFERENCE value_usd: the published total is USD 4,000.00 higher" in out.stdout
    assert "volume_tonnes" not in out.stdout  # 240,795.83 t agrees with its rows


def test_check_with_overrides_and_a_bad_file(tmp_path: Path) -> None:
    out = run_cli(
        "report", "check", str(TABLE), "--published-value", "48996166.36", "--published-volume", "240795.83"
    )
    assert out.returncode == 0 and "equal the sums of the rows" in out.stdout
    out = run_cli("report", "check", str(TABLE), "--published-volume", "240000")
    assert out.returncode == 1 and "795.83 t lower" in out.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "no,exporter,commodity,volume_tonnes,value_usd,destinations\n1,PT X,Plywood,abc,10,Japan\n",
        encoding="utf-8",
    )
    out = run_cli("report", "check", str(bad))
    assert out.returncode == 2 and "not a number" in out.stdout


def test_demo_export_equals_the_published_rows(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("demo", "load")[0] == 0
    code, out = cli("report", "export", "--year", "2025", "--out", "r.xlsx", "--chart", "r.png")
    assert code == 0
    assert "JUMLAH" in out and "240.795,83" in out and "48.996.166,36" in out
    assert "PT. Korindo Aria Bima Sari     Plywood" in out
    assert "selisih USD 4.000,00" in out
    wb = load_workbook(io.BytesIO((tmp_path / "r.xlsx").read_bytes()))
    total = next(r for r in wb["Realisasi"].iter_rows(values_only=True) if r[1] == "JUMLAH")
    assert round(total[4], 2) == 48996166.36
    assert png_size((tmp_path / "r.png").read_bytes())[0] >= 900
    code, out = cli("report", "check", str(TABLE), "--published-value", "48996166.36", "--year", "2025")
    assert code == 0 and "every row equals the SKAs issued in 2025" in out
    code, out = cli("report", "check", str(TABLE), "--published-value", "48996166.36", "--year", "2024")
    assert code == 1 and "PT. Korintiga Hutani / Wood Pellet: no issued applications" in out


def test_export_of_an_empty_period_and_stats(cli) -> None:  # type: ignore[no-untyped-def]
    code, out = cli(
        "report", "export", "--from", "2025-03", "--to", "2025-04", "--lang", "en", "--out", "none.xlsx"
    )
    assert code == 0 and "01-03-2025 to 30-04-2025" in out and "No SKA was issued" in out
    assert "none.xlsx not written" in out and not Path("none.xlsx").exists()
    code, out = cli("report", "stats", "--days", "7")
    assert code == 0 and "Pertanyaan: 0" in out and "<b>" not in out
