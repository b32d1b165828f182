"""Client-side requests/tokens per minute budgets, shared by every call of a client."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from grok_async import AsyncGrok
from grok_async._budget import RateBudget, estimate_tokens
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY, LocalServer, completion_body

MESSAGES = [{"role": "user", "content": "Hi"}]


def test_estimate_is_bytes_over_four_plus_the_output_cap() -> None:
    """A request's token estimate: body bytes / 4 plus max tokens."""
    assert estimate_tokens(b"x" * 400, None) == 100
    assert estimate_tokens(b"x" * 400, 50) == 150


async def test_requests_per_minute_allows_a_minutes_burst_then_paces() -> None:
    """600/min: a fresh budget lends its whole minute at once (as the server's does), then,
    spent, lets one through every 0.1 s."""
    budget = RateBudget(requests_per_minute=600)
    start = time.monotonic()
    for _ in range(600):
        await budget.acquire(0)
    assert time.monotonic() - start < 0.5  # the burst
    stamps = []
    for _ in range(5):
        await budget.acquire(0)
        stamps.append(time.monotonic() - start)
    assert stamps[-1] >= 0.4  # then paced
    assert stamps[-1] < 2.0


async def test_tokens_budget_lends_then_waits_and_settles() -> None:
    """A full token bucket lends one large request; the next waits until it is repaid,
    and a smaller real usage gives the difference back."""
    budget = RateBudget(tokens_per_minute=6000)  # 100 per second, a minute's 6000 at once
    await budget.acquire(6150)  # lent: balance -150
    assert budget.tokens is not None and budget.tokens.balance == -150
    budget.settle(estimated=6150, actual=6000)  # used 150 less: back to 0
    assert budget.tokens.balance == 0
    start = time.monotonic()
    await budget.acquire(30)  # needs 30 refilled: ~0.3 s
    assert 0.2 <= time.monotonic() - start < 1.5


async def test_waiters_are_served_first_come_first_served() -> None:
    """With the budget spent, a large request that asked first is served before small ones
    that asked after it (they do not overtake it while it waits for the refill)."""
    budget = RateBudget(tokens_per_minute=60_000)  # 1,000 per second
    assert budget.tokens is not None
    budget.tokens.balance = 0.0
    order: list[str] = []

    async def ask(name: str, tokens: int) -> None:
        await budget.acquire(tokens)
        order.append(name)

    large = asyncio.create_task(ask("large", 200))
    await asyncio.sleep(0)
    smalls = [asyncio.create_task(ask(f"small {i}", 10)) for i in range(3)]
    await asyncio.wait_for(asyncio.gather(large, *smalls), timeout=5.0)
    assert order == ["large", "small 0", "small 1", "small 2"]


async def test_a_waiter_cancelled_in_line_passes_the_turn_on() -> None:
    budget = RateBudget(requests_per_minute=600)
    assert budget.requests is not None
    budget.requests.balance = 0.0
    first = asyncio.create_task(budget.acquire(0))
    second = asyncio.create_task(budget.acquire(0))
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.wait_for(second, timeout=2.0)
    assert not budget._line


async def test_the_budget_is_shared_by_copies_and_corrected_by_usage(server: LocalServer) -> None:
    """Every call of a client and of its with_options copies draws from one budget; the
    token draw is corrected from the response's usage."""

    async def reply(request: web.Request) -> web.StreamResponse:
        return web.json_response(completion_body())  # usage.total_tokens == 7

    server.handler = reply
    async with AsyncGrok(
        FAKE_KEY, base_url=server.base_url, requests_per_minute=120, tokens_per_minute=60_000
    ) as client:
        copy = client.with_options(max_retries=0)
        assert copy._budget is client._budget
        budget = client._budget
        assert isinstance(budget, RateBudget) and budget.requests is not None
        budget.requests.balance = 2.0  # as if the minute's burst were spent but two
        start = time.monotonic()
        await asyncio.gather(
            client.chat.completions.create(model="grok-4", messages=MESSAGES, max_tokens=100),
            copy.chat.completions.create(model="grok-4", messages=MESSAGES),
            client.chat.completions.create(model="grok-4", messages=MESSAGES),
        )
        elapsed = time.monotonic() - start
        assert budget.tokens is not None
        # 120/min: two at once, the third half a second later.
        assert 0.4 <= elapsed < 2.0
        # Three calls of 7 real tokens each were charged, not their estimates (+ refill).
        assert budget.tokens.balance >= budget.tokens.capacity - 3 * 7 - 1


async def test_no_budget_costs_nothing(server: LocalServer) -> None:
    """Without budgets the client keeps none."""
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        assert client._budget is None


async def test_a_streamed_call_settles_the_budget_from_its_usage() -> None:
    """The configured token budget draws a stream's estimate when it starts and is
    corrected from the usage chunk when the stream ends, as a plain call is."""
    async with (
        FakeGrok() as fake,
        AsyncGrok(FAKE_KEY, base_url=fake.base_url, tokens_per_minute=60_000) as client,
    ):
        budget = client._budget
        assert isinstance(budget, RateBudget) and budget.tokens is not None
        stream = await client.chat.completions.create(
            model="grok-4",
            messages=MESSAGES,
            max_tokens=5_000,  # an estimate far above what the answer uses
            stream=True,
            stream_options={"include_usage": True},
        )
        drawn = budget.tokens.capacity - budget.tokens.balance
        assert drawn >= 5_000
        final = None
        async for chunk in stream:
            final = chunk.usage or final
        assert final is not None
        spent = budget.tokens.capacity - budget.tokens.balance
        assert spent <= final.total_tokens + 1  # the estimate gave back (plus the refill)
