"""``EventStream``: SSE bytes → typed items, for any streamed endpoint.

What a protocol adds lives with it: the chat stream (``AsyncStream``, with its
accumulator and ``get_final_completion()``) in ``_chat_stream``, the Responses stream in
``_responses_stream``. This module knows neither.

Reading: the body is read in whatever pieces arrive (``readany``), never with aiohttp's line
iterator (whose line limit breaks on large events), and fed to the incremental
:class:`~grok_async._sse.SSEDecoder`. Each ``data`` payload is parsed with orjson and
structured by the converter's generated function for the chunk class.

Releasing: the connection goes back to the pool only after ``[DONE]`` and the end of the
body; every other ending (break, ``aclose()``, ``async with`` exit, cancellation, an error,
garbage collection) closes it at once without draining, so a long stream is never read to
its end just to be thrown away.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

import orjson

from ._constants import DEFAULT_MAX_EVENT_SIZE, MAX_ERROR_BODY
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    GrokError,
)
from ._events import Call, StreamOutcome, Timings
from ._response import HTTPResponse
from ._serialization import converter, describe_structure_error
from ._sse import RawEvent, SSEDecoder
from ._status import status_error

__all__ = ["EventStream", "StreamManager"]

T = TypeVar("T")

_DONE = b"[DONE]"


def _error_event(payload: dict[str, Any], data: bytes, request_id: str | None) -> APIStatusError:
    """The exception for a JSON ``{"error": ...}`` event sent in the middle of a stream.

    The event's own text is the body (re-encoding ``payload`` could fail: orjson parses
    deeper nesting than it writes).
    """
    error = payload.get("error")
    status = payload.get("status")
    if isinstance(error, dict):
        status = error.get("status", status)
        if status is None and isinstance(error.get("code"), int):
            status = error["code"]
    if not isinstance(status, int) or not 400 <= status <= 599:
        status = 500  # the server failed after it had answered 200
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # The event was parsed from its lenient text (U+FFFD for bad bytes): so is the body.
        data = data.decode("utf-8", "replace").encode()
    return status_error(status, "error event in stream", data[:MAX_ERROR_BODY], {}, request_id)


class EventStream(Generic[T]):
    """An async iterator of the typed items of a streamed response; also an async context
    manager. The base of every stream (chat: :class:`AsyncStream`; Responses:
    :class:`~grok_async.ResponseStream`).

    ``request_id`` is known before the first item. Leave the ``async with`` block, call
    :meth:`aclose`, or let the stream be garbage-collected to free the connection at once.
    """

    # What a protocol's stream may change: whether the body may now end without [DONE]
    # (its own final event came), and what a premature end is reported as missing.
    _complete = False
    _end_marker = "[DONE]"

    def __init__(
        self,
        response: HTTPResponse,
        cls: type[T],
        *,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        self.response = response
        self.request_id: str | None = response.request_id
        self._structure: Callable[[Any, Any], T] = converter.get_structure_hook(cls)
        self._cls = cls
        self._decoder = SSEDecoder(max_event_size=max_event_size)
        self._events: list[RawEvent] = []
        self._next = 0
        self._finished = False
        self._failure: GrokError | None = None
        # Given each decoded item in order, if the protocol's stream assembles them (an
        # attribute rather than a method to override: it runs for every item).
        self._collect: Callable[[T], object] | None = None
        #: Attempts, pool wait, time to headers and first chunk; ``total`` grows until the
        #: stream ends.
        self.timings: Timings = response.timings or Timings()
        self._started: float = response.started
        # The record of an observed call (hooks, tracing), else None.
        self._call: Call | None = response.call
        # How the stream ended (the first ending counts), and whether observers were told.
        self._ending: tuple[StreamOutcome, BaseException | None] | None = None
        self._reported = False

    # -- iteration -----------------------------------------------------------------------------

    def __aiter__(self) -> EventStream[T]:
        return self

    async def __anext__(self) -> T:
        try:
            while True:
                if self._next < len(self._events):
                    event = self._events[self._next]
                    self._next += 1
                    data = event[1]
                    if not data:
                        continue
                    if data == _DONE:
                        await self._finish()
                        raise StopAsyncIteration
                    return self._decode_event(event)
                if self._finished:
                    if self._failure is not None:
                        # A stream that failed stays failed: it never looks like a clean end.
                        raise self._failure
                    raise StopAsyncIteration
                await self._read_events()
        except BaseException:
            # Every ending passes here (or through aclose): hooks run before it surfaces.
            await self._report()
            raise

    async def _read_events(self) -> None:
        oversized = self._decoder.error
        if oversized is not None:
            # An oversized event ended the last read: the events before it went out first.
            raise self._fail(
                APIResponseValidationError(
                    oversized.message, body=oversized.body, request_id=self.request_id
                )
            )
        try:
            piece = await self.response.read_chunk()
        except BaseException as exc:
            # Errors, and cancellation of the consuming task, free the connection now.
            if isinstance(exc, GrokError):
                if exc.request_id is None:
                    exc.request_id = self.request_id
                self._fail(exc)
            else:
                self._ended("cancelled", exc)
                self._fail(
                    GrokError("The stream was cancelled while reading; its connection is closed.")
                )
            raise
        if piece and self.timings.time_to_first_chunk is None:
            self.timings.time_to_first_chunk = time.perf_counter() - self._started
        if not piece:
            if self._complete:
                await self._finish()
                return
            raise self._fail(
                APIConnectionError(
                    f"The stream ended before {self._end_marker}: the server closed it early.",
                    request_id=self.request_id,
                )
            )
        try:
            self._events = self._decoder.feed_raw(piece)
        except GrokError as exc:
            raise self._fail(exc) from None
        self._next = 0

    def _bad_event(self, data: bytes | str, why: str) -> GrokError:
        """Fail the stream for an event that cannot be decoded (its text is kept)."""
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        return self._fail(
            APIResponseValidationError(
                f"A stream event {why}.", body=text[:2048], request_id=self.request_id
            )
        )

    def _load(self, data: bytes) -> Any:
        """An event's JSON; the stream fails with the event's text if it is not JSON."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            error = exc
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # orjson refuses invalid UTF-8 outright; the SSE standard decodes it leniently
            # (U+FFFD for each bad byte), so the event gets that chance too.
            text = data.decode("utf-8", "replace")
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                error = exc
        raise self._bad_event(text, f"is not valid JSON ({error})") from None

    def _fail(self, error: GrokError) -> GrokError:
        """Close the stream for good, remembering why (later reads raise it again)."""
        self._ended("failed", error)
        self._close()
        if self._failure is None:
            self._failure = error
        return error

    async def _finish(self) -> None:
        """After ``[DONE]``: hand the connection back to the pool (or close it)."""
        self._finished = True
        self._events = []
        try:
            await self.response.finish()
        except BaseException as exc:
            # Cancelled while waiting for the body's end: the connection must not stay
            # checked out of the pool.
            self.response.close()
            self._ended("cancelled", exc)
            raise
        self._ended("exhausted", None)

    def _ended(self, outcome: StreamOutcome, error: BaseException | None) -> None:
        """Note how the stream ended (the first ending counts) and its total time."""
        if self._ending is None:
            self._ending = (outcome, error)
            self.timings.total = time.perf_counter() - self._started
            settle = self.response.settle
            if settle is not None:
                # The call was paced by an estimate of its tokens: now its usage tells.
                settle(self._usage_tokens())

    def _usage_tokens(self) -> int | None:
        """The ``total_tokens`` of the usage the stream carried, if its protocol says."""
        return None

    async def _report(self) -> None:
        """Tell hooks and tracing how the stream ended, once it has, once (observed only)."""
        call = self._call
        if call is None or self._ending is None or self._reported:
            return
        self._reported = True
        outcome, error = self._ending
        await call.observer.stream_ended(call, outcome, error, self.request_id, self._final)

    def _final(self) -> object:
        """What the stream assembled so far, for the span's usage and finish reasons (a
        protocol's stream knows; this one assembles nothing)."""
        return None

    def _is_error(self, payload: dict[str, Any]) -> bool:
        """Whether a JSON object with an ``"error"`` key is the server's error rather than
        an item (a protocol whose items may carry one says how to tell)."""
        return True

    def _decode_event(self, event: RawEvent) -> T:
        """The item of one non-empty event (a subclass may read its type, ``event[0]``)."""
        data = event[1]
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            payload = self._load(data)  # the lenient retry, or the stream fails
        if payload.__class__ is dict and "error" in payload and self._is_error(payload):
            raise self._fail(_error_event(payload, data, self.request_id))
        try:
            chunk = self._structure(payload, self._cls)
        except Exception as exc:
            raise self._bad_event(
                data, f"did not match {self._cls.__name__}: {describe_structure_error(exc)}"
            ) from None
        collect = self._collect
        if collect is not None:
            collect(chunk)
        if self.request_id is None:
            # No x-request-id header: the response id identifies the request instead.
            self.request_id = getattr(chunk, "id", None) or None
        return chunk

    # -- closing -------------------------------------------------------------------------------

    def _close(self) -> None:
        if not self._finished:
            self._finished = True
            self._ended("closed", None)
            self.response.close()
        self._events = []

    async def aclose(self) -> None:
        """Stop reading and close the connection without draining the body. Idempotent."""
        self._close()
        await self._report()

    async def __aenter__(self) -> EventStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # A stream dropped without closing must not hold its pooled connection.
        if not getattr(self, "_finished", True):
            try:
                self._close()
            except Exception:  # the loop may already be closed; nothing left to free
                pass
        ending = getattr(self, "_ending", None)
        call = getattr(self, "_call", None)
        if ending is not None and call is not None and not self._reported:
            self._reported = True
            # No await in a finaliser: the hooks run as a task on the loop.
            call.observer.stream_ended_soon(
                call, ending[0], ending[1], self.request_id, self._final
            )


S = TypeVar("S", bound="EventStream[Any]")


class StreamManager(Generic[S]):
    """``async with`` it for a stream that is closed when the block ends.

    The request is sent on entering the block, not before, so a manager that is never
    entered costs nothing.
    """

    def __init__(self, open_stream: Callable[[], Awaitable[S]]) -> None:
        self._open_stream = open_stream
        self._stream: S | None = None

    async def __aenter__(self) -> S:
        self._stream = await self._open_stream()
        return self._stream

    async def __aexit__(self, *exc_info: object) -> None:
        if self._stream is not None:
            await self._stream.aclose()
