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
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.testing.matcher_quality import evaluate  # noqa: E402
from knowledge.loader import load_knowledge  # noqa: E402
from knowledge.matcher import Matcher, Thresholds  # noqa: E402

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
