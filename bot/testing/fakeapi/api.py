"""FakeBotAPI: one fake bot on Telegram. Every request is recorded, may meet an injected
fault, and is answered by the Bot API methods over the bot's state."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.testing.fakeapi.methods import BotMethods, Method
from bot.testing.fakeapi.request import decode_params
from bot.testing.fakeapi.state import (
    ApiError,
    Call,
    CallLog,
    JSONDict,
    SimulatedTimeout,
    TelegramState,
    bad_request,
    norm_chat_id,
)
from bot.testing.fakeapi.updates import UpdateBuilders, UpdateQueue

_ERRORS = {
    400: "Bad Request: injected error",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class _Fault:
    method: str | None
    status: int = 0
    retry_after: int | None = None
    description: str | None = None
    timeout: bool = False
    delay: float = 0.0
    delivered: bool = False
    chat_id: int | None = None  # only calls to this chat
    migrate_to_chat_id: int | None = None  # a group upgraded to a supergroup

    def error(self) -> ApiError:
        if self.status == 429:
            return ApiError(
                429,
                self.description or f"Too Many Requests: retry after {self.retry_after}",
                {"retry_after": self.retry_after},
            )
        params = {"retry_after": self.retry_after} if self.retry_after else None
        if self.migrate_to_chat_id is not None:
            params = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return ApiError(
            self.status, self.description or _ERRORS.get(self.status, f"Error {self.status}"), params
        )


class FakeBotAPI(UpdateBuilders, CallLog):
    """State of one fake Telegram bot; shared by FakeRequest objects and the HTTP server.

    All public methods are thread-safe. Faults are injected one by one (:meth:`fail_next`,
    :meth:`timeout_next`) or at random (``failure_rate`` of sends, with
    ``failure_kinds``; ``updates_failure_rate`` of getUpdates).
    """

    def __init__(
        self,
        bot_id: int = 123456,
        username: str = "ska_helpdesk_bot",
        first_name: str = "SKA Help Desk",
    ) -> None:
        self.state = TelegramState(bot_id, username, first_name)
        self.updates = UpdateQueue(self.state)
        self.calls: list[Call] = []
        self.failure_rate: float = 0.0
        # what a random failure is: an HTTP status (429 carries retry_after 1) or "timeout"
        # (the request is dropped unanswered after timeout_delay seconds, without effect)
        self.failure_kinds: tuple[int | str, ...] = (429, 500)
        self.failure_edits: bool = False  # random failures hit edit* calls too
        self.updates_failure_rate: float = 0.0  # getUpdates answers 502 at this rate
        self.timeout_delay: float = 0.05
        self.rng: random.Random = random.Random(0)
        self._faults: list[_Fault] = []
        # method name -> implementation; a test may replace one to make Telegram refuse
        self._handlers: dict[str, Method] = BotMethods(self.state, self.updates).table

    # -- the state tests look at or change ----------------------------------------------

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a Telegram User dict."""
        return self.state.bot_user

    @property
    def blocked(self) -> set[int]:
        """Chats that blocked the bot (users) or removed it (groups): sends get 403."""
        return self.state.blocked

    @property
    def commands(self) -> dict[str, list[JSONDict]]:
        """The command menus set, by ``json(scope)|language_code``."""
        return self.state.commands

    @property
    def webhook_url(self) -> str:
        return self.state.webhook_url

    @webhook_url.setter
    def webhook_url(self, url: str) -> None:
        self.state.webhook_url = url

    @property
    def message_id_base(self) -> int:
        """Where each chat's message ids start (0: the first message is 1)."""
        return self.state.message_id_base

    @message_id_base.setter
    def message_id_base(self, base: int) -> None:
        self.state.message_id_base = base

    @property
    def pending_updates(self) -> int:
        """How many updates have not been confirmed yet."""
        with self.state.lock:
            return len(self.updates.pending)

    def push_update(self, update: JSONDict) -> int:
        """Queue an update for getUpdates; assigns ``update_id`` if missing."""
        return self.updates.push(update)

    def release_polls(self) -> None:
        """Make every waiting getUpdates return an empty list now (use before shutdown)."""
        self.updates.release()

    def deliver_to_webhook(self, target: str, secret: str, retry_delay: float = 0.2) -> Callable[[], None]:
        """POST the pending updates to ``target`` as Telegram does once a webhook is set;
        see :func:`bot.testing.fakeapi.server.deliver_to_webhook`."""
        from bot.testing.fakeapi.server import deliver_to_webhook

        return deliver_to_webhook(self, target, secret, retry_delay)

    def file_bytes(self, file_id: str) -> bytes | None:
        """What was uploaded under a file id (a photo or document the bot sent), or None."""
        with self.state.lock:
            stored = self.state.files.get(file_id)
            return stored.content if stored is not None else None

    def file_content(self, file_path: str) -> bytes | None:
        """Bytes served for a file path returned by getFile, or None if unknown."""
        with self.state.lock:
            for stored in self.state.files.values():
                if stored.file_path == file_path:
                    return stored.data()
        return None

    # -- faults --------------------------------------------------------------------------

    def fail_next(
        self,
        method: str | None,
        status: int,
        retry_after: int | None = None,
        count: int = 1,
        description: str | None = None,
        chat_id: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (to ``chat_id``, if given) fail with
        ``status`` (and, as for a group upgraded to a supergroup, ``migrate_to_chat_id``).

        ``method=None`` matches any method except getUpdates (a polling updater would
        otherwise swallow the fault).
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        with self.state.lock:
            for _ in range(count):
                self._faults.append(
                    _Fault(
                        method,
                        status,
                        retry_after,
                        description,
                        chat_id=chat_id,
                        migrate_to_chat_id=migrate_to_chat_id,
                    )
                )

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
        with self.state.lock:
            for _ in range(count):
                self._faults.append(_Fault(method, timeout=True, delay=delay, delivered=delivered))

    def _take_fault(self, method: str, params: dict[str, Any]) -> _Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.chat_id is not None and norm_chat_id(params.get("chat_id")) != fault.chat_id:
                continue
            if fault.method == method or (fault.method is None and method != "getUpdates"):
                return self._faults.pop(index)
        if self.failure_rate and (self.is_send(method) or (self.failure_edits and method.startswith("edit"))):
            if self.rng.random() < self.failure_rate:
                kind = self.rng.choice(self.failure_kinds)
                if kind == "timeout":
                    return _Fault(method, timeout=True, delay=self.timeout_delay)
                status = int(kind)
                return _Fault(method, status, 1 if status == 429 else None)
        elif method == "getUpdates" and self.updates_failure_rate:
            if self.rng.random() < self.updates_failure_rate:
                return _Fault(method, 502)
        return None

    # -- answering -----------------------------------------------------------------------

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
            answer = self.updates.poll(call.params)
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
            answer = await self.updates.poll_async(call.params)
        else:
            answer = self._execute(method, call.params, uploads or {})
        return self._complete(call, fault, answer)

    def _prepare(
        self, method: str, params: dict[str, Any]
    ) -> tuple[Call, _Fault | None, tuple[int, JSONDict] | None]:
        call = Call(method, decode_params(params), time.time())
        with self.state.lock:
            self.calls.append(call)
            fault = self._take_fault(method, call.params)
        if fault is not None and fault.timeout and not fault.delivered:
            self._finish(call, 0, {})
            raise SimulatedTimeout(fault.delay)
        if fault is not None and not fault.timeout:
            error = fault.error()
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
        with self.state.lock:
            call.status = status
            call.answered(body.get("result") if body.get("ok") else body)
        return status, body

    def _execute(
        self, method: str, params: dict[str, Any], uploads: dict[str, bytes]
    ) -> tuple[int, JSONDict]:
        handler = self._handlers.get(method)
        if handler is None:
            missing = ApiError(404, "Not Found: method not found")
            return missing.status, missing.body()
        with self.state.lock:
            try:
                result = handler(params, uploads)
            except ApiError as error:
                return error.status, error.body()
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                # Malformed parameters get a 400 like on Telegram, naming the cause.
                bad = bad_request(f"invalid parameters ({exc!r})")
                return bad.status, bad.body()
        return 200, {"ok": True, "result": result}
