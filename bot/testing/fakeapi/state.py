"""What the fake Telegram holds: chats, users, messages and files, and the calls it received."""

from __future__ import annotations

import asyncio
import itertools
import pickle
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

_FILE_DIRS = {
    "photo": ("photos", "jpg"),
    "document": ("documents", "bin"),
    "voice": ("voice", "oga"),
    "sticker": ("stickers", "webp"),
}


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class SimulatedTimeout(Exception):
    """Raised by :meth:`FakeBotAPI.handle` when a timeout was injected.

    The transport sleeps ``delay`` seconds and then drops the request
    (in-process: raises :class:`telegram.error.TimedOut`).
    """

    def __init__(self, delay: float) -> None:
        super().__init__(f"simulated timeout after {delay}s")
        self.delay = delay


def bad_request(detail: str) -> ApiError:
    """A 400 answer, worded as Telegram words it."""
    return ApiError(400, f"Bad Request: {detail}")


def norm_chat_id(value: Any) -> int | str | None:
    """A chat id as Telegram reads it: numbers (also sent as text) or an @username."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return value if isinstance(value, str) else None


def copy_json(value: Any) -> Any:
    """A deep copy of JSON-like data; a pickle round trip is several times faster than
    copy.deepcopy, which was a large share of every fake call in the throughput bench."""
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


@dataclass
class Call:
    """One request received by the fake API.

    ``status`` is 0 while the request is pending or when it timed out without an answer;
    ``result`` holds the ``result`` of a successful answer or the error body otherwise,
    as it was when the call was answered.
    """

    method: str
    params: dict[str, Any]
    time: float
    status: int = 0
    _result: Any = field(default=None, repr=False)
    # the answer as pickled when the call was answered, unpickled on first read: most
    # calls' results are never read, and the unpickling was most of the copy's cost
    _frozen: bytes | None = field(default=None, repr=False)

    @property
    def result(self) -> Any:
        frozen = self._frozen
        if frozen is not None:
            self._result, self._frozen = pickle.loads(frozen), None
        return self._result

    @result.setter
    def result(self, value: Any) -> None:
        self._result, self._frozen = value, None

    def answered(self, result: Any) -> None:
        """Keep a copy of ``result`` as it is now (later changes to it are not seen)."""
        self._result, self._frozen = None, pickle.dumps(result, pickle.HIGHEST_PROTOCOL)

    @property
    def ok(self) -> bool:
        """Whether Telegram answered with success."""
        return 200 <= self.status < 300


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    file_size: int
    content: bytes | None = None

    def data(self) -> bytes:
        if self.content is not None:
            return self.content
        return b"\0" * self.file_size


class TelegramState:
    """Telegram's side of one bot: who the chats are, every message and file, the bot's
    settings (commands, webhook). Callers hold ``lock`` while they read or change it."""

    def __init__(self, bot_id: int, username: str, first_name: str) -> None:
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.users: dict[int, JSONDict] = {}
        self.chat_titles: dict[int, str] = {}
        self.chat_types: dict[int | str, str] = {}
        self.blocked: set[int] = set()
        self.commands: dict[str, list[JSONDict]] = {}
        self.webhook_url = ""
        # where each chat's message ids start: the terminal chat sets it so a new session
        # never reuses the ids an earlier one stored (ticket cards, FAQ edit prompts)
        self.message_id_base = 0
        self.messages: dict[tuple[int | str, int], JSONDict] = {}
        self._message_ids: dict[int | str, int] = {}
        self.files: dict[str, StoredFile] = {}
        self.ids = itertools.count(1)

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a Telegram User dict."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def chat(self, chat_id: int | str) -> JSONDict:
        """The Chat dict of a chat id: private for users, else a group or channel."""
        chat_type = self.chat_types.get(chat_id)
        if isinstance(chat_id, str):
            name = chat_id.lstrip("@")
            fake_id = -1000000000000 - zlib.crc32(name.encode())
            return {"id": fake_id, "type": "channel", "title": name, "username": name}
        if chat_type is None:
            chat_type = "private" if chat_id > 0 else "supergroup"
        if chat_type == "private":
            user = self.users.get(chat_id, {})
            chat: JSONDict = {"id": chat_id, "type": "private"}
            chat["first_name"] = user.get("first_name", "User")
            if user.get("username"):
                chat["username"] = user["username"]
            return chat
        title = self.chat_titles.get(chat_id, "SKA Test Group")
        return {"id": chat_id, "type": chat_type, "title": title}

    def user(self, user_id: int, first_name: str, language_code: str, username: str | None) -> JSONDict:
        """Remember (or update) a user and return its User dict."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return dict(user)

    def stub_message(
        self, chat_id: int | str, message_id: int, sender: JSONDict | None, **content: Any
    ) -> JSONDict:
        """A message the fake never saw; stored so later edits and replies find it."""
        message: JSONDict = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id),
        }
        if sender is not None:
            message["from"] = sender
            message.update(content)
            self.messages[(chat_id, message_id)] = message
            # Later messages in the chat must get higher ids than this one.
            self._message_ids[chat_id] = max(self._message_ids.get(chat_id, 0), message_id)
        return message

    def lookup(self, chat_id: int | str | None, message_id: Any) -> JSONDict | None:
        if chat_id is None or not message_id:
            return None
        return self.messages.get((chat_id, int(message_id)))

    def store(self, chat_id: int | str, sender: JSONDict, content: JSONDict) -> JSONDict:
        """A new message in the chat, with the chat's next id; returns a copy."""
        message_id = self._message_ids.get(chat_id, self.message_id_base) + 1
        self._message_ids[chat_id] = message_id
        message: JSONDict = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": sender,
        }
        message.update({key: value for key, value in content.items() if value is not None})
        self.messages[(chat_id, message_id)] = message
        return copy_json(message)

    def reply_to(self, params: dict[str, Any], chat_id: int | str) -> JSONDict | None:
        """The message a send replies to (``reply_parameters`` or ``reply_to_message_id``)."""
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        message_id = message_id or params.get("reply_to_message_id")
        if not message_id:
            return None
        reply_chat = norm_chat_id(reply.get("chat_id")) if isinstance(reply, dict) else None
        reply_chat = reply_chat if reply_chat is not None else chat_id
        stored = self.messages.get((reply_chat, int(message_id)))
        if stored is None:
            return self.stub_message(reply_chat, int(message_id), None)
        original = copy_json(stored)
        original.pop("reply_to_message", None)
        return original

    def register_file(self, kind: str, size: int, file_name: str | None, content: bytes | None) -> StoredFile:
        number = next(self.ids)
        folder, ext = _FILE_DIRS.get(kind, ("documents", "bin"))
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[-1]
        stored = StoredFile(
            file_id=f"fake-{kind}-{number}",
            file_unique_id=f"uniq{number}",
            file_path=f"{folder}/file_{number}.{ext}",
            file_size=len(content) if content is not None else size,
            content=content,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_object(self, kind: str, value: Any, uploads: dict[str, bytes]) -> JSONDict:
        """The file dict (PhotoSize, Document, ...) of a media parameter: a file_id, a URL
        or an upload's info."""
        if value is None or value == "":
            raise bad_request(f"there is no {kind} in the request")
        file_name: str | None = None
        mime_type: str | None = None
        if isinstance(value, dict):
            file_name = value.get("file_name")
            mime_type = value.get("mime_type")
            content = uploads.get(str(value.get("part")))
            stored = self.register_file(kind, int(value.get("size") or 0), file_name, content)
        elif isinstance(value, str) and value in self.files:
            stored = self.files[value]
        else:
            stored = self.register_file(kind, 4096, None, None)
        info: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if kind == "photo":
            return {**info, "width": 1280, "height": 720}
        if kind == "document":
            info["file_name"] = file_name or stored.file_path.rsplit("/", 1)[-1]
            info["mime_type"] = mime_type or "application/octet-stream"
        elif kind == "voice":
            info.update(duration=3)
        elif kind == "sticker":
            info.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
        return info


class CallLog:
    """The calls the fake received, and the questions tests ask about them."""

    state: TelegramState
    calls: list[Call]

    @staticmethod
    def is_send(method: str) -> bool:
        return method.startswith("send") or method == "copyMessage"

    def sent(
        self,
        chat_id: int | str | None = None,
        method: str | None = None,
        *,
        include_failed: bool = False,
    ) -> list[Call]:
        """send*/edit*/copy calls (not sendChatAction unless asked), oldest first."""
        wanted = norm_chat_id(chat_id) if chat_id is not None else None
        with self.state.lock:
            calls = list(self.calls)
        result = []
        for call in calls:
            if method is not None:
                if call.method != method:
                    continue
            elif call.method == "sendChatAction" or not (
                self.is_send(call.method) or call.method.startswith("edit")
            ):
                continue
            if not include_failed and not call.ok:
                continue
            if wanted is not None and norm_chat_id(call.params.get("chat_id")) != wanted:
                continue
            result.append(call)
        return result

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """Raw text/caption (as sent, HTML included) of successful sends and edits."""
        texts = []
        for call in self.sent(chat_id):
            value = call.params.get("text", call.params.get("caption"))
            if isinstance(value, str):
                texts.append(value)
        return texts

    def last(self, chat_id: int | str | None = None, method: str | None = None) -> Call:
        """The most recent successful send/edit call; AssertionError if there is none."""
        calls = self.sent(chat_id, method)
        if not calls:
            seen = [(c.method, c.params.get("chat_id"), c.status) for c in self.calls]
            raise AssertionError(f"nothing sent to chat {chat_id!r}; calls so far: {seen}")
        return calls[-1]

    @staticmethod
    def buttons(call: Call | JSONDict) -> list[tuple[str, str]]:
        """(text, callback_data or url) of every inline button of a call or message dict."""
        source = call.params if isinstance(call, Call) else call
        markup = source.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        found = []
        for row in rows:
            for button in row:
                value = next((button[key] for key in ("callback_data", "url") if key in button), "")
                found.append((str(button.get("text", "")), str(value)))
        return found

    async def await_sent(
        self,
        chat_id: int | str | None = None,
        count: int = 1,
        timeout: float = 5.0,
        method: str | None = None,
    ) -> list[Call]:
        """Wait until ``count`` sends reached the chat, whichever thread records them;
        AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while len(calls := self.sent(chat_id, method)) < count:
            if time.monotonic() >= deadline:
                raise AssertionError(f"expected {count} sends to {chat_id!r}, got {calls}")
            await asyncio.sleep(0.01)
        return calls
