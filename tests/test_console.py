"""`python -m bot chat` as an officer uses it all day: files saved, cards edited in place,
the broadcast summary arriving, and an honest word when no officers' group is set."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

from bot.config import Settings, parse_settings
from bot.console import run_console
from bot.db import Database
from bot.services.demo import load_demo
from knowledge.loader import load_knowledge

GROUP = -1009


def settings_in(tmp_path: Path, group: int | None = GROUP) -> Settings:
    return parse_settings(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'chat.db'}"},
            "officers": {"chat_id": group, "user_ids": [100002]},
            "chat": {"files_dir": str(tmp_path / "files")},
        },
        env={},
    )


async def chat(settings: Settings, who: str, *lines: str) -> str:
    out = io.StringIO()
    assert await run_console(settings, who, io.StringIO("\n".join(lines) + "\n"), out) == 0
    return out.getvalue()


def number_of(output: str, label: str) -> str:
    return re.findall(rf"\[(\d+)\] {re.escape(label)}", output)[-1]


async def test_reports_are_saved_as_files_and_the_path_printed(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    db = Database(settings.database_url)
    db.migrate()
    load_demo(db, load_knowledge(settings.knowledge_dir).exports)
    db.dispose()
    out = await chat(settings, "officer", "/report 2025 kayu lapis")
    saved = [Path(p) for p in re.findall(r"\[file\] saved to (\S+)", out)]
    assert len(saved) == 2 and all(p.is_file() and p.stat().st_size > 1000 for p in saved)
    assert {p.suffix for p in saved} == {".png", ".xlsx"}
    assert all(p.parent == tmp_path / "files" for p in saved)


async def test_card_edits_work_across_sessions_and_the_broadcast_summary_arrives(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_in(tmp_path)
    await chat(settings, "exporter", "/petugas apakah kontainer bisa dititipkan di gudang dinas")
    caplog.set_level(logging.WARNING)
    out = await chat(settings, "officer", "@group /queue", "@group /claim 1")
    assert "bot (edited)> 🎫 Tiket #1 · 🔵 ditangani" in out
    assert "card not updated" not in caplog.text
    out = await chat(settings, "officer", "@group /close 1 sudah dijawab")
    assert "card not updated" not in caplog.text and "bot (edited)>" in out
    out = await chat(settings, "officer", "/broadcast Layanan e-SKA sedang gangguan")
    send = number_of(out, "📤 Kirim")
    out = await chat(settings, "officer", "/broadcast Layanan e-SKA sedang gangguan", send)
    assert "Ringkasan dikirim setelah selesai" in out
    assert re.search(r"Pengumuman #\d+ selesai: terkirim 1", out)


async def test_without_an_officers_group_chat_says_so(tmp_path: Path) -> None:
    out = await chat(settings_in(tmp_path, group=None), "officer", "@group /queue")
    assert out.count("no officers' group configured") == 2
