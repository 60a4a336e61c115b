"""A second opinion on a question: a linear text classifier over the words the matcher
reads (after the word map) and the letters the exporter typed.

The matcher ranks topics by how close a question is to the office's sample questions;
it is strong on short questions and weak where the wording is far from every sample
(long stories, buyers' English, Banjar and Javanese phrasing). The classifier learns
from every labelled question we have (the sample questions and the question sets of
tests/data), including the messages the office does not answer, so it reads such
wording better, but it can only name topics it was trained on. Matcher.match asks it
once per message; `classify` in knowledge/verdict.py decides how the two opinions
combine (measured leaving one question set out at a time, and on a fresh blind set).

The model is trained offline by `python -m bot kb train` (scikit-learn, a dev
dependency) and stored in knowledge/opinion.npz; answering needs only numpy.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.verdict import Opinion

# a feature seen in fewer training texts says more about one writer than about a topic
MIN_DF = 2
# the regularisation of the logistic regression (scikit-learn's C), chosen with one
# question set left out at a time (bench/matcher_quality.py --loso-opinion)
C = 10.0
_SPACE = re.compile(r"\s+")


def features(tokens: Sequence[str], text: str) -> tuple[list[str], list[str]]:
    """(word features, letter features) of one message: the matcher's tokens and their
    pairs, and 3- to 5-letter pieces of each typed word (typos and inflections keep most
    of them)."""
    letters: list[str] = []
    for word in _SPACE.split(text.lower()):
        if word:
            letters += _pieces(word)
    return _word_features(tokens), letters


def _word_features(tokens: Sequence[str]) -> list[str]:
    return [f"w{t}" for t in tokens] + [f"b{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def _pieces(word: str) -> list[str]:
    padded = f" {word} "
    return [padded[i : i + n] for n in (3, 4, 5) for i in range(max(1, len(padded) - n + 1))]


def fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """Of the training texts and labels: tells kb check the model is out of date."""
    digest = hashlib.sha256()
    for text, label in sorted(pairs):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


def sample_pairs(entries: Iterable[Any]) -> list[tuple[str, str]]:
    """The knowledge base's own labelled texts: every entry's sample questions."""
    return [(q, e.id) for e in entries for q in e.questions]


class Vectorizer:
    """Sublinear tf-idf, each feature group scaled to unit length (as trained)."""

    def __init__(self, vocab: Sequence[str], idf: np.ndarray) -> None:
        self.index = {f: i for i, f in enumerate(vocab)}
        self.idf = idf
        # the same words come back in message after message: each one's known pieces are
        # looked up once (most of the cost of reading a message)
        self._word_ids = lru_cache(maxsize=65536)(self._word_ids_uncached)

    def __getstate__(self) -> dict[str, Any]:
        return {"index": self.index, "idf": self.idf}  # the cache is rebuilt, not copied

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.index, self.idf = state["index"], state["idf"]
        self._word_ids = lru_cache(maxsize=65536)(self._word_ids_uncached)

    def _word_ids_uncached(self, word: str) -> tuple[int, ...]:
        index = self.index
        return tuple(i for f in _pieces(word) if (i := index.get(f)) is not None)

    def row(self, tokens: Sequence[str], text: str) -> tuple[np.ndarray, np.ndarray]:
        index = self.index
        words = [i for f in _word_features(tokens) if (i := index.get(f)) is not None]
        letters: list[int] = []
        for word in _SPACE.split(text.lower()):
            if word:
                letters += self._word_ids(word)
        ids: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for group in (words, letters):
            if not group:
                continue
            counted = Counter(group)
            ix = np.fromiter(counted, dtype=np.intp, count=len(counted))
            tf = np.fromiter(counted.values(), dtype=np.float64, count=len(counted))
            w = (1.0 + np.log(tf)) * self.idf[ix]
            ids.append(ix)
            values.append(w / math.sqrt(float(w @ w)))
        if not ids:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        return np.concatenate(ids), np.concatenate(values)


class TextClassifier:
    def __init__(
        self,
        vocab: Sequence[str],
        idf: np.ndarray,
        weights: np.ndarray,
        intercept: np.ndarray,
        classes: Sequence[str],
        trained_on: str = "",
    ) -> None:
        self.vectorizer = Vectorizer(vocab, idf)
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)  # features x classes
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.classes = tuple(classes)
        self.known = frozenset(self.classes)
        self.trained_on = trained_on

    def __call__(self, tokens: Sequence[str], text: str) -> Opinion:
        ids, values = self.vectorizer.row(tokens, text)
        scores = self.intercept + (values @ self.weights[ids] if ids.size else 0.0)
        scores = np.exp(scores - scores.max())
        p = scores / scores.sum()
        best = int(np.argmax(p))
        return Opinion(self.classes[best], float(p[best]), dict(zip(self.classes, p.tolist(), strict=True)))

    # -- the stored model -----------------------------------------------------------------

    def save(self, path: Path) -> None:
        vocab = sorted(self.vectorizer.index, key=self.vectorizer.index.__getitem__)
        np.savez_compressed(
            path,
            vocab=np.array(vocab),
            idf=self.vectorizer.idf.astype(np.float32),
            weights=self.weights.astype(np.float16),
            intercept=self.intercept,
            classes=np.array(self.classes),
            trained_on=np.array(self.trained_on),
        )

    @classmethod
    def load(cls, path: Path) -> TextClassifier:
        with np.load(path, allow_pickle=False) as z:
            return cls(
                z["vocab"].tolist(),
                z["idf"].astype(np.float64),
                z["weights"],
                z["intercept"],
                z["classes"].tolist(),
                str(z["trained_on"]),
            )


def train(
    texts: Sequence[tuple[Sequence[str], str]], labels: Sequence[str], trained_on: str = ""
) -> TextClassifier:
    """Fit on (tokens, text) pairs; needs scikit-learn (pip install -e '.[dev]')."""
    # imported here: training only, never when answering
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    groups = [features(tokens, text) for tokens, text in texts]
    df: Counter[str] = Counter()
    for words, letters in groups:
        df.update(set(words))
        df.update(set(letters))
    vocab = sorted(f for f, n in df.items() if n >= MIN_DF)
    n = len(texts)
    idf = np.array([math.log((1 + n) / (1 + df[f])) + 1.0 for f in vocab])
    vectorizer = Vectorizer(vocab, idf)
    rows, cols, values = [], [], []
    for i, (tokens, text) in enumerate(texts):
        ids, vals = vectorizer.row(tokens, text)
        rows += [i] * len(ids)
        cols += ids.tolist()
        values += vals.tolist()
    matrix = sparse.csr_matrix((values, (rows, cols)), shape=(n, len(vocab)))
    model = LogisticRegression(C=C, max_iter=3000).fit(matrix, list(labels))
    return TextClassifier(vocab, idf, model.coef_.T, model.intercept_, list(model.classes_), trained_on)
