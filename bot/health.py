"""GET /health on its own small port: database reachability and outbox backlog as JSON.

A plain http.server thread, not a route in PTB's webhook server: it also runs in long
polling mode, and it answers even while the event loop is busy. It reads through the
services' thread-safe engine with short sessions of its own.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.services import Services

log = logging.getLogger(__name__)


def health_report(services: Services) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 200 when the database answers, 503 when it does not."""
    try:
        with services.db.session() as s:
            s.execute(text("SELECT 1"))
        backlog = services.outbox.backlog()
    except SQLAlchemyError as exc:
        # the class name only: a driver message can carry the host and user
        return 503, {"database": f"error: {type(exc).__name__}", "outbox_backlog": None}
    return 200, {"database": "ok", "outbox_backlog": backlog}


class _Handler(BaseHTTPRequestHandler):
    server: HealthServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a probe every few seconds would drown the log

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0].rstrip("/") != "/health":
            status, body = 404, {"error": "not found; try /health"}
        else:
            status, body = health_report(self.server.services)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class HealthServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, services: Services, listen: str, port: int) -> None:
        super().__init__((listen, port), _Handler)
        self.services = services
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name="health")

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health endpoint on http://%s:%d/health", *self.server_address[:2])
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
