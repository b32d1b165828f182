"""The records of a call that the transport, the streams and the observers share.

A leaf module (it imports nothing of the package but what reads response headers), so
that the transport, the streams, hooks and tracing can all use these records without
depending on each other: :class:`Timings` (``result.timings``), :class:`PoolStats`,
:class:`HookEvent` (what a hook receives), and :class:`Call`, one observed call's identity.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

import attrs

__all__ = [
    "Call",
    "CallObserver",
    "HookEvent",
    "HookFn",
    "PoolStats",
    "StreamOutcome",
    "Timings",
    "status_of",
]

#: How a stream ended: read to its end, closed early (break, ``aclose()``, garbage
#: collection), cancelled while reading, or failed with an error.
StreamOutcome = Literal["exhausted", "closed", "cancelled", "failed"]

HookFn = Callable[["HookEvent"], "Awaitable[None] | None"]


@attrs.define(kw_only=True, slots=True)
class Timings:
    """How long a call took, in seconds (``result.timings``).

    ``total`` runs from the call until its result was ready: the body read and decoded, or
    for a stream, until the stream ended (it grows while the stream is read).
    ``pool_wait`` is the time spent waiting for a free pooled connection, summed over
    attempts; ``time_to_headers`` is the last attempt's time from sending to the response
    headers. ``time_to_first_chunk`` (streams only) runs from the call to the first bytes of
    the body. Retry waits are part of ``total`` only.
    """

    #: HTTP attempts made (1 when the first attempt succeeded).
    attempts: int = 1
    #: Seconds from the call to its result (for a stream: to its end, so far).
    total: float = 0.0
    #: Seconds spent waiting for a free pooled connection, all attempts together.
    pool_wait: float = 0.0
    #: Seconds from sending the last attempt to its response headers.
    time_to_headers: float = 0.0
    #: Streams only: seconds from the call to the first bytes of the body.
    time_to_first_chunk: float | None = None
    #: The server's own time to first token (``X-Metrics-Ttft-Ms``), in seconds, if sent.
    server_ttft: float | None = None
    #: The server's mean inter-token latency (``X-Metrics-Mean-Itl-Ms``), in seconds.
    server_itl: float | None = None
    #: The server's end-to-end time for the answer (``X-Metrics-E2e-Ms``), in seconds.
    server_e2e: float | None = None


@attrs.frozen(kw_only=True)
class HookEvent:
    """What a hook receives: a description of one step of a call, without its contents.

    Which fields are set depends on the hook:

    * ``on_request``: method, path, attempt.
    * ``on_response``: and status, request_id, ``elapsed`` (sending to headers), ``wait``
      (time spent waiting for a pooled connection before this attempt) and the server's
      own timings (``server_ttft``, ``server_itl``, ``server_e2e``); for an attempt that
      got no response, no status and its ``exception_type``.
    * ``on_retry``: the failed attempt's status (if any), ``exception_type``, request_id,
      ``elapsed`` since the call started, and ``wait``, the pause chosen before the next
      attempt.
    * ``on_error``: ``exception_type``, status, request_id, ``elapsed`` since the call
      started, ``attempt`` (attempts made).
    * ``on_stream_end``: ``outcome``, ``elapsed`` since the call started, request_id, and
      ``exception_type`` when the stream failed.
    """

    #: The HTTP method, e.g. ``"POST"``.
    method: str
    #: The path under the base URL, e.g. ``"/chat/completions"``.
    path: str
    #: The attempt number, from 1.
    attempt: int
    #: The HTTP status, when a response (or an error with one) was involved.
    status: int | None = None
    #: Seconds (see the class documentation for what each hook measures).
    elapsed: float | None = None
    #: Seconds waited: for a pooled connection (``on_response``) or before a retry.
    wait: float | None = None
    #: The ``x-request-id`` of the response, when known.
    request_id: str | None = None
    #: The class of the exception involved (``RateLimitError``, ``CancelledError``, ...).
    exception_type: type[BaseException] | None = None
    #: ``on_stream_end`` only: how the stream ended.
    outcome: StreamOutcome | None = None
    #: The model named in the request, when the call has one.
    model: str | None = None
    #: ``on_response`` only: the server's own timings of the attempt, in seconds, from its
    #: ``X-Metrics-Ttft-Ms``, ``-Mean-Itl-Ms`` and ``-E2e-Ms`` headers (None when not sent).
    server_ttft: float | None = None
    server_itl: float | None = None
    server_e2e: float | None = None


@attrs.frozen(kw_only=True)
class PoolStats:
    """The connection pool of the running event loop (``client.pool_stats()``)."""

    #: Connections checked out by requests and streams right now.
    in_use: int
    #: Open connections waiting in the pool for the next request (keep-alive).
    idle: int
    #: The most connections the pool opens (``max_connections``).
    limit: int
    #: Requests waiting for a connection to become free.
    waiting: int


class CallObserver(Protocol):
    """What the client and its streams tell about an observed call (``_observe.Observer``)."""

    def begin(self, call: Call) -> None: ...
    async def attempt(self, call: Call) -> None: ...
    async def response(self, call: Call, response: Any, pool_wait: float) -> None: ...
    async def no_response(self, call: Call, error: BaseException, pool_wait: float) -> None: ...
    async def retry(self, call: Call, error: BaseException, wait: float) -> None: ...
    async def failed(self, call: Call, error: BaseException) -> None: ...
    def succeeded(self, call: Call, result: object) -> None: ...
    async def stream_ended(
        self,
        call: Call,
        outcome: StreamOutcome,
        error: BaseException | None,
        request_id: str | None,
        final: Callable[[], object],
    ) -> None: ...
    def stream_ended_soon(
        self,
        call: Call,
        outcome: StreamOutcome,
        error: BaseException | None,
        request_id: str | None,
        final: Callable[[], object],
    ) -> None: ...


class Call:
    """One observed call's identity, for hooks and spans (internal; exists only when the
    client has hooks or tracing)."""

    __slots__ = ("loop", "method", "model", "observer", "path", "span", "started", "timings")

    def __init__(
        self,
        method: str,
        path: str,
        model: str | None,
        observer: CallObserver,
        timings: Timings,
        started: float,
    ) -> None:
        self.method = method
        self.path = path
        self.model = model
        self.observer = observer
        self.timings = timings
        self.started = started
        self.span: Any = None
        # A stream's finaliser runs its end hooks on this loop, from whatever thread.
        self.loop = asyncio.get_running_loop()

    @property
    def attempts(self) -> int:
        return self.timings.attempts

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def event(self, **fields: Any) -> HookEvent:
        """A hook event about this call (method, path, model, attempts so far) and ``fields``."""
        return HookEvent(
            method=self.method, path=self.path, attempt=self.attempts, model=self.model, **fields
        )

    def error_event(self, error: BaseException, **fields: Any) -> HookEvent:
        """An event about ``error``: its class, status and request id, and the time so far."""
        return self.event(
            status=status_of(error),
            elapsed=self.elapsed(),
            request_id=getattr(error, "request_id", None),
            exception_type=type(error),
            **fields,
        )


def status_of(exc: BaseException | None) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None
