"""The HTTP client of the Bot API calls (all but getUpdates), measured with
bench/process_throughput.py against PTB's own HTTPXRequest:

- one connection per HTTPX client, as many clients as calls under way, instead of one
  pool of 256 connections. Updates are handled side by side and the outbox has calls
  under way too, so dozens of requests are open at once, each on a connection of its
  own (HTTP/1.1); httpcore's pool looks at every connection, and for each idle one at
  every other again, whenever a request starts or ends. With 64 connections that cost
  more CPU than the update itself (4.1 ms per update against 2.3 ms). A call takes the
  client that was idle last (its connection is the warmest), opens another up to
  `connections`, or waits for one to be given back: at low load the bot keeps using one
  connection, as a single pool would.
- the parameters as one JSON body (`RequestData.json_payload`, which Telegram takes
  for every method) instead of a form: form-encoding quotes an answer's text character
  by character in Python. Uploads (a report's spreadsheet) still go as PTB sends them.

Timeouts, the User-Agent and the errors raised (TimedOut, NetworkError) are PTB's own.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httpx
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

# HTTPXRequest's defaults
TIMEOUT = httpx.Timeout(connect=5.0, read=5.0, write=5.0, pool=1.0)
AGENT = {"User-Agent": BaseRequest.USER_AGENT}
JSON = {**AGENT, "Content-Type": "application/json"}


class PooledRequest(BaseRequest):
    """Bot API requests over at most `connections` connections, one per HTTPX client."""

    def __init__(self, connections: int) -> None:
        self._limit = max(1, connections)
        # loading the CA certificates takes tens of milliseconds: once, not per client
        self._tls = httpx.create_ssl_context()
        self._clients: list[httpx.AsyncClient] = []
        self._idle: list[httpx.AsyncClient] = []
        self._waiting: deque[asyncio.Future[httpx.AsyncClient]] = deque()
        self._uploads = HTTPXRequest(connection_pool_size=4, httpx_kwargs={"verify": self._tls})

    def updates_request(self) -> HTTPXRequest:
        """PTB's own client for getUpdates (one connection), on the same CA certificates."""
        return HTTPXRequest(connection_pool_size=1, httpx_kwargs={"verify": self._tls})

    @property
    def read_timeout(self) -> float | None:
        return TIMEOUT.read

    async def initialize(self) -> None:
        await self._uploads.initialize()

    async def shutdown(self) -> None:
        clients, self._clients, self._idle = self._clients, [], []
        for client in clients:
            await client.aclose()
        await self._uploads.shutdown()

    async def _take(self) -> httpx.AsyncClient:
        if self._idle:
            return self._idle.pop()
        if len(self._clients) < self._limit:
            client = httpx.AsyncClient(
                timeout=TIMEOUT, verify=self._tls, limits=httpx.Limits(max_connections=1)
            )
            self._clients.append(client)
            return client
        waiter: asyncio.Future[httpx.AsyncClient] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())  # handed over just as it was cancelled
            raise

    def _give_back(self, client: httpx.AsyncClient) -> None:
        if client not in self._clients:
            return  # shut down meanwhile
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(client)
                return
        self._idle.append(client)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            return await self._uploads.do_request(
                url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
            )
        timeout = TIMEOUT
        if not all(
            isinstance(value, DefaultValue)
            for value in (read_timeout, write_timeout, connect_timeout, pool_timeout)
        ):
            timeout = httpx.Timeout(
                connect=_or(connect_timeout, TIMEOUT.connect),
                read=_or(read_timeout, TIMEOUT.read),
                write=_or(write_timeout, TIMEOUT.write),
                pool=_or(pool_timeout, TIMEOUT.pool),
            )
        # no data: a file's download (GET)
        body = request_data.json_payload if request_data is not None else None
        client = await self._take()
        try:
            response = await client.request(
                method, url, content=body, headers=JSON if body is not None else AGENT, timeout=timeout
            )
        except httpx.TimeoutException as exc:
            raise TimedOut from exc
        except httpx.HTTPError as exc:
            # the class name: some of httpx's errors have an empty message
            raise NetworkError(f"httpx.{exc.__class__.__name__}: {exc}") from exc
        finally:
            self._give_back(client)
        return response.status_code, response.content


def _or(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value
