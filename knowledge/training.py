"""Training the second opinion (knowledge/opinion.py) from the knowledge base's sample
questions and labelled question sets: `python -m bot kb train` and the bench's
leave-one-set-out measurement share it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import yaml

from knowledge.loader import LEARNED_PREFIX, Knowledge
from knowledge.matcher import Matcher
from knowledge.opinion import TextClassifier, fingerprint, sample_pairs, train
from knowledge.verdict import OUT_OF_SCOPE


def curated_samples(kb: Knowledge) -> list[tuple[str, str]]:
    """The curated entries' sample questions (not the ones admins approved in the
    database: those come and go while the bot runs, and the matcher answers them)."""
    return sample_pairs(e for e in kb.entries.values() if not e.id.startswith(LEARNED_PREFIX))


def labelled(path: Path) -> list[tuple[str, str]]:
    """A question set of tests/data: (text, topic) and (text, OUT_OF_SCOPE) pairs."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = [(str(item["q"]), str(item["id"])) for item in data["questions"]]
    return pairs + [(str(text), OUT_OF_SCOPE) for text in data["out_of_scope"]]


class Trainer:
    """Reads texts the way the matcher does (word map, typo correction) for training."""

    def __init__(self, kb: Knowledge) -> None:
        # the matcher's reading without an opinion: the model must not read itself
        self.matcher = Matcher(replace(kb, opinion=None))
        self.kb = kb

    def tokens(self, text: str) -> tuple[str, ...]:
        return self.matcher.words(self.matcher.normalize(text))

    def fit(self, pairs: Sequence[tuple[str, str]]) -> TextClassifier:
        """On the sample questions plus `pairs`."""
        samples = curated_samples(self.kb)
        everything = samples + list(pairs)
        return train(
            [(self.tokens(text), text) for text, _ in everything],
            [label for _, label in everything],
            trained_on=fingerprint(samples),
        )


def question_sets(paths: Iterable[Path]) -> list[tuple[str, str]]:
    return [pair for path in paths for pair in labelled(path)]
