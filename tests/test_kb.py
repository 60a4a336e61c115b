"""The knowledge base and its checker."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bot.config import parse_settings
from bot.services.kbcheck import check_knowledge, html_problems, spec_topics
from tests.conftest import ROOT

SHARED_SPEC = ROOT.parent / "shared" / "spec" / "faq-topics.yaml"


def settings_for(kb_dir: Path):  # type: ignore[no-untyped-def]
    return parse_settings({"knowledge_dir": str(kb_dir)}, env={})


def test_shipped_knowledge_base_is_valid() -> None:
    problems, summary = check_knowledge(settings_for(ROOT / "knowledge"))
    assert problems == [], "\n".join(problems)
    assert summary.endswith("OK")


def test_topic_list_is_the_shared_spec() -> None:
    ours = spec_topics(ROOT / "knowledge")
    assert len(ours) == 30
    if SHARED_SPEC.is_file():
        assert (ROOT / "knowledge" / "faq-topics.yaml").read_text() == SHARED_SPEC.read_text()


def _broken_copy(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    kb_dir = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", kb_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = kb_dir / "faq" / "dynamic.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data["entries"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return kb_dir


def test_checker_lists_every_problem_readably(tmp_path: Path) -> None:
    def edit(entries):  # type: ignore[no-untyped-def]
        thanks = next(e for e in entries if e["id"] == "thanks")
        del thanks["answer"]["en"]
        greeting = next(e for e in entries if e["id"] == "greeting")
        greeting["questions"] = greeting["questions"][:3]

    problems, summary = check_knowledge(settings_for(_broken_copy(tmp_path, edit)))
    assert any("thanks.answer.en: missing or empty" in p for p in problems)
    assert any("greeting.questions: 3 sample questions" in p for p in problems)
    assert "not loadable" in summary


def test_checker_finds_missing_topics_and_cross_matches(tmp_path: Path) -> None:
    def edit(entries):  # type: ignore[no-untyped-def]
        entries[:] = [e for e in entries if e["id"] != "export-statistics"]
        greeting = next(e for e in entries if e["id"] == "greeting")
        greeting["questions"].append("berapa lama proses penerbitan ska")

    problems, _ = check_knowledge(settings_for(_broken_copy(tmp_path, edit)))
    assert "topic export-statistics: in the spec but no entry" in problems
    assert any(
        "'berapa lama proses penerbitan ska' of greeting matches processing-time" in p for p in problems
    )


def test_html_checker() -> None:
    assert html_problems("<b>ok</b> &amp; fine") == []
    assert html_problems("<b>open") == ["unclosed <b>"]
    assert "a raw '&' (write &amp;)" in html_problems("PT & CV")
    assert html_problems("<div>x</div>")


def test_a_word_mapped_twice_is_named_not_silently_overwritten(tmp_path: Path) -> None:
    kb_dir = _broken_copy(tmp_path, lambda entries: None)
    path = kb_dir / "normalize.yaml"
    text = path.read_text()
    path.write_text(text.replace("words:\n", "words:\n  sesudah: sebelum\n", 1))
    problems, _ = check_knowledge(settings_for(kb_dir))
    assert any("normalize.yaml line" in p and "'sesudah' appears twice" in p for p in problems), problems


def test_checker_wants_confirm_facts_marked_and_marked_ones_phrased(tmp_path: Path) -> None:
    def edit(entries):  # type: ignore[no-untyped-def]
        thanks = next(e for e in entries if e["id"] == "thanks")
        thanks["answer"]["id"] += " Jam buka: konfirmasi ke petugas."  # no officer button
        greeting = next(e for e in entries if e["id"] == "greeting")
        greeting["confirm"] = True  # says nothing

    problems, _ = check_knowledge(settings_for(_broken_copy(tmp_path, edit)))
    assert any(
        "thanks.answer.id: says 'konfirmasi ke petugas' but is not marked confirm" in p for p in problems
    )
    assert any(
        "greeting.answer.en: marked confirm but does not say 'confirm with the office'" in p for p in problems
    )


def test_office_contact_is_confirm_only_while_the_hours_are_not_set(tmp_path: Path) -> None:
    # the shipped example sets no hours: kb check passes with the confirm phrase; an office
    # that sets its hours gets an answer without it, and kb check still passes
    hours = parse_settings({"office": {"hours": {"mon": "08:00-12:00"}}}, env={})
    problems, summary = check_knowledge(hours)
    assert problems == [] and summary.endswith("OK")
