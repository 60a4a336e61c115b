"""Accuracy on our own realistic questions, with the thresholds the bot ships with."""

from __future__ import annotations

import pytest
import yaml

from bench.matcher_quality import evaluate
from bot.config import parse_settings
from knowledge.loader import load_knowledge
from knowledge.matcher import Matcher, Thresholds
from tests.conftest import ROOT


def shipped_thresholds() -> Thresholds:
    raw = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    return parse_settings(raw, env={}).matcher.thresholds()


@pytest.mark.parametrize("name", ["questions", "questions_holdout", "questions_fresh"])
def test_top1_accuracy_and_out_of_scope_abstention(name: str) -> None:
    # every set here steered some tuning (their headers say how); the pass marks are
    # the floors a knowledge-base or matcher change must not break
    data = yaml.safe_load((ROOT / "tests" / "data" / f"{name}.yaml").read_text())
    assert len(data["questions"]) >= 150 and len(data["out_of_scope"]) >= 20
    matcher = Matcher(load_knowledge(ROOT / "knowledge"))
    quality = evaluate(matcher, shipped_thresholds(), data)
    print("\n" + quality.line())
    assert quality.top1 >= 0.90
    assert quality.abstention >= 0.90


def test_test_questions_are_not_the_sample_questions() -> None:
    kb = load_knowledge(ROOT / "knowledge")
    samples = {q.lower().strip(" ?!.") for e in kb.entries.values() for q in e.questions}
    data = yaml.safe_load((ROOT / "tests" / "data" / "questions.yaml").read_text())
    copied = [q["q"] for q in data["questions"] if q["q"].lower().strip(" ?!.") in samples
              and q["id"] not in ("greeting", "thanks")]
    assert copied == []
