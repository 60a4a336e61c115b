"""What a ranked match means: the answer / did-you-mean / no-match bands.

The shapes of a match (knowledge/matcher.py ranks, knowledge/opinion.py gives the
classifier's view) and `classify`, which turns one into a Verdict. Plain Python: the
services and the settings need these types before the matcher and its numpy exist
(`run` builds the matcher in a thread after its first getUpdates).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# the label of a message the office does not answer (the question sets' out_of_scope)
OUT_OF_SCOPE = "-"


@dataclass(frozen=True)
class Opinion:
    """The classifier's view of one message."""

    best: str  # a topic id, or OUT_OF_SCOPE
    probability: float
    probabilities: dict[str, float]

    def of(self, topic: str) -> float:
        return self.probabilities.get(topic, 0.0)


@dataclass(frozen=True)
class Normalized:
    tokens: tuple[str, ...]  # content words, for matching
    words: tuple[str, ...]  # every word after the word map, for small talk
    country: str | None  # ISO code of a destination named in the text
    lang: str | None  # "id" / "en" when the words tell, else None


@dataclass(frozen=True)
class Candidate:
    id: str
    score: float


@dataclass(frozen=True)
class Match:
    """The ranked candidates for one query; bands are decided by the caller's thresholds."""

    candidates: tuple[Candidate, ...]
    normalized: Normalized
    smalltalk: str | None = None  # "greeting" / "thanks" when the message is only that
    anchored: bool = False  # names the SKA service (see Thresholds.anchored)
    telling: int = 1  # known words that tell topics apart (see Matcher.match)
    clauses: tuple[Match, ...] = ()  # the asking clauses of a long message, ranked alone
    opinion: Opinion | None = None  # the text classifier's view (knowledge/opinion.py)
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def gap(self) -> float:
        if len(self.candidates) < 2:
            return self.candidates[0].score if self.candidates else 0.0
        return self.candidates[0].score - self.candidates[1].score


@dataclass(frozen=True)
class Thresholds:
    answer: float = 58.5  # best score needed to answer outright ...
    suggest: float = 42.0  # ... below it, down to this, "did you mean"
    min_gap: float = 1.0  # an answer also needs this lead over the runner-up
    # A message naming the SKA service itself (an anchor word of normalize.yaml: ska,
    # e-SKA, IPSKA, a form) is in scope, so a clear lead answers it at a lower score:
    # long, chatty questions dilute the score, and out-of-scope messages that borrow
    # domain words ("harga plywood", "reset password wifi") name no anchor.
    anchored: float = 50.0
    anchored_gap: float = 6.0
    # An answer needs at least this lead over the runner-up, whatever min_gap says: a
    # wrong answer costs an exporter a wrong step, a "Maksud Anda" button one tap.
    # Fitted on every question set with one set left out at a time
    # (bench/matcher_quality.py --loso): a lead of 5 cut the confident wrong answers on
    # the left-out sets from 1.0 % to 0.7 % of all messages for 0.8 points of top-1
    # answered; 4 and 6 did worse, and a lead required to grow as the score falls
    # (score + k x lead) gained nothing over it.
    min_lead: float = 5.0
    # The second opinion (knowledge/opinion.py): a topic the classifier gives at least
    # opinion_answer is answered; one the matcher also ranks first needs opinion_agree.
    # Chosen with one question set left out at a time (bench/matcher_quality.py
    # --loso-opinion): 0.6-0.8 and 0.3-0.5 all did about as well; these gave the fewest
    # confident wrong answers for nearly the same share answered.
    opinion_answer: float = 0.7
    opinion_agree: float = 0.4


@dataclass(frozen=True)
class Verdict:
    """What the bot will do with a message: one clean, explicit outcome."""

    outcome: str  # answer | suggest | no_match | smalltalk
    id: str | None  # topic answered (or the small-talk kind)
    score: float
    suggestions: tuple[Candidate, ...]
    country: str | None
    lang: str | None


CLAUSE_NEAR = 2
# a clause may switch the answer to the whole message's runner-up only when it leaves
# no doubt: raising this from 10 to 20 saved 2 wrong answers for 3 right ones over the
# question sets (switching never: 3 for 5)
CLAUSE_SWITCH_GAP = 20.0
CLAUSE_OVERRIDE_GAP = 3.0


def classify(match: Match, limits: Thresholds) -> Verdict:
    """Put a ranked match into one of the answer / did-you-mean / no-match bands."""
    return _second_opinion(match, _read_clauses(match, limits), limits)


def _second_opinion(match: Match, verdict: Verdict, limits: Thresholds) -> Verdict:
    """The matcher's verdict, weighed against the classifier's opinion.

    Either may find the topic: the matcher where the wording is close to a sample
    question, the classifier where it is not. An answer stands when both name its topic,
    or when the classifier is sure on its own; an answer only one of them gives becomes
    a did-you-mean (a wrong answer costs an exporter more than a tap)."""
    opinion = match.opinion
    if opinion is None or verdict.outcome == "smalltalk":
        return verdict
    best = match.best
    if best is not None and best.id not in opinion.probabilities:
        return verdict  # an entry added after the classifier was trained: the matcher's
    norm = match.normalized
    if opinion.best == OUT_OF_SCOPE:
        return _unanswered(match, verdict, limits)
    if verdict.outcome == "answer" and verdict.id == opinion.best:
        return verdict
    if match.telling and (
        opinion.probability >= limits.opinion_answer
        or (best is not None and best.id == opinion.best and opinion.probability >= limits.opinion_agree)
    ):
        score = next((c.score for c in match.candidates if c.id == opinion.best), verdict.score)
        rest = tuple(c for c in match.candidates if c.id != opinion.best)[:2]
        return Verdict("answer", opinion.best, score, rest, norm.country, norm.lang)
    return _unanswered(match, verdict, limits)


def _unanswered(match: Match, verdict: Verdict, limits: Thresholds) -> Verdict:
    """Not answered outright: the matcher's did-you-mean or no-match, and for an answer
    the classifier did not back, the buttons of its topic and the ones within reach."""
    if verdict.outcome != "answer":
        return verdict
    norm = match.normalized
    ids = [verdict.id] + [c.id for c in match.candidates]
    opinion = match.opinion
    if opinion is not None and opinion.best != OUT_OF_SCOPE and opinion.probability >= limits.opinion_agree:
        ids.insert(1, opinion.best)
    scores = {c.id: c.score for c in match.candidates}
    picked = tuple(Candidate(i, scores.get(i, verdict.score)) for i in dict.fromkeys(ids) if i is not None)
    close = tuple(c for c in picked if c.score >= limits.suggest and verdict.score - c.score <= 15.0)[:3]
    return Verdict("suggest", None, verdict.score, close, norm.country, norm.lang)


def _read_clauses(match: Match, limits: Thresholds) -> Verdict:
    verdict = _classify(match, limits)
    if not match.clauses or (verdict.outcome == "answer" and match.gap >= CLAUSE_OVERRIDE_GAP):
        return verdict
    # a long message the whole of which is no clear answer: a clause that asks and is
    # answered clearly on its own decides, if the whole message also ranks that topic
    # among its first (the story around it is not about something else)
    near = {c.id for c in match.candidates[: CLAUSE_NEAR if verdict.outcome != "answer" else 2]}
    for clause in reversed(match.clauses):
        part = _classify(clause, limits)
        if part.outcome != "answer" or part.id not in near:
            continue
        # the whole message's runner-up needs a clause that leaves no doubt
        if part.id == match.candidates[0].id or clause.gap >= CLAUSE_SWITCH_GAP:
            norm = match.normalized
            rest = tuple(c for c in match.candidates if c.id != part.id)[:2]
            return Verdict("answer", part.id, part.score, rest, norm.country, norm.lang)
    return verdict


def _classify(match: Match, limits: Thresholds) -> Verdict:
    norm = match.normalized
    if match.smalltalk is not None:
        return Verdict("smalltalk", match.smalltalk, 100.0, (), norm.country, norm.lang)
    best = match.best
    if best is None or best.score < limits.suggest:
        return Verdict(
            "no_match", None, best.score if best else 0.0, match.candidates[:3], norm.country, norm.lang
        )
    # a runner-up within reach (neighbouring topics: registering and activating an
    # account, processing time and status) makes it a did-you-mean instead of a guess
    needed_gap = max(limits.min_gap, limits.min_lead)
    if match.telling and (
        (best.score >= limits.answer and match.gap >= needed_gap)
        or (
            match.anchored
            and len(norm.tokens) > 1
            and best.score >= limits.anchored
            and match.gap >= max(needed_gap, limits.anchored_gap)
        )
    ):
        return Verdict("answer", best.id, best.score, match.candidates[1:3], norm.country, norm.lang)
    # close calls: offer the entries within reach of the best one
    close = tuple(
        c for c in match.candidates[:3] if c.score >= limits.suggest and best.score - c.score <= 15.0
    )
    return Verdict("suggest", None, best.score, close, norm.country, norm.lang)
