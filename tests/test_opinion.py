"""The second opinion: the text classifier (knowledge/opinion.py) and how its view and
the matcher's combine (knowledge/verdict.py classify)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.loader import MODEL_FILE, load_knowledge
from knowledge.matcher import Matcher
from knowledge.opinion import TextClassifier, features, fingerprint, train
from knowledge.training import curated_samples
from knowledge.verdict import OUT_OF_SCOPE, Candidate, Match, Normalized, Opinion, Thresholds, classify
from tests.conftest import ROOT, BotHarness, buttons_of, text_of

LIMITS = Thresholds()


def _opinion(best: str, p: float, **others: float) -> Opinion:
    probabilities = {"t0": 0.0, "t1": 0.0, "t2": 0.0, OUT_OF_SCOPE: 0.0, **others, best: p}
    return Opinion(best, p, probabilities)


def _match(*scores: float, opinion: Opinion | None = None, telling: int = 3) -> Match:
    cands = tuple(Candidate(f"t{i}", s) for i, s in enumerate(scores))
    return Match(
        candidates=cands, normalized=Normalized((), (), None, None), telling=telling, opinion=opinion
    )


def test_both_naming_the_topic_answer_it() -> None:
    verdict = classify(_match(80, 50, opinion=_opinion("t0", 0.5)), LIMITS)
    assert (verdict.outcome, verdict.id) == ("answer", "t0")


def test_an_answer_the_classifier_does_not_back_becomes_a_did_you_mean() -> None:
    # the matcher alone answers t0; the classifier leans to t1 without being sure
    assert classify(_match(80, 50), LIMITS).outcome == "answer"
    verdict = classify(_match(80, 70, opinion=_opinion("t1", 0.5)), LIMITS)
    assert verdict.outcome == "suggest"
    assert [c.id for c in verdict.suggestions][:2] == ["t0", "t1"]


def test_the_classifier_sure_on_its_own_answers() -> None:
    # too close for the matcher (a did-you-mean), the classifier is sure of the runner-up
    assert classify(_match(60, 58), LIMITS).outcome == "suggest"
    verdict = classify(_match(60, 58, opinion=_opinion("t1", 0.9)), LIMITS)
    assert (verdict.outcome, verdict.id, verdict.score) == ("answer", "t1", 58)


def test_agreeing_on_the_first_ranked_topic_needs_less_certainty() -> None:
    assert classify(_match(55, 54, opinion=_opinion("t0", 0.45)), LIMITS).id == "t0"
    assert classify(_match(55, 54, opinion=_opinion("t0", 0.3)), LIMITS).outcome == "suggest"
    # a message with no word that tells topics apart is not answered on anyone's word
    assert classify(_match(55, 54, opinion=_opinion("t0", 0.95), telling=0), LIMITS).outcome != "answer"


def test_other_business_is_never_answered() -> None:
    verdict = classify(_match(80, 40, opinion=_opinion(OUT_OF_SCOPE, 0.6)), LIMITS)
    assert verdict.outcome != "answer"


def test_an_entry_newer_than_the_model_is_the_matchers_call() -> None:
    # "t0" was approved after the classifier was trained: it cannot be named by it
    opinion = Opinion("t1", 0.9, {"t1": 0.9, OUT_OF_SCOPE: 0.1})
    verdict = classify(_match(80, 50, opinion=opinion), LIMITS)
    assert (verdict.outcome, verdict.id) == ("answer", "t0")


def test_letter_pieces_survive_a_typo() -> None:
    words, letters = features(("daftar", "akun"), "dafatr akun")
    assert words == ["wdaftar", "wakun", "bdaftar akun"]
    assert {" da", "daf", " akun"} <= set(letters)


def test_a_trained_model_answers_and_survives_saving(tmp_path: Path) -> None:
    texts = {
        "fees": ["berapa biaya ska", "biaya penerbitan ska", "ska bayar berapa", "is there a fee"],
        "login-problems": ["lupa password eska", "tidak bisa login", "akun terkunci", "forgot password"],
        OUT_OF_SCOPE: ["harga plywood", "cuaca hari ini", "jual veneer", "resep ikan"],
    }
    pairs = [(tuple(t.split()), t) for label in texts for t in texts[label]]
    model = train(pairs, [label for label in texts for _ in texts[label]], trained_on="x")
    assert model("biaya ska berapa".split(), "biaya ska berapa").best == "fees"
    model.save(tmp_path / MODEL_FILE)
    again = TextClassifier.load(tmp_path / MODEL_FILE)
    opinion, loaded = (
        model(("lupa", "password"), "lupa password"),
        again(("lupa", "password"), "lupa password"),
    )
    assert loaded.best == opinion.best == "login-problems" and again.trained_on == "x"
    assert loaded.probability == pytest.approx(opinion.probability, abs=0.01)


def test_the_shipped_model_knows_today_s_sample_questions() -> None:
    kb = load_knowledge(ROOT / "knowledge")
    model = kb.classifier
    assert model is not None, f"knowledge/{MODEL_FILE} is missing: python -m bot kb train"
    assert model.trained_on == fingerprint(curated_samples(kb)), (
        "the sample questions changed since the second opinion was trained: python -m bot kb train"
    )
    assert set(kb.entries) | {OUT_OF_SCOPE} == set(model.classes)


def test_without_a_model_the_matcher_decides_alone() -> None:
    kb = load_knowledge(ROOT / "knowledge")
    match = Matcher(replace(kb, opinion=None)).match("gmn cara daftar akun eska")
    assert match.opinion is None and classify(match, LIMITS).id == "register-account"


async def test_a_guess_the_classifier_does_not_back_is_offered_not_told(bot: BotHarness) -> None:
    # the matcher alone read "forwarder" as collecting the printed SKA and answered that
    text = "boss saya tanya, bisa gak forwarder yang ngajuin SKA atas nama kita?"
    kb = bot.services.answers.kb
    alone = classify(Matcher(replace(kb, opinion=None)).match(text), LIMITS)
    assert (alone.outcome, alone.id) == ("answer", "print-sign-collect")
    sent = await bot.say(text)
    topics = [d for _, d in buttons_of(sent) if d.startswith("a:")]
    assert "Maksud Anda" in text_of(sent)
    assert {"a:print-sign-collect", "a:apply-steps"} <= set(topics)
