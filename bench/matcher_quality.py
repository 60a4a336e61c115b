"""Print the matcher's accuracy on the question sets of tests/data/ (figures, not a test).

    python bench/matcher_quality.py [--verbose] [--data FILE ...] [--answer 60 --suggest 42
                                    --gap 3 --anchored 50 --anchored-gap 6]

top-1 = share of in-scope questions answered confidently with the right topic;
abstention = share of out-of-scope messages not answered. The pass marks are asserted
in tests/test_matcher_quality.py with the thresholds of config.example.yaml.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.loader import load_knowledge  # noqa: E402
from knowledge.matcher import Matcher, Thresholds, classify  # noqa: E402


def evaluate(matcher: Matcher, limits: Thresholds, data: dict, verbose: bool = False
             ) -> tuple[float, float, float]:
    right = ranked = 0
    countries = country_right = 0
    for item in data["questions"]:
        match = matcher.match(item["q"])
        if "country" in item:
            countries += 1
            country_right += match.normalized.country == item["country"]
            if verbose and match.normalized.country != item["country"]:
                print(f"COUNTRY {item['q']!r}: want {item['country']}, "
                      f"got {match.normalized.country}")
        verdict = classify(match, limits)
        got = verdict.id if verdict.outcome in ("answer", "smalltalk") else None
        top = match.smalltalk or (match.best.id if match.best else None)
        right += got == item["id"]
        ranked += top == item["id"]
        if verbose and got != item["id"]:
            print(f"MISS {item['q']!r}: want {item['id']}, got {verdict.outcome} "
                  f"{[(c.id, c.score) for c in match.candidates[:3]]}")
    abstained = 0
    for text in data["out_of_scope"]:
        verdict = classify(matcher.match(text), limits)
        abstained += verdict.outcome != "answer"
        if verbose and verdict.outcome == "answer":
            print(f"OUT-OF-SCOPE ANSWERED {text!r}: {verdict.id} {verdict.score}")
    if countries and verbose:
        print(f"countries recognised: {country_right}/{countries}")
    n = len(data["questions"])
    return right / n, ranked / n, abstained / len(data["out_of_scope"])


DATA_SETS = ("questions", "questions_dev", "questions_holdout", "questions_fresh",
             "questions_final", "questions_final2", "questions_final3")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
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
        top1, ranked, abst = evaluate(matcher, limits, data, args.verbose)
        print(f"{Path(file).name:<24} questions={len(data['questions'])} "
              f"out_of_scope={len(data['out_of_scope'])} top1_answered={top1:.1%} "
              f"top1_ranked={ranked:.1%} abstention={abst:.1%}")


if __name__ == "__main__":
    main()
