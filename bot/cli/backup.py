"""`backup FILE` and `restore FILE` of the SQLite database (PostgreSQL: pg_dump)."""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import Subcommands, command
from bot.config import Settings


def register(sub: Subcommands) -> None:
    p = command(sub, "backup", cmd_backup, "back up the SQLite database to FILE (online)")
    p.add_argument("file", help="new file for the backup")
    p = command(
        sub, "restore", cmd_restore, "replace the SQLite database by the backup FILE (stop the bot first)"
    )
    p.add_argument("file", help="a file written by `backup`")


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """SQLite: a consistent snapshot while the bot runs; PostgreSQL: the pg_dump command."""
    from bot.backup import BackupError, backup

    try:
        path = backup(settings.database_url, args.file)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"backup written to {path} ({path.stat().st_size // 1024} KiB)")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """SQLite: replace the database by a backup (stop the bot first)."""
    from bot.backup import BackupError, restore

    try:
        path = restore(settings.database_url, args.file)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"restored {args.file} into {path}; start the bot again")
    return 0
