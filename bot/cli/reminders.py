"""`reminders run`: one reminder pass now (for cron and tests)."""

from __future__ import annotations

import argparse

from bot.cli.common import Subcommands, command, group, services
from bot.config import Settings


def register(sub: Subcommands) -> None:
    rem = group(sub, "reminders", "missing-document reminders")
    p = command(rem, "run", cmd_reminders_run, "queue today's due reminders now (one pass)")
    p.add_argument(
        "--now",
        action="store_true",
        help="every application with missing documents is due (opt-outs respected)",
    )


def cmd_reminders_run(settings: Settings, args: argparse.Namespace) -> int:
    """One reminder pass now; the bot's sender delivers what it queues."""
    with services(settings) as svc:
        report = svc.reminders.run_pass(force=args.now)
    for line in report.lines:
        print(line)
    print(report.summary())
    return 0
