"""The retry policy: what is retried, how long it waits, and that it stops."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest
from aiohttp import web

from grok_async import (
    APIConnectionError,
    AsyncGrok,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)
from grok_async._errors import APIStatusError
from grok_async._retry import backoff_delay, is_retryable, retry_after_header, wait_for
from grok_async.testing import FakeGrok, Fault, instant_retries

from .conftest import FAKE_KEY, LocalServer, completion_body

MESSAGES = [{"role": "user", "content": "Hi"}]


def _failing_then_ok(failures: int, status: int, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    async def handler(request: web.Request) -> web.StreamResponse:
        calls["n"] += 1
        if calls["n"] <= failures:
            return web.json_response(
                {"code": "x", "error": f"failure {calls['n']}"}, status=status, headers=headers
            )
        return web.json_response(completion_body())

    return handler


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried(
    server: LocalServer, no_backoff: list[float], status: int
) -> None:
    """408, 409, 429 and 5xx are retried until the call succeeds."""
    server.handler = _failing_then_ok(2, status)
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=2) as client:
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert reply.choices[0].message.content == "Hello!"
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_4xx_are_not_retried(
    server: LocalServer, no_backoff: list[float], status: int
) -> None:
    """A client error is final: one request, no retry."""
    server.handler = _failing_then_ok(5, status)
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=3) as client:
        with pytest.raises(APIStatusError):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert len(server.requests) == 1


async def test_5xx_exhausted_raises_the_last_error(
    server: LocalServer, no_backoff: list[float]
) -> None:
    """After max_retries the last server error surfaces (never a tenacity.RetryError)."""
    server.handler = _failing_then_ok(10, 500)
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=3) as client:
        with pytest.raises(InternalServerError, match="failure 4"):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert len(server.requests) == 4
    # Exponential ceilings 0.5, 1, 2: every jittered wait stays under its ceiling. (Newer
    # tenacity also computes a wait after the final attempt, which is never slept.)
    assert len(no_backoff) >= 3
    assert all(c / 2 <= w <= c for w, c in zip(no_backoff, [0.5, 1.0, 2.0, 4.0], strict=False))


async def test_per_call_max_retries_overrides_the_client(
    server: LocalServer, no_backoff: list[float]
) -> None:
    """max_retries= on a call replaces the client's setting for that call only."""
    server.handler = _failing_then_ok(10, 503)
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=5) as client:
        with pytest.raises(InternalServerError):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES, max_retries=0)
        assert len(server.requests) == 1
        with pytest.raises(InternalServerError):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES, max_retries=1)
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"retry-after-ms": "300"}, id="retry-after-ms"),
        pytest.param({"Retry-After": "0.3"}, id="retry-after-seconds"),
    ],
)
async def test_429_waits_as_the_server_asks(server: LocalServer, headers: dict[str, str]) -> None:
    """A 429 with retry-after-ms / Retry-After waits that long (checked loosely), then succeeds."""
    server.handler = _failing_then_ok(1, 429, headers)
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        start = time.monotonic()
        await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        elapsed = time.monotonic() - start
    assert len(server.requests) == 2
    assert 0.25 <= elapsed < 2.0


async def test_429_exhausted_is_a_rate_limit_error(server: LocalServer) -> None:
    """When every attempt is rate-limited, RateLimitError carries the last response."""
    server.handler = _failing_then_ok(10, 429, {"retry-after-ms": "10"})
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=2) as client:
        with pytest.raises(RateLimitError) as info:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert info.value.status_code == 429
    assert len(server.requests) == 3


def test_retry_after_parsing() -> None:
    """ms win over seconds; HTTP dates work; the wait is capped at 60 s; junk is ignored."""
    now = time.time()
    assert retry_after_header({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_header({"retry-after": "2"}) == 2.0
    date = email.utils.formatdate(now + 10, usegmt=True)
    parsed = retry_after_header({"retry-after": date}, now=now)
    assert parsed is not None and 8.5 <= parsed <= 10.5
    assert retry_after_header({"retry-after": "3600"}) == 60.0
    assert retry_after_header({"retry-after": "-5"}) == 0.0
    assert retry_after_header({"retry-after": "soon"}) is None
    assert retry_after_header({"retry-after-ms": "x"}) is None
    assert retry_after_header({}) is None


def test_backoff_is_exponential_with_equal_jitter() -> None:
    """The n-th wait is uniform in [c/2, c] with c = min(8, 0.5 * 2**(n-1)): never ~0."""
    for n, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        waits = [backoff_delay(n) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert max(waits) - min(waits) > ceiling * 0.25  # jittered, not a constant


def test_wait_prefers_the_servers_header() -> None:
    """A status error with Retry-After waits that long instead of the backoff."""
    exc = RateLimitError("slow down", status_code=429, headers={"retry-after": "4"})
    assert wait_for(exc, 1) == 4.0
    assert 0.25 <= wait_for(APIConnectionError(), 1) <= 0.5


def test_what_is_retryable() -> None:
    """Connection errors and 408/409/429/5xx yes; other 4xx and non-grok errors no."""
    assert is_retryable(APIConnectionError())
    assert is_retryable(InternalServerError("x", status_code=500))
    assert is_retryable(APIStatusError("x", status_code=408))
    assert not is_retryable(BadRequestError("x", status_code=400))
    assert not is_retryable(asyncio.CancelledError())
    assert not is_retryable(ValueError())


async def test_cancellation_is_not_retried(server: LocalServer, no_backoff: list[float]) -> None:
    """Cancelling a call mid-request cancels it: no further attempt reaches the server."""
    arrived = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        arrived.set()
        await asyncio.sleep(5)
        return web.json_response(completion_body())

    server.handler = slow
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=3) as client:
        task = asyncio.create_task(
            client.chat.completions.create(model="grok-4", messages=MESSAGES)
        )
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.1)
    assert len(server.requests) == 1


async def test_cancellation_during_a_retry_wait(server: LocalServer) -> None:
    """A call cancelled while waiting to retry stops there: no second request."""
    server.handler = _failing_then_ok(5, 429, {"retry-after": "5"})
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=3) as client:
        task = asyncio.create_task(
            client.chat.completions.create(model="grok-4", messages=MESSAGES)
        )
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(server.requests) == 1


async def test_fan_out_rate_limits_do_not_spend_the_retry_budget(server: LocalServer) -> None:
    """Under create_many a 429 means 'wait your turn': it does not use up max_retries,
    while the same 429s end a plain call after max_retries."""
    server.handler = _failing_then_ok(5, 429, {"retry-after-ms": "1"})
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=1) as client:
        with pytest.raises(RateLimitError):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        assert len(server.requests) == 2
        results = await client.chat.completions.create_many(
            [{"model": "grok-4", "messages": MESSAGES}]
        )
    assert results[0].choices[0].message.content == "Hello!"
    assert len(server.requests) == 6


async def test_instant_retries_is_the_public_switch_for_tests(fake_grok: FakeGrok) -> None:
    """grok_async.testing.instant_retries(): retries happen at once, as many as without
    it, and the waits that were skipped (a Retry-After, a backoff) are recorded."""
    fake_grok.enqueue(Fault.status(503, retry_after=30.0), Fault.status(500))
    async with AsyncGrok("k", base_url=fake_grok.base_url, max_retries=2) as client:
        started = time.monotonic()
        with instant_retries() as waits:
            answer = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        assert time.monotonic() - started < 5.0
    assert answer.choices
    assert len(waits) == 2
    assert waits[0] == pytest.approx(30.0)  # the server's Retry-After, not slept
    assert 0.5 <= waits[1] <= 1.0  # the second attempt's backoff step, with jitter
    assert fake_grok.stats.requests == 3
