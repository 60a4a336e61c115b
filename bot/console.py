"""`python -m bot chat`: the real Application, fed from the terminal instead of Telegram.

The fake Bot API of the tests stands in for Telegram; what the bot sends is printed as
plain text and inline buttons become numbered choices (type the number to press one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import re
import sys
from typing import Any, TextIO

from telegram import Update

from bot.app import build_application, post_init
from bot.config import Settings
from bot.fakeapi import Call, FakeBotAPI, FakeRequest
from bot.services import build_services

CONSOLE_EXPORTER_ID = 100001
CONSOLE_OFFICER_ID = 100002
CONSOLE_ADMIN_ID = 100003
_TAG = re.compile(r"<[^>]+>")
BANNER = """SKA Help Desk - terminal chat (as {who}, user id {uid}).
Type a question or a /command; type a number to press a button; '@group TEXT' writes in
the officers' group; Ctrl-D or /quit ends."""


def plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def resolve_user(settings: Settings, who: str) -> tuple[Settings, int, str]:
    """Map --as to a user id, adding it to the officers/admins of this session if needed."""
    if who == "officer":
        uid = min(settings.officer_ids) if settings.officer_ids else CONSOLE_OFFICER_ID
        return dataclasses.replace(settings, officer_ids=settings.officer_ids | {uid}), uid, who
    if who == "admin":
        uid = min(settings.admin_ids) if settings.admin_ids else CONSOLE_ADMIN_ID
        return dataclasses.replace(settings, admin_ids=settings.admin_ids | {uid}), uid, who
    if who == "exporter":
        return settings, CONSOLE_EXPORTER_ID, who
    # Telegram user ids are positive and below 2**52
    if who.isdigit() and 0 < int(who) < 2**52:
        return settings, int(who), f"user {who}"
    raise ValueError(f"--as: expected exporter, officer, admin or a Telegram user id "
                     f"(a positive number), not {who[:40]!r}")


class Console:
    def __init__(self, api: FakeBotAPI, out: TextIO, me: int) -> None:
        self.api = api
        self.me = me
        self.out = out
        self.choices: list[tuple[int, int, str]] = []   # (chat id, message id, data)

    def show(self, calls: list[Call]) -> None:
        self.choices = []
        for call in calls:
            if call.method == "answerCallbackQuery" and call.params.get("text"):
                print(f"bot (notice)> {call.params['text']}", file=self.out)
                continue
            if not call.method.startswith(("send", "edit")) or call.method == "sendChatAction":
                continue
            text = call.params.get("text") or call.params.get("caption") or ""
            chat = call.params.get("chat_id")
            where = "" if chat == self.me else f"[to {chat}] "
            if text:
                print(f"{where}bot> " + plain(str(text)).replace("\n", "\n     "), file=self.out)
            message_id = int((call.result or {}).get("message_id", 0)) if isinstance(
                call.result, dict) else 0
            markup: dict[str, Any] = call.params.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for b in row:
                    if b.get("callback_data"):
                        self.choices.append((chat, message_id, b["callback_data"]))
                        print(f"     [{len(self.choices)}] {b['text']}", file=self.out)
                    elif b.get("url"):
                        print(f"     [link] {b['text']}: {b['url']}", file=self.out)
        self.out.flush()


async def run_console(settings: Settings, who: str, stdin: TextIO | None = None,
                      out: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    settings, uid, label = resolve_user(settings, who)
    api = FakeBotAPI()
    services = build_services(settings)
    app = build_application(settings, request=FakeRequest(api),
                            updates_request=FakeRequest(api), services=services)
    console = Console(api, out, uid)
    group = settings.officers_chat_id or -100
    async with app:
        await post_init(app)
        print(BANNER.format(who=label, uid=uid), file=out)
        while True:
            print("you> ", end="", file=out, flush=True)
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                print(file=out)
                break
            text = line.strip()
            if text in ("/quit", "/exit"):
                break
            if not text:
                continue
            if text.isdigit() and 1 <= int(text) <= len(console.choices):
                chat, message_id, data = console.choices[int(text) - 1]
                update = api.callback(uid, data, message_id=message_id, chat_id=chat)
            elif text.startswith("@group "):
                update = api.message(uid, text[len("@group "):], chat_id=group)
            else:
                update = api.message(uid, text)
            before = len(api.calls)
            await app.process_update(Update.de_json(update, app.bot))
            # notifications queued by this step (status pushes, relays) leave right away
            await services.sender.drain(app.bot, budget_seconds=2.0)
            console.show(api.calls[before:])
    services.close()
    return 0
