"""Incoming updates: the builders of what users send, and the queue getUpdates reads.

As on Telegram, getUpdates hands out an update again until a later call confirms it with
``offset``: a bot process killed after fetching gets the unconfirmed updates again when
it restarts.
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from typing import Any, TypedDict, Unpack

from bot.telegram_html import utf16_len
from bot.testing.fakeapi.state import ApiError, JSONDict, TelegramState, copy_json

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)


class MessageOptions(TypedDict, total=False):
    """Who sends an incoming message and where (shared by the media update builders)."""

    chat_id: int | None
    chat_type: str | None
    first_name: str
    language_code: str
    username: str | None
    reply_to_message_id: int | None


class UpdateQueue:
    """The updates Telegram holds for the bot until it confirms them, and long polling."""

    def __init__(self, state: TelegramState) -> None:
        self.state = state
        self.pending: list[JSONDict] = []
        self._last_update_id = 0
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._poll_generation = 0
        self._release_generation = 0

    def next_id(self) -> int:
        with self.state.lock:
            self._last_update_id += 1
            return self._last_update_id

    def push(self, update: JSONDict) -> int:
        """Queue an update for getUpdates; assigns ``update_id`` if missing."""
        with self.state.lock:
            if "update_id" not in update:
                update["update_id"] = self.next_id()
            self._last_update_id = max(self._last_update_id, update["update_id"])
            self.pending.append(update)
            self.pending.sort(key=lambda u: u["update_id"])
            self.wake()
            return int(update["update_id"])

    def release(self) -> None:
        """Make every waiting getUpdates return an empty list now (use before shutdown)."""
        with self.state.lock:
            self._release_generation += 1
            self.wake()

    def wake(self) -> None:
        self.state.cond.notify_all()
        for loop, event in list(self._async_waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                self._async_waiters.discard((loop, event))

    def _start(self, params: dict[str, Any]) -> tuple[int, int, int, float] | ApiError:
        if self.state.webhook_url:
            return ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        # A newer getUpdates terminates an older waiting one, as on the real server.
        self._poll_generation += 1
        self.wake()
        deadline = time.monotonic() + timeout
        return self._poll_generation, self._release_generation, limit, deadline

    def _take(self, generation: int, release: int, limit: int) -> tuple[int, JSONDict] | None:
        if generation != self._poll_generation:
            error = ApiError(409, _CONFLICT)
            return error.status, error.body()
        if release != self._release_generation:
            return 200, {"ok": True, "result": []}
        if self.pending:
            return 200, {"ok": True, "result": copy_json(self.pending[:limit])}
        return None

    def poll(self, params: dict[str, Any]) -> tuple[int, JSONDict]:
        """getUpdates, blocking this thread while it long-polls (the HTTP server's way)."""
        with self.state.cond:
            start = self._start(params)
            if isinstance(start, ApiError):
                return start.status, start.body()
            generation, release, limit, deadline = start
            while True:
                answer = self._take(generation, release, limit)
                remaining = deadline - time.monotonic()
                if answer is not None:
                    return answer
                if remaining <= 0:
                    return 200, {"ok": True, "result": []}
                self.state.cond.wait(remaining)

    async def poll_async(self, params: dict[str, Any]) -> tuple[int, JSONDict]:
        """getUpdates, long-polling without blocking the event loop (in-process)."""
        loop = asyncio.get_running_loop()
        with self.state.lock:
            start = self._start(params)
        if isinstance(start, ApiError):
            return start.status, start.body()
        generation, release, limit, deadline = start
        while True:
            with self.state.lock:
                answer = self._take(generation, release, limit)
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
                with self.state.lock:
                    self._async_waiters.discard(waiter)


class UpdateBuilders:
    """Updates as users' clients produce them: text, commands, buttons, files.

    Each builder stores the message in the chat (so replies and edits find it) and
    returns the update dict; queue it with ``push_update`` or feed it to the Application.
    """

    state: TelegramState
    updates: UpdateQueue

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
        state = self.state
        with state.lock:
            sender = state.user(user_id, first_name, language_code, username)
            target = user_id if chat_id is None else chat_id
            if chat_type is not None:
                state.chat_types[target] = chat_type
            reply = None
            if reply_to_message_id is not None:
                reply = state.reply_to({"reply_to_message_id": reply_to_message_id}, target)
            message = state.store(target, sender, {**content, "reply_to_message": reply})
            return {"update_id": self.updates.next_id(), "message": message}

    def _incoming_file(
        self, kind: str, size: int, file_name: str | None = None, content: bytes | None = None
    ) -> JSONDict:
        with self.state.lock:
            return self.state.file_object(
                kind,
                {"file_name": file_name, "size": size, "part": "upload"},
                {"upload": content} if content is not None else {},
            )

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
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]
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
        state = self.state
        with state.lock:
            sender = state.user(user_id, first_name, language_code, username)
            target = user_id if chat_id is None else chat_id
            stored = state.messages.get((target, message_id))
            if stored is None:
                stored = state.stub_message(target, message_id, sender)
            stored["text"] = text
            stored["edit_date"] = int(time.time())
            return {"update_id": self.updates.next_id(), "edited_message": copy_json(stored)}

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
        state = self.state
        with state.lock:
            sender = state.user(user_id, first_name, language_code, username)
            target = user_id if chat_id is None else chat_id
            stored = state.messages.get((target, message_id))
            if stored is None:
                stored = state.stub_message(target, message_id, state.bot_user)
            if message_text:
                stored["text"] = message_text
            query = {
                "id": str(next(state.ids)),
                "from": sender,
                "chat_instance": str(zlib.crc32(f"{state.bot_id}:{target}".encode())),
                "data": data,
                "message": copy_json(stored),
            }
            return {"update_id": self.updates.next_id(), "callback_query": query}

    def sticker(self, user_id: int, *, emoji: str = "👍", **options: Unpack[MessageOptions]) -> JSONDict:
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
        with self.state.lock:
            document = self._incoming_file("document", 1024, file_name, content)
            document["mime_type"] = mime_type
            if file_size is not None:
                document["file_size"] = file_size
                self.state.files[document["file_id"]].file_size = file_size
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
