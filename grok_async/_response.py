"""An HTTP response whose body is still on the wire (streams) or already read, and the
translation of aiohttp's exceptions into grok_async's (used here and by ``_transport``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import aiohttp
from multidict import CIMultiDictProxy

from ._constants import DONE_GRACE
from ._errors import APIConnectionError, APIResponseValidationError, APITimeoutError, GrokError
from ._pool import PoolGate
from ._watchdog import Watch

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._events import Call, Timings

__all__ = ["CONNECTION_ERRORS", "HTTPResponse", "closed_error", "connection_error"]

logger = logging.getLogger("grok_async")


def connection_error(exc: BaseException) -> APIConnectionError:
    """Translate an aiohttp / OS / timeout exception into ours."""
    # aiohttp raises its own ServerTimeoutError (a TimeoutError) for sock_read/sock_connect
    # (and the read-timeout watchdog sets one on a stalled body), and a bare
    # asyncio.TimeoutError when ClientTimeout.total runs out.
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        detail = str(exc)
        return APITimeoutError(f"Request timed out{': ' + detail if detail else ''}.")
    detail = str(exc) or type(exc).__name__
    return APIConnectionError(f"Connection error ({type(exc).__name__}): {detail}")


def closed_error() -> GrokError:
    # Not an APIConnectionError: that would be retried, and this never heals.
    return GrokError("This AsyncGrok client is closed; create a new one.")


CONNECTION_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


class HTTPResponse:
    """An HTTP response whose body is still on the wire (streams) or already read.

    Its pooled connection is given back (``read`` to the end, ``finish`` or ``close``)
    exactly once, together with its place in the pool's gate.
    """

    __slots__ = (
        "_gate",
        "_response",
        "_watch",
        "body",
        "call",
        "headers",
        "reason",
        "request_id",
        "settle",
        "started",
        "status",
        "time_to_headers",
        "timings",
    )

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        gate: PoolGate | None,
        time_to_headers: float,
        watch: Watch | None = None,
    ) -> None:
        self._response = response
        self._gate = gate
        # The read timeout's watch, moved on from the headers to the body.
        self._watch = watch
        if watch is not None:
            watch.response = response
            watch.waiting = False
        self.status: int = response.status
        self.reason: str | None = response.reason
        self.headers: CIMultiDictProxy[str] = response.headers
        self.request_id: str | None = response.headers.get("x-request-id")
        #: Seconds from sending the request to these headers.
        self.time_to_headers = time_to_headers
        #: The whole body once read (``AsyncGrok.request`` reads it; streams never do).
        self.body = b""
        #: Set by the client: the call's timings, its start (``perf_counter``), and its
        #: record when observed (for streams' hooks).
        self.timings: Timings | None = None
        self.started = 0.0
        self.call: Call | None = None
        #: Set by the client for a call paced from a model's budgets: a stream calls it
        #: with its usage's ``total_tokens`` to correct the estimate the call was paced by.
        self.settle: Callable[[object], None] | None = None

    def _release(self) -> None:
        watch = self._watch
        if watch is not None:
            self._watch = None
            watch.stop()
        gate = self._gate
        if gate is not None:
            self._gate = None
            if gate.waiters:
                gate.leave()  # hand the place to the next in line
            else:
                gate.in_use -= 1  # leave()'s common case, inline: this runs per request

    async def read(self, limit: int) -> bytes:
        """The whole body, refusing more than ``limit`` bytes; always releases the connection."""
        response = self._response
        if self._watch is not None:
            self._watch.wait()
        try:
            length = response.content_length
            if length is not None and length <= limit:
                if self._gate is None:
                    # The caller's session (the gate is ours): its trace hooks see the body.
                    return await response.read()
                # The body itself, not ClientResponse.read(): that adds trace hooks (our
                # session has none) and a wait for the request writer, which release()
                # below takes care of.
                return await response.content.read()
            return await self._read_limited(limit)
        except CONNECTION_ERRORS as exc:
            error = connection_error(exc)
        finally:
            response.release()
            self._release()
        raise error  # outside the except: the aiohttp exception is not chained

    async def _read_limited(self, limit: int) -> bytes:
        parts = bytearray()
        async for chunk in self._response.content.iter_any():
            parts += chunk
            if len(parts) > limit:
                self._response.close()
                raise APIResponseValidationError(
                    f"The response body exceeds the {limit:,}-byte limit (max_response_size).",
                    status_code=self.status,
                )
        return bytes(parts)

    async def read_chunk(self) -> bytes:
        """The next piece of the body as it arrives; ``b""`` at its end. Errors translated."""
        watch = self._watch
        if watch is not None:
            watch.wait()
        try:
            return await self._response.content.readany()
        except CONNECTION_ERRORS as exc:
            error = connection_error(exc)
        finally:
            if watch is not None:
                watch.waiting = False
        raise error

    async def finish(self) -> None:
        """The caller has all it wants: keep the connection if the body ends within
        ``DONE_GRACE``.

        After ``[DONE]`` the body's terminator is normally already here or a moment away;
        waiting that moment saves a new TCP/TLS handshake for the next request, but a
        server that keeps the body open does not get to hold us.
        """
        if not self._response.content.is_eof():
            try:
                await asyncio.wait_for(self._drain(), DONE_GRACE)
            except CONNECTION_ERRORS:  # includes the grace running out
                self.close()
                return
        self._response.release()
        self._release()

    async def _drain(self) -> None:
        while await self._response.content.readany():
            pass

    def close(self) -> None:
        """Drop the connection at once without draining the body (not reused by the pool)."""
        self._response.close()
        self._release()
