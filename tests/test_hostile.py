"""Hostile inputs (tests/data/hostile.yaml) through the real Application: each gets a short
reply in the sender's language from the catalog, or deliberate silence, never a traceback,
and changes nothing stored beyond the sender's users row and the query log."""

from __future__ import annotations

import copy
import itertools
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from sqlalchemy import select, update
from telegram import Update
from telegram.ext import CommandHandler

from bot.i18n import catalog, language_of, t
from bot.models import Base, Company, QueryLog, User
from bot.testing import Call
from tests.conftest import ADMIN_ID, OFFICER_ID, OFFICERS_CHAT, ROOT, BotHarness

CORPUS = ROOT / "tests" / "data" / "hostile.yaml"
EXPORTER = 1001
TICKET_OWNER = 1004
UNKNOWN_GROUP = -100123
CHANNEL = -100555
MAX_REPLY = 600
CSV = """ref,company_nib,company_name,commodity,hs_code,destination,form,status,note,submitted_at,volume_tonnes,value_usd
SKA-001,1111111111111,PT Kayu Lapis Satu,Plywood,4412.31,JP,IJEPA,submitted,,2026-11-20,"1.200,50","250.000,00"
SKA-002,1111111111111,PT Kayu Lapis Satu,Veneer,4408.39,India,Form AI,returned,Berat bersih beda,2026-11-22,"80,00","9.000,00"
SKA-900,2222222222222,CV Lain Sekali,Moulding,4409.29,Polandia,Form B,in_review,,2026-11-23,"10,00","7.000,00"
"""
# what an escaped exception would look like if it ever reached a chat
LEAK = re.compile(r"Traceback|\b[A-Z]\w*(?:Error|Exception)\b|sqlalchemy|psycopg|File \"")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_update_ids = itertools.count(10_000_000)


def load_cases() -> list[dict[str, Any]]:
    return yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


@dataclass
class Sender:
    user_id: int | None
    language_code: str


def sender_of(case: dict[str, Any], index: int) -> Sender:
    who = case.get("from", "exporter")
    if who == "exporter":
        return Sender(EXPORTER, "id")
    if who == "officer":
        return Sender(OFFICER_ID, "id")
    if who == "admin":
        return Sender(ADMIN_ID, "id")
    if who in ("stranger", "stranger_en"):
        # a fresh account per case: nothing it did in another case can colour this one
        return Sender(50_000 + index, "en" if who == "stranger_en" else "id")
    if who == "nobody":
        return Sender(None, "id")
    raise ValueError(f"{case['name']}: unknown sender {who!r}")


def payload_text(case: dict[str, Any], key: str, ticket: int) -> str:
    text = str(case.get(key, "")) * int(case.get("repeat", 1))
    return (case.get("prefix", "") + text).replace("{ticket}", str(ticket))


def chat_of(case: dict[str, Any]) -> int | None:
    return {
        "private": None,
        "officers_group": OFFICERS_CHAT,
        "unknown_group": UNKNOWN_GROUP,
        "channel": CHANNEL,
    }[case["where"]]


def with_command_entity(message: dict[str, Any]) -> dict[str, Any]:
    """Telegram marks a leading /command in edited messages too; the fake does not."""
    match = _COMMAND.match(message.get("text") or "")
    if match:
        message["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(match.group(0).encode("utf-16-le")) // 2}
        ]
    return message


def build_update(bot: BotHarness, case: dict[str, Any], who: Sender, ticket: int) -> dict[str, Any]:
    api = bot.api
    kind = case["kind"]
    chat = chat_of(case)
    uid = who.user_id or 0
    opts: dict[str, Any] = {"chat_id": chat, "language_code": who.language_code}
    if kind in ("text", "command"):
        return api.message(uid, payload_text(case, "text", ticket), **opts)
    if kind == "callback":
        return api.callback(
            uid,
            payload_text(case, "data", ticket),
            message_id=1,
            chat_id=chat,
            language_code=who.language_code,
        )
    if kind == "document":
        return api.document(
            uid,
            case["file_name"],
            case["mime_type"],
            case.get("file_size"),
            caption=case.get("caption"),
            **opts,
        )
    if kind == "photo":
        caption = payload_text(case, "caption", ticket) if "caption" in case else None
        return api.photo(uid, caption=caption, file_size=case.get("file_size", 120_000), **opts)
    if kind == "sticker":
        return api.sticker(uid, **opts)
    if kind == "voice":
        return api.voice(uid, **opts)
    if kind in ("contact", "location", "member_joined"):
        upd = api.message(uid, "x", **opts)
        message = upd["message"]
        message.pop("text", None)
        message.pop("entities", None)
        message.update(
            {
                "contact": {"contact": {"phone_number": "+6281234567890", "first_name": "Budi"}},
                "location": {"location": {"latitude": -2.21, "longitude": 113.92}},
                "member_joined": {"new_chat_members": [api.bot_user]},
            }[kind]
        )
        return upd
    if kind == "edited":
        sent = api.message(uid, "teks awal", **opts)["message"]
        upd = api.edited_message(
            uid, payload_text(case, "text", ticket), message_id=sent["message_id"], **opts
        )
        with_command_entity(upd["edited_message"])
        return upd
    if kind == "channel_post":
        channel = {"id": CHANNEL, "type": "channel", "title": "Promo Ekspor"}
        post = with_command_entity(
            {
                "message_id": 7,
                "date": int(time.time()),
                "chat": channel,
                "sender_chat": channel,
                "text": payload_text(case, "text", ticket),
            }
        )
        return {"update_id": next(_update_ids), "channel_post": post}
    raise ValueError(f"{case['name']}: unknown kind {kind!r}")


def snapshot(bot: BotHarness, sender: int | None, may_change: set[str]) -> dict[str, list[str]]:
    """Every stored row, except what a case may change: the sender's users row (last seen,
    name) and the query log (every question is logged), plus the case's `may_change`."""
    out: dict[str, list[str]] = {}
    with bot.services.db.session() as s:
        for table in Base.metadata.sorted_tables:
            if table.name == "query_log" or table.name in may_change:
                continue
            query = select(table)
            if table.name == "users" and sender is not None:
                query = query.where(table.c.id != sender)
            out[table.name] = sorted(repr(tuple(row)) for row in s.execute(query))
    return out


def language(bot: BotHarness, who: Sender) -> str:
    """The sender's language: the stored one, else what their Telegram app says."""
    if who.user_id is not None:
        with bot.services.db.session() as s:
            user = s.get(User, who.user_id)
            if user is not None:
                return user.language
    return language_of(who.language_code)


def said(calls: list[Call]) -> tuple[list[str], str]:
    """(texts of messages and callback answers, everything shown including button labels)."""
    texts: list[str] = []
    shown: list[str] = []
    for call in calls:
        value = call.params.get("text") or call.params.get("caption")
        if isinstance(value, str) and value:
            texts.append(value)
        markup = call.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
            shown += [str(b.get("text", "")) for b in row]
    return texts, "\n".join(texts + shown)


def phrase_in(key: str, lang: str, shown: str) -> bool:
    """Every literal piece of the catalog text (between placeholders) is in what was shown."""
    pieces = [p.strip() for p in re.split(r"\{\w+\}", t(key, lang)) for p in p.split("\n")]
    return all(p in shown for p in pieces if p)


async def seed(bot: BotHarness) -> int:
    """Applications of two companies, a linked exporter, one open ticket of someone else."""
    assert bot.services.importer.import_text(CSV).errors == []
    users = bot.services.users
    for uid in (EXPORTER, TICKET_OWNER, OFFICER_ID, ADMIN_ID):
        users.touch(uid, "Budi")
    with bot.services.db.session() as s:
        company = s.scalar(select(Company.id).where(Company.nib == "1111111111111"))
        s.execute(update(User).where(User.id == EXPORTER).values(company_id=company))
    view, _ = bot.services.tickets.open(TICKET_OWNER, "apakah gudang dinas bisa dipakai", [])
    return view.id


async def run_case(
    bot: BotHarness, case: dict[str, Any], index: int, ticket: int, caplog: pytest.LogCaptureFixture
) -> list[str]:
    """Feed one case; return what went wrong (empty when it behaved)."""
    who = sender_of(case, index)
    may_change = set(case.get("may_change", []))
    before = snapshot(bot, who.user_id, may_change)
    calls_before = len(bot.api.calls)
    caplog.clear()
    await bot.app.process_update(Update.de_json(build_update(bot, case, who, ticket), bot.app.bot))
    calls = [
        c
        for c in bot.api.calls[calls_before:]
        if c.method.startswith(("send", "edit")) or c.method == "answerCallbackQuery"
    ]
    calls = [c for c in calls if c.method != "sendChatAction"]
    texts, shown = said(calls)
    problems: list[str] = []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    if errors:
        problems.append(f"logged an error: {errors[0].getMessage()} {errors[0].exc_info!r}")
    if any(phrase_in("error", lang, shown) for lang in ("id", "en")):
        problems.append("the error handler answered: an exception escaped")
    if LEAK.search(shown):
        problems.append(f"internals leaked: {shown[:200]!r}")
    failed = [c for c in calls if not c.ok]
    if failed:
        problems.append(f"Telegram refused {failed[0].method}: {failed[0].result}")
    expect = case["expect"]
    if expect == "silence":
        if texts:
            problems.append(f"expected silence, said {texts[0][:120]!r}")
    else:
        lang = language(bot, who)
        keys = [expect] if isinstance(expect, str) else list(expect)
        if not any(phrase_in(k, lang, shown) for k in keys):
            problems.append(f"expected {keys} in {lang!r}, got {shown[:300]!r}")
        long = [x for x in texts if len(x) >= MAX_REPLY]
        if long:
            problems.append(f"reply of {len(long[0])} characters: {long[0][:80]!r}")
    if snapshot(bot, who.user_id, may_change) != before:
        after = snapshot(bot, who.user_id, may_change)
        changed = [name for name in before if before[name] != after.get(name)]
        problems.append(f"stored data changed in {changed}")
    return problems


async def test_corpus_is_big_and_well_formed() -> None:
    cases = load_cases()
    assert len(cases) >= 60
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    keys = catalog()
    for case in cases:
        expect = case["expect"]
        for key in [expect] if isinstance(expect, str) else expect:
            assert key == "silence" or key in keys, f"{case['name']}: unknown key {key}"
        assert case["where"] in ("private", "officers_group", "unknown_group", "channel")


async def test_corpus_covers_every_command(bot: BotHarness) -> None:
    registered = {
        name
        for handlers in bot.app.handlers.values()
        for h in handlers
        if isinstance(h, CommandHandler)
        for name in h.commands
    }
    used = {
        m.group(1).lower()
        for c in load_cases()
        if c["kind"] in ("command", "edited")
        for m in [re.match(r"/(\w+)", (c.get("prefix", "") + str(c.get("text", ""))))]
        if m
    }
    assert registered - used == set(), "commands without a hostile case"


async def test_every_hostile_input_is_handled(bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    ticket = await seed(bot)
    clock = [0.0]
    # one case a minute: the flood throttle has its own test and must not colour these
    bot.app.bot_data["throttle"].clock = lambda: clock[0]
    failures: dict[str, list[str]] = {}
    for index, case in enumerate(load_cases()):
        clock[0] += 60
        for uid in (EXPORTER, OFFICER_ID, ADMIN_ID):
            bot.app.drop_user_data(uid)  # a flag one case leaves must not steer the next
        problems = await run_case(bot, copy.deepcopy(case), index, ticket, caplog)
        if problems:
            failures[case["name"]] = problems
    assert failures == {}, "\n".join(f"{name}: {'; '.join(p)}" for name, p in failures.items())


async def test_a_flood_is_throttled_politely(bot: BotHarness) -> None:
    """100 messages in 10 s from one exporter: the first N answered, one "slow down",
    then silence until the window has passed; officers are never throttled."""
    limit = bot.services.settings.throttle.messages
    window = bot.services.settings.throttle.window_seconds
    now = [1000.0]
    bot.app.bot_data["throttle"].clock = lambda: now[0]
    replies = []
    for i in range(100):
        now[0] = 1000.0 + i * 0.1
        replies.append([c.params["text"] for c in await bot.say("😀", first_name="Banjir")])
    please_type = t("please_type", "id")
    assert replies[:limit] == [[please_type]] * limit
    assert replies[limit] == [t("hd_slow_down", "id")]
    assert all(r == [] for r in replies[limit + 1 :])
    # the window has passed since the first message: answered again, and warned again later
    now[0] = 1000.0 + window + 0.05
    assert [c.params["text"] for c in await bot.say("😀")] == [please_type]
    # button presses count too, and the warning comes as the button's alert
    for _ in range(limit):
        await bot.press("x:flood")
    pressed = await bot.feed(bot.api.callback(EXPORTER, "x:flood", message_id=1))
    assert pressed == []
    alerts = [c.params.get("text") for c in bot.answers_to_callbacks()]
    assert alerts[-1] == t("hd_slow_down", "id")
    # another exporter is not held back by someone else's flood
    assert [c.params["text"] for c in await bot.say("😀", user_id=1002)] == [please_type]
    # officers are exempt: 3 x the limit in one second, all answered
    for i in range(3 * limit):
        now[0] += 0.01
        sent = await bot.say("/mine", user_id=OFFICER_ID)
        assert len(sent) == 1, f"officer's message {i} was throttled"


async def test_dropped_messages_touch_no_data(bot: BotHarness) -> None:
    """The throttle runs before the database is used: a flood costs no writes."""
    now = [0.0]
    bot.app.bot_data["throttle"].clock = lambda: now[0]
    limit = bot.services.settings.throttle.messages
    for _ in range(limit + 1):
        await bot.say("😀")
    with bot.services.db.session() as s:
        seen = s.get(User, EXPORTER).last_seen_at
    now[0] += 1
    await bot.say("berapa lama ska terbit")
    with bot.services.db.session() as s:
        assert s.get(User, EXPORTER).last_seen_at == seen
        assert s.scalars(select(QueryLog)).all() == []
