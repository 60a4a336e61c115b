"""Officers and admins see their own commands, in their language, in menus and /help."""

from __future__ import annotations

import json

from bot.testing import FakeBotAPI
from bot.testing import bad_request as _bad_request
from tests.conftest import ADMIN_ID, OFFICER_ID, OFFICERS_CHAT, BotHarness, text_of


def menu(api: FakeBotAPI, scope: dict[str, object], lang: str = "") -> list[dict[str, str]]:
    return api.commands.get(json.dumps(scope, sort_keys=True) + "|" + lang, [])


def names(commands: list[dict[str, str]]) -> list[str]:
    return [c["command"] for c in commands]


async def test_menus_by_role_and_language(bot: BotHarness) -> None:
    api = bot.api
    exporter = names(menu(api, {"type": "default"}, "id"))
    assert "status" in exporter and "queue" not in exporter
    group = menu(api, {"type": "chat", "chat_id": OFFICERS_CHAT}, "id")
    assert names(group)[:3] == ["queue", "mine", "claim"] and "proposals" not in names(group)
    # one line each: what it does and an example
    claim = next(c for c in group if c["command"] == "claim")
    assert claim["description"] == "Ambil tiket · /claim 12"
    english = menu(api, {"type": "chat", "chat_id": OFFICERS_CHAT}, "en")
    assert next(c for c in english if c["command"] == "claim")["description"] == "Claim a ticket · /claim 12"
    officer = menu(api, {"type": "chat", "chat_id": OFFICER_ID}, "id")
    assert "setstatus" in names(officer) and "proposals" not in names(officer)
    admin = names(menu(api, {"type": "chat", "chat_id": ADMIN_ID}, "en"))
    assert "proposals" in admin and "queue" in admin
    in_group = names(menu(api, {"type": "chat_member", "chat_id": OFFICERS_CHAT, "user_id": ADMIN_ID}, "id"))
    assert "proposals" in in_group
    # every scope also has a menu without a language (Indonesian)
    assert menu(api, {"type": "chat", "chat_id": OFFICER_ID}) == officer


async def test_help_by_role(bot: BotHarness) -> None:
    body = text_of(await bot.say("/help"))
    assert "/petugas" in body and "/setstatus" not in body
    # every exporter command is findable: the documents ones too
    assert "/upload NOMOR" in body and "/pengingat mati" in body
    body = text_of(await bot.say("/help", user_id=OFFICER_ID, chat_id=OFFICERS_CHAT))
    assert "Perintah petugas" in body and "/setstatus DEMO-OPEN-002 dikembalikan" in body
    assert "/report 2025 kayu lapis" in body and "/proposals" not in body
    await bot.say("/lang en", user_id=ADMIN_ID)
    body = text_of(await bot.say("/help", user_id=ADMIN_ID))
    assert "Admin and officer commands" in body and "/proposals" in body
    assert "Claim a ticket" in body


async def test_an_unknown_officer_chat_does_not_stop_the_start(bot: BotHarness) -> None:
    """Telegram refuses a chat scope of someone who never opened the bot: logged, skipped."""
    from handlers.menus import set_menus

    refused = {OFFICER_ID}
    original = bot.api._handlers["setMyCommands"]

    def refuse(params, uploads):  # type: ignore[no-untyped-def]
        scope = params.get("scope") or {}
        if scope.get("chat_id") in refused:
            raise _bad_request("chat not found")
        return original(params, uploads)

    bot.api.commands.clear()
    bot.api._handlers["setMyCommands"] = refuse
    try:
        await set_menus(bot.app)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"start-up stopped: {exc}") from exc
    finally:
        bot.api._handlers["setMyCommands"] = original
    assert "proposals" in names(menu(bot.api, {"type": "chat", "chat_id": ADMIN_ID}, "id"))
