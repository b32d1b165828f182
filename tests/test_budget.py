"""Client-side requests/tokens per minute budgets, shared by every call of a client."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from grok_async import AsyncGrok
from grok_async._budget import RateBudget, estimate_tokens

from .conftest import FAKE_KEY, LocalServer, completion_body

MESSAGES = [{"role": "user", "content": "Hi"}]


def test_estimate_is_bytes_over_four_plus_the_output_cap() -> None:
    """A request's token estimate: body bytes / 4 plus max tokens."""
    assert estimate_tokens(b"x" * 400, None) == 100
    assert estimate_tokens(b"x" * 400, 50) == 150


async def test_requests_per_minute_paces_after_one_seconds_burst() -> None:
    """600/min allows 10 at once (one second's worth), then one every 0.1 s."""
    budget = RateBudget(requests_per_minute=600)
    start = time.monotonic()
    stamps = []
    for _ in range(15):
        await budget.acquire(0)
        stamps.append(time.monotonic() - start)
    assert stamps[9] < 0.05  # the burst
    assert stamps[14] >= 0.45  # then paced
    assert stamps[14] < 1.5


async def test_tokens_budget_lends_then_waits_and_settles() -> None:
    """A full token bucket lends one large request; the next waits until it is repaid,
    and a smaller real usage gives the difference back."""
    budget = RateBudget(tokens_per_minute=6000)  # 100 per second, capacity 100
    await budget.acquire(150)  # lent: balance -50
    assert budget.tokens is not None and budget.tokens.balance == -50
    budget.settle(estimated=150, actual=30)  # used only 30: 120 back
    assert budget.tokens.balance == 70
    start = time.monotonic()
    await budget.acquire(100)  # needs the bucket full again: ~0.3 s
    assert 0.2 <= time.monotonic() - start < 1.5


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
        start = time.monotonic()
        await asyncio.gather(
            client.chat.completions.create(model="grok-4", messages=MESSAGES, max_tokens=100),
            copy.chat.completions.create(model="grok-4", messages=MESSAGES),
            client.chat.completions.create(model="grok-4", messages=MESSAGES),
        )
        elapsed = time.monotonic() - start
        budget = client._budget
        assert isinstance(budget, RateBudget) and budget.tokens is not None
        # 120/min: two at once, the third half a second later.
        assert 0.4 <= elapsed < 2.0
        # Three calls of 7 real tokens each were charged, not their estimates (+ refill).
        assert budget.tokens.balance >= budget.tokens.capacity - 3 * 7 - 1


async def test_no_budget_costs_nothing(server: LocalServer) -> None:
    """Without budgets the client keeps none."""
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        assert client._budget is None
