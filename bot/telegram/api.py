"""Bot API calls whose answer the bot reads at most for a message id.

PTB's `send_message` turns Telegram's answer into a `Message` (its chat, sender, entities,
keyboard), and each argument object into a dict on the way out: for an FAQ answer that
was a sixth of the CPU of the whole update, for an object nobody reads. These calls go
through `Bot.do_api_request` without a return type: the arguments leave ready for the
wire (the keyboard serialised, HTML parse mode and no link previews named here, not
filled in from the Application's defaults) and Telegram's JSON comes back as a dict.
Errors are PTB's own (RetryAfter, Forbidden, BadRequest, NetworkError), raised exactly as
from `send_message`.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.warnings import PTBUserWarning

from bot.telegram.keyboards import Markup, Serialized

SEND_MESSAGE = "sendMessage"
# a constant, so PTB does not serialise a LinkPreviewOptions object for every message
NO_PREVIEW = json.dumps({"is_disabled": True})

# do_api_request warns when a method it names has a PTB method of its own: here the
# raw call is the point (the result is not wanted as a Message)
warnings.filterwarnings("ignore", message=rf"Please use 'Bot\.{SEND_MESSAGE}'", category=PTBUserWarning)


def wire(markup: Markup) -> str:
    """A keyboard as Telegram's JSON (serialised once for the keyboards that allow it)."""
    if isinstance(markup, Serialized):
        return markup.json
    return json.dumps(markup.to_dict())


async def send_text(
    bot: Bot, chat_id: int, text: str, markup: Markup | None = None, reply_to: int | None = None
) -> int:
    """sendMessage of a Telegram HTML text without link previews; the new message's id."""
    params: dict[str, Any] = {
        "chat_id": chat_id,
        "text": text,
        "parse_mode": ParseMode.HTML.value,
        "link_preview_options": NO_PREVIEW,
    }
    if markup is not None:
        params["reply_markup"] = wire(markup)
    if reply_to is not None:
        params["reply_parameters"] = json.dumps({"message_id": reply_to, "allow_sending_without_reply": True})
    result = await bot.do_api_request(SEND_MESSAGE, api_kwargs=params)
    return int(result["message_id"])
