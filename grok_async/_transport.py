"""With ``_response.py`` (a response being read), the only module that touches aiohttp.

It owns the connection pools (one ``ClientSession`` with a pooled ``TCPConnector`` per
running event loop, created lazily), sends requests, and translates every aiohttp
exception into :class:`APIConnectionError` / :class:`APITimeoutError`.

Why one session per loop: an aiohttp session is bound to the loop it was created on. A
client built at import time of a web app, or used by two successive ``asyncio.run()``
calls, must not touch a session from another (possibly closed) loop.

Why an async-generator guard: ``asyncio.run()`` (and pytest-asyncio, and every
``asyncio.Runner``) calls ``loop.shutdown_asyncgens()`` before closing the loop. Each
session is paired with a parked async generator whose ``finally`` closes the session, so a
loop that ends without ``await client.close()`` still closes its pool cleanly: no
"Unclosed client session" warning, no leaked sockets.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import TYPE_CHECKING, Protocol

import aiohttp
import attrs

from ._errors import APITimeoutError, GrokError
from ._events import PoolStats
from ._pool import PoolGate
from ._response import CONNECTION_ERRORS, HTTPResponse, closed_error, connection_error
from ._version import __version__
from ._watchdog import ReadWatchdog

if TYPE_CHECKING:
    from ._events import Timings

__all__ = [
    "BodyReader",
    "BodySource",
    "Limits",
    "RequestBody",
    "Transport",
    "client_timeout",
    "user_agent",
]

logger = logging.getLogger("grok_async")


def user_agent() -> str:
    """``grok-async/<version> python/<version> aiohttp/<version>``"""
    return (
        f"grok-async/{__version__} python/{platform.python_version()} aiohttp/{aiohttp.__version__}"
    )


#: What a call's timeout becomes: aiohttp's timeout (total, connect) and the read timeout,
#: which the loop's ReadWatchdog enforces (see _watchdog for why not aiohttp's sock_read).
Limits = tuple[aiohttp.ClientTimeout, "float | None"]


class BodyReader(Protocol):
    """One sending of a :class:`BodySource`: an async iterator of its pieces in order, and
    ``close()``."""

    def __aiter__(self) -> BodyReader:
        """The reader itself."""

    async def __anext__(self) -> bytes:
        """The next piece of the body."""

    def close(self) -> None:
        """Release what the reader holds (an open file); safe to call twice."""


class BodySource(Protocol):
    """A request body too large to hold in memory (an upload from disk) that can still be
    sent again: every attempt calls :meth:`open` for a fresh reader, so a retry after a
    connection reset sends the whole body from its start. The caller sends its length as
    ``Content-Length`` (else the body goes chunked)."""

    def open(self) -> BodyReader:
        """A reader of the body from its first byte."""


#: What a request may carry: bytes (sent again as they are on a retry), a re-openable
#: :class:`BodySource`, or nothing.
RequestBody = bytes | BodySource | None


def client_timeout(connect: float | None, read: float | None, total: float | None) -> Limits:
    """The limits of a call, from our three numbers.

    ``connect`` bounds the socket connect only (``sock_connect``): waiting for a free pooled
    connection is normal under fan-out and is bounded by ``total`` instead (in a session
    the caller gave, aiohttp's own queue: also by nothing else). A ``read`` of ``None`` or
    ``0`` means no read timeout.
    """
    return aiohttp.ClientTimeout(total=total, sock_connect=connect), read or None


def _connector_stats(connector: aiohttp.BaseConnector | None, gate: PoolGate | None) -> PoolStats:
    # aiohttp has no public counters: its bookkeeping is read defensively, and our gate's
    # numbers are used where we keep them.
    idle = sum(len(conns) for conns in getattr(connector, "_conns", {}).values())
    limit = getattr(connector, "limit", 0) or 0
    if gate is not None:
        return PoolStats(in_use=gate.in_use, idle=idle, limit=gate.limit, waiting=gate.waiting)
    in_use = len(getattr(connector, "_acquired", ()))
    waiters = getattr(connector, "_waiters", {})
    waiting = sum(len(queue) for queue in waiters.values()) if isinstance(waiters, dict) else 0
    return PoolStats(in_use=in_use, idle=idle, limit=limit, waiting=waiting)


class _LoopPool:
    """The session of one event loop, and the guard that closes it with the loop."""

    __slots__ = ("gate", "guard", "loop", "session", "watchdog")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        session: aiohttp.ClientSession,
        forget: Callable[[], None],
        limit: int,
    ) -> None:
        self.loop = loop
        self.session = session
        self.gate = PoolGate(limit)
        self.watchdog = ReadWatchdog()
        self.guard = _close_on_loop_shutdown(session, forget)
        # Advance the guard to its first ``yield`` without awaiting: its body does not
        # suspend before that, and starting it registers it with the loop's asyncgen hooks.
        step = self.guard.__anext__()
        try:
            step.send(None)
        except StopIteration:
            pass


async def _close_on_loop_shutdown(
    session: aiohttp.ClientSession, forget: Callable[[], None]
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        # The loop is ending: drop our entry (it holds the loop, its session and sockets),
        # then close the session while the loop can still run its cleanup.
        forget()
        if not session.closed:
            await session.close()


class Transport:
    """Connection pools, one per running event loop, shared by a client and its copies."""

    def __init__(self, *, max_connections: int, session: aiohttp.ClientSession | None = None):
        self.max_connections = max_connections
        self._user_session = session
        # Entries leave when their loop shuts down (see _close_on_loop_shutdown), or, for a
        # loop closed without shutting down its async generators, when the next pool is made.
        self._pools: dict[asyncio.AbstractEventLoop, _LoopPool] = {}
        self.closed = False
        self._proxies: dict[str, str | None] = {}
        self._last: _LoopPool | None = None
        self._had_pool = False

    def session(self) -> aiohttp.ClientSession:
        """The pooled session for the running loop, created on first use."""
        if self._user_session is not None:
            if self._user_session.closed:
                raise GrokError("The aiohttp session given to AsyncGrok(session=...) is closed.")
            return self._user_session
        return self._pool().session

    def _pool(self) -> _LoopPool:
        loop = asyncio.get_running_loop()
        pool = self._last
        if pool is None or pool.loop is not loop or pool.session.closed:
            pool = self._pools.get(loop)
            if pool is None or pool.session.closed:
                pool = self._new_pool(loop)
            self._last = pool
        return pool

    def _new_pool(self, loop: asyncio.AbstractEventLoop) -> _LoopPool:
        for old in [old for old in self._pools if old.is_closed()]:
            self._forget(old)  # its loop died without shutting down async generators
        live = [other for other in self._pools if other is not loop and other.is_running()]
        if live:
            # Each loop gets its own pool: two loops at once (threads) double the sockets
            # and the connection limit, which is rarely what was meant.
            logger.warning(
                "An AsyncGrok client is in use from %d event loops at once; each has its "
                "own connection pool of up to %d connections. Prefer one client per loop.",
                len(live) + 1,
                self.max_connections,
            )
        elif self._pools or self._had_pool:
            logger.debug("A new event loop uses this AsyncGrok client; it gets a new pool.")
        self._had_pool = True

        def forget() -> None:
            self._forget(loop)

        pool = self._pools[loop] = _LoopPool(
            loop, self._new_session(), forget, self.max_connections
        )
        return pool

    def _forget(self, loop: asyncio.AbstractEventLoop) -> None:
        pool = self._pools.pop(loop, None)
        if pool is not None and pool is self._last:
            self._last = None
        if pool is not None and loop.is_closed():
            # Nothing can run on a closed loop: mark the session closed without I/O so it
            # does not warn when collected (its sockets went with the loop's selector).
            pool.session.detach()

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            limit_per_host=self.max_connections,
            # Resolve api.x.ai once every 5 minutes rather than once per connection.
            ttl_dns_cache=300,
        )
        # Not trust_env=True: aiohttp then looks up .netrc and the proxy variables in a
        # worker thread on *every* request (two thread hops, the largest single cost of a
        # call). The proxy is resolved once per URL instead (see _proxy_for).
        return aiohttp.ClientSession(connector=connector, raise_for_status=False)

    def _proxy_for(self, url: str) -> str | None:
        """The proxy HTTP(S)_PROXY / NO_PROXY choose for ``url``, resolved once per URL."""
        try:
            return self._proxies[url]
        except KeyError:
            pass
        parts = urllib.parse.urlsplit(url)
        proxy = urllib.request.getproxies().get(parts.scheme)
        if proxy and parts.hostname and urllib.request.proxy_bypass(parts.hostname):
            proxy = None
        self._proxies[url] = proxy or None
        return self._proxies[url]

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: RequestBody,
        timeout: Limits,
        timings: Timings | None = None,
    ) -> HTTPResponse:
        """Send a request and return once the response headers have arrived.

        The time spent waiting for a free pooled connection is added to
        ``timings.pool_wait``.
        """
        if self.closed:
            raise closed_error()
        client_timeout, read = timeout
        if self._user_session is None:
            pool = self._last
            # Not checking pool.session.closed here: the pool of a session closed by us
            # is forgotten (self._last cleared) before the session closes.
            if pool is None or pool.loop is not asyncio.get_running_loop():
                pool = self._pool()
            session = pool.session
            gate: PoolGate | None = pool.gate
            proxy = self._proxy_for(url)
            place = pool.gate
            # A free place with nobody queued ahead is taken inline (once per request);
            # otherwise the request queues in the gate.
            if place.in_use < place.limit and not place.waiters:
                place.in_use += 1
            else:
                client_timeout = await self._wait_for_place(place, client_timeout, timings)
                if self.closed or session.closed:
                    # Closed while this request queued: hand the place on, never send.
                    place.leave()
                    raise closed_error()
            # The read timeout's watch starts after our gate: from here on the request
            # goes out at once (its silence includes connecting and sending the body).
            watch = None if read is None else pool.watchdog.watch(read)
        else:
            # Your own session's pool may serve others too: its waits are not ours to count.
            session = self.session()
            gate = None
            proxy = None
            # Its requests may queue inside aiohttp for a connection, where no watch can
            # tell waiting from silence: aiohttp's own sock_read, which starts once the
            # request is written, bounds the silence instead.
            watch = None
            if read is not None:
                client_timeout = attrs.evolve(client_timeout, sock_read=read)
        sent = time.perf_counter()
        reader = None if body is None or isinstance(body, bytes) else body.open()
        try:
            response = await session.request(
                method,
                url,
                data=body if reader is None else reader,
                headers=headers,
                timeout=client_timeout,
                proxy=proxy,
                # An API never redirects a POST on purpose; following one would resend the
                # key to wherever it points (and turn the POST into a GET).
                allow_redirects=False,
            )
        except BaseException as exc:
            if gate is not None:
                gate.leave()
            if watch is not None:
                watch.stop()
                if watch.timed_out(exc):
                    raise APITimeoutError(
                        f"Request timed out: no response headers within {read:g} s "
                        "(the read timeout)."
                    ) from None
            if not isinstance(exc, CONNECTION_ERRORS):
                raise
            # Raised outside the except block so the aiohttp exception is neither the cause
            # nor the context: its repr can include the request headers, key and all.
            error = connection_error(exc)
        else:
            return HTTPResponse(response, gate, time.perf_counter() - sent, watch)
        finally:
            # The body is sent once the headers are back (or the attempt failed): a file
            # behind it is closed now, not whenever the reader is collected.
            if reader is not None:
                reader.close()
        raise error

    @staticmethod
    async def _wait_for_place(
        gate: PoolGate, timeout: aiohttp.ClientTimeout, timings: Timings | None
    ) -> aiohttp.ClientTimeout:
        """Queue for a pooled connection within ``timeout.total``; return what is left of it."""
        started = time.perf_counter()
        total = timeout.total
        try:
            if total is None:
                await gate.enter()
            else:
                await asyncio.wait_for(gate.enter(), total)
        except asyncio.TimeoutError:
            raise APITimeoutError(
                f"Request timed out waiting {total:g} s for a free pooled connection "
                "(all max_connections are in use)."
            ) from None
        finally:
            if timings is not None:
                timings.pool_wait += time.perf_counter() - started
        if total is None:
            return timeout
        # The wait used part of the request's total time: aiohttp gets the rest.
        left = max(total - (time.perf_counter() - started), 0.001)
        return attrs.evolve(timeout, total=left)

    def pool_stats(self) -> PoolStats:
        """The running loop's pool: connections in use, idle, the limit, and waiters."""
        if self._user_session is not None:
            connector = self._user_session.connector
            return _connector_stats(connector, None)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # asked outside any loop (a script's top level): no pool there yet
        pool = self._pools.get(loop) if loop is not None else None
        if pool is None:
            return PoolStats(in_use=0, idle=0, limit=self.max_connections, waiting=0)
        return _connector_stats(pool.session.connector, pool.gate)

    async def close(self) -> None:
        """Close the pool of the running loop and forget every other loop's pool."""
        self.closed = True
        if self._user_session is not None:
            return  # the caller owns it
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        pools = list(self._pools.items())
        self._pools.clear()
        self._last = None
        for pool_loop, pool in pools:
            # Requests queued for a connection end now, like those in flight.
            if pool_loop is loop:
                pool.gate.fail_waiters(closed_error)
                await pool.guard.aclose()
            elif not pool_loop.is_closed() and pool_loop.is_running():
                # Another live loop (another thread): close it there.
                pool_loop.call_soon_threadsafe(pool.gate.fail_waiters, closed_error)
                asyncio.run_coroutine_threadsafe(pool.guard.aclose(), pool_loop)
