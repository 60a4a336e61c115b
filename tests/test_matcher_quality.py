"""Accuracy on our own realistic questions, with the thresholds the bot ships with."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from bot.config import parse_settings
from bot.testing.matcher_quality import evaluate
from knowledge.loader import load_knowledge
from knowledge.matcher import Matcher
from knowledge.verdict import Thresholds
from tests.conftest import ROOT


def shipped_thresholds() -> Thresholds:
    raw = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    return parse_settings(raw, env={}).matcher.thresholds()


# name: (top-1 answered, abstention, right form, confident wrong at most) for the matcher
# alone, without the second opinion (which was trained on these very sets): the levels
# each set reached after the issue-15/18 matcher work and the outcome rule fitted with
# one set left out at a time (December 2026), about one message beside them; every one
# of these sets has steered tuning, so they guard against regressions and say nothing
# about unseen phrasing (bench/matcher_quality.py --loso and a fresh blind set do)
PASS_MARKS = {
    "questions": (0.985, 0.97, 0.99, 0.005),
    "questions_holdout": (0.985, 0.97, 0.98, 0.012),
    "questions_fresh": (0.985, 0.97, 0.99, 0.008),
    "questions_final": (0.98, 0.97, 0.99, 0.005),
    "questions_final2": (0.975, 0.97, 0.99, 0.012),
    "questions_final3": (0.955, 0.97, 0.99, 0.005),
    # the issue-15 set: 80.1 % / 90.0 % at its first look
    "questions_final4": (0.98, 0.98, 0.99, 0.006),
    # 88.4 % / 94.4 % / 96.2 % / 4.1 % at its first look
    "questions_final5": (0.925, 0.98, 0.99, 0.012),
    # 79.5 % / 95.4 % / 92.6 % / 3.7 % at its first look
    "questions_final6": (0.915, 0.98, 0.92, 0.016),
    # 85.6 % / 95.5 % / 91.7 % / 4.4 % at its first look
    "questions_final7": (0.92, 0.98, 0.95, 0.011),
    # 82.6 % / 98.6 % / 87.9 % / 4.3 % at its first look
    "questions_final8": (0.85, 0.98, 0.96, 0.045),
    # 86.8 % / 100 % / 92.1 % / 2.9 % at its first look (the set's header has all figures)
    "questions_final9": (0.87, 0.98, 0.92, 0.031),
    # the matcher alone: 87.0 % / 98.6 % / 97.4 % / 3.5 % at the set's first look
    "questions_final10": (0.865, 0.98, 0.97, 0.037),
    # the matcher alone: 91.4 % / 96.2 % / 85.2 % / 1.7 % at the set's first look
    "questions_final11": (0.92, 0.95, 0.93, 0.012),
    # the matcher alone: 98.5 % / 92.9 % / 100 % / 1.9 % at the set's first look
    "questions_final12": (0.98, 0.92, 0.99, 0.02),
    # the matcher alone: 88.8 % / 97.5 % / 93.0 % / 1.7 % at the set's first look
    "questions_final13": (0.88, 0.97, 0.92, 0.02),
    # the matcher alone: 93.9 % / 100 % / 100 % / 0.2 % at the set's first look (the second
    # opinion was not trained on it: its test below holds it to the same marks anyway)
    "questions_final14": (0.93, 0.99, 0.96, 0.006),
    # the matcher alone: 98.1 % / 97.5 % / 91.7 % / 0.5 % at the set's first look (not
    # trained on either)
    "questions_final15": (0.975, 0.97, 0.91, 0.006),
}


@pytest.mark.parametrize("name", sorted(PASS_MARKS))
def test_top1_accuracy_and_out_of_scope_abstention(name: str) -> None:
    # every set here steered some tuning (their headers say how); the pass marks are
    # the floors a knowledge-base or matcher change must not break
    data = yaml.safe_load((ROOT / "tests" / "data" / f"{name}.yaml").read_text())
    assert len(data["questions"]) >= 150 and len(data["out_of_scope"]) >= 20
    matcher = Matcher(replace(load_knowledge(ROOT / "knowledge"), opinion=None))
    quality = evaluate(matcher, shipped_thresholds(), data)
    print("\n" + quality.line())
    top1, abstention, form, wrong = PASS_MARKS[name]
    assert quality.top1 >= top1
    assert quality.abstention >= abstention
    assert quality.form >= form
    assert quality.wrong <= wrong


@pytest.mark.parametrize("name", sorted(PASS_MARKS))
def test_with_the_second_opinion_its_training_sets_are_answered(name: str) -> None:
    # measured on its own training data, so this says only that the shipped model is the
    # one trained on these sets and that the two opinions combine as measured; unseen
    # phrasing: bench/matcher_quality.py --loso-opinion and each set's first look
    data = yaml.safe_load((ROOT / "tests" / "data" / f"{name}.yaml").read_text())
    quality = evaluate(Matcher(load_knowledge(ROOT / "knowledge")), shipped_thresholds(), data)
    print("\n" + quality.line())
    assert quality.top1 >= 0.985 and quality.abstention >= 0.98
    assert quality.wrong <= 0.005


def test_test_questions_are_not_the_sample_questions() -> None:
    kb = load_knowledge(ROOT / "knowledge")
    samples = {q.lower().strip(" ?!.") for e in kb.entries.values() for q in e.questions}
    data = yaml.safe_load((ROOT / "tests" / "data" / "questions.yaml").read_text())
    copied = [
        q["q"]
        for q in data["questions"]
        if q["q"].lower().strip(" ?!.") in samples and q["id"] not in ("greeting", "thanks")
    ]
    assert copied == []
