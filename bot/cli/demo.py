"""`demo load`: demo companies and applications, so a newcomer can link and try /status."""

from __future__ import annotations

import argparse

from bot.cli.common import Subcommands, command, group, services
from bot.config import Settings


def register(sub: Subcommands) -> None:
    demo = group(sub, "demo", "demo data")
    command(demo, "load", cmd_demo_load, "load the demo companies and applications")


def cmd_demo_load(settings: Settings, args: argparse.Namespace) -> int:
    """Demo companies and applications, so a newcomer can link and try /status."""
    from bot.services.demo import demo_nib, load_demo

    with services(settings) as svc:
        created = load_demo(svc.db, svc.answers.kb.exports)
    print(
        f"demo data: {created['companies']} companies, {created['applications']} applications "
        "created (existing ones kept)"
    )
    print(f"try: python -m bot link-code {demo_nib(1)}   then /link CODE in chat")
    return 0
