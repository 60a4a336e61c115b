"""`kb check` (validate the knowledge base), `kb gaps` (what it does not answer) and `kb train`
(the second opinion's classifier, knowledge/opinion.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import Subcommands, command, group, services
from bot.config import Settings


def register(sub: Subcommands) -> None:
    kb = group(sub, "kb", "knowledge base tools")
    command(kb, "check", cmd_kb_check, "validate the knowledge base")
    p = command(kb, "gaps", cmd_kb_gaps, "unanswered questions, grouped by similarity")
    p.add_argument("--days", type=int, default=30)
    p = command(kb, "train", cmd_kb_train, "train the second opinion on the labelled questions")
    p.add_argument(
        "data",
        nargs="*",
        type=Path,
        help="question sets (tests/data format); default: tests/data/questions*.yaml",
    )


def cmd_kb_check(settings: Settings, args: argparse.Namespace) -> int:
    """Validate the knowledge base; non-zero exit with one line per problem."""
    from bot.services.kbcheck import check_knowledge

    problems, summary = check_knowledge(settings)
    for line in problems:
        print(f"ERROR {line}")
    print(summary)
    return 1 if problems else 0


def cmd_kb_gaps(settings: Settings, args: argparse.Namespace) -> int:
    """Unanswered and low-confidence questions, grouped, most frequent first."""
    with services(settings) as svc:
        groups = svc.answers.gaps(args.days)
    if not groups:
        print(f"no unanswered questions in the last {args.days} days")
    for text, count in groups:
        print(f"{count:5d}  {text}")
    return 0


def cmd_kb_train(settings: Settings, args: argparse.Namespace) -> int:
    """Fit the classifier on the sample questions and the question sets; write the model."""
    from knowledge.loader import MODEL_FILE, load_knowledge
    from knowledge.training import Trainer, curated_samples, question_sets

    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("error: kb train needs scikit-learn: pip install -e '.[dev]'", file=sys.stderr)
        return 2
    files = args.data or sorted(
        (Path(__file__).resolve().parents[2] / "tests" / "data").glob("questions*.yaml")
    )
    missing = [str(f) for f in files if not f.is_file()]
    if missing or not files:
        print(f"error: no question sets: {', '.join(missing) or 'tests/data is missing'}", file=sys.stderr)
        return 2
    kb = load_knowledge(settings.knowledge_dir)
    pairs = question_sets(files)
    model = Trainer(kb).fit(pairs)
    target = settings.knowledge_dir / MODEL_FILE
    model.save(target)
    samples = len(curated_samples(kb))  # what Trainer.fit trained on
    print(
        f"trained on {samples + len(pairs)} texts ({samples} sample questions, {len(pairs)} from "
        f"{len(files)} question sets): {len(model.vectorizer.index)} features, "
        f"{len(model.classes)} labels -> {target} ({target.stat().st_size // 1024} KB)"
    )
    return 0
