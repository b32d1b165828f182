"""The read timeout (``Timeout(read=...)``), enforced by the loop's ``ReadWatchdog``.

Against real servers on 127.0.0.1: silence before the headers, mid-body and mid-stream
times out; a trickle, a slow consumer and ``read=None`` do not; outside cancellations stay
cancellations; calls with different read timeouts do not disturb each other. Plus unit
tests of the watchdog's scheduling (idling, checking sooner for a shorter timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from grok_async import (
    APITimeoutError,
    AsyncGrok,
    AsyncStream,
    ChatCompletion,
    ChatCompletionChunk,
    Timeout,
)
from grok_async._response import HTTPResponse
from grok_async._watchdog import ReadWatchdog
from grok_async.testing import FakeGrok, Fault

from .conftest import FAKE_KEY, Handler, LocalServer, completion_body, sse, wait_until
from .leakcheck import pool_in_use

MODEL = "grok-4"
MESSAGES = [{"role": "user", "content": "Hi"}]

READ = 0.2  # the read timeout of most tests here
HOLD = 3.0  # how long a stalled handler waits at most (released at the end of each test)


def late_bound(read: float) -> float:
    """The latest a read timeout may fire, with room for a loaded machine: it is promised
    at most ``read / 8`` late."""
    return read * 1.25 + 0.15


def watchdog_of(client: AsyncGrok) -> ReadWatchdog:
    """The read-timeout watchdog of the running loop's pool."""
    return client._transport._pools[asyncio.get_running_loop()].watchdog


def client_for(base_url: str, read: float | None = READ, **options: Any) -> AsyncGrok:
    return AsyncGrok(
        FAKE_KEY, base_url=base_url, timeout=Timeout(read=read), max_retries=0, **options
    )


def call(client: AsyncGrok, **kwargs: Any) -> Awaitable[ChatCompletion]:
    return client.chat.completions.create(model=MODEL, messages=MESSAGES, **kwargs)


async def open_stream(client: AsyncGrok) -> AsyncStream[ChatCompletionChunk]:
    stream: AsyncStream[ChatCompletionChunk] = await client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True
    )
    return stream


def chunk(content: str | None = None, finish_reason: str | None = None) -> dict[str, Any]:
    """One ``chat.completion.chunk`` with a single choice."""
    delta = {} if content is None else {"content": content}
    choice: dict[str, Any] = {"index": 0, "delta": delta}
    if finish_reason is not None:
        choice["finish_reason"] = finish_reason
    return {
        "id": "chunk-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "choices": [choice],
    }


def contents(chunks: list[ChatCompletionChunk]) -> list[str | None]:
    return [c.choices[0].delta.content for c in chunks if c.choices]


async def start_sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    return response


def stalled(release: asyncio.Event, *, first_only: bool = False) -> Handler:
    """Send no headers until ``release`` (or ``HOLD`` s), then a completion.

    With ``first_only``, later requests are answered at once.
    """
    count = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal count
        count += 1
        if count == 1 or not first_only:
            # asyncio.TimeoutError: not the builtin one before Python 3.11.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(release.wait(), HOLD)
        return web.json_response(completion_body())

    return handler


async def raises_timeout_within(awaitable: Awaitable[object], read: float) -> float:
    """Await ``awaitable``; it must raise APITimeoutError no sooner than ``read`` seconds
    and not much later. Returns the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(APITimeoutError) as info:
        await awaitable
    elapsed = loop.time() - start
    assert isinstance(info.value, TimeoutError)
    assert read <= elapsed < late_bound(read), elapsed
    return elapsed


# -- 1. no headers within `read` ------------------------------------------------------------


async def test_no_headers_within_read_times_out_and_the_client_goes_on(
    fake_grok: FakeGrok,
) -> None:
    """No response headers within `read`: APITimeoutError after `read` s (not much later);
    the calling task is not left cancelled and the next call on the same client succeeds."""
    fake_grok.enqueue(Fault.stall(HOLD))
    async with client_for(fake_grok.base_url) as client:
        await raises_timeout_within(call(client), READ)
        task = asyncio.current_task()
        assert task is not None
        if sys.version_info >= (3, 11):
            assert task.cancelling() == 0  # the watchdog's cancellation was taken back
        await asyncio.sleep(0)  # a cancellation left pending would be raised here
        reply = await asyncio.wait_for(call(client), 2)
        assert reply.choices[0].message.content
        assert watchdog_of(client).watches == set()
        assert pool_in_use(client) == 0
    assert fake_grok.stats.requests == 2


# -- 2. headers, then the body stalls (non-streamed) ----------------------------------------


@pytest.mark.parametrize("sized", [True, False], ids=["content-length", "chunked"])
async def test_body_stalling_after_the_headers_times_out(server: LocalServer, sized: bool) -> None:
    """Headers and half the body arrive, then silence: APITimeoutError after `read` s, the
    connection is freed and the client goes on (both body-reading paths)."""
    release = asyncio.Event()
    body = orjson.dumps(completion_body())
    count = 0

    async def half_then_stall(request: web.Request) -> web.StreamResponse:
        nonlocal count
        count += 1
        if count > 1:
            return web.json_response(completion_body())
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        if sized:
            response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(release.wait(), HOLD)
        with contextlib.suppress(ConnectionResetError):  # the client hung up (it should)
            await response.write(body[len(body) // 2 :])
            await response.write_eof()
        return response

    server.handler = half_then_stall
    try:
        async with client_for(server.base_url) as client:
            await raises_timeout_within(call(client), READ)
            assert pool_in_use(client) == 0
            assert watchdog_of(client).watches == set()
            reply = await asyncio.wait_for(call(client), 2)
            assert reply.choices[0].message.content == "Hello!"
    finally:
        release.set()
    assert len(server.requests) == 2
    # The timed-out connection was dropped, not put back in the pool.
    assert len(set(server.peers)) == 2


# -- 3. a stream goes silent ----------------------------------------------------------------


async def test_stream_going_silent_times_out_after_its_chunks(fake_grok: FakeGrok) -> None:
    """Two chunks, then silence: iterating yields them, then raises APITimeoutError no sooner
    than `read` s after the last one; the connection is given back to the pool."""
    fake_grok.enqueue(Fault.stall_mid_stream(after_chunks=2, seconds=HOLD))
    loop = asyncio.get_running_loop()
    received: list[ChatCompletionChunk] = []
    arrived: list[float] = []
    async with client_for(fake_grok.base_url) as client:
        stream = await open_stream(client)

        async def consume() -> None:
            async for item in stream:
                received.append(item)
                arrived.append(loop.time())

        with pytest.raises(APITimeoutError):
            await consume()
        silence = loop.time() - arrived[-1]
        assert len(received) == 2
        assert READ <= silence < late_bound(READ), silence
        assert client.pool_stats().in_use == 0
        assert pool_in_use(client) == 0
        assert watchdog_of(client).watches == set()
        with pytest.raises(APITimeoutError):  # a failed stream stays failed
            await anext(stream)
        reply = await asyncio.wait_for(call(client), 2)
        assert reply.choices[0].message.content
    assert fake_grok.stats.requests == 2


# -- 4. a trickle is not silence ------------------------------------------------------------

TRICKLE_READ = 0.15
TRICKLE_TICKS = 8  # one every read/3 s: 0.4 s in all, more than 2 * read


async def _trickle_body(request: web.Request) -> web.StreamResponse:
    """Non-streamed: a byte of JSON whitespace every read/3 s, then the completion."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    for _ in range(TRICKLE_TICKS):
        await response.write(b" ")
        await asyncio.sleep(TRICKLE_READ / 3)
    await response.write(orjson.dumps(completion_body()))
    await response.write_eof()
    return response


async def _trickle_stream(request: web.Request) -> web.StreamResponse:
    """Streamed: an SSE comment line every read/3 s (no chunk for the consumer), then the
    answer."""
    response = await start_sse(request)
    for _ in range(TRICKLE_TICKS):
        await response.write(b": keep-alive\n\n")
        await asyncio.sleep(TRICKLE_READ / 3)
    await response.write(sse(chunk("Hello!"), chunk(finish_reason="stop")))
    await response.write_eof()
    return response


async def _read_whole(client: AsyncGrok) -> str | None:
    reply = await call(client)
    return reply.choices[0].message.content


async def _read_stream(client: AsyncGrok) -> str | None:
    stream = await open_stream(client)
    return "".join(text or "" for text in contents([item async for item in stream]))


@pytest.mark.parametrize(
    ("handler", "read_reply"),
    [
        pytest.param(_trickle_body, _read_whole, id="body"),
        pytest.param(_trickle_stream, _read_stream, id="stream"),
    ],
)
async def test_a_trickle_is_never_timed_out(
    server: LocalServer,
    handler: Handler,
    read_reply: Callable[[AsyncGrok], Awaitable[str | None]],
) -> None:
    """Data every read/3 s for more than 2 * read: the call completes (silence, not the
    body's whole time, is limited)."""
    server.handler = handler
    loop = asyncio.get_running_loop()
    async with client_for(server.base_url, read=TRICKLE_READ) as client:
        start = loop.time()
        assert await read_reply(client) == "Hello!"
        assert loop.time() - start > 2 * TRICKLE_READ
        assert pool_in_use(client) == 0


# -- 5. a slow consumer is not silence ------------------------------------------------------


async def test_a_slow_consumer_is_never_timed_out(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server sends the whole stream at once; the consumer takes 2 * read per chunk.
    The client still has to read more of the body after its pauses (1 MB chunks, more than
    aiohttp buffers): time spent by the consumer is not silence, so the stream completes."""
    read = 0.1
    pieces = ["a" * 1_000_000, "b" * 1_000_000, "c" * 1_000_000]
    body = sse(*(chunk(piece) for piece in pieces), chunk(finish_reason="stop"))
    sent = asyncio.Event()

    async def all_at_once(request: web.Request) -> web.StreamResponse:
        response = await start_sse(request)
        await response.write(body)
        await response.write_eof()
        sent.set()
        return response

    # Which reads of the body came right after one of the consumer's pauses (and so
    # would have met a watchdog that counted the pause as silence).
    paused = False
    reads_after_a_pause: list[int] = []
    read_chunk = HTTPResponse.read_chunk

    async def noting_read_chunk(self: HTTPResponse) -> bytes:
        nonlocal paused
        after_a_pause, paused = paused, False
        data = await read_chunk(self)
        if after_a_pause:
            reads_after_a_pause.append(len(data))
        return data

    monkeypatch.setattr(HTTPResponse, "read_chunk", noting_read_chunk)
    server.handler = all_at_once
    received: list[ChatCompletionChunk] = []
    async with client_for(server.base_url, read=read) as client:
        stream = await open_stream(client)
        await asyncio.wait_for(sent.wait(), 2)
        async for item in stream:
            received.append(item)
            await asyncio.sleep(2 * read)
            paused = True
        assert pool_in_use(client) == 0
    assert contents(received) == [*pieces, None]
    assert any(size > 0 for size in reads_after_a_pause)  # the case was exercised


# -- 6. outside cancellations stay cancellations ----------------------------------------------


async def _cancel_the_task(pending: Awaitable[ChatCompletion], server: LocalServer) -> None:
    task = asyncio.ensure_future(pending)
    assert await wait_until(lambda: len(server.requests) == 1)
    task.cancel()
    await task


async def _wait_for_shorter(pending: Awaitable[ChatCompletion], server: LocalServer) -> None:
    await asyncio.wait_for(pending, 0.1)


async def _asyncio_timeout(pending: Awaitable[ChatCompletion], server: LocalServer) -> None:
    if sys.version_info >= (3, 11):  # the case is skipped before 3.11
        async with asyncio.timeout(0.1):
            await pending


@pytest.mark.parametrize(
    ("cancel", "expected"),
    [
        pytest.param(_cancel_the_task, asyncio.CancelledError, id="task.cancel"),
        pytest.param(_wait_for_shorter, asyncio.TimeoutError, id="wait_for"),
        pytest.param(
            _asyncio_timeout,
            asyncio.TimeoutError,
            id="asyncio.timeout",
            marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="new in Python 3.11"),
        ),
    ],
)
async def test_an_outside_cancellation_is_not_a_read_timeout(
    server: LocalServer,
    cancel: Callable[[Awaitable[ChatCompletion], LocalServer], Awaitable[None]],
    expected: type[BaseException],
) -> None:
    """Cancelling a call that waits for headers (read timeout 5 s) raises the canceller's
    own error, never APITimeoutError; the watch and the connection are given up."""
    release = asyncio.Event()
    server.handler = stalled(release)
    loop = asyncio.get_running_loop()
    try:
        async with client_for(server.base_url, read=5.0) as client:
            start = loop.time()
            with pytest.raises(expected) as info:
                await cancel(call(client), server)
            assert not isinstance(info.value, APITimeoutError)
            assert loop.time() - start < 2.0
            task = asyncio.current_task()
            assert task is not None
            if sys.version_info >= (3, 11):
                assert task.cancelling() == 0
            assert watchdog_of(client).watches == set()
            assert pool_in_use(client) == 0
    finally:
        release.set()


def _busy(seconds: float) -> None:
    """Block the event loop, as CPU-bound work in a callback would."""
    time.sleep(seconds)


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="Python 3.10 keeps no cancellation count: the two cannot be told apart",
)
async def test_an_outside_cancellation_due_with_the_check_is_not_swallowed(
    server: LocalServer, no_backoff: list[float]
) -> None:
    """An outside task.cancel() that becomes due in the same loop iteration as an overdue
    check (a busy loop) must still end the call with CancelledError: not APITimeoutError,
    and never a retry that carries on as if nothing had been cancelled."""
    release = asyncio.Event()
    server.handler = stalled(release, first_only=True)
    loop = asyncio.get_running_loop()
    try:
        async with AsyncGrok(
            FAKE_KEY, base_url=server.base_url, timeout=Timeout(read=0.1), max_retries=2
        ) as client:
            task = asyncio.ensure_future(call(client))
            assert await wait_until(lambda: len(server.requests) == 1)
            await asyncio.sleep(0.03)  # a check has seen the watch since the request left
            watchdog = watchdog_of(client)
            (watch,) = watchdog.watches
            handle = watchdog._handle
            assert handle is not None
            # Due just before the watchdog's next check; the loop is then busy past both
            # and past the read timeout, so the two run back to back.
            loop.call_at(handle.when() - 0.001, task.cancel)
            _busy(0.15)
            with pytest.raises(asyncio.CancelledError):
                await task
            assert watch.fired  # the check did run, and fire, along with the cancel
            assert len(server.requests) == 1  # not retried
            assert pool_in_use(client) == 0
    finally:
        release.set()


# -- 7. read=None: no read timeout --------------------------------------------------------


@pytest.mark.parametrize("no_read", [None, 0], ids=["None", "zero"])
async def test_no_read_timeout_waits_through_a_long_stall(
    server: LocalServer, no_read: float | None
) -> None:
    """Timeout(read=None) (or 0) registers no watch: a 0.4 s stall completes, while a call
    with read=0.1 on the same client, stalled alongside it, times out."""

    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.4)
        return web.json_response(completion_body())

    server.handler = slow
    loop = asyncio.get_running_loop()
    async with client_for(server.base_url, read=no_read) as client:
        patient = asyncio.ensure_future(call(client))
        assert await wait_until(lambda: len(server.requests) == 1)
        start = loop.time()
        short = asyncio.ensure_future(call(client, timeout=Timeout(read=0.1)))
        assert await wait_until(lambda: len(server.requests) == 2)
        assert len(watchdog_of(client).watches) == 1  # only the short call's
        with pytest.raises(APITimeoutError):
            await short
        assert 0.1 <= loop.time() - start < late_bound(0.1)
        assert not patient.done()
        reply = await asyncio.wait_for(patient, 2)
        assert reply.choices[0].message.content == "Hello!"
        assert pool_in_use(client) == 0


# -- 8. the watchdog itself -------------------------------------------------------------------


def scheduled(watchdog: ReadWatchdog) -> bool:
    """Whether a check of ``watchdog`` is scheduled (a timer is pending on the loop)."""
    return watchdog._handle is not None


async def test_watchdog_idles_without_watches_and_restarts() -> None:
    """Checks run while there are watches; after the last one stops and one more check
    runs, no timer stays scheduled; a new watch starts the checks again."""
    watchdog = ReadWatchdog()
    assert not scheduled(watchdog)
    watch = watchdog.watch(0.08)  # checks every 10 ms
    watch.waiting = False  # headers are here and nobody reads: never fires
    assert scheduled(watchdog)
    await asyncio.sleep(0.05)  # several checks ran
    assert scheduled(watchdog)  # and each scheduled the next
    watch.stop()
    assert await wait_until(lambda: not scheduled(watchdog), timeout=0.5)
    await asyncio.sleep(0.05)
    assert not scheduled(watchdog)  # still idle: nothing was rescheduled
    again = watchdog.watch(0.08)
    assert scheduled(watchdog)
    again.stop()
    assert await wait_until(lambda: not scheduled(watchdog), timeout=0.5)


async def test_a_shorter_read_makes_the_checks_run_sooner() -> None:
    """With a read=100 watch checked every 12.5 s, a read=0.1 watch still fires within
    about 0.1 s: the checks are rescheduled for it. Its cancellation is the watch's own."""
    watchdog = ReadWatchdog()
    loop = asyncio.get_running_loop()
    long = watchdog.watch(100.0)
    handle = watchdog._handle
    assert handle is not None
    assert handle.when() - loop.time() > 10

    async def wait_forever() -> str:
        watch = watchdog.watch(0.1)
        try:
            await loop.create_future()
        except asyncio.CancelledError as exc:
            if watch.timed_out(exc):
                return "timed out"
            raise
        finally:
            watch.stop()
        return "never"

    start = loop.time()
    task = asyncio.ensure_future(wait_forever())
    assert await asyncio.wait_for(task, 1.0) == "timed out"
    assert 0.1 <= loop.time() - start < late_bound(0.1)
    if sys.version_info >= (3, 11):
        assert task.cancelling() == 0
    assert not long.fired
    assert watchdog.watches == {long}
    long.stop()
    assert await wait_until(lambda: not scheduled(watchdog), timeout=0.5)


async def test_a_new_watch_never_postpones_the_next_check() -> None:
    """A watch with a slightly shorter read, registered shortly before the next check is
    due, may bring that check forward but must not push it back (the others' timeouts
    are promised at most read/8 late)."""
    watchdog = ReadWatchdog()
    first = watchdog.watch(1.0)  # checked every 125 ms
    first.waiting = False  # never fires: this test is about when the checks run
    handle = watchdog._handle
    assert handle is not None
    due = handle.when()
    await asyncio.sleep(0.1)  # the check is due in 25 ms
    second = watchdog.watch(0.99)  # checked every 123.75 ms
    second.waiting = False
    try:
        handle = watchdog._handle
        assert handle is not None
        assert handle.when() <= due
    finally:
        first.stop()
        second.stop()
        if watchdog._handle is not None:
            watchdog._handle.cancel()


# -- 9. two read timeouts at once -----------------------------------------------------------


async def test_concurrent_calls_keep_their_own_read_timeouts(server: LocalServer) -> None:
    """Stalled server, read=5.0 sent first, then read=0.1: the short one times out near
    0.1 s while the long one is still waiting; released, the long one then succeeds."""
    release = asyncio.Event()
    server.handler = stalled(release)
    try:
        async with client_for(server.base_url, read=5.0) as client:
            long = asyncio.ensure_future(call(client))
            assert await wait_until(lambda: len(server.requests) == 1)
            await raises_timeout_within(call(client, timeout=Timeout(read=0.1)), 0.1)
            assert not long.done()
            release.set()
            reply = await asyncio.wait_for(long, 2)
            assert reply.choices[0].message.content == "Hello!"
            assert watchdog_of(client).watches == set()
            assert pool_in_use(client) == 0
    finally:
        release.set()


async def test_a_callers_session_queueing_for_a_connection_is_not_silence(
    server: LocalServer,
) -> None:
    """With ``session=``, requests may queue inside aiohttp for a connection: that wait is
    not the server's silence. aiohttp's own sock_read (started once a request is written)
    bounds the silence there, so four calls through a one-connection session, each
    answered in 0.6 x read, all succeed although the last waits 1.8 x read to be sent."""

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(READ * 0.6)
        return web.json_response(completion_body())

    server.handler = handler
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
    try:
        async with client_for(server.base_url, session=session) as client:
            replies = await asyncio.gather(*(call(client) for _ in range(4)))
            assert all(reply.choices for reply in replies)
    finally:
        await session.close()


async def test_a_callers_session_still_times_out_a_stall(server: LocalServer) -> None:
    """With ``session=``, a server that never answers still fails after ``read``."""
    release = asyncio.Event()
    server.handler = stalled(release)
    session = aiohttp.ClientSession()
    try:
        async with client_for(server.base_url, session=session) as client:
            await raises_timeout_within(call(client), READ)
    finally:
        release.set()
        await session.close()
