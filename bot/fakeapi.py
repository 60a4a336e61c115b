"""A fake Telegram Bot API for tests, the terminal chat mode and end-to-end runs.

One :class:`FakeBotAPI` holds all state.  :class:`FakeRequest` plugs it into
python-telegram-bot in-process; :func:`serve_http` exposes the same state over
HTTP so a real bot process can be started with ``base_url`` pointing at it.
"""

from __future__ import annotations

import asyncio
import email.parser
import functools
import html
import itertools
import json
import logging
import pickle
import random
import re
import sys
import threading
import time
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message as _MimeHeaders
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any, TypedDict, Unpack
from urllib.parse import parse_qsl, unquote, urlsplit

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = [
    "Call",
    "FakeBotAPI",
    "FakeRequest",
    "FakeTelegramServer",
    "HTMLParseError",
    "MessageOptions",
    "SimulatedTimeout",
    "decode_params",
    "parse_html",
    "serve_http",
]

JSONDict = dict[str, Any]

_LOGGER = logging.getLogger(__name__)


class MessageOptions(TypedDict, total=False):
    """Who sends an incoming message and where (shared by the media update builders)."""

    chat_id: int | None
    chat_type: str | None
    first_name: str
    language_code: str
    username: str | None
    reply_to_message_id: int | None


MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024

_CONTENT_FIELDS = tuple(
    "text entities caption caption_entities photo document audio video animation voice "
    "video_note sticker location contact dice".split()
)

# Form-encoded values arrive as strings; these must stay strings even when they look like JSON.
_TEXT_FIELDS = frozenset(
    "text caption parse_mode callback_query_id inline_message_id file_id url action "
    "secret_token ip_address language_code title description short_description name emoji "
    "question explanation query first_name last_name phone_number address message_effect_id "
    "business_connection_id custom_title photo document audio video animation voice video_note "
    "sticker thumbnail certificate invite_link payload currency provider_token start_parameter "
    "switch_pm_parameter switch_pm_text next_offset".split()
)

_CHAT_ACTIONS = frozenset(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note".split()
)

# Methods that only need to succeed; the fake keeps no state for them.
_TRUE_METHODS = frozenset(
    "logOut close setMyDescription setMyShortDescription setMyName pinChatMessage "
    "unpinChatMessage unpinAllChatMessages setMessageReaction leaveChat banChatMember "
    "unbanChatMember restrictChatMember setChatTitle setChatDescription approveChatJoinRequest "
    "declineChatJoinRequest setMyDefaultAdministratorRights answerInlineQuery "
    "deleteMessages".split()
)
_ADMIN_RIGHTS = (
    "manage_chat delete_messages manage_video_chats restrict_members promote_members "
    "change_info invite_users post_stories edit_stories delete_stories".split()
)

_MEDIA_METHODS: dict[str, str] = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendAudio": "audio",
    "sendVideo": "video",
    "sendAnimation": "animation",
    "sendVoice": "voice",
    "sendVideoNote": "video_note",
    "sendSticker": "sticker",
}

_FILE_DIRS = {
    "photo": ("photos", "jpg"),
    "document": ("documents", "bin"),
    "audio": ("music", "mp3"),
    "video": ("videos", "mp4"),
    "animation": ("animations", "mp4"),
    "voice": ("voice", "oga"),
    "video_note": ("video_notes", "mp4"),
    "sticker": ("stickers", "webp"),
}

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")


class SimulatedTimeout(Exception):
    """Raised by :meth:`FakeBotAPI.handle` when a timeout was injected.

    The transport sleeps ``delay`` seconds and then drops the request
    (in-process: raises :class:`telegram.error.TimedOut`).
    """

    def __init__(self, delay: float) -> None:
        super().__init__(f"simulated timeout after {delay}s")
        self.delay = delay


class HTMLParseError(ValueError):
    """The HTML could not be parsed the way Telegram parses ``parse_mode=HTML``."""


class _ApiError(Exception):
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


def _bad_request(detail: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {detail}")


@dataclass
class Call:
    """One request received by the fake API.

    ``status`` is 0 while the request is pending or when it timed out without an answer;
    ``result`` holds the ``result`` of a successful answer or the error body otherwise.
    """

    method: str
    params: dict[str, Any]
    time: float
    status: int = 0
    result: Any = None

    @property
    def ok(self) -> bool:
        """Whether Telegram answered with success."""
        return 200 <= self.status < 300


@dataclass
class _Fault:
    method: str | None
    status: int = 0
    retry_after: int | None = None
    description: str | None = None
    timeout: bool = False
    delay: float = 0.0
    delivered: bool = False
    chat_id: int | None = None          # only calls to this chat


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    file_size: int
    content: bytes | None = None

    def data(self) -> bytes:
        if self.content is not None:
            return self.content
        return b"\0" * self.file_size


_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,7})|([A-Za-z][A-Za-z0-9]*));")
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_RE = re.compile(
    r"""([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?"""
)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int
    order: int
    language: str | None = None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _copy(value: Any) -> Any:
    """A deep copy of JSON-like data; a pickle round trip is several times faster than
    copy.deepcopy, which was a large share of every fake call in the throughput bench."""
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


_PLAIN_RUN = re.compile(r"[^<&]+")


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into plain text and MessageEntity dicts.

    Raises :class:`HTMLParseError` with a Telegram-like message on invalid markup.
    """
    out: list[str] = []
    pos = 0  # UTF-16 offset in the plain text, which is what entity offsets use
    stack: list[_OpenTag] = []
    entities: list[tuple[int, JSONDict]] = []
    opened = 0
    i, n = 0, len(text)

    def at(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    while i < n:
        char = text[i]
        if char == "<" and text.startswith("</", i):
            end = text.find(">", i)
            if end < 0:
                raise HTMLParseError(f"Unclosed end tag at byte offset {at(i)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise HTMLParseError(f"Unexpected end tag at byte offset {at(i)}")
            tag = stack.pop()
            if name != tag.name:
                raise HTMLParseError(
                    f'Unmatched end tag at byte offset {at(i)}, expected "</{tag.name}>", '
                    f'found "</{name}>"'
                )
            _close_tag(tag, stack, pos, entities)
            i = end + 1
        elif char == "<":
            match = _TAG_NAME_RE.match(text, i + 1)
            name = match.group(0).lower() if match else ""
            if name not in _HTML_TAGS or match is None:
                raise HTMLParseError(f'Unsupported start tag "{name}" at byte offset {at(i)}')
            attrs, i_next = _parse_attributes(text, match.end(), name, at(i))
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise HTMLParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {at(i)}'
                )
            if name == "tg-emoji" and not attrs.get("emoji-id"):
                raise HTMLParseError(
                    f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {at(i)}'
                )
            stack.append(_OpenTag(name, attrs, pos, opened))
            opened += 1
            i = i_next
        elif char == "&":
            match = _ENTITY_RE.match(text, i)
            decoded = _decode_entity(match) if match else None
            if match is None or decoded is None:
                raise HTMLParseError(
                    f"Unsupported HTML entity at byte offset {at(i)}; "
                    "escape '&' as &amp; (only &lt; &gt; &amp; &quot; and &#NN; are allowed)"
                )
            out.append(decoded)
            pos += _utf16_len(decoded)
            i = match.end()
        else:
            # a run of plain text at once, not char by char: most of a message is plain
            plain = _PLAIN_RUN.match(text, i)
            chunk = plain.group(0) if plain else char
            out.append(chunk)
            pos += _utf16_len(chunk) if not chunk.isascii() else len(chunk)
            i += len(chunk)
    if stack:
        raise HTMLParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    # Outer entities first when they start at the same place, as Telegram orders them.
    entities.sort(key=lambda item: (item[1]["offset"], -item[1]["length"], item[0]))
    return "".join(out), [entity for _, entity in entities]


def _parse_attributes(text: str, j: int, tag: str, tag_offset: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise HTMLParseError(f"Unclosed start tag at byte offset {tag_offset}")
        if text[j] == ">":
            return attrs, j + 1
        match = _ATTR_RE.match(text, j)
        if match is None:
            raise HTMLParseError(
                f'Invalid attribute declaration in tag "{tag}" at byte offset {tag_offset}'
            )
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attrs[match.group(1).lower()] = html.unescape(value)
        j = match.end()


def _decode_entity(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED_ENTITIES.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _close_tag(
    tag: _OpenTag, stack: list[_OpenTag], pos: int, entities: list[tuple[int, JSONDict]]
) -> None:
    length = pos - tag.start
    kind = _HTML_TAGS[tag.name]
    language = tag.attrs.get("class", "")
    if kind == "code" and stack and stack[-1].name == "pre" and language.startswith("language-"):
        # Telegram folds <pre><code class="language-x"> into one pre entity with a language.
        stack[-1].language = language.removeprefix("language-")
        return
    if length <= 0:
        return
    entity: JSONDict = {"type": kind, "offset": tag.start, "length": length}
    if kind == "text_link":
        href = tag.attrs.get("href", "")
        if not href:
            return
        entity["url"] = href
    elif kind == "pre" and tag.language:
        entity["language"] = tag.language
    elif kind == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    entities.append((tag.order, entity))


def _decode_value(name: str, value: Any) -> Any:
    """Decode a JSON-encoded string parameter unless the field is free text."""
    if not isinstance(value, str) or name in _TEXT_FIELDS:
        return value
    stripped = value.strip()
    if not stripped or stripped[0] not in '{["-0123456789tfn':
        return value
    try:
        decoded = json.loads(stripped)
    except ValueError:
        return value
    if isinstance(decoded, str) or decoded is None:
        return value
    return decoded


def decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Decode every parameter with :func:`_decode_value`."""
    return {key: _decode_value(key, value) for key, value in raw.items()}


def _attach_uploads(params: dict[str, Any], parts: dict[str, JSONDict]) -> None:
    """Replace ``attach://name`` references and bare upload fields by file-info dicts."""
    used: set[str] = set()

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
            if part in parts:
                used.add(part)
                return parts[part]
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        return value

    for key in list(params):
        params[key] = resolve(params[key])
    for part, info in parts.items():
        if part not in used and part not in params:
            params[part] = info


def _norm_chat_id(value: Any) -> int | str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return value if isinstance(value, str) else None


class FakeBotAPI:
    """State of one fake Telegram bot; shared by FakeRequest objects and the HTTP server.

    All public methods are thread-safe.  As on Telegram, getUpdates hands out an update
    again until a later call confirms it with ``offset``: a bot process killed after
    fetching gets the unconfirmed updates again when it restarts.
    """

    def __init__(
        self,
        bot_id: int = 123456,
        username: str = "ska_helpdesk_bot",
        first_name: str = "SKA Help Desk",
    ) -> None:
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self.calls: list[Call] = []
        self.blocked: set[int] = set()
        self.failure_rate: float = 0.0
        # what a random failure is: an HTTP status (429 carries retry_after 1) or "timeout"
        # (the request is dropped unanswered after timeout_delay seconds, without effect)
        self.failure_kinds: tuple[int | str, ...] = (429, 500)
        self.failure_edits: bool = False  # random failures hit edit* calls too
        self.updates_failure_rate: float = 0.0  # getUpdates answers 502 at this rate
        self.timeout_delay: float = 0.05
        self.rng: random.Random = random.Random(0)
        self.users: dict[int, JSONDict] = {}
        self.member_status: dict[int, str] = {}
        self.chat_titles: dict[int, str] = {}
        self.commands: dict[str, list[JSONDict]] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self.webhook_url: str = ""
        self.listeners: list[Callable[[Call], None]] = []
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._updates: list[JSONDict] = []
        self._last_update_id = 0
        self._message_ids: dict[int | str, int] = {}
        # where each chat's message ids start: the terminal chat sets it so a new session
        # never reuses the ids an earlier one stored (ticket cards, FAQ edit prompts)
        self.message_id_base: int = 0
        self._messages: dict[tuple[int | str, int], JSONDict] = {}
        self._chat_types: dict[int | str, str] = {}
        self._deleted: set[tuple[int | str, int]] = set()
        self._files: dict[str, _StoredFile] = {}
        self._faults: list[_Fault] = []
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._poll_generation = 0
        self._release_generation = 0
        self._ids = itertools.count(1)
        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, bytes]], Any]] = {
            "getMe": self._get_me,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendChatAction": self._send_chat_action,
            "sendMediaGroup": self._send_media_group,
            "sendLocation": self._send_location,
            "sendContact": self._send_contact,
            "sendDice": self._send_dice,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "deleteMessage": self._delete_message,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getFile": self._get_file,
        }
        for method, kind in _MEDIA_METHODS.items():
            self._handlers[method] = functools.partial(self._send_media, kind)
        for method in _TRUE_METHODS:
            self._handlers[method] = lambda params, uploads: True

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a Telegram User dict."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def fail_next(
        self,
        method: str | None,
        status: int,
        retry_after: int | None = None,
        count: int = 1,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (to ``chat_id``, if given) fail with
        ``status``.

        ``method=None`` matches any method except getUpdates (a polling updater would
        otherwise swallow the fault).
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            for _ in range(count):
                self._faults.append(_Fault(method, status, retry_after, description,
                                           chat_id=chat_id))

    def timeout_next(
        self,
        count: int = 1,
        method: str | None = None,
        delay: float = 0.0,
        delivered: bool = False,
    ) -> None:
        """Make the next ``count`` calls time out after ``delay`` seconds.

        In-process this raises TimedOut; over HTTP the connection is closed without an
        answer (PTB raises NetworkError, or TimedOut if ``delay`` exceeds its read
        timeout).  With ``delivered=True`` the call still takes effect, like a reply
        that got lost on the way back.
        """
        with self._lock:
            for _ in range(count):
                self._faults.append(_Fault(method, timeout=True, delay=delay, delivered=delivered))

    def _take_fault(self, method: str, params: dict[str, Any]) -> _Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.chat_id is not None and _norm_chat_id(params.get("chat_id")) != fault.chat_id:
                continue
            if fault.method == method or (fault.method is None and method != "getUpdates"):
                return self._faults.pop(index)
        return None

    @staticmethod
    def _fault_error(fault: _Fault) -> _ApiError:
        status = fault.status
        if status == 429:
            return _ApiError(
                429,
                fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
        default = {
            400: "Bad Request: injected error",
            401: "Unauthorized",
            403: "Forbidden: bot was blocked by the user",
            404: "Not Found",
            409: "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }.get(status, f"Error {status}")
        params = {"retry_after": fault.retry_after} if fault.retry_after else None
        return _ApiError(status, fault.description or default, params)

    def handle(
        self, method: str, params: dict[str, Any], uploads: dict[str, bytes] | None = None
    ) -> tuple[int, JSONDict]:
        """Answer one Bot API request; getUpdates long-polls by blocking this thread.

        ``uploads`` maps multipart part names to file contents.  Raises
        :class:`SimulatedTimeout` when a timeout was injected.
        """
        call, fault, early = self._prepare(method, params)
        if early is not None:
            return self._finish(call, *early)
        if method == "getUpdates":
            answer = self._poll_sync(call.params)
        else:
            answer = self._execute(method, call.params, uploads or {})
        return self._complete(call, fault, answer)

    async def handle_async(
        self, method: str, params: dict[str, Any], uploads: dict[str, bytes] | None = None
    ) -> tuple[int, JSONDict]:
        """Like :meth:`handle`, but getUpdates long-polls without blocking the event loop."""
        call, fault, early = self._prepare(method, params)
        if early is not None:
            return self._finish(call, *early)
        if method == "getUpdates":
            answer = await self._poll_async(call.params)
        else:
            answer = self._execute(method, call.params, uploads or {})
        return self._complete(call, fault, answer)

    def _prepare(
        self, method: str, params: dict[str, Any]
    ) -> tuple[Call, _Fault | None, tuple[int, JSONDict] | None]:
        call = Call(method, decode_params(params), time.time())
        with self._lock:
            self.calls.append(call)
            fault = self._take_fault(method, call.params)
            if fault is None and self.failure_rate and (
                self._is_send(method) or (self.failure_edits and method.startswith("edit"))
            ):
                if self.rng.random() < self.failure_rate:
                    kind = self.rng.choice(self.failure_kinds)
                    if kind == "timeout":
                        fault = _Fault(method, timeout=True, delay=self.timeout_delay)
                    else:
                        status = int(kind)
                        fault = _Fault(method, status, 1 if status == 429 else None)
            elif fault is None and method == "getUpdates" and self.updates_failure_rate:
                if self.rng.random() < self.updates_failure_rate:
                    fault = _Fault(method, 502)
        if fault is not None and fault.timeout and not fault.delivered:
            self._finish(call, 0, {})
            raise SimulatedTimeout(fault.delay)
        if fault is not None and not fault.timeout:
            error = self._fault_error(fault)
            return call, None, (error.status, error.body())
        return call, fault, None

    def _complete(
        self, call: Call, fault: _Fault | None, answer: tuple[int, JSONDict]
    ) -> tuple[int, JSONDict]:
        result = self._finish(call, *answer)
        if fault is not None:
            raise SimulatedTimeout(fault.delay)
        return result

    def _finish(self, call: Call, status: int, body: JSONDict) -> tuple[int, JSONDict]:
        with self._lock:
            call.status = status
            call.result = _copy(body.get("result") if body.get("ok") else body)
            self._cond.notify_all()
            listeners = list(self.listeners)
        for listener in listeners:
            try:
                listener(call)
            except Exception:
                # A broken observer (e.g. the console printer) must not fail the bot's request.
                _LOGGER.exception("FakeBotAPI listener failed for %s", call.method)
        return status, body

    def _execute(
        self, method: str, params: dict[str, Any], uploads: dict[str, bytes]
    ) -> tuple[int, JSONDict]:
        handler = self._handlers.get(method)
        if handler is None:
            missing = _ApiError(404, "Not Found: method not found")
            return missing.status, missing.body()
        with self._lock:
            try:
                result = handler(params, uploads)
            except _ApiError as error:
                return error.status, error.body()
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                # Malformed parameters get a 400 like on Telegram, naming the cause.
                bad = _bad_request(f"invalid parameters ({exc!r})")
                return bad.status, bad.body()
        return 200, {"ok": True, "result": result}

    @staticmethod
    def _is_send(method: str) -> bool:
        return method.startswith("send") or method in ("copyMessage", "forwardMessage")

    def push_update(self, update: JSONDict) -> int:
        """Queue an update for getUpdates; assigns ``update_id`` if missing."""
        with self._lock:
            if "update_id" not in update:
                update["update_id"] = self._next_update_id()
            self._last_update_id = max(self._last_update_id, update["update_id"])
            self._updates.append(update)
            self._updates.sort(key=lambda u: u["update_id"])
            self._wake()
            return int(update["update_id"])

    @property
    def pending_updates(self) -> int:
        """How many updates have not been confirmed yet."""
        with self._lock:
            return len(self._updates)

    def deliver_to_webhook(self, target: str, secret: str,
                           retry_delay: float = 0.2) -> Callable[[], None]:
        """Act as Telegram does once a webhook is set: POST the pending updates to
        ``target`` (where the reverse proxy would forward them) one at a time, in order,
        each until it is answered 200; a refused or broken request is retried after
        ``retry_delay``. Returns a function that stops the delivery."""
        stop = threading.Event()

        def deliver() -> None:
            while not stop.is_set():
                with self._cond:
                    update = self._updates[0] if self.webhook_url and self._updates else None
                    if update is None:
                        self._cond.wait(0.05)
                        continue
                    body = json.dumps(update).encode()
                request = urllib.request.Request(
                    target, body, {"Content-Type": "application/json",
                                   "X-Telegram-Bot-Api-Secret-Token": secret}, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        delivered = response.status == 200
                except OSError:         # refused, reset, or an HTTP error status
                    delivered = False
                if not delivered:
                    stop.wait(retry_delay)
                    continue
                with self._lock:        # by identity: a second copy of the id stays queued
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)

        thread = threading.Thread(target=deliver, daemon=True, name="fake-webhook-delivery")
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(timeout=70)
        return halt

    def release_polls(self) -> None:
        """Make every waiting getUpdates return an empty list now (use before shutdown)."""
        with self._lock:
            self._release_generation += 1
            self._wake()

    def _next_update_id(self) -> int:
        with self._lock:
            self._last_update_id += 1
            return self._last_update_id

    def _wake(self) -> None:
        self._cond.notify_all()
        for loop, event in list(self._async_waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                self._async_waiters.discard((loop, event))

    def _poll_start(self, params: dict[str, Any]) -> tuple[int, int, int, float] | _ApiError:
        if self.webhook_url:
            return _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        # A newer getUpdates terminates an older waiting one, as on the real server.
        self._poll_generation += 1
        self._wake()
        deadline = time.monotonic() + timeout
        return self._poll_generation, self._release_generation, limit, deadline

    def _poll_take(self, generation: int, release: int, limit: int) -> tuple[int, JSONDict] | None:
        if generation != self._poll_generation:
            error = _ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
            return error.status, error.body()
        if release != self._release_generation:
            return 200, {"ok": True, "result": []}
        if self._updates:
            return 200, {"ok": True, "result": _copy(self._updates[:limit])}
        return None

    def _poll_sync(self, params: dict[str, Any]) -> tuple[int, JSONDict]:
        with self._cond:
            start = self._poll_start(params)
            if isinstance(start, _ApiError):
                return start.status, start.body()
            generation, release, limit, deadline = start
            while True:
                answer = self._poll_take(generation, release, limit)
                remaining = deadline - time.monotonic()
                if answer is not None:
                    return answer
                if remaining <= 0:
                    return 200, {"ok": True, "result": []}
                self._cond.wait(remaining)

    async def _poll_async(self, params: dict[str, Any]) -> tuple[int, JSONDict]:
        loop = asyncio.get_running_loop()
        with self._lock:
            start = self._poll_start(params)
        if isinstance(start, _ApiError):
            return start.status, start.body()
        generation, release, limit, deadline = start
        while True:
            with self._lock:
                answer = self._poll_take(generation, release, limit)
                remaining = deadline - time.monotonic()
                if answer is not None:
                    return answer
                if remaining <= 0:
                    return 200, {"ok": True, "result": []}
                waiter = (loop, asyncio.Event())
                self._async_waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter[1].wait(), remaining)
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._async_waiters.discard(waiter)

    def _chat(self, chat_id: int | str) -> JSONDict:
        chat_type = self._chat_types.get(chat_id)
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

    def _stub_message(
        self, chat_id: int | str, message_id: int, sender: JSONDict | None, **content: Any
    ) -> JSONDict:
        """A message the fake never saw; stored so later edits and replies find it."""
        message: JSONDict = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
        }
        if sender is not None:
            message["from"] = sender
            message.update(content)
            self._messages[(chat_id, message_id)] = message
            # Later messages in the chat must get higher ids than this one.
            self._message_ids[chat_id] = max(self._message_ids.get(chat_id, 0), message_id)
        return message

    def _lookup(self, chat_id: int | str | None, message_id: Any) -> JSONDict | None:
        if chat_id is None or not message_id:
            return None
        return self._messages.get((chat_id, int(message_id)))

    def _next_message_id(self, chat_id: int | str) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, self.message_id_base) + 1
        return self._message_ids[chat_id]

    def _store(self, chat_id: int | str, sender: JSONDict, content: JSONDict) -> JSONDict:
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": sender,
        }
        message.update({key: value for key, value in content.items() if value is not None})
        self._messages[(chat_id, message["message_id"])] = message
        return _copy(message)

    def _target_chat(self, params: dict[str, Any], key: str = "chat_id") -> int | str:
        chat_id = _norm_chat_id(params.get(key))
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty" if key not in params else "chat not found")
        if chat_id in self.blocked:
            if isinstance(chat_id, int) and chat_id > 0:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            raise _ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        return chat_id

    def _reply_to(self, params: dict[str, Any], chat_id: int | str) -> JSONDict | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        message_id = message_id or params.get("reply_to_message_id")
        if not message_id:
            return None
        reply_chat = _norm_chat_id(reply.get("chat_id")) if isinstance(reply, dict) else None
        reply_chat = reply_chat if reply_chat is not None else chat_id
        stored = self._messages.get((reply_chat, int(message_id)))
        if stored is None:
            return self._stub_message(reply_chat, int(message_id), None)
        original = _copy(stored)
        original.pop("reply_to_message", None)
        return original

    def _formatted(
        self, text: str, params: dict[str, Any], entities_key: str
    ) -> tuple[str, list[JSONDict]]:
        parse_mode = str(params.get("parse_mode") or "")
        if parse_mode.lower() == "html":
            try:
                return parse_html(text)
            except HTMLParseError as error:
                raise _bad_request(f"can't parse entities: {error}") from None
        entities = params.get(entities_key)
        return text, list(entities) if isinstance(entities, list) else []

    def _message_text(self, params: dict[str, Any]) -> tuple[str, list[JSONDict]]:
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _bad_request("message text is empty")
        plain, entities = self._formatted(text, params, "entities")
        if not plain.strip():
            raise _bad_request("message text is empty")
        if _utf16_len(plain) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        return plain, entities

    def _caption(self, params: dict[str, Any]) -> tuple[str | None, list[JSONDict]]:
        caption = params.get("caption")
        if not isinstance(caption, str) or not caption:
            return None, []
        plain, entities = self._formatted(caption, params, "caption_entities")
        if _utf16_len(plain) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        return plain, entities

    @staticmethod
    def _check_markup(markup: Any) -> JSONDict | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request("can't parse inline keyboard button: Array expected")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad_request("BUTTON_TEXT_INVALID")
                if "callback_data" in button:
                    data = str(button["callback_data"]).encode("utf-8")
                    if not 1 <= len(data) <= MAX_CALLBACK_DATA_BYTES:
                        raise _bad_request("BUTTON_DATA_INVALID")
                elif "url" in button and not button["url"]:
                    raise _bad_request("BUTTON_URL_INVALID")
                elif len(button) == 1:
                    raise _bad_request("text buttons are unallowed in the inline keyboard")
        return markup

    def _send(self, params: dict[str, Any], content: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        markup = self._check_markup(params.get("reply_markup"))
        reply = self._reply_to(params, chat_id)
        if markup is not None and "inline_keyboard" not in markup:
            # Telegram only reports inline keyboards back in the sent Message.
            markup = None
        return self._store(
            chat_id, self.bot_user, {**content, "reply_markup": markup, "reply_to_message": reply}
        )

    def _get_me(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + str(params.get("language_code") or "")

    def _set_my_commands(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("commands are invalid")
        for command in commands:
            if not _BOT_COMMAND_NAME_RE.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = _copy(commands)
        return True

    def _delete_my_commands(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _get_my_commands(self, params: dict[str, Any], uploads: dict[str, bytes]) -> list[Any]:
        return _copy(self.commands.get(self._commands_key(params), []))

    def _set_chat_menu_button(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        chat_id = _norm_chat_id(params.get("chat_id"))
        self.menu_buttons[chat_id if isinstance(chat_id, int) else None] = params.get(
            "menu_button"
        ) or {"type": "default"}
        return True

    def _get_chat_menu_button(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        chat_id = _norm_chat_id(params.get("chat_id"))
        key = chat_id if isinstance(chat_id, int) else None
        return self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "commands"}

    def _delete_webhook(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_webhook(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _send_message(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        text, entities = self._message_text(params)
        return self._send(params, {"text": text, "entities": entities or None})

    def _send_chat_action(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _file_object(self, kind: str, value: Any, uploads: dict[str, bytes]) -> JSONDict:
        """Turn a media parameter (file_id, URL or upload info) into the file dict."""
        if value is None or value == "":
            raise _bad_request(f"there is no {kind} in the request")
        file_name: str | None = None
        mime_type: str | None = None
        content: bytes | None = None
        if isinstance(value, dict):
            file_name = value.get("file_name")
            mime_type = value.get("mime_type")
            content = uploads.get(str(value.get("part")))
            size = int(value.get("size") or 0)
            stored = self._register_file(kind, size, file_name, content)
        elif isinstance(value, str) and value in self._files:
            stored = self._files[value]
        else:
            stored = self._register_file(kind, 4096, None, None)
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
        elif kind in ("video", "animation"):
            info.update(width=640, height=360, duration=5)
        elif kind in ("audio", "voice"):
            info.update(duration=3)
        elif kind == "video_note":
            info.update(length=240, duration=3)
        elif kind == "sticker":
            info.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
        return info

    def _register_file(
        self, kind: str, size: int, file_name: str | None, content: bytes | None
    ) -> _StoredFile:
        number = next(self._ids)
        folder, ext = _FILE_DIRS.get(kind, ("documents", "bin"))
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[-1]
        stored = _StoredFile(
            file_id=f"fake-{kind}-{number}",
            file_unique_id=f"uniq{number}",
            file_path=f"{folder}/file_{number}.{ext}",
            file_size=len(content) if content is not None else size,
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored

    def _send_media(self, kind: str, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        self._target_chat(params)
        caption, entities = self._caption(params)
        media = self._file_object(kind, params.get(kind), uploads)
        return self._send(
            params,
            {
                kind: [media] if kind == "photo" else media,
                "caption": caption,
                "caption_entities": entities or None,
            },
        )

    def _send_media_group(self, params: dict[str, Any], uploads: dict[str, bytes]) -> list[Any]:
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad_request("wrong number of media")
        group_id = str(next(self._ids))
        messages = []
        for item in media:
            kind = str(item.get("type", "document"))
            caption, entities = self._caption(item)
            file = self._file_object(kind, item.get("media"), uploads)
            messages.append(
                self._send(
                    params,
                    {
                        kind: [file] if kind == "photo" else file,
                        "caption": caption,
                        "caption_entities": entities or None,
                        "media_group_id": group_id,
                    },
                )
            )
        return messages

    def _send_location(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        location = {"latitude": params.get("latitude"), "longitude": params.get("longitude")}
        return self._send(params, {"location": location})

    def _send_contact(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        contact = {key: params.get(key) for key in ("phone_number", "first_name")}
        return self._send(params, {"contact": contact})

    def _send_dice(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        return self._send(params, {"dice": {"emoji": params.get("emoji") or "🎲", "value": 4}})

    def _source_message(self, params: dict[str, Any], verb: str) -> JSONDict:
        from_chat = _norm_chat_id(params.get("from_chat_id"))
        message_id = params.get("message_id")
        stored = self._lookup(from_chat, message_id)
        if stored is None:
            raise _bad_request(f"message to {verb} not found")
        return stored

    def _copy_message(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        source = self._source_message(params, "copy")
        content = {key: _copy(source[key]) for key in _CONTENT_FIELDS if key in source}
        if "caption" in params:
            caption, entities = self._caption(params)
            content["caption"] = caption
            content["caption_entities"] = entities or None
        message = self._send(params, content)
        return {"message_id": message["message_id"]}

    def _forward_message(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        source = self._source_message(params, "forward")
        content = {key: _copy(source[key]) for key in _CONTENT_FIELDS if key in source}
        content["forward_origin"] = {
            "type": "user",
            "date": source["date"],
            "sender_user": _copy(source.get("from", self.bot_user)),
        }
        chat_id = self._target_chat(params)
        return self._store(chat_id, self.bot_user, content)

    def _edit_target(self, params: dict[str, Any]) -> JSONDict | None:
        """The stored message an edit refers to, or None for inline messages."""
        if params.get("inline_message_id"):
            return None
        chat_id = self._target_chat(params)
        message_id = int(params.get("message_id") or 0)
        if not message_id:
            raise _bad_request("message identifier is not specified")
        if (chat_id, message_id) in self._deleted:
            raise _bad_request("message to edit not found")
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            # Lenient: tests often edit messages the fake never saw being sent.
            stored = self._stub_message(chat_id, message_id, self.bot_user, text="…")
        if stored.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return stored

    @staticmethod
    def _apply_edit(stored: JSONDict, changes: JSONDict) -> JSONDict:
        before = {key: stored.get(key) for key in changes}
        if before == changes:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in changes.items():
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        stored["edit_date"] = int(time.time())
        return _copy(stored)

    def _edit_message_text(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        text, entities = self._message_text(params)
        markup = self._check_markup(params.get("reply_markup"))
        stored = self._edit_target(params)
        if stored is None:
            return True
        if "text" not in stored:
            raise _bad_request("there is no text in the message to edit")
        # Omitting reply_markup removes the keyboard, exactly like the real API.
        return self._apply_edit(
            stored, {"text": text, "entities": entities or None, "reply_markup": markup}
        )

    def _edit_message_caption(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        caption, entities = self._caption(params)
        markup = self._check_markup(params.get("reply_markup"))
        stored = self._edit_target(params)
        if stored is None:
            return True
        if "text" in stored:
            raise _bad_request("there is no caption in the message to edit")
        return self._apply_edit(
            stored,
            {"caption": caption, "caption_entities": entities or None, "reply_markup": markup},
        )

    def _edit_message_reply_markup(self, params: dict[str, Any], uploads: dict[str, bytes]) -> Any:
        markup = self._check_markup(params.get("reply_markup"))
        stored = self._edit_target(params)
        if stored is None:
            return True
        return self._apply_edit(stored, {"reply_markup": markup})

    def _answer_callback_query(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        if not params.get("callback_query_id"):
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        return True

    def _delete_message(self, params: dict[str, Any], uploads: dict[str, bytes]) -> bool:
        chat_id = _norm_chat_id(params.get("chat_id"))
        if chat_id is None:
            raise _bad_request("chat_id is empty")
        key = (chat_id, int(params.get("message_id") or 0))
        if key in self._deleted:
            raise _bad_request("message to delete not found")
        self._messages.pop(key, None)
        self._deleted.add(key)
        return True

    def _get_chat(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        chat_id = _norm_chat_id(params.get("chat_id"))
        if chat_id is None:
            raise _bad_request("chat not found")
        return {
            **self._chat(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _get_chat_member(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        user_id = int(params.get("user_id") or 0)
        if user_id == self.bot_id:
            user = self.bot_user
        else:
            user = self.users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "User"}
        status = self.member_status.get(user_id, "member")
        member: JSONDict = {"status": status, "user": user}
        if status == "kicked":
            member["until_date"] = 0
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    **{f"can_{right}": True for right in _ADMIN_RIGHTS},
                }
            )
        return member

    def _get_file(self, params: dict[str, Any], uploads: dict[str, bytes]) -> JSONDict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def file_bytes(self, file_id: str) -> bytes | None:
        """What was uploaded under a file id (a photo or document the bot sent), or None."""
        with self._lock:
            stored = self._files.get(file_id)
            return stored.content if stored is not None else None

    def file_content(self, file_path: str) -> bytes | None:
        """Bytes served for a file path returned by getFile, or None if unknown."""
        with self._lock:
            for stored in self._files.values():
                if stored.file_path == file_path:
                    return stored.data()
        return None

    def _user(
        self, user_id: int, first_name: str, language_code: str, username: str | None
    ) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return dict(user)

    def _incoming(
        self,
        user_id: int,
        content: JSONDict,
        *,
        chat_id: int | None = None,
        chat_type: str | None = None,
        first_name: str = "Budi",
        language_code: str = "id",
        username: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        with self._lock:
            sender = self._user(user_id, first_name, language_code, username)
            target = user_id if chat_id is None else chat_id
            if chat_type is not None:
                self._chat_types[target] = chat_type
            reply = None
            if reply_to_message_id is not None:
                reply = self._reply_to({"reply_to_message_id": reply_to_message_id}, target)
            message = self._store(target, sender, {**content, "reply_to_message": reply})
            return {"update_id": self._next_update_id(), "message": message}

    def message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str = "Budi",
        language_code: str = "id",
        username: str | None = None,
        reply_to_message_id: int | None = None,
        chat_type: str | None = None,
    ) -> JSONDict:
        """A text message update; a leading /command gets its bot_command entity."""
        content: JSONDict = {"text": text}
        match = _COMMAND_RE.match(text)
        if match:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(match.group(0))}
            ]
        return self._incoming(
            user_id,
            content,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            language_code=language_code,
            username=username,
            reply_to_message_id=reply_to_message_id,
        )

    def edited_message(
        self,
        user_id: int,
        text: str,
        *,
        message_id: int,
        chat_id: int | None = None,
        first_name: str = "Budi",
        language_code: str = "id",
        username: str | None = None,
    ) -> JSONDict:
        """An edited_message update changing one of the user's earlier messages."""
        with self._lock:
            sender = self._user(user_id, first_name, language_code, username)
            target = user_id if chat_id is None else chat_id
            stored = self._messages.get((target, message_id))
            if stored is None:
                stored = self._stub_message(target, message_id, sender)
            stored["text"] = text
            stored["edit_date"] = int(time.time())
            return {"update_id": self._next_update_id(), "edited_message": _copy(stored)}

    def callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int,
        chat_id: int | None = None,
        message_text: str = "",
        first_name: str = "Budi",
        language_code: str = "id",
        username: str | None = None,
    ) -> JSONDict:
        """A callback_query update for a button under one of the bot's messages.

        The message is the one the bot sent with that id if the fake has seen it.
        """
        with self._lock:
            sender = self._user(user_id, first_name, language_code, username)
            target = user_id if chat_id is None else chat_id
            stored = self._messages.get((target, message_id))
            if stored is None:
                stored = self._stub_message(target, message_id, self.bot_user)
            if message_text:
                stored["text"] = message_text
            query = {
                "id": str(next(self._ids)),
                "from": sender,
                "chat_instance": str(zlib.crc32(f"{self.bot_id}:{target}".encode())),
                "data": data,
                "message": _copy(stored),
            }
            return {"update_id": self._next_update_id(), "callback_query": query}

    def _incoming_file(
        self, kind: str, size: int, file_name: str | None = None, content: bytes | None = None
    ) -> JSONDict:
        with self._lock:
            return self._file_object(
                kind,
                {"file_name": file_name, "size": size, "part": "upload"},
                {"upload": content} if content is not None else {},
            )

    def sticker(
        self, user_id: int, *, emoji: str = "👍", **options: Unpack[MessageOptions]
    ) -> JSONDict:
        """A sticker message update."""
        sticker = {**self._incoming_file("sticker", 20480), "emoji": emoji}
        return self._incoming(user_id, {"sticker": sticker}, **options)

    def photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        file_size: int = 120_000,
        content: bytes | None = None,
        **options: Unpack[MessageOptions],
    ) -> JSONDict:
        """A photo message update with two sizes, as Telegram sends them."""
        small = self._incoming_file("photo", max(file_size // 10, 1))
        small.update(width=320, height=180)
        big = self._incoming_file("photo", file_size, content=content)
        return self._incoming(user_id, {"photo": [small, big], "caption": caption}, **options)

    def document(
        self,
        user_id: int,
        file_name: str = "dokumen.pdf",
        mime_type: str = "application/pdf",
        file_size: int | None = None,
        *,
        caption: str | None = None,
        content: bytes | None = None,
        **options: Unpack[MessageOptions],
    ) -> JSONDict:
        """A document message update; ``content`` is what a later download returns."""
        with self._lock:
            document = self._incoming_file("document", 1024, file_name, content)
            document["mime_type"] = mime_type
            if file_size is not None:
                document["file_size"] = file_size
                self._files[document["file_id"]].file_size = file_size
        return self._incoming(user_id, {"document": document, "caption": caption}, **options)

    def voice(
        self,
        user_id: int,
        *,
        duration: int = 3,
        file_size: int = 8000,
        **options: Unpack[MessageOptions],
    ) -> JSONDict:
        """A voice message update."""
        voice = self._incoming_file("voice", file_size)
        voice.update(duration=duration, mime_type="audio/ogg")
        return self._incoming(user_id, {"voice": voice}, **options)

    def sent(
        self,
        chat_id: int | str | None = None,
        method: str | None = None,
        *,
        include_failed: bool = False,
    ) -> list[Call]:
        """send*/edit*/copy/forward calls (not sendChatAction unless asked), oldest first."""
        wanted = _norm_chat_id(chat_id) if chat_id is not None else None
        with self._lock:
            calls = list(self.calls)
        result = []
        for call in calls:
            if method is not None:
                if call.method != method:
                    continue
            elif call.method == "sendChatAction" or not (
                self._is_send(call.method) or call.method.startswith("edit")
            ):
                continue
            if not include_failed and not call.ok:
                continue
            if wanted is not None and _norm_chat_id(call.params.get("chat_id")) != wanted:
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
                value = next(
                    (
                        button[key]
                        for key in ("callback_data", "url", "switch_inline_query", "web_app")
                        if key in button
                    ),
                    "",
                )
                if isinstance(value, dict):
                    value = value.get("url", "")
                found.append((str(button.get("text", "")), str(value)))
        return found

    def clear(self) -> None:
        """Forget recorded calls (chat state, files and queued updates are kept)."""
        with self._lock:
            self.calls.clear()

    def wait_sent(
        self,
        chat_id: int | str | None = None,
        count: int = 1,
        timeout: float = 5.0,
        method: str | None = None,
    ) -> list[Call]:
        """Block until ``count`` sends reached the chat; AssertionError on timeout.

        Do not call from the event loop running an in-process bot; use :meth:`await_sent`.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(calls := self.sent(chat_id, method)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} sends to {chat_id!r}, got {calls}")
                self._cond.wait(remaining)
            return calls

    async def await_sent(
        self,
        chat_id: int | str | None = None,
        count: int = 1,
        timeout: float = 5.0,
        method: str | None = None,
    ) -> list[Call]:
        """Async :meth:`wait_sent`; works whichever thread records the calls."""
        deadline = time.monotonic() + timeout
        while len(calls := self.sent(chat_id, method)) < count:
            if time.monotonic() >= deadline:
                raise AssertionError(f"expected {count} sends to {chat_id!r}, got {calls}")
            await asyncio.sleep(0.01)
        return calls


def _upload_info(
    part: str, field_tuple: tuple[str, bytes | IO[bytes], str]
) -> tuple[JSONDict, bytes]:
    file_name, content, mime_type = field_tuple
    if not isinstance(content, bytes):
        position = content.tell()
        data = content.read()
        content.seek(position)
        content = data
    info = {"file_name": file_name, "mime_type": mime_type, "size": len(content), "part": part}
    return info, content


class FakeRequest(BaseRequest):
    """A PTB request backend answering from a :class:`FakeBotAPI` without any network."""

    def __init__(self, api: FakeBotAPI, read_timeout: float = 5.0) -> None:
        self.api = api
        self._read_timeout = read_timeout
        self.initialized = False

    @property
    def read_timeout(self) -> float:
        """Default read timeout; PTB adds the getUpdates timeout to it."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Mark the request object as usable."""
        self.initialized = True

    async def shutdown(self) -> None:
        """Mark the request object as closed."""
        self.initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer the request from the fake API; file URLs return the stored bytes."""
        if "/file/bot" in url:
            path = unquote(urlsplit(url).path.split("/file/bot", 1)[1].split("/", 1)[-1])
            content = self.api.file_content(path)
            if content is None:
                return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
            return 200, content
        params: dict[str, Any] = {}
        uploads: dict[str, bytes] = {}
        if request_data is not None:
            params = decode_params(dict(request_data.parameters))
            parts = {}
            for part, field_tuple in request_data.multipart_data.items():
                parts[part], uploads[part] = _upload_info(part, field_tuple)
            _attach_uploads(params, parts)
        try:
            status, body = await self.api.handle_async(url.rsplit("/", 1)[-1], params, uploads)
        except SimulatedTimeout as timeout:
            await asyncio.sleep(timeout.delay)
            raise TimedOut("Simulated timeout") from None
        return status, json.dumps(body).encode("utf-8")


class FakeTelegramServer(ThreadingHTTPServer):
    """ThreadingHTTPServer bound to one FakeBotAPI."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: FakeBotAPI) -> None:
        super().__init__(address, _Handler)
        self.api = api

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url`` (PTB appends the token)."""
        return f"http://{self.server_address[0]!s}:{self.server_address[1]}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url``, needed to download files."""
        return f"http://{self.server_address[0]!s}:{self.server_address[1]}/file/bot"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (e.g. a killed bot process) is no error worth a trace."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def stop(self) -> None:
        """Release waiting long polls, stop serving and close the socket."""
        self.api.release_polls()
        self.shutdown()
        self.server_close()


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    headers = _MimeHeaders()
    headers["content-type"] = content_type
    boundary = headers.get_param("boundary")
    params: dict[str, Any] = {}
    uploads: dict[str, bytes] = {}
    parts: dict[str, JSONDict] = {}
    if not isinstance(boundary, str):
        return params, uploads
    for chunk in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        part_headers = email.parser.BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        name = part_headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        file_name = part_headers.get_filename()
        if file_name is None:
            params[name] = data.decode("utf-8")
        else:
            mime_type = part_headers.get_content_type()
            parts[name], uploads[name] = _upload_info(name, (unquote(file_name), data, mime_type))
    params = decode_params(params)
    _attach_uploads(params, parts)
    return params, uploads


class _Handler(BaseHTTPRequestHandler):
    server: FakeTelegramServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        # Silence per-request logging; the API records calls itself.
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, payload: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. a cancelled long poll); nothing left to answer.
            self.close_connection = True

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        api = self.server.api
        file_match = re.fullmatch(r"/file/bot[^/]+/(.+)", url.path)
        if file_match:
            content = api.file_content(unquote(file_match.group(1)))
            if content is None:
                self._reply(
                    404,
                    b'{"ok":false,"error_code":404,"description":"Not Found"}',
                    "application/json",
                )
            else:
                self._reply(200, content, "application/octet-stream")
            return
        match = re.fullmatch(r"/bot[^/]+/([A-Za-z]+)", url.path)
        if match is None:
            self._reply(
                404, b'{"ok":false,"error_code":404,"description":"Not Found"}', "application/json"
            )
            return
        try:
            params, uploads = self._params(url.query, body)
        except (ValueError, UnicodeDecodeError):
            self._reply(
                400,
                json.dumps(_bad_request("can't parse request body").body()).encode(),
                "application/json",
            )
            return
        try:
            status, answer = api.handle(match.group(1), params, uploads)
        except SimulatedTimeout as timeout:
            time.sleep(timeout.delay)
            self.close_connection = True
            return
        self._reply(status, json.dumps(answer).encode("utf-8"), "application/json")

    def _params(self, query: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = decode_params(dict(parse_qsl(query, keep_blank_values=True)))
        uploads: dict[str, bytes] = {}
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            form, uploads = _parse_multipart(body, content_type)
            params.update(form)
        elif content_type.startswith("application/json") and body:
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("JSON body must be an object")
            params.update(decode_params(decoded))
        elif body:
            form_values = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            params.update(decode_params(dict(form_values)))
        return params, uploads


def serve_http(
    api: FakeBotAPI, host: str = "127.0.0.1", port: int = 0
) -> tuple[FakeTelegramServer, str]:
    """Serve ``api`` over HTTP in a daemon thread; returns (server, base_url).

    Pass base_url to ``ApplicationBuilder.base_url`` (PTB appends the token) and
    ``server.base_file_url`` to ``base_file_url`` if the bot downloads files.
    Stop with ``server.stop()``.
    """
    server = FakeTelegramServer((host, port), api)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        daemon=True,
        name="fake-telegram-api",
    )
    thread.start()
    return server, server.base_url
