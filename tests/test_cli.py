"""The command line as an admin or officer uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "SKA_DATABASE_URL")}
    full_env.update(env or {})
    # runs from other folders too (no config.yaml there), without needing an install
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def test_ask_json_answers_confidently() -> None:
    out = run_cli("ask", "--json", "ekspor plywood ke jepang pakai form apa?")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["id"] == "form-by-destination" and result["lang"] == "id"
    assert "IJEPA" in result["answer"] and 0 <= result["score"] <= 100


def test_ask_reads_one_question_per_line_in_order() -> None:
    questions = ["How long does issuance take?", "siapa juara piala dunia 2022", "berapa biaya ska"]
    out = run_cli("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    results = [json.loads(line) for line in out.stdout.strip().splitlines()]
    assert len(results) == 3
    assert results[0]["id"] == "processing-time" and results[0]["lang"] == "en"
    assert results[1]["id"] is None and results[1]["answer"] is None
    assert results[2]["id"] == "fees"


def test_ask_lang_option_sets_language_when_text_gives_no_clue() -> None:
    out = run_cli("ask", "--json", "--lang", "en", "PEB NPE")
    assert json.loads(out.stdout.strip())["lang"] == "en"


def test_kb_check_passes_on_the_shipped_knowledge_base() -> None:
    out = run_cli("kb", "check")
    assert out.returncode == 0, out.stdout
    assert "30 entries" in out.stdout and out.stdout.strip().endswith("OK")


def test_run_without_token_says_which_key_in_one_line(tmp_path: Path) -> None:
    out = run_cli("run", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "content, key",
    [
        ("database: {url: 42}", "database.url"),
        ("timezone: Mars/Olympus", "timezone"),
        ("office: {hours: {mon: '9-5'}}", "office.hours.mon"),
        ("officers: {user_ids: [abc]}", "officers.user_ids"),
        ("matcher: {answer_threshold: 300}", "matcher.answer_threshold"),
        ("matcher: {anchored_threshold: 70}", "matcher.anchored_threshold"),
        ("telegram: [1, 2", "config"),
    ],
)
def test_invalid_setting_is_named_in_one_line(
    tmp_path: Path, content: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content)
    assert main(["--config", str(path), "ask", "halo"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("config error: ") and key in err and "\n" not in err


def test_bad_token_in_environment_is_refused(tmp_path: Path) -> None:
    out = run_cli("run", env={"TELEGRAM_BOT_TOKEN": "not a token"}, cwd=tmp_path)
    assert out.returncode == 2 and "TELEGRAM_BOT_TOKEN" in out.stderr
    assert "not a token" not in out.stderr


def test_chat_runs_the_real_bot_in_the_terminal(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: 'sqlite:///{tmp_path / 'chat.db'}'}}\n")
    out = run_cli("--config", str(config), "chat", stdin="/start\nberapa lama ska terbit\n1\n/topics\n2\n")
    assert out.returncode == 0, out.stderr
    assert "Halo" in out.stdout and "1 hari kerja" in out.stdout
    assert "[1] Membantu? 👍" in out.stdout
    assert "Terima kasih atas masukannya" in out.stdout
    assert "Registrasi akun e-SKA" in out.stdout  # category 2 opened by its number


def test_config_option_works_after_the_sub_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("timezone: Mars/Olympus")
    assert main(["ask", "--config", str(path), "halo"]) == 2
    assert "timezone" in capsys.readouterr().err
