"""python-telegram-bot in-process: a ``BaseRequest`` answering from the fake, no network;
and how request parameters are read, shared with the HTTP server."""

from __future__ import annotations

import asyncio
import json
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot.testing.fakeapi.state import JSONDict, SimulatedTimeout

if TYPE_CHECKING:
    from bot.testing.fakeapi.api import FakeBotAPI

NOT_FOUND = b'{"ok":false,"error_code":404,"description":"Not Found"}'

# Form-encoded values arrive as strings; these must stay strings even when they look like JSON.
_TEXT_FIELDS = frozenset(
    "text caption parse_mode callback_query_id inline_message_id file_id url action "
    "secret_token ip_address language_code message_effect_id business_connection_id photo "
    "document certificate".split()
)


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
    """Parameters as the Bot API reads them: JSON-encoded values decoded, free text kept."""
    return {key: _decode_value(key, value) for key, value in raw.items()}


def upload_info(part: str, field_tuple: tuple[str, bytes | IO[bytes], str]) -> tuple[JSONDict, bytes]:
    """What the methods see of an uploaded file, and its bytes."""
    file_name, content, mime_type = field_tuple
    if not isinstance(content, bytes):
        position = content.tell()
        data = content.read()
        content.seek(position)
        content = data
    info = {"file_name": file_name, "mime_type": mime_type, "size": len(content), "part": part}
    return info, content


def attach_uploads(params: dict[str, Any], parts: dict[str, JSONDict]) -> None:
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
                return 404, NOT_FOUND
            return 200, content
        params: dict[str, Any] = {}
        uploads: dict[str, bytes] = {}
        if request_data is not None:
            params = dict(request_data.parameters)
            parts = {}
            for part, field_tuple in request_data.multipart_data.items():
                parts[part], uploads[part] = upload_info(part, field_tuple)
            if parts:  # without uploads there is nothing to attach
                params = decode_params(params)  # attach:// may hide in a JSON value
                attach_uploads(params, parts)
        # the API decodes the parameters (once) as it records the call
        try:
            status, body = await self.api.handle_async(url.rsplit("/", 1)[-1], params, uploads)
        except SimulatedTimeout as timeout:
            await asyncio.sleep(timeout.delay)
            raise TimedOut("Simulated timeout") from None
        return status, json.dumps(body).encode("utf-8")
