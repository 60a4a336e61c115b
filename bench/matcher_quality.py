"""Print the matcher's accuracy on the question sets of tests/data/ (figures, not a test).

    python bench/matcher_quality.py [--verbose] [--data FILE ...] [--answer 60 --suggest 42
                                    --gap 3 --anchored 50 --anchored-gap 6]

Per set:
  top1        share of in-scope questions answered outright with the right topic;
  ranked      share of in-scope questions whose right topic is ranked first;
  abstention  share of out-of-scope messages not answered;
  form        of the questions naming a destination (`country`), the share answered with
              the right topic and that country's forms (the country recognised);
  wrong       confident wrong answers (an in-scope question answered with another topic
              or another country, an out-of-scope message answered) among all messages;
  buttons     of the in-scope questions that got "Maksud Anda" buttons, the share where
              the right topic is among them.
The pass marks are asserted in tests/test_matcher_quality.py with the thresholds of
config.example.yaml.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.loader import load_knowledge  # noqa: E402
from knowledge.matcher import Matcher, Thresholds, classify  # noqa: E402


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
        return (f"questions={self.questions} out_of_scope={self.out_of_scope} "
                f"top1_answered={self.top1:.1%} top1_ranked={self.ranked:.1%} "
                f"abstention={self.abstention:.1%} right_form={self.form:.1%}"
                f"({self.countries}) confident_wrong={self.wrong:.1%} "
                f"right_in_buttons={self.buttons:.1%}({self.suggested})")


def evaluate(matcher: Matcher, limits: Thresholds, data: dict, verbose: bool = False
             ) -> Quality:
    right = ranked = wrong = 0
    countries = form_right = 0
    suggested = in_buttons = 0
    for item in data["questions"]:
        match = matcher.match(item["q"])
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
                print(f"COUNTRY {item['q']!r}: want {want_country}, "
                      f"got {match.normalized.country}")
        if verdict.outcome == "suggest":
            suggested += 1
            in_buttons += item["id"] in {c.id for c in verdict.suggestions}
        if verbose and got != item["id"]:
            print(f"MISS {item['q']!r}: want {item['id']}, got {verdict.outcome} "
                  f"{[(c.id, c.score) for c in match.candidates[:3]]}")
    abstained = 0
    for text in data["out_of_scope"]:
        verdict = classify(matcher.match(text), limits)
        abstained += verdict.outcome != "answer"
        if verbose and verdict.outcome == "answer":
            print(f"OUT-OF-SCOPE ANSWERED {text!r}: {verdict.id} {verdict.score}")
    n, m = len(data["questions"]), len(data["out_of_scope"])
    wrong += m - abstained
    return Quality(
        questions=n, out_of_scope=m, top1=right / n, ranked=ranked / n,
        abstention=abstained / m, countries=countries,
        form=form_right / countries if countries else 1.0, wrong=wrong / (n + m),
        suggested=suggested, buttons=in_buttons / suggested if suggested else 1.0)


DATA_SETS = ("questions", "questions_dev", "questions_holdout", "questions_fresh",
             "questions_final", "questions_final2", "questions_final3",
             "questions_final4", "questions_final5", "questions_final6")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--answer", type=float, default=Thresholds.answer)
    ap.add_argument("--suggest", type=float, default=Thresholds.suggest)
    ap.add_argument("--gap", type=float, default=Thresholds.min_gap)
    ap.add_argument("--anchored", type=float, default=Thresholds.anchored)
    ap.add_argument("--anchored-gap", type=float, default=Thresholds.anchored_gap)
    ap.add_argument("--data", action="append",
                    help="a questions file (repeatable); default: every set in tests/data")
    args = ap.parse_args()
    matcher = Matcher(load_knowledge(ROOT / "knowledge"))
    limits = Thresholds(args.answer, args.suggest, args.gap, args.anchored, args.anchored_gap)
    files = args.data or [str(ROOT / "tests" / "data" / f"{n}.yaml") for n in DATA_SETS]
    for file in files:
        data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
        quality = evaluate(matcher, limits, data, args.verbose)
        print(f"{Path(file).name:<24} {quality.line()}")


if __name__ == "__main__":
    main()
