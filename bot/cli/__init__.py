"""Command line: python -m bot <command> (also installed as `ska-helpdesk`).

One module per command family registers its sub-commands (in the order `--help` lists
them); each command is `func(settings, args) -> exit code`. `main` loads the settings
once and turns every failure into one line on stderr (see errors.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot.cli import applications, ask, backup, demo, kb, link_code, precheck, reminders, report, run
from bot.cli.common import CONFIG, LOG_LEVEL_ENV, Command, setup_logging
from bot.cli.errors import database_problem, unexpected
from bot.config import ConfigError, Settings, load_settings
from bot.logsafe import redact
from knowledge.loader import KnowledgeError

log = logging.getLogger("bot")
# the order of `--help`
FAMILIES = (run, ask, link_code, applications, demo, report, backup, reminders, kb, precheck)

__all__ = ["main", "parser", "setup_logging"]


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ska-helpdesk", description="SKA help desk bot", parents=[CONFIG])
    sub = ap.add_subparsers(dest="command", required=True)
    for family in FAMILIES:
        family.register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    level = os.environ.get(LOG_LEVEL_ENV, "INFO").upper()
    setup_logging(level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO")
    func: Command = args.func
    settings: Settings | None = None
    try:
        # absent when no parser saw --config: its default is SUPPRESS (see common.py)
        settings = load_settings(getattr(args, "config", None))
        return func(settings, args)
    except ConfigError as exc:
        for problem in exc.problems or [str(exc)]:
            print(f"config error: {problem}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:
        print(
            f"knowledge base error: {len(exc.problems)} problem(s); run `python -m bot kb check`",
            file=sys.stderr,
        )
        for line in exc.problems[:20]:
            print(f"  {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except SQLAlchemyError as exc:
        # unreachable or refusing server, unwritable SQLite file: one line, no password
        log.debug("database failure", exc_info=exc)
        url = settings.database_url if settings is not None else "?"
        print(database_problem(exc, url), file=sys.stderr)
        return 2
    except OSError as exc:
        log.debug("file failure", exc_info=exc)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or type(exc).__name__}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a command's last word is one line, not a trace
        print(redact(unexpected(exc, args.command)), file=sys.stderr)
        return 1
