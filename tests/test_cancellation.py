"""Cancellation safety: callers cancelled at random points leave the client as good as new.

Callers are cancelled before their request is sent (still queued for one of the pool's
four connections, or before their task ever ran), while waiting for headers, in the
middle of a slow non-streamed body, in the middle of a stream, during the wait before a
retry after a 429 with Retry-After, and in the middle of a fan-out. Afterwards a normal call
succeeds at once, four slow calls run side by side (the pool is back to full capacity),
no task is left behind, nothing was reported to the loop's exception handler and no
warning was raised (the suite turns warnings into errors).

The quick variant runs in the default suite; the ``soak`` variant repeats it
``GROK_SOAK_N // 2`` times (5,000 under ``nox -s soak``).
"""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from grok_async import AsyncGrok, ChatCompletion
from grok_async.testing import FakeGrok, Fault

from .conftest import FAKE_KEY, client_tasks, wait_until
from .leakcheck import open_fds, pool_in_use

MAX_CONNECTIONS = 4
BATCH = 24  # callers in flight at once: six times the pool, so many wait for a connection
LATEST_CANCEL = 0.35  # seconds; every slow scenario below takes longer than this
SLOW = 0.6  # the emulator's stall / Retry-After length in the slow scenarios
QUICK_CANCELLATIONS = 200
SOAK_CANCELLATIONS = int(os.environ.get("GROK_SOAK_N", "600")) // 2


def messages(tag: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": tag}]


def replies(request: dict[str, Any]) -> Fault | None:
    """The emulator's behaviour per scenario, chosen by the message text."""
    tag = request["messages"][-1]["content"]
    if tag == "slow-headers":
        return Fault.stall(SLOW)
    if tag == "slow-body":  # the headers and half the body, then silence
        return Fault.stall_mid_stream(after_chunks=0, seconds=SLOW)
    if tag == "stream":  # two chunks, silence, the rest (paced by tokens_per_second)
        return Fault.stall_mid_stream(after_chunks=2, seconds=SLOW)
    if tag == "429":  # Retry-After in whole seconds only: the client waits a full second
        return Fault.status(429, retry_after=1)
    return None  # "plain": answered at once


async def plain(client: AsyncGrok) -> object:
    return await client.chat.completions.create(model="grok-3", messages=messages("plain"))


async def slow_headers(client: AsyncGrok) -> object:
    return await client.chat.completions.create(model="grok-3", messages=messages("slow-headers"))


async def slow_body(client: AsyncGrok) -> object:
    return await client.chat.completions.create(model="grok-3", messages=messages("slow-body"))


async def retry_wait(client: AsyncGrok) -> object:
    return await client.chat.completions.create(model="grok-3", messages=messages("429"))


async def mid_stream(client: AsyncGrok) -> object:
    stream = await client.chat.completions.create(
        model="grok-3", messages=messages("stream"), stream=True
    )
    async with stream:
        return await stream.get_final_completion()


async def mid_stream_text(client: AsyncGrok) -> object:
    async with client.chat.completions.stream(model="grok-3", messages=messages("stream")) as s:
        return "".join([piece async for piece in s.text()])


async def mid_stream_abandoned(client: AsyncGrok) -> object:
    """A stream iterated without ``async with``: only cancellation and GC free it."""
    stream = await client.chat.completions.create(
        model="grok-3", messages=messages("stream"), stream=True
    )
    return [chunk async for chunk in stream]


async def mid_fan_out(client: AsyncGrok) -> object:
    tags = ["plain", "slow-body", "slow-headers", "stream", "429", "plain"]
    return await client.chat.completions.create_many(
        [{"model": "grok-3", "messages": messages(tag)} for tag in tags],
        concurrency=3,
        return_exceptions=True,
    )


Scenario = Callable[[AsyncGrok], Awaitable[object]]
SCENARIOS: dict[str, Scenario] = {
    "plain": plain,  # mostly cancelled while queued for a pooled connection
    "slow-headers": slow_headers,
    "slow-body": slow_body,
    "retry-wait": retry_wait,
    "mid-stream": mid_stream,
    "mid-stream-text": mid_stream_text,
    "mid-stream-abandoned": mid_stream_abandoned,
    "mid-fan-out": mid_fan_out,
}


async def cancel_randomly(client: AsyncGrok, count: int, seed: int) -> dict[str, int]:
    """Start ``count`` callers in batches and cancel each at a random moment; return how
    they ended. Each must end cancelled, or (when it was quick enough) with its result."""
    rng = random.Random(seed)
    outcomes: collections.Counter[str] = collections.Counter()
    for first in range(0, count, BATCH):
        tasks: list[tuple[str, asyncio.Task[object]]] = []
        for _ in range(min(BATCH, count - first)):
            name = rng.choice(list(SCENARIOS))
            task = asyncio.ensure_future(SCENARIOS[name](client))
            if rng.random() < 0.1:
                task.cancel()  # before it ever ran
            else:
                asyncio.get_running_loop().call_later(rng.uniform(0, LATEST_CANCEL), task.cancel)
            tasks.append((name, task))
        # Bounded: a cancelled caller that does not end promptly is a hang.
        _done, pending = await asyncio.wait([t for _, t in tasks], timeout=LATEST_CANCEL + 5)
        assert not pending, f"{len(pending)} cancelled callers did not end"
        for name, task in tasks:
            if task.cancelled():
                outcomes[f"{name}: cancelled"] += 1
                continue
            error = task.exception()
            assert error is None, f"{name} ended with {error!r} instead of being cancelled"
            outcomes[f"{name}: finished"] += 1
        # Checked at once, while the tasks (and through their tracebacks, their streams and
        # responses) are still alive: neither garbage collection nor aiohttp releasing a
        # connection whose body later arrives in full may be what frees the pool.
        in_use = pool_in_use(client)
        assert in_use == 0, f"{in_use} connections still checked out after their callers ended"
    return dict(outcomes)


async def assert_recovered(client: AsyncGrok, tasks_before: set[asyncio.Task[Any]]) -> None:
    """No connection checked out, no task left; a call succeeds at once; the pool has all
    four connections again."""
    assert await wait_until(lambda: pool_in_use(client) == 0), "a connection was not returned"
    assert await wait_until(lambda: client_tasks() <= tasks_before), "a task outlived its caller"
    reply = await asyncio.wait_for(plain(client), timeout=2.0)
    assert isinstance(reply, ChatCompletion)
    # Four slow calls at once take one stall, not two: all four connections are usable.
    started = time.monotonic()
    results = await asyncio.wait_for(
        asyncio.gather(*(slow_headers(client) for _ in range(MAX_CONNECTIONS))), timeout=5.0
    )
    elapsed = time.monotonic() - started
    assert all(isinstance(r, ChatCompletion) for r in results)
    assert elapsed < 1.6 * SLOW, f"{MAX_CONNECTIONS} slow calls took {elapsed:.2f} s"
    assert pool_in_use(client) == 0


async def run_cancellations(count: int, seed: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    # Debug mode: aiohttp then warns (an error here) about a response left unclosed.
    loop.set_debug(True)
    try:
        # Thread mode: the emulator's tasks are in another loop, so every task left in this
        # one belongs to the client.
        with FakeGrok(replies=replies, tokens_per_second=200, record_requests=False) as fake:
            fds_before = open_fds()
            tasks_before = client_tasks()
            started = time.monotonic()
            async with AsyncGrok(
                FAKE_KEY, base_url=fake.base_url, max_connections=MAX_CONNECTIONS, max_retries=2
            ) as client:
                outcomes = await cancel_randomly(client, count, seed)
                await assert_recovered(client, tasks_before)
            elapsed = time.monotonic() - started
            gc.collect()  # streams dropped unclosed are finalised here, inside the test
            assert await wait_until(lambda: fake.open_connections() == 0, timeout=5.0)
            assert await wait_until(lambda: open_fds() <= fds_before + 4, timeout=5.0)
            figures = {
                "cancellations": count,
                "elapsed": round(elapsed, 1),
                "attempts seen by the emulator": fake.stats.requests,
                "fds before/after": (fds_before, open_fds()),
                "tasks before/after": (len(tasks_before), len(client_tasks())),
                "outcomes": dict(sorted(outcomes.items())),
            }
    finally:
        loop.set_debug(False)
        loop.set_exception_handler(previous_handler)
    assert reported == [], f"the loop's exception handler was called: {reported[:3]}"
    cancelled = sum(n for k, n in outcomes.items() if k.endswith("cancelled"))
    # Every slow scenario outlasts the latest cancel, so most callers must have been cut.
    assert cancelled >= count // 2
    for slow in ("slow-headers", "slow-body", "retry-wait"):
        assert f"{slow}: finished" not in outcomes, f"{slow} outran its cancellation"
    return figures


async def test_cancelled_callers_leave_the_client_healthy() -> None:
    """~200 callers cancelled at random points: afterwards the pool, tasks and calls are fine."""
    figures = await run_cancellations(QUICK_CANCELLATIONS, seed=1)
    assert figures["cancellations"] == QUICK_CANCELLATIONS


@pytest.mark.soak
@pytest.mark.timeout(120 + SOAK_CANCELLATIONS // 10)
async def test_cancellation_soak() -> None:
    """Thousands of callers cancelled at random points leave the client healthy."""
    figures = await run_cancellations(max(SOAK_CANCELLATIONS, QUICK_CANCELLATIONS), seed=2)
    print("\ncancellation soak:", figures)
