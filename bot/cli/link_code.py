"""`link-code NIB`: a one-time code (and deep link) that links an exporter to a company."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

from bot.cli.common import Subcommands, command, services
from bot.config import Settings

log = logging.getLogger("bot")


def register(sub: Subcommands) -> None:
    p = command(sub, "link-code", cmd_link_code, "make a one-time code linking an exporter to a company")
    p.add_argument("nib", help="the company's NIB")
    p.add_argument("--json", action="store_true", help='end with {"code": ..., "url": ...}')


def cmd_link_code(settings: Settings, args: argparse.Namespace) -> int:
    """A one-time code (and deep link) that links an exporter's account to a company."""
    with services(settings) as svc:
        made = svc.links.create_code(args.nib, created_by=None)
    if made is None:
        print(f"no company with NIB {args.nib}; import its applications first", file=sys.stderr)
        return 1
    code, company = made
    username = bot_username(settings)
    url = f"https://t.me/{username}?start={code}" if username else None
    print(f"company: {company.name} (NIB {company.nib})")
    print(f"code:    {code}  (single use, valid {settings.link_code_days:g} days)")
    print(f"link:    {url or '(set telegram.bot_username to get the link)'}")
    if args.json:
        print(json.dumps({"code": code, "url": url}))
    return 0


def bot_username(settings: Settings) -> str | None:
    """From config, else asked from Telegram when a token is there."""
    if settings.telegram.bot_username:
        return settings.telegram.bot_username
    token = settings.telegram.token
    if token is None:
        return None
    from telegram import Bot

    base_url = settings.telegram.base_url

    async def ask() -> str | None:
        bot = Bot(token.value, base_url=base_url) if base_url else Bot(token.value)
        async with bot:
            return bot.username

    try:
        return asyncio.run(ask())
    except Exception as exc:  # noqa: BLE001 - any failure just means "no URL"
        log.warning("could not ask Telegram for the bot's username: %s", type(exc).__name__)
        return None
