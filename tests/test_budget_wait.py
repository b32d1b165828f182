"""max_budget_wait: a call whose rate-limit budget is spent fails at once with
BudgetWaitError instead of waiting for the refill (a web request should not hang for a
minute); fan-outs still wait, and without the setting every call waits."""

from __future__ import annotations

import time
from typing import Any

import pytest

from grok_async import AsyncGrok, BudgetWaitError, RateLimitError
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY

MODEL = "grok-4"
MESSAGES = [{"role": "user", "content": "hi"}]


def _client(fake: FakeGrok, **kwargs: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, rate_limit_period=fake.minute, **kwargs)


def _chat_requests(fake: FakeGrok) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/chat/completions"))


async def test_a_spent_server_budget_fails_fast_without_sending() -> None:
    """A budget of one request a (1.2 s) minute: the second call fails long before the
    refill, with a 429-shaped BudgetWaitError, and only one request reached the server."""
    async with (
        FakeGrok(requests_per_minute=1, time_scale=0.02) as fake,
        _client(fake, max_budget_wait=0.05, max_retries=2) as client,
    ):
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        started = time.monotonic()
        with pytest.raises(BudgetWaitError) as info:
            await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        waited = time.monotonic() - started
        # Not retried (a retry would only wait again), and not sent once the pacer knew.
        assert waited < fake.minute / 2, waited
        assert _chat_requests(fake) <= 2
    error = info.value
    assert isinstance(error, RateLimitError) and error.status_code == 429
    assert "max_budget_wait=0.05" in str(error) and MODEL in str(error)


async def test_without_the_setting_the_call_waits_for_the_refill() -> None:
    async with (
        FakeGrok(requests_per_minute=1, time_scale=0.01) as fake,
        _client(fake, max_retries=0) as client,
    ):
        for _ in range(2):
            reply = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
            assert reply.choices


async def test_a_copy_may_wait_where_the_client_fails_fast() -> None:
    """with_options(max_budget_wait=None) makes a copy that waits (say, for a background
    job) while the client itself fails fast."""
    async with (
        FakeGrok(requests_per_minute=1, time_scale=0.01) as fake,
        _client(fake, max_budget_wait=0.0) as client,
    ):
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        patient = client.with_options(max_budget_wait=None)
        assert patient.max_budget_wait is None and client.max_budget_wait == 0.0
        reply = await patient.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert reply.choices


async def test_a_fan_out_waits_for_its_budget_whatever_the_setting() -> None:
    """A fan-out is there to use the whole budget: it waits for the refills."""
    async with (
        FakeGrok(requests_per_minute=2, time_scale=0.005) as fake,
        _client(fake, max_budget_wait=0.0, max_retries=0) as client,
    ):
        requests = [{"model": MODEL, "messages": MESSAGES} for _ in range(6)]
        results = await client.chat.completions.create_many(requests, concurrency=4)
        assert len(results) == 6 and all(r.choices for r in results)


async def test_a_spent_configured_budget_fails_fast_too(fake_grok: FakeGrok) -> None:
    """The client's own requests_per_minute (a minute's burst of 1 here): the second call
    would wait about a minute; it fails at once, without reaching the server."""
    async with AsyncGrok(
        FAKE_KEY, base_url=fake_grok.base_url, requests_per_minute=1, max_budget_wait=0.05
    ) as client:
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        with pytest.raises(BudgetWaitError):
            await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert _chat_requests(fake_grok) == 1
