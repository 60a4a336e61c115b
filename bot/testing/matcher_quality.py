"""The matcher's accuracy on a question set: what tests/test_matcher_quality.py asserts
and bench/matcher_quality.py prints (see there for what each figure means)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knowledge.matcher import Matcher
from knowledge.verdict import Match, Thresholds, classify


@dataclass(frozen=True)
class Quality:
    questions: int
    out_of_scope: int
    top1: float
    ranked: float
    abstention: float
    countries: int
    form: float
    wrong: float
    suggested: int
    buttons: float

    def line(self) -> str:
        return (
            f"questions={self.questions} out_of_scope={self.out_of_scope} "
            f"top1_answered={self.top1:.1%} top1_ranked={self.ranked:.1%} "
            f"abstention={self.abstention:.1%} right_form={self.form:.1%}"
            f"({self.countries}) confident_wrong={self.wrong:.1%} "
            f"right_in_buttons={self.buttons:.1%}({self.suggested})"
        )


def evaluate(
    matcher: Matcher,
    limits: Thresholds,
    data: dict[str, Any],
    verbose: bool = False,
    matches: dict[str, Match] | None = None,
) -> Quality:
    """`matches` (text -> Match) saves matching again when only the limits change."""

    def match_of(text: str) -> Match:
        if matches is None:
            return matcher.match(text)
        if text not in matches:
            matches[text] = matcher.match(text)
        return matches[text]

    right = ranked = wrong = 0
    countries = form_right = 0
    suggested = in_buttons = 0
    for item in data["questions"]:
        match = match_of(item["q"])
        verdict = classify(match, limits)
        got = verdict.id if verdict.outcome in ("answer", "smalltalk") else None
        top = match.smalltalk or (match.best.id if match.best else None)
        want_country = item.get("country")
        country_ok = want_country is None or match.normalized.country == want_country
        ok = got == item["id"] and country_ok
        right += got == item["id"]
        ranked += top == item["id"]
        wrong += got is not None and not ok
        if want_country is not None:
            countries += 1
            form_right += ok
            if verbose and not country_ok:
                print(f"COUNTRY {item['q']!r}: want {want_country}, got {match.normalized.country}")
        if verdict.outcome == "suggest":
            suggested += 1
            in_buttons += item["id"] in {c.id for c in verdict.suggestions}
        if verbose and got != item["id"]:
            print(
                f"MISS {item['q']!r}: want {item['id']}, got {verdict.outcome} "
                f"{[(c.id, c.score) for c in match.candidates[:3]]}"
            )
    abstained = 0
    for text in data["out_of_scope"]:
        verdict = classify(match_of(text), limits)
        abstained += verdict.outcome != "answer"
        if verbose and verdict.outcome == "answer":
            print(f"OUT-OF-SCOPE ANSWERED {text!r}: {verdict.id} {verdict.score}")
    n, m = len(data["questions"]), len(data["out_of_scope"])
    wrong += m - abstained
    return Quality(
        questions=n,
        out_of_scope=m,
        top1=right / n,
        ranked=ranked / n,
        abstention=abstained / m,
        countries=countries,
        form=form_right / countries if countries else 1.0,
        wrong=wrong / (n + m),
        suggested=suggested,
        buttons=in_buttons / suggested if suggested else 1.0,
    )
