"""`kb check` (validate the knowledge base) and `kb gaps` (what it does not answer)."""

from __future__ import annotations

import argparse

from bot.cli.common import Subcommands, command, group, services
from bot.config import Settings


def register(sub: Subcommands) -> None:
    kb = group(sub, "kb", "knowledge base tools")
    command(kb, "check", cmd_kb_check, "validate the knowledge base")
    p = command(kb, "gaps", cmd_kb_gaps, "unanswered questions, grouped by similarity")
    p.add_argument("--days", type=int, default=30)


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
