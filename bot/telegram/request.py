"""The HTTP client of the Bot API calls (all but getUpdates): one connection per client,
as many clients as calls under way, instead of PTB's one pool of 256 connections.

Updates are handled side by side (telegram.concurrent_updates) and the outbox has calls
under way too, so dozens of requests are open at once, each on a connection of its own
(HTTP/1.1). httpcore's pool looks at every connection, and for each idle one at every
other again, whenever a request starts or ends: with 64 connections that cost more CPU
than the update itself (bench/process_throughput.py: 4.1 ms per update against 2.3 ms
with one connection per client). A call takes the client that was idle last (its
connection is the warmest), opens another up to `connections`, or waits for one to be
given back; at low load the bot keeps using one connection, as PTB's own pool would.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httpx
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, HTTPXRequest, RequestData


class PooledRequest(BaseRequest):
    """Bot API requests over at most `connections` connections, one per HTTPX client."""

    def __init__(self, connections: int) -> None:
        self._limit = max(1, connections)
        # loading the CA certificates takes tens of milliseconds: once, not per client
        self._tls = httpx.create_ssl_context()
        self._clients: list[HTTPXRequest] = []
        self._idle: list[HTTPXRequest] = []
        self._waiting: deque[asyncio.Future[HTTPXRequest]] = deque()
        self._new()

    def _new(self) -> HTTPXRequest:
        # PTB's own timeouts (HTTPXRequest's defaults)
        client = HTTPXRequest(connection_pool_size=1, httpx_kwargs={"verify": self._tls})
        self._clients.append(client)
        self._idle.append(client)
        return client

    @property
    def read_timeout(self) -> float | None:
        return self._clients[0].read_timeout

    async def initialize(self) -> None:
        for client in self._clients:
            await client.initialize()

    async def shutdown(self) -> None:
        for client in self._clients:
            await client.shutdown()

    async def _take(self) -> HTTPXRequest:
        if not self._idle and len(self._clients) < self._limit:
            self._new()
        if self._idle:
            return self._idle.pop()
        waiter: asyncio.Future[HTTPXRequest] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())    # handed over just as it was cancelled
            raise

    def _give_back(self, client: HTTPXRequest) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(client)
                return
        self._idle.append(client)

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        client = await self._take()
        try:
            return await client.do_request(url, method, request_data, read_timeout,
                                           write_timeout, connect_timeout, pool_timeout)
        finally:
            self._give_back(client)
