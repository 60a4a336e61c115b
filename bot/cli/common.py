"""What every command shares: the --config option, logging, the services' lifetime."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeAlias

from bot.config import Settings

if TYPE_CHECKING:
    from bot.services import Services

# DEBUG shows the traceback behind a one-line failure
LOG_LEVEL_ENV = "SKA_LOG_LEVEL"

Command = Callable[[Settings, argparse.Namespace], int]
# what add_subparsers() returns; argparse gives the type no public name
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def config_option() -> argparse.ArgumentParser:
    """The parent of every parser: `--config PATH` before or after any sub-command.

    The default is SUPPRESS so that a sub-command which is not given --config keeps what
    the main parser read (argparse copies a sub-parser's defaults over it otherwise)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--config", default=argparse.SUPPRESS, help="path to config.yaml (default: ./config.yaml if present)"
    )
    return parent


CONFIG = config_option()


def group(sub: Subcommands, name: str, help: str) -> Subcommands:
    """A command with sub-commands of its own (`kb check`, `report export`, ...)."""
    parser = sub.add_parser(name, help=help, parents=[CONFIG])
    return parser.add_subparsers(dest=f"{name.replace('-', '_')}_command", required=True)


def command(sub: Subcommands, name: str, func: Command, help: str) -> argparse.ArgumentParser:
    """A sub-command that runs `func(settings, args)`; add its own arguments to the result."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, parents=[CONFIG])
    parser.set_defaults(func=func)
    return parser


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and Bot API URLs carry the token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler logs every run of every job at INFO: two lines a second at idle
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.executors.default").addFilter(_cancelled_at_shutdown)


def _cancelled_at_shutdown(record: logging.LogRecord) -> bool:
    """A job still running when the bot stops is cancelled by APScheduler, which logs it
    as an error with a traceback. It is no error: PTB shields the job's work, and every
    job of ours may be cut short (it runs again from the database at the next start). One
    plain line says it; no traceback reaches the admin's terminal."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, asyncio.CancelledError):
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.msg, record.args, record.exc_info, record.exc_text = (
            "%s: cancelled, the bot is stopping",
            (record.getMessage().split(" raised")[0],),
            None,
            None,
        )
    return True


@contextmanager
def services(settings: Settings) -> Iterator[Services]:
    """The services of one command: the database opened and migrated, then closed."""
    # imported here: `ask` and `kb check` start faster without the whole service layer
    from bot.services import build_services

    svc = build_services(settings)
    try:
        yield svc
    finally:
        svc.close()
