"""Print the matcher's accuracy on the question sets of tests/data/ (figures, not a test).

    python bench/matcher_quality.py [--verbose] [--data FILE ...] [--answer 60 --suggest 42
                                    --gap 3 --anchored 50 --anchored-gap 6 --lead 5]
    python bench/matcher_quality.py --loso [--cost 8]
    python bench/matcher_quality.py --loso-opinion [--opinion-answer 0.7 --opinion-agree 0.4]
    python bench/matcher_quality.py --no-opinion      (the matcher alone)

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

--loso fits the outcome rule (answer threshold, anchored threshold, the lead over the
runner-up) on all sets but one and measures it on the one left out, for every set: the
figures to expect from the rule on unseen phrasing, not on the sets it was fitted to.
The fit minimises cost x confident wrong answers + in-scope questions not answered
right (a wrong answer costs an exporter far more than one tap on a suggestion).

The shipped second opinion (knowledge/opinion.npz) was trained on every set here, so the
plain figures are measured on its own training data. --loso-opinion trains it again
without each set in turn (scikit-learn, about 15 s a set) and measures it on the set left
out: the figures to expect on unseen phrasing, next to the matcher alone.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.testing.matcher_quality import Quality, evaluate  # noqa: E402
from knowledge.loader import load_knowledge  # noqa: E402
from knowledge.matcher import Matcher  # noqa: E402
from knowledge.training import Trainer, labelled  # noqa: E402
from knowledge.verdict import Match, Thresholds  # noqa: E402

DATA_SETS = (
    "questions",
    "questions_dev",
    "questions_holdout",
    "questions_fresh",
    "questions_final",
    "questions_final2",
    "questions_final3",
    "questions_final4",
    "questions_final5",
    "questions_final6",
    "questions_final7",
    "questions_final8",
    "questions_final9",
    "questions_final10",
    "questions_final11",
    "questions_final12",
    "questions_final13",
    "questions_final14",
    "questions_final15",
    "questions_train_a",
    "questions_train_b",
)

# the outcome rules --loso chooses from: answer threshold, anchored threshold, lead
RULE_GRID = tuple(
    itertools.product((56.0, 58.5, 60.0, 62.0), (48.0, 50.0, 52.0, 54.0), (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0))
)


def _counts(q: Quality) -> tuple[float, float, int, int]:
    """(in-scope answered right, confident wrong, questions, out-of-scope messages)"""
    return (q.top1 * q.questions, q.wrong * (q.questions + q.out_of_scope), q.questions, q.out_of_scope)


def leave_one_set_out(matcher: Matcher, base: Thresholds, files: list[str], cost: float) -> None:
    sets = {Path(f).stem: yaml.safe_load(Path(f).read_text(encoding="utf-8")) for f in files}
    matches: dict[str, Match] = {}
    rules = [replace(base, answer=a, anchored=b, min_lead=lead) for a, b, lead in RULE_GRID]
    # every set's counts under every rule, computed once
    table = {
        name: [_counts(evaluate(matcher, r, data, matches=matches)) for r in rules]
        for name, data in sets.items()
    }
    shipped = {name: _counts(evaluate(matcher, base, data, matches=matches)) for name, data in sets.items()}

    def loss(i: int, names: list[str]) -> float:
        return sum(cost * table[n][i][1] + table[n][i][2] - table[n][i][0] for n in names)

    totals = {"shipped": [0.0] * 4, "fitted": [0.0] * 4}
    for name in sets:
        others = [n for n in sets if n != name]
        best = min(range(len(rules)), key=lambda i: loss(i, others))
        fitted, now = table[name][best], shipped[name]
        for key, got in (("shipped", now), ("fitted", fitted)):
            totals[key] = [t + g for t, g in zip(totals[key], got, strict=True)]
        rule = rules[best]
        print(
            f"{name:<20} fitted answer={rule.answer} anchored={rule.anchored} "
            f"lead={rule.min_lead}: top1 {fitted[0] / fitted[2]:.1%} wrong "
            f"{fitted[1] / (fitted[2] + fitted[3]):.1%} | shipped: top1 "
            f"{now[0] / now[2]:.1%} wrong {now[1] / (now[2] + now[3]):.1%}"
        )
    for key, (r, w, n, m) in totals.items():
        print(
            f"left-out totals, {key} rule: top1_answered={r / n:.1%} "
            f"confident_wrong={w / (n + m):.2%} ({round(r)} of {n}, {round(w)} wrong of "
            f"{n + m})"
        )


def leave_one_set_out_opinion(
    base: Thresholds, files: list[str], grid: bool = False, train_only: tuple[str, ...] = ()
) -> None:
    """`train_only`: sets always trained on and never left out (training messages that
    were never meant as a held-out set); `grid` also prints the left-out totals of
    neighbouring opinion thresholds (each set is matched once, the rule applied to all)."""
    kb = load_knowledge(ROOT / "knowledge")
    alone = Matcher(replace(kb, opinion=None))
    trainer = Trainer(kb)
    sets = {
        Path(f).stem: (yaml.safe_load(Path(f).read_text(encoding="utf-8")), labelled(Path(f))) for f in files
    }
    totals = {"matcher alone": [0.0] * 4, "with the opinion": [0.0] * 4}
    pairs = list(itertools.product((0.6, 0.65, 0.7, 0.75, 0.8), (0.3, 0.4, 0.5))) if grid else []
    grid_totals = {pair: [0.0] * 4 for pair in pairs}
    for name, (data, _) in sets.items():
        if name in train_only:
            continue
        model = trainer.fit([pair for other, (_, pairs_) in sets.items() if other != name for pair in pairs_])
        both = Matcher(replace(kb, opinion=model))
        for key, matcher in (("matcher alone", alone), ("with the opinion", both)):
            quality = evaluate(matcher, base, data)
            totals[key] = [t + g for t, g in zip(totals[key], _counts(quality), strict=True)]
            print(f"{name:<20} {key:<17} {quality.line()}", flush=True)
        matches: dict[str, Match] = {}
        for answer, agree in pairs:
            rule = replace(base, opinion_answer=answer, opinion_agree=agree)
            quality = evaluate(both, rule, data, matches=matches)
            grid_totals[(answer, agree)] = [
                t + g for t, g in zip(grid_totals[(answer, agree)], _counts(quality), strict=True)
            ]
    for (answer, agree), (r, w, n, m) in grid_totals.items():
        print(
            f"grid opinion_answer={answer} opinion_agree={agree}: "
            f"top1_answered={r / n:.2%} confident_wrong={w / (n + m):.2%}"
        )
    for key, (r, w, n, m) in totals.items():
        print(
            f"left-out totals, {key}: top1_answered={r / n:.1%} confident_wrong={w / (n + m):.2%} "
            f"({round(r)} of {n}, {round(w)} wrong of {n + m})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--answer", type=float, default=Thresholds.answer)
    ap.add_argument("--suggest", type=float, default=Thresholds.suggest)
    ap.add_argument("--gap", type=float, default=Thresholds.min_gap)
    ap.add_argument("--anchored", type=float, default=Thresholds.anchored)
    ap.add_argument("--anchored-gap", type=float, default=Thresholds.anchored_gap)
    ap.add_argument("--lead", type=float, default=Thresholds.min_lead)
    ap.add_argument("--loso", action="store_true", help="fit the outcome rule leaving one set out at a time")
    ap.add_argument(
        "--cost", type=float, default=8.0, help="--loso: a confident wrong answer costs this many misses"
    )
    ap.add_argument("--opinion-answer", type=float, default=Thresholds.opinion_answer)
    ap.add_argument("--opinion-agree", type=float, default=Thresholds.opinion_agree)
    ap.add_argument(
        "--loso-opinion", action="store_true", help="train the second opinion leaving one set out"
    )
    ap.add_argument(
        "--opinion-grid", action="store_true", help="--loso-opinion: also neighbouring thresholds"
    )
    ap.add_argument("--no-opinion", action="store_true", help="the matcher alone, without the second opinion")
    ap.add_argument(
        "--data", action="append", help="a questions file (repeatable); default: every set in tests/data"
    )
    args = ap.parse_args()
    kb = load_knowledge(ROOT / "knowledge")
    matcher = Matcher(replace(kb, opinion=None) if args.no_opinion else kb)
    limits = Thresholds(
        args.answer,
        args.suggest,
        args.gap,
        args.anchored,
        args.anchored_gap,
        args.lead,
        args.opinion_answer,
        args.opinion_agree,
    )
    files = args.data or [str(ROOT / "tests" / "data" / f"{n}.yaml") for n in DATA_SETS]
    if args.loso_opinion:
        train_only = tuple(Path(f).stem for f in files if Path(f).stem.startswith("questions_train"))
        leave_one_set_out_opinion(limits, files, args.opinion_grid, train_only)
        return
    if args.loso:  # the matcher's own rule, fitted without the opinion trained on these sets
        leave_one_set_out(Matcher(replace(kb, opinion=None)), limits, files, args.cost)
        return
    for file in files:
        data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
        quality = evaluate(matcher, limits, data, args.verbose)
        print(f"{Path(file).name:<24} {quality.line()}")


if __name__ == "__main__":
    main()
