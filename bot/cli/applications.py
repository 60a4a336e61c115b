"""`applications import`: applications from a CSV or .xlsx file (see the README)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import Subcommands, command, group, services
from bot.config import Settings


def register(sub: Subcommands) -> None:
    apps = group(sub, "applications", "application data")
    p = command(apps, "import", cmd_import, "import applications from CSV or .xlsx (see README)")
    p.add_argument("file", help="a .csv (UTF-8) or .xlsx file with the columns of the README")
    p.add_argument(
        "--check", action="store_true", help="validate every row and print the report; write nothing"
    )
    # the reasons that tell how to write a cell (an ambiguous number) come in this language
    p.add_argument("--lang", choices=["id", "en"], default="id", help="language of the how-to-fix reasons")


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Create or update applications from a CSV or .xlsx file; status changes notify
    exporters. --check reports the same and writes nothing."""
    if not Path(args.file).is_file():
        print(f"cannot read {args.file}: no such file", file=sys.stderr)
        return 2
    with services(settings) as svc:
        try:
            report = svc.importer.import_file(args.file, check=args.check, lang=args.lang)
        except OSError as exc:
            print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return 1
    for line in report.lines():
        print(line)
    return 1 if report.errors else 0
