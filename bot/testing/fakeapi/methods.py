"""The Bot API methods the bot calls (python-telegram-bot's own included), each checking
its parameters the way Telegram does: HTML, lengths, keyboards, blocked chats.

Only what the bot uses is here: a method it starts to call answers 404 "method not
found" until it is added, so nothing is faked that no test exercises.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from bot.telegram_html import (
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    TEXT_LIMIT,
    HTMLParseError,
    parse_html,
    utf16_len,
)
from bot.testing.fakeapi.state import (
    ApiError,
    JSONDict,
    TelegramState,
    bad_request,
    copy_json,
    norm_chat_id,
)
from bot.testing.fakeapi.updates import UpdateQueue

CALLBACK_ANSWER_LIMIT = 200
DOWNLOAD_LIMIT = 20 * 1024 * 1024

# texts parsed lately, with what parse_html made of them (or its error): the bot sends
# the same FAQ answers over and over, and parsing one took a fifth of a fake call
_PARSED: dict[str, tuple[str, list[JSONDict]] | HTMLParseError] = {}
_PARSED_KEEP = 512


def parsed_html(text: str) -> tuple[str, list[JSONDict]]:
    """parse_html(text), remembered: each call gets entities of its own to keep."""
    found = _PARSED.get(text)
    if found is None:
        try:
            found = parse_html(text)
        except HTMLParseError as error:
            found = error
        if len(_PARSED) >= _PARSED_KEEP:
            _PARSED.clear()
        _PARSED[text] = found
    if isinstance(found, HTMLParseError):
        raise HTMLParseError(found.problem)  # a new one: no traceback piles up on the cached one
    plain, entities = found
    return plain, [dict(entity) for entity in entities]  # flat dicts: a shallow copy suffices


Method = Callable[[dict[str, Any], dict[str, bytes]], Any]
"""A method's implementation: (parameters, uploaded files by part name) -> result."""

# what copyMessage carries over from the original message
_CONTENT_FIELDS = ("text", "entities", "caption", "caption_entities", "photo", "document", "voice", "sticker")
_CHAT_ACTIONS = frozenset(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note".split()
)
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")


class BotMethods:
    """The implementations of the Bot API methods over one bot's state; the caller holds
    the state's lock. ``table`` maps each method name to its implementation."""

    def __init__(self, state: TelegramState, updates: UpdateQueue) -> None:
        self.state = state
        self.updates = updates
        self.table: dict[str, Method] = {
            "getMe": self.get_me,
            "setMyCommands": self.set_my_commands,
            "deleteWebhook": self.delete_webhook,
            "setWebhook": self.set_webhook,
            "sendMessage": self.send_message,
            "sendChatAction": self.send_chat_action,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "copyMessage": self.copy_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "answerCallbackQuery": self.answer_callback_query,
            "getFile": self.get_file,
        }

    # -- the bot itself ------------------------------------------------------------------

    def get_me(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        return {
            **self.state.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def set_my_commands(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands are invalid")
        for command in commands:
            if not _BOT_COMMAND_NAME_RE.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.get("scope") or {"type": "default"}
        key = json.dumps(scope, sort_keys=True) + "|" + str(params.get("language_code") or "")
        self.state.commands[key] = copy_json(commands)
        return True

    def delete_webhook(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        self.state.webhook_url = ""
        if params.get("drop_pending_updates"):
            self.updates.pending.clear()
        return True

    def set_webhook(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.state.webhook_url = url
        if params.get("drop_pending_updates"):
            self.updates.pending.clear()
        return True

    # -- checks shared by sends and edits ------------------------------------------------

    def target_chat(self, params: dict[str, Any]) -> int | str:
        chat_id = norm_chat_id(params.get("chat_id"))
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty" if "chat_id" not in params else "chat not found")
        if chat_id in self.state.blocked:
            if isinstance(chat_id, int) and chat_id > 0:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        return chat_id

    @staticmethod
    def formatted(text: str, params: dict[str, Any], entities_key: str) -> tuple[str, list[JSONDict]]:
        parse_mode = str(params.get("parse_mode") or "")
        if parse_mode.lower() == "html":
            try:
                return parsed_html(text)
            except HTMLParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        entities = params.get(entities_key)
        return text, list(entities) if isinstance(entities, list) else []

    def message_text(self, params: dict[str, Any]) -> tuple[str, list[JSONDict]]:
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise bad_request("message text is empty")
        plain, entities = self.formatted(text, params, "entities")
        if not plain.strip():
            raise bad_request("message text is empty")
        if utf16_len(plain) > TEXT_LIMIT:
            raise bad_request("message is too long")
        return plain, entities

    def caption(self, params: dict[str, Any]) -> tuple[str | None, list[JSONDict]]:
        caption = params.get("caption")
        if not isinstance(caption, str) or not caption:
            return None, []
        plain, entities = self.formatted(caption, params, "caption_entities")
        if utf16_len(plain) > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
        return plain, entities

    @staticmethod
    def check_markup(markup: Any) -> JSONDict | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: Array expected")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request("BUTTON_TEXT_INVALID")
                if "callback_data" in button:
                    data = str(button["callback_data"]).encode("utf-8")
                    if not 1 <= len(data) <= CALLBACK_DATA_LIMIT:
                        raise bad_request("BUTTON_DATA_INVALID")
                elif "url" in button and not button["url"]:
                    raise bad_request("BUTTON_URL_INVALID")
                elif len(button) == 1:
                    raise bad_request("text buttons are unallowed in the inline keyboard")
        return markup

    def send(self, params: dict[str, Any], content: JSONDict) -> JSONDict:
        chat_id = self.target_chat(params)
        markup = self.check_markup(params.get("reply_markup"))
        reply = self.state.reply_to(params, chat_id)
        if markup is not None and "inline_keyboard" not in markup:
            # Telegram only reports inline keyboards back in the sent Message.
            markup = None
        return self.state.store(
            chat_id,
            self.state.bot_user,
            {**content, "reply_markup": markup, "reply_to_message": reply},
        )

    # -- sending -------------------------------------------------------------------------

    def send_message(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        text, entities = self.message_text(params)
        return self.send(params, {"text": text, "entities": entities or None})

    def send_chat_action(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        self.target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _send_media(self, kind: str, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        self.target_chat(params)
        caption, entities = self.caption(params)
        media = self.state.file_object(kind, params.get(kind), uploads)
        return self.send(
            params,
            {
                kind: [media] if kind == "photo" else media,
                "caption": caption,
                "caption_entities": entities or None,
            },
        )

    def send_photo(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        return self._send_media("photo", params, uploads)

    def send_document(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        return self._send_media("document", params, uploads)

    def copy_message(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        source = self.state.lookup(norm_chat_id(params.get("from_chat_id")), params.get("message_id"))
        if source is None:
            raise bad_request("message to copy not found")
        content = {key: copy_json(source[key]) for key in _CONTENT_FIELDS if key in source}
        if "caption" in params:
            caption, entities = self.caption(params)
            content["caption"] = caption
            content["caption_entities"] = entities or None
        message = self.send(params, content)
        return {"message_id": message["message_id"]}

    # -- editing -------------------------------------------------------------------------

    def edit_target(self, params: dict[str, Any]) -> JSONDict | None:
        """The stored message an edit refers to, or None for inline messages."""
        if params.get("inline_message_id"):
            return None
        chat_id = self.target_chat(params)
        message_id = int(params.get("message_id") or 0)
        if not message_id:
            raise bad_request("message identifier is not specified")
        stored = self.state.messages.get((chat_id, message_id))
        if stored is None:
            # Lenient: tests often edit messages the fake never saw being sent.
            stored = self.state.stub_message(chat_id, message_id, self.state.bot_user, text="…")
        if stored.get("from", {}).get("id") != self.state.bot_id:
            raise bad_request("message can't be edited")
        return stored

    @staticmethod
    def apply_edit(stored: JSONDict, changes: JSONDict) -> JSONDict:
        before = {key: stored.get(key) for key in changes}
        if before == changes:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in changes.items():
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        stored["edit_date"] = int(time.time())
        return copy_json(stored)

    def edit_message_text(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        text, entities = self.message_text(params)
        markup = self.check_markup(params.get("reply_markup"))
        stored = self.edit_target(params)
        if stored is None:
            return True
        if "text" not in stored:
            raise bad_request("there is no text in the message to edit")
        # Omitting reply_markup removes the keyboard, exactly like the real API.
        return self.apply_edit(stored, {"text": text, "entities": entities or None, "reply_markup": markup})

    def edit_message_caption(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        caption, entities = self.caption(params)
        markup = self.check_markup(params.get("reply_markup"))
        stored = self.edit_target(params)
        if stored is None:
            return True
        if "text" in stored:
            raise bad_request("there is no caption in the message to edit")
        return self.apply_edit(
            stored,
            {"caption": caption, "caption_entities": entities or None, "reply_markup": markup},
        )

    def edit_message_reply_markup(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        markup = self.check_markup(params.get("reply_markup"))
        stored = self.edit_target(params)
        if stored is None:
            return True
        return self.apply_edit(stored, {"reply_markup": markup})

    # -- buttons and files ---------------------------------------------------------------

    def answer_callback_query(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        if not params.get("callback_query_id"):
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        return True

    def get_file(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        stored = self.state.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }
