"""create_many / iter_many: order, bounds, failures, laziness, cancellation, rate limits."""

from __future__ import annotations

import asyncio
import gc
import itertools
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any

import pytest
from aiohttp import web

from grok_async import (
    APIConnectionError,
    AsyncGrok,
    BadRequestError,
    ChatCompletion,
    FanOutStats,
    GrokError,
    InternalServerError,
    RateLimitError,
)
from grok_async._ratecontrol import AdaptiveLimiter, attempt_counter

from .conftest import FAKE_KEY, LocalServer, client_tasks, completion_body


def request(i: int) -> dict[str, Any]:
    return {"model": "grok-4", "messages": [{"role": "user", "content": f"#{i}"}]}


async def echo(request: web.Request) -> web.StreamResponse:
    """Answers with the prompt, after a small random delay so completion order varies."""
    body = await request.json()
    await asyncio.sleep(random.uniform(0, 0.01))
    return web.json_response(completion_body(body["messages"][0]["content"]))


async def test_results_come_back_in_request_order(server: LocalServer) -> None:
    """create_many returns result i for request i, whatever order they finished in."""
    server.handler = echo
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        results = await client.chat.completions.create_many(
            [request(i) for i in range(200)], concurrency=16
        )
    assert [r.choices[0].message.content for r in results if isinstance(r, ChatCompletion)] == [
        f"#{i}" for i in range(200)
    ]


async def test_iter_many_yields_every_index_once(server: LocalServer) -> None:
    """iter_many yields each (index, result) exactly once, in completion order."""
    server.handler = echo
    seen: dict[int, str | None] = {}
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        async for index, result in client.chat.completions.iter_many(
            (request(i) for i in range(150)), concurrency=32
        ):
            assert index not in seen
            assert isinstance(result, ChatCompletion)
            seen[index] = result.choices[0].message.content
    assert seen == {i: f"#{i}" for i in range(150)}


async def test_concurrency_bounds_requests_in_flight(server: LocalServer) -> None:
    """The server never sees more than `concurrency` requests at once."""

    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.02)
        return web.json_response(completion_body())

    server.handler = slow
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        await client.chat.completions.create_many([request(i) for i in range(100)], concurrency=7)
    assert server.max_in_flight == 7
    assert len(server.requests) == 100


async def test_return_exceptions_puts_errors_in_place(server: LocalServer) -> None:
    """With return_exceptions=True a failed request's exception sits at its index."""

    async def reject_odd(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        n = int(body["messages"][0]["content"][1:])
        if n % 2:
            return web.json_response({"code": "bad", "error": f"odd {n}"}, status=400)
        return web.json_response(completion_body(f"#{n}"))

    server.handler = reject_odd
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        results = await client.chat.completions.create_many(
            [request(i) for i in range(20)], concurrency=4, return_exceptions=True
        )
    for i, result in enumerate(results):
        if i % 2:
            assert isinstance(result, BadRequestError)
            assert f"odd {i}" in str(result)
        else:
            assert isinstance(result, ChatCompletion)


async def test_first_error_raises_and_cancels_the_rest(server: LocalServer) -> None:
    """Without return_exceptions the first failure is raised and no task is left behind."""

    async def fail_fifth(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body["messages"][0]["content"] == "#5":
            return web.json_response({"code": "bad", "error": "five"}, status=400)
        await asyncio.sleep(0.05)
        return web.json_response(completion_body())

    server.handler = fail_fifth
    before = client_tasks()
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        with pytest.raises(BadRequestError, match="five"):
            await client.chat.completions.create_many(
                (request(i) for i in range(1000)), concurrency=8
            )
    assert len(server.requests) < 100  # it stopped instead of running all 1000
    assert client_tasks() == before


async def test_requests_are_consumed_lazily(server: LocalServer) -> None:
    """The request iterable is pulled only as slots free up, never read ahead in full."""
    pulled = 0

    def generate() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        for i in range(10_000):
            pulled += 1
            yield request(i)

    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        aclosing(client.chat.completions.iter_many(generate(), concurrency=4)) as results,
    ):
        got = 0
        async for _ in results:
            got += 1
            if got == 10:
                break
    # 10 results consumed; at most the workers' (two per slot) and the result queue's
    # share beyond that.
    assert pulled <= 10 + 2 * 4 + 4 + 1


async def test_async_iterables_are_accepted(server: LocalServer) -> None:
    """An async generator of requests works like a list."""

    async def generate() -> AsyncIterator[dict[str, Any]]:
        for i in range(30):
            await asyncio.sleep(0)
            yield request(i)

    server.handler = echo
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        results = await client.chat.completions.create_many(generate(), concurrency=5)
    assert len(results) == 30


async def test_bad_request_item_is_a_typed_error(server: LocalServer) -> None:
    """A request that is not a dict becomes a TypeError in its place, others still run."""
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        results = await client.chat.completions.create_many(
            [request(0), "not a dict", request(2)],  # type: ignore[list-item]
            return_exceptions=True,
        )
    assert isinstance(results[0], ChatCompletion)
    assert isinstance(results[1], TypeError)
    assert isinstance(results[2], ChatCompletion)


async def test_cancelling_the_caller_leaves_no_tasks(server: LocalServer) -> None:
    """Cancelling create_many cancels everything in flight; no task survives it."""
    started = asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        started.set()
        await asyncio.sleep(10)
        return web.json_response(completion_body())

    server.handler = hang
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        before = client_tasks()
        task = asyncio.create_task(
            client.chat.completions.create_many([request(i) for i in range(100)], concurrency=10)
        )
        await started.wait()
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gc.collect()
        assert client_tasks() == before
    assert len(server.requests) <= 10


async def test_429_storm_converges(server: LocalServer) -> None:
    """A server that allows only 4 in flight (429 beyond): the fan-out backs off and every
    request still succeeds without exhausting its retries."""
    allowed = 4
    current = 0
    rejected = 0

    async def strict(request: web.Request) -> web.StreamResponse:
        nonlocal current, rejected
        if current >= allowed:
            rejected += 1
            return web.json_response(
                {"code": "Some resource has been exhausted", "error": "Too many requests"},
                status=429,
                headers={"retry-after-ms": "20"},
            )
        current += 1
        try:
            await asyncio.sleep(0.01)
            return web.json_response(completion_body())
        finally:
            current -= 1

    server.handler = strict
    stats = FanOutStats()
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=5) as client:
        results = await client.chat.completions.create_many(
            [request(i) for i in range(200)], concurrency=64, stats=stats
        )
    assert all(isinstance(r, ChatCompletion) for r in results)
    assert stats.succeeded == 200 and stats.failed == 0
    assert stats.rate_limited == rejected
    assert stats.retries >= rejected
    # Backing off together keeps rejections well below one per request.
    assert rejected < 200


async def test_exactly_once_under_random_faults(
    server: LocalServer, no_backoff: list[float]
) -> None:
    """With random resets, 500s and 400s, each request ends exactly once, with the right type."""
    rng = random.Random(7)
    permanent: set[str] = set()

    async def chaos(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        tag = body["messages"][0]["content"]
        roll = rng.random()
        if tag in permanent or roll < 0.05:
            permanent.add(tag)
            return web.json_response({"code": "bad", "error": tag}, status=400)
        if roll < 0.15:
            assert request.transport is not None
            request.transport.abort()
            await asyncio.sleep(0.01)
        if roll < 0.25:
            return web.json_response({"code": "x", "error": "oops"}, status=500)
        return web.json_response(completion_body(tag))

    server.handler = chaos
    stats = FanOutStats()
    indexes: list[int] = []
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=8) as client:
        async for index, result in client.chat.completions.iter_many(
            (request(i) for i in range(300)), concurrency=20, return_exceptions=True, stats=stats
        ):
            indexes.append(index)
            if isinstance(result, ChatCompletion):
                assert result.choices[0].message.content == f"#{index}"
            else:
                assert isinstance(
                    result, (BadRequestError, InternalServerError, APIConnectionError)
                )
                assert isinstance(result, GrokError)
                if isinstance(result, BadRequestError):
                    assert f"#{index}" in str(result)
    assert sorted(indexes) == list(range(300))
    assert stats.succeeded + stats.failed == 300
    assert stats.failed == len(permanent)


async def test_stats_summary_counts_tokens_and_latency(server: LocalServer) -> None:
    """The stats record counts, tokens and latency percentiles."""
    stats = FanOutStats()
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        await client.chat.completions.create_many(
            [request(i) for i in range(10)], stats=stats, on_result=lambda i, r: None
        )
    assert stats.total == 10 and stats.succeeded == 10
    assert stats.total_tokens == 70
    assert stats.p50 is not None and stats.p99 is not None and 0 < stats.p50 <= stats.p99
    assert "10 ok, 0 failed" in stats.summary()


async def test_progress_draws_counts(server: LocalServer) -> None:
    """progress= writes done/total and the counters, ending with a newline."""
    import io

    from grok_async import Progress

    out = io.StringIO()
    stats = FanOutStats()
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        await client.chat.completions.create_many(
            [request(i) for i in range(5)], stats=stats, progress=Progress(stats, stream=out)
        )
    text = out.getvalue()
    assert "5/5" in text and "0 failed" in text and "0 retries" in text
    assert text.endswith("\n")


async def test_limiter_halves_once_per_burst_and_grows_back() -> None:
    """AIMD: a burst of 429s sent together halves the limit once; successes add one back."""
    limiter = AdaptiveLimiter(16)
    starts = [await limiter.acquire() for _ in range(8)]
    err = InternalServerError("x", status_code=429, headers={})
    for started in starts:
        limiter.release(started, err)
    assert limiter.limit == 8
    for _ in range(8):
        limiter.release(await limiter.acquire())
    assert limiter.limit == 9


async def test_stopping_early_with_a_full_result_queue_does_not_hang(server: LocalServer) -> None:
    """Breaking out while workers are blocked on a full result queue cancels them promptly."""
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:

        async def consume_one_then_stop() -> None:
            async with aclosing(
                client.chat.completions.iter_many((request(i) for i in range(100)), concurrency=2)
            ) as results:
                async for _ in results:
                    await asyncio.sleep(0.2)  # meanwhile the workers fill the queue and block
                    break

        before = client_tasks()
        await asyncio.wait_for(consume_one_then_stop(), timeout=5)
        assert client_tasks() == before


async def test_try_acquire_takes_a_free_slot_only_when_nothing_holds_back() -> None:
    """The coroutine-free fast path takes a slot only when acquire() would not wait: a free
    slot, nobody queued, no pause, no spacing. It counts the attempt like acquire()."""
    limiter = AdaptiveLimiter(2)
    counter = [0]
    token = attempt_counter.set(counter)
    try:
        first = limiter.try_acquire()
        assert first is not None
        assert (limiter.in_flight, limiter.attempts, counter[0]) == (1, 1, 1)
        second = limiter.try_acquire()
        assert second is not None
        assert limiter.try_acquire() is None  # full
        assert limiter.in_flight == 2
        limiter.release(second)
        # A queued waiter goes first: the fast path must not overtake it.
        waiter = asyncio.ensure_future(limiter.acquire())
        limiter.in_flight += 1  # hold the freed slot so the waiter stays queued
        await asyncio.sleep(0)
        assert limiter._waiters
        limiter.in_flight -= 1
        assert limiter.try_acquire() is None
        limiter.release(first)  # wakes the waiter
        limiter.release(await waiter)
        # A server pause, then spacing, also send it to the slow path (once refusals are
        # correlated: a server refusing most attempts).
        limiter.refused_share = 0.5
        limiter.release(
            limiter.try_acquire() or 0.0,
            RateLimitError("slow", status_code=429, headers={"retry-after-ms": "30"}),
        )
        assert limiter.try_acquire() is None  # paused
        await asyncio.sleep(0.04)
        assert limiter._interval > 0.0
        assert limiter.try_acquire() is None  # spaced
    finally:
        attempt_counter.reset(token)


async def test_rate_limit_spaces_attempt_starts_then_recovers() -> None:
    """After a 429 with retry-after-ms, starts are spaced by the hint per slot; successes
    shrink the spacing back to nothing."""
    limiter = AdaptiveLimiter(4)
    limiter.refused_share = 0.5  # a server refusing most attempts
    started = await limiter.acquire()
    limiter.release(
        started,
        RateLimitError("slow", status_code=429, headers={"retry-after-ms": "40"}),
    )
    assert limiter.limit == 2
    assert limiter._interval == pytest.approx(0.040 / 4)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    starts = []
    for _ in range(3):
        await limiter.acquire()
        starts.append(loop.time() - t0)
        limiter.release(starts[-1])
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.009 for gap in gaps)  # spaced, not a herd
    for _ in range(300):
        limiter.release(await limiter.acquire())
    assert limiter._interval == 0.0
    assert limiter.limit == 4


async def test_a_waiter_cancelled_during_a_pause_passes_its_turn_on() -> None:
    """If the waiter woken for a free slot is cancelled while sitting out a Retry-After
    pause, the next waiter still gets the slot (no lost wake-up)."""
    limiter = AdaptiveLimiter(1)
    limiter.refused_share = 0.5  # a server refusing most attempts
    first = await limiter.acquire()
    w1 = asyncio.create_task(limiter.acquire())
    w2 = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.01)  # both queued
    limiter.release(first, RateLimitError("slow", status_code=429, headers={"retry-after": "0.2"}))
    await asyncio.sleep(0.05)  # w1 was woken and now sits out the pause
    w1.cancel()
    with pytest.raises(asyncio.CancelledError):
        await w1
    await asyncio.wait_for(w2, timeout=2)
    assert limiter.in_flight == 1
