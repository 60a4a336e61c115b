"""The fake over HTTP, for real bot processes started with ``base_url`` pointing at it:
the Bot API server (form, JSON and multipart bodies, file downloads) and the webhook
delivery Telegram does once a webhook is set."""

from __future__ import annotations

import email.parser
import json
import re
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from email.message import Message as _MimeHeaders
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.testing.fakeapi.request import NOT_FOUND, attach_uploads, decode_params, upload_info
from bot.testing.fakeapi.state import JSONDict, SimulatedTimeout, bad_request

if TYPE_CHECKING:
    from bot.testing.fakeapi.api import FakeBotAPI


class FakeTelegramServer(ThreadingHTTPServer):
    """ThreadingHTTPServer bound to one FakeBotAPI."""

    daemon_threads = True
    # socketserver's default backlog is 5: a bot opening dozens of connections at once
    # (one per reply under way, bot/telegram/request.py) had some reset before they were
    # accepted, and the replies on them went to the outbox (httpx.ReadError). Telegram
    # accepts them all.
    request_queue_size = 128

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


def serve_http(api: FakeBotAPI, host: str = "127.0.0.1", port: int = 0) -> tuple[FakeTelegramServer, str]:
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
            parts[name], uploads[name] = upload_info(name, (unquote(file_name), data, mime_type))
    params = decode_params(params)
    attach_uploads(params, parts)
    return params, uploads


class _Handler(BaseHTTPRequestHandler):
    server: FakeTelegramServer
    protocol_version = "HTTP/1.1"
    # headers and body leave in two writes: with Nagle's algorithm the body waited for the
    # client's delayed ACK of the headers, 40 ms on every request of a kept-alive connection
    disable_nagle_algorithm = True

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
                self._reply(404, NOT_FOUND, "application/json")
            else:
                self._reply(200, content, "application/octet-stream")
            return
        match = re.fullmatch(r"/bot[^/]+/([A-Za-z]+)", url.path)
        if match is None:
            self._reply(404, NOT_FOUND, "application/json")
            return
        try:
            params, uploads = self._params(url.query, body)
        except (ValueError, UnicodeDecodeError):
            error = bad_request("can't parse request body")
            self._reply(400, json.dumps(error.body()).encode(), "application/json")
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


def deliver_to_webhook(
    api: FakeBotAPI, target: str, secret: str, retry_delay: float = 0.2
) -> Callable[[], None]:
    """Act as Telegram does once a webhook is set: POST the pending updates to ``target``
    (where the reverse proxy would forward them) one at a time, in order, each until it
    is answered 200; a refused or broken request is retried after ``retry_delay``.
    Returns a function that stops the delivery."""
    stop = threading.Event()
    state, queue = api.state, api.updates

    def deliver() -> None:
        while not stop.is_set():
            with state.cond:
                update = queue.pending[0] if state.webhook_url and queue.pending else None
                if update is None:
                    state.cond.wait(0.05)
                    continue
                body = json.dumps(update).encode()
            request = urllib.request.Request(
                target,
                body,
                {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    delivered = response.status == 200
            except OSError:  # refused, reset, or an HTTP error status
                delivered = False
            if not delivered:
                stop.wait(retry_delay)
                continue
            with state.lock:  # by identity: a second copy of the id stays queued
                if queue.pending and queue.pending[0] is update:
                    queue.pending.pop(0)

    thread = threading.Thread(target=deliver, daemon=True, name="fake-webhook-delivery")
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=70)

    return halt
