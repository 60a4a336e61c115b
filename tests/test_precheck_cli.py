"""`python -m bot precheck FILE`: the same check on a file of answers (cli_main)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.precheck import cli_main
from bot.config import parse_settings

SETTINGS = parse_settings({"office": {"holidays": ["2025-03-31"], "national_holidays": False}}, env={})

ANSWERS_YAML = """\
commodity: wood pellets
hs_code: "4401.39"
destination: China
form: Form IJEPA
exporter_invoice: PT. Pelet Borneo
exporter_peb: PT Pelet Borneo
consignee_invoice: Guangzhou Energy Co., Ltd.
consignee_bl: Guangzhou Energi Co Ltd
quantity: "2.000"
gross_weight: 1.980 ton
net_weight: 2.000.000 kg
currency: USD
invoice_value: 240.795,83
shipment_date: 2025-03-27
application_date: 03-04-2025
"""


def run(
    tmp_path: Path, name: str, content: str, capsys: pytest.CaptureFixture[str], **kw: str
) -> tuple[int, list[str]]:
    """Exit code and printed lines; problems with the file itself go to stderr."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code = cli_main(SETTINGS, path, **kw)
    printed = capsys.readouterr()
    return code, (printed.err + printed.out).splitlines()


def test_yaml_file_prints_findings_most_serious_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run(tmp_path, "answers.yaml", ANSWERS_YAML, capsys, lang="en")
    assert code == 0
    heads = [line.split()[0] for line in lines if not line.startswith(" ")][:-1]
    order = {"ERROR": 0, "WARNING": 1, "INFO": 2}
    assert heads == sorted(heads, key=order.__getitem__)
    out = "\n".join(lines)
    assert "ERROR   hs_heading: HS code 4401.39 does not fit Wood pellets" in out
    assert "4401.31" in out
    assert "ERROR   form_invalid: Form IJEPA is not used for exports to China" in out
    assert "ERROR   consignee_name:" in out and "GUANGZHOU ENERG[Y]" in out
    assert "ERROR   net_above_gross:" in out
    assert "ERROR   retroactive:" in out and "ISSUED RETROACTIVELY" in out
    assert "WARNING quantity_unit:" in out and "WARNING quantity_ambiguous:" in out
    assert "INFO    exporter_name_style:" in out
    assert "USD 240,795.83" in out
    assert "<b>" not in out and "&lt;" not in out  # plain text for a terminal
    assert lines[-1].startswith("5 error(s)")


def test_json_file_and_indonesian_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = {
        "commodity": "plywood",
        "hs_code": "4412.31",
        "destination": "JP",
        "form": "Form B",
        "shipment_date": "2025-03-27",
        "application_date": "2025-03-28",
    }
    code, lines = run(tmp_path, "answers.json", json.dumps(answers), capsys)
    out = "\n".join(lines)
    assert code == 0
    assert "WARNING form_alternatives:" in out and "IJEPA" in out
    assert "WARNING not_answered: Belum dijawab" in out
    assert "retroactive" not in out


def test_unreadable_files_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(tmp_path, "list.yaml", "- just\n- a list\n", capsys)
    assert code == 2 and "must hold a mapping" in lines[0]
    code, lines = run(tmp_path, "broken.json", "{not json", capsys)
    assert code == 2 and "broken.json is not valid YAML (line 1)" in lines[0]
    assert cli_main(SETTINGS, tmp_path / "missing.yaml") == 2
    assert "missing.yaml" in capsys.readouterr().err
    code, lines = run(tmp_path, "extra.yaml", "commodity: veneer\ncolour: red\n", capsys)
    assert code == 0 and "ignored unknown keys: colour" in lines[0]


def test_billion_laughs_is_refused_quickly_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    lines.append("commodity: *i")
    started = time.monotonic()
    code, printed = run(tmp_path, "laughs.yaml", "\n".join(lines) + "\n", capsys)
    assert time.monotonic() - started < 2
    assert code == 2 and len(printed) == 1
    assert printed[0].startswith("precheck: ") and "aliases (*name) are not allowed (line 2)" in printed[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("commodity: " + "x" * 70_000, "is too large"),
        (b"commodity: kayu \xe9", "not UTF-8"),
        ("[" * 5000 + "]" * 5000, "precheck: "),
    ],
)
def test_oversized_binary_or_deep_files_get_one_line(
    tmp_path: Path, content: str | bytes, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "answers.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert cli_main(SETTINGS, path) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and "\n" not in err and "Traceback" not in err


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(SETTINGS, tmp_path / "nope.yaml") == 2
    assert capsys.readouterr().err.strip() == f"precheck: {tmp_path / 'nope.yaml'}: file not found"
