"""The role matrix: every restricted command as an exporter, an officer and an admin, in
private and in the officers' group. Exporters are refused politely and change nothing;
officers may use the officers' commands and are refused the admins'; admins use all."""

from __future__ import annotations

import logging

import pytest

from bot.i18n import t
from bot.services.users import ADMIN, EXPORTER, OFFICER
from tests.conftest import ADMIN_ID, OFFICER_ID, OFFICERS_CHAT, BotHarness
from tests.test_hostile import EXPORTER as EXPORTER_ID
from tests.test_hostile import LEAK, phrase_in, said, seed, snapshot

# a valid invocation of each command where one needs arguments; a command added later
# without an entry here is still tested, bare (its usage message proves it ran)
ARGS = {
    "invite": "1111111111111",
    "setstatus": "SKA-900 returned Berat bersih beda",
    "app": "SKA-001",
    "apps": "submitted",
    "reply": "{ticket} Silakan datang ke loket",
    "claim": "{ticket}",
    "close": "{ticket}",
    "reopen": "{ticket}",
    "gaps": "30",
    "docs": "SKA-001",
    "doc": "SKA-002 {doc} missing",
    "broadcast": "Layanan e-SKA libur Sabtu ini",
    "report": "2025",
    "stats": "7",
}
USERS = {EXPORTER: EXPORTER_ID, OFFICER: OFFICER_ID, ADMIN: ADMIN_ID}
PLACES = {"private": None, "officers_group": OFFICERS_CHAT}


def allowed(role: str, roles: tuple[str, ...]) -> bool:
    return role in roles


async def test_every_restricted_command_for_every_role(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    table: dict[str, tuple[str, ...]] = bot.app.bot_data["restricted_commands"]
    # the commands the issue names: nobody may have dropped one from the guard's table
    assert {"setstatus", "invite", "broadcast", "report", "proposals", "docs", "claim"} <= set(table)
    ticket = await seed(bot)
    doc = next(iter(bot.services.documents.catalog.specs))
    now = [0.0]
    # a minute between commands: this is not a flood (the throttle has its own test)
    bot.app.bot_data["throttle"].clock = lambda: now[0]
    failures: list[str] = []
    for role, user_id in USERS.items():
        for place, chat in PLACES.items():
            for name, roles in sorted(table.items()):
                args = ARGS.get(name, "").format(ticket=ticket, doc=doc)
                text = f"/{name} {args}".strip()
                now[0] += 60
                bot.app.drop_user_data(user_id)
                before = snapshot(bot, user_id, set())
                caplog.clear()
                sent = await bot.say(text, user_id=user_id, chat_id=chat)
                texts, shown = said(sent)
                where = f"{role} {place} {text!r}"
                refusal = "admin_only" if roles == (ADMIN,) else "officer_only"
                if [r for r in caplog.records if r.levelno >= logging.ERROR]:
                    failures.append(f"{where}: an error was logged")
                if LEAK.search(shown) or phrase_in("error", "id", shown):
                    failures.append(f"{where}: an exception reached the chat")
                if not texts:
                    failures.append(f"{where}: no reply at all")
                if allowed(role, roles):
                    if phrase_in(refusal, "id", shown):
                        failures.append(f"{where}: refused, but the role may use it")
                else:
                    if texts != [t(refusal, "id")]:
                        failures.append(f"{where}: expected only the {refusal} refusal, got {shown[:120]!r}")
                    if snapshot(bot, user_id, set()) != before:
                        failures.append(f"{where}: a refused command changed stored data")
    assert failures == [], "\n".join(failures)


async def test_refused_buttons_of_staff_cards(bot: BotHarness) -> None:
    """The guard covers commands; card buttons check the role themselves: same rule."""
    ticket = await seed(bot)
    for data, refusal in (
        (f"tk:c:{ticket}", "officer_only"),
        ("pa:1", "admin_only"),
        ("dv:1:a", "officer_only"),
    ):
        before = snapshot(bot, EXPORTER_ID, set())
        await bot.press(data, user_id=EXPORTER_ID, chat_id=OFFICERS_CHAT, message_id=1)
        assert bot.answers_to_callbacks()[-1].params.get("text") == t(refusal, "id")
        assert snapshot(bot, EXPORTER_ID, set()) == before
    await bot.press("pa:1", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT, message_id=1)
    assert bot.answers_to_callbacks()[-1].params.get("text") == t("admin_only", "id")
