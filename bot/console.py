"""`python -m bot chat`: the real Application, fed from the terminal instead of Telegram.

The fake Bot API of the tests stands in for Telegram; what the bot sends is printed as
plain text and inline buttons become numbered choices (type the number to press one).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import html
import re
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from telegram import Update

from bot.app import build_application, post_init
from bot.config import Settings
from bot.services import build_services
from bot.telegram.context import sender_of
from bot.testing import Call, FakeBotAPI, FakeRequest

CONSOLE_EXPORTER_ID = 100001
CONSOLE_OFFICER_ID = 100002
CONSOLE_ADMIN_ID = 100003
_TAG = re.compile(r"<[^>]+>")
BANNER = """SKA Help Desk - terminal chat (as {who}, user id {uid}).
Type a question or a /command; type a number to press a button; '@group TEXT' writes in
the officers' group; Ctrl-D or /quit ends. Charts and workbooks are saved in {files}/."""
NO_GROUP = (
    "(no officers' group configured: set officers.chat_id in config.yaml; until then "
    "'@group' reaches nothing, as in Telegram)"
)
# what the bot queues (status pushes, broadcasts and their summaries) leaves this often
PUMP_SECONDS = 1.0


def _message_id_base() -> int:
    """Telegram never reuses a chat's message ids; the fake starts from 1 in every session.
    Starting from the clock keeps this session's ids above the ones an earlier session
    stored (ticket cards), so editing a card edits this session's card."""
    return int(time.time() * 10) - 17_000_000_000


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
    raise ValueError(
        f"--as: expected exporter, officer, admin or a Telegram user id (a positive number), not {who[:40]!r}"
    )


class Console:
    def __init__(self, api: FakeBotAPI, out: TextIO, me: int, files_dir: Path = Path("chat-files")) -> None:
        self.api = api
        self.me = me
        self.out = out
        self.files_dir = files_dir
        self.choices: list[tuple[int, int, str]] = []  # (chat id, message id, data)
        self.shown = 0  # calls of the api already printed
        # a ForceReply prompt: the next line typed replies to it, as Telegram's box does
        self.reply_to: tuple[int, int] | None = None

    def show_new(self) -> None:
        calls = self.api.calls[self.shown :]
        self.shown += len(calls)
        self.show(calls)

    def save_file(self, call: Call) -> Path | None:
        """The chart or workbook of a sendPhoto/sendDocument, written to files_dir."""
        result = call.result if isinstance(call.result, dict) else {}
        media = result.get("document") or (result.get("photo") or [None])[-1]
        if not isinstance(media, dict):
            return None
        content = self.api.file_bytes(str(media.get("file_id")))
        if content is None:
            return None
        name = media.get("file_name") or ("chart.png" if call.method == "sendPhoto" else "file")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / f"{stamp}-{Path(str(name)).name}"
        counter = 1
        while path.exists():
            counter += 1
            path = self.files_dir / f"{stamp}-{counter}-{Path(str(name)).name}"
        path.write_bytes(content)
        return path

    def show(self, calls: list[Call]) -> None:
        if any((c.params.get("reply_markup") or {}).get("inline_keyboard") for c in calls):
            self.choices = []  # numbers refer to the newest buttons only
        for call in calls:
            if call.method == "answerCallbackQuery" and call.params.get("text"):
                print(f"bot (notice)> {call.params['text']}", file=self.out)
                continue
            if not call.method.startswith(("send", "edit")) or call.method == "sendChatAction":
                continue
            if not call.ok:
                continue  # refused by "Telegram": the bot logs it, nobody saw it
            text = call.params.get("text") or call.params.get("caption") or ""
            chat = call.params.get("chat_id")
            where = "" if chat == self.me else f"[to {chat}] "
            who = "bot (edited)> " if call.method.startswith("edit") else "bot> "
            if text:
                print(f"{where}{who}" + plain(str(text)).replace("\n", "\n     "), file=self.out)
            if call.method in ("sendPhoto", "sendDocument"):
                path = self.save_file(call)
                if path is not None:
                    print(f"     [file] saved to {path.resolve()}", file=self.out)
            message_id = int((call.result or {}).get("message_id", 0)) if isinstance(call.result, dict) else 0
            markup: dict[str, Any] = call.params.get("reply_markup") or {}
            if markup.get("force_reply") and chat == self.me:
                self.reply_to = (chat, message_id)
                print("     (type your reply)", file=self.out)
            for row in markup.get("inline_keyboard", []):
                for b in row:
                    if b.get("callback_data"):
                        self.choices.append((int(chat or 0), message_id, str(b["callback_data"])))
                        print(f"     [{len(self.choices)}] {b['text']}", file=self.out)
                    elif b.get("url"):
                        print(f"     [link] {b['text']}: {b['url']}", file=self.out)
        self.out.flush()


async def run_console(
    settings: Settings, who: str, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    settings, uid, label = resolve_user(settings, who)
    api = FakeBotAPI()
    api.message_id_base = _message_id_base()
    services = build_services(settings)
    app = build_application(
        settings, request=FakeRequest(api), updates_request=FakeRequest(api), services=services
    )
    console = Console(api, out, uid, settings.chat.files_dir)
    group = settings.officers_chat_id
    async with app:
        await post_init(app)
        console.shown = len(api.calls)  # the start-up's own calls (menus) are not news
        print(BANNER.format(who=label, uid=uid, files=settings.chat.files_dir), file=out)
        if group is None:
            print(NO_GROUP, file=out)
        pump = asyncio.create_task(_pump(app, services, console))
        try:
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
                    if group is None:
                        print(NO_GROUP, file=out)
                        continue
                    update = api.message(uid, text[len("@group ") :], chat_id=group)
                elif console.reply_to is not None and not text.startswith("/"):
                    chat, message_id = console.reply_to
                    update = api.message(uid, text, reply_to_message_id=message_id)
                else:
                    update = api.message(uid, text)
                console.reply_to = None
                await app.process_update(Update.de_json(update, app.bot))
                # notifications queued by this step (status pushes, relays) leave right away
                await sender_of(app).drain(app.bot, budget_seconds=2.0)
                console.show_new()
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            # what the last step queued (a broadcast's summary) still leaves before the end
            await _deliver(app, services)
            console.show_new()
    services.close()
    return 0


async def _deliver(app: Any, services: Any) -> None:
    """What the jobs of `run` do: finished broadcasts get their summary, the outbox drains."""
    await asyncio.to_thread(services.broadcasts.finish)
    await sender_of(app).drain(app.bot, budget_seconds=PUMP_SECONDS * 0.9)


async def _pump(app: Any, services: Any, console: Console) -> None:
    """While the terminal waits for the next line, queued messages (broadcasts, their
    summary) keep leaving, as they do in `run`, and appear as they arrive."""
    while True:
        await asyncio.sleep(PUMP_SECONDS)
        try:
            await _deliver(app, services)
        except Exception as exc:  # noqa: BLE001 - the terminal chat must go on
            print(f"(delivery failed for now: {type(exc).__name__})", file=console.out)
        console.show_new()
        console.out.flush()
