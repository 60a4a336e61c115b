"""`precheck FILE`: the /cek pre-submission check on a YAML or JSON file of answers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import Subcommands, command
from bot.config import Settings

# a file of answers to fifteen questions is under 2 KB
MAX_ANSWERS_BYTES = 64 * 1024


def register(sub: Subcommands) -> None:
    p = command(sub, "precheck", cmd_precheck, "run the /cek check on a YAML or JSON file of answers")
    p.add_argument("--lang", choices=["id", "en"], default="id")
    p.add_argument("file")


def cmd_precheck(settings: Settings, args: argparse.Namespace) -> int:
    """Run the /cek pre-submission check on a YAML or JSON file of answers."""
    return cli_main(settings, args.file, lang=args.lang)


def cli_main(settings: Settings, path: str | Path, lang: str = "id") -> int:
    """The findings for a YAML or JSON file of answers, one per line, then the counts."""
    from bot.safeload import InputFileError, load_file
    from bot.services.calendar import OfficeCalendar
    from bot.services.precheck import (
        ERROR,
        INFO,
        RANK,
        STEPS,
        WARNING,
        load_precheck_kb,
        render_finding,
        run_precheck,
    )

    source = Path(path)
    try:
        # JSON is YAML, so one reader serves both; no aliases ("billion laughs"), bounded
        answers = load_file(source, MAX_ANSWERS_BYTES)
    except InputFileError as exc:
        print(f"precheck: {exc}", file=sys.stderr)
        return 2
    if not isinstance(answers, dict):
        print(f"precheck: {source} must hold a mapping of answers ({', '.join(STEPS)})", file=sys.stderr)
        return 2
    calendar = OfficeCalendar(settings.office, settings.timezone)
    kb = load_precheck_kb(settings.knowledge_dir)
    unknown = sorted(set(answers) - set(STEPS))
    if unknown:
        print(f"precheck: ignored unknown keys: {', '.join(map(str, unknown))}", file=sys.stderr)
    findings = run_precheck(answers, calendar, kb)
    for finding in findings:
        text = render_finding(finding, lang, markup=False).replace("\n", "\n    ")
        print(f"{finding.severity.upper():8}{finding.code}: {text}")
    counts = {sev: sum(f.severity == sev for f in findings) for sev in RANK}
    print(f"{counts[ERROR]} error(s), {counts[WARNING]} warning(s), {counts[INFO]} note(s)")
    return 0
