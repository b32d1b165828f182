"""The client reads what the server says of its budgets and timings (SPEC §9)."""

from __future__ import annotations

import orjson
import pytest

from grok_async import (
    AsyncGrok,
    ChatCompletion,
    FanOutStats,
    HookEvent,
    Hooks,
    QuotaExceededError,
    RateLimitError,
    RequestTooLargeError,
    Usage,
)
from grok_async._ratelimits import read_rate_limits, server_metrics
from grok_async._status import status_error
from grok_async.testing import FakeGrok

MESSAGES = [{"role": "user", "content": "Say something short."}]


def test_read_rate_limits_is_liberal_in_what_it_accepts() -> None:
    """Floats, negative and garbage values are read as numbers where they can be, else None."""
    state = read_rate_limits(
        {
            "x-ratelimit-limit-requests": "600",
            "x-ratelimit-remaining-requests": "-3",
            "x-ratelimit-limit-tokens": "1e7",
            "x-ratelimit-remaining-tokens": "lots",
        },
        "grok-4",
    )
    assert state is not None
    assert (state.requests_limit, state.requests_remaining) == (600, 0)
    assert (state.tokens_limit, state.tokens_remaining) == (10_000_000, None)
    assert state.model == "grok-4"
    assert read_rate_limits({"x-request-id": "r"}) is None


def test_server_metrics_are_seconds_and_ignore_nonsense() -> None:
    """X-Metrics-* milliseconds become seconds; NaN, negative or missing values are None."""
    headers = {"x-metrics-ttft-ms": "250", "x-metrics-mean-itl-ms": "nan", "x-metrics-e2e-ms": "-1"}
    assert server_metrics(headers) == (0.25, None, None)


async def test_rate_limits_follow_every_response_and_are_shared_by_copies() -> None:
    """rate_limits() is None before a response, then the latest headers, for copies too."""
    async with (
        FakeGrok(requests_per_minute=600, tokens_per_minute=100_000) as fake,
        AsyncGrok(api_key="test", base_url=fake.base_url) as client,
    ):
        assert client.rate_limits() is None
        await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        first = client.rate_limits()
        assert first is not None
        assert first.requests_limit == 600
        assert first.requests_remaining == 599
        assert first.tokens_limit == 100_000
        assert first.tokens_remaining is not None and first.tokens_remaining < 100_000
        copy = client.with_options(timeout=5.0)
        stream = await copy.chat.completions.create(model="grok-4", messages=MESSAGES, stream=True)
        async for _ in stream:
            pass
        # The copy's streamed call updated the view the original reads, per model too.
        latest = client.rate_limits("grok-4")
        assert latest is not None and latest.requests_remaining == 598
        assert client.rate_limits() == latest
        assert client.rate_limits("grok-3") is None


async def test_server_timings_reach_result_timings() -> None:
    """The X-Metrics-* headers of a completion are on result.timings, in seconds."""
    async with (
        FakeGrok(latency=0.02) as fake,
        AsyncGrok(api_key="test", base_url=fake.base_url) as client,
    ):
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    timings = reply.timings
    assert timings is not None
    assert timings.server_e2e is not None and timings.server_e2e >= 0.02
    assert timings.server_ttft is not None
    assert timings.server_itl is not None


async def test_a_refused_request_updates_the_view_too() -> None:
    """A 429's own headers (the budget spent) reach rate_limits(). (A call naming no model
    is not paced, so with max_retries=0 its refusal surfaces.)"""
    body = orjson.dumps({"model": "grok-4", "messages": MESSAGES})
    async with (
        FakeGrok(requests_per_minute=1, time_scale=10.0) as fake,
        AsyncGrok(api_key="test", base_url=fake.base_url, max_retries=0) as client,
    ):
        await client.request("POST", "/chat/completions", body=body)
        with pytest.raises(RateLimitError) as caught:
            await client.request("POST", "/chat/completions", body=body)
        assert "Requests per Minute" in str(caught.value)
        state = client.rate_limits()
        assert state is not None and state.requests_remaining == 0


async def test_out_of_credits_raises_quota_exceeded_at_once() -> None:
    """A 429 about credits is a QuotaExceededError with the server's text, never retried."""
    async with (
        FakeGrok(quota_exhausted=True) as fake,
        AsyncGrok(api_key="test", base_url=fake.base_url, max_retries=5) as client,
    ):
        with pytest.raises(QuotaExceededError) as caught:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        assert isinstance(caught.value, RateLimitError)
        assert "monthly spending limit" in str(caught.value)
        assert fake.stats.requests == 1


async def test_a_fan_out_stops_on_quota_exceeded() -> None:
    """create_many raises QuotaExceededError at once instead of pacing on it."""
    async with (
        FakeGrok(quota_exhausted=True) as fake,
        AsyncGrok(api_key="test", base_url=fake.base_url) as client,
    ):
        requests = [{"model": "grok-4", "messages": MESSAGES}] * 50
        with pytest.raises(QuotaExceededError):
            await client.chat.completions.create_many(requests, concurrency=4)
        # Nothing was retried: at most one attempt per request that got started.
        assert fake.stats.requests <= 50


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("You ran out of credits.", id="out-of-credits"),
        pytest.param(
            "Your team t has either used all available credits or reached its monthly "
            "spending limit.",
            id="spending-limit",
        ),
    ],
)
def test_status_error_maps_quota_texts(text: str) -> None:
    """Both of xAI's quota texts become QuotaExceededError; a plain 429 stays RateLimitError."""
    body = orjson.dumps({"code": "x", "error": text})
    assert isinstance(status_error(429, "Too Many Requests", body, {}, None), QuotaExceededError)
    plain = status_error(429, None, b'{"error": "Too many requests"}', {}, None)
    assert type(plain) is RateLimitError


def test_fan_out_stats_sum_cost() -> None:
    """FanOutStats.cost_usd sums usage.cost_in_usd_ticks (1 tick = 1e-10 USD) of each answer."""
    stats = FanOutStats()
    for ticks in (30_000_000, None, 12_345):
        reply = ChatCompletion(
            id="c", choices=[], usage=Usage(total_tokens=10, cost_in_usd_ticks=ticks)
        )
        stats.record(0.01, reply)
    stats.record(0.01, RateLimitError("refused", status_code=429))
    assert stats.cost_usd == pytest.approx((30_000_000 + 12_345) * 1e-10)
    assert stats.total_tokens == 30


async def test_a_request_larger_than_the_tpm_limit_fails_at_once() -> None:
    """One request over the whole tokens-per-minute limit raises RequestTooLargeError, unretried."""
    long_prompt = [{"role": "user", "content": "word " * 200}]
    async with (
        FakeGrok(tokens_per_minute=100) as fake,
        AsyncGrok(api_key="test", base_url=fake.base_url, max_retries=3) as client,
    ):
        with pytest.raises(RequestTooLargeError) as caught:
            await client.chat.completions.create(model="grok-4", messages=long_prompt)
        assert fake.stats.requests == 1
    error = caught.value
    assert isinstance(error, RateLimitError)
    assert error.limit == 100
    assert error.needed > 100
    assert f"{error.needed:,} tokens" in str(error)
    assert "100 tokens per minute" in str(error)


async def test_a_spent_token_budget_is_not_mistaken_for_a_too_large_request() -> None:
    """A "too many tokens" 429 for a budget already used up is waited out (the call is
    answered once the budget refills), never a RequestTooLargeError."""
    prompt = [{"role": "user", "content": "word " * 30}]
    async with (
        FakeGrok(tokens_per_minute=100, time_scale=0.02) as fake,
        AsyncGrok(
            api_key="test", base_url=fake.base_url, max_retries=0, rate_limit_period=fake.minute
        ) as client,
    ):
        for _ in range(6):
            await client.chat.completions.create(model="grok-4", messages=prompt)
        # The budget held about two of these at a time: the others had to wait for it.
        assert client.rate_limits("grok-4") is not None
        assert fake.stats.requests >= 6


@pytest.mark.parametrize("remaining", ["inf", "nan", "lots"], ids=["inf", "nan", "garbage"])
def test_a_nonsense_remaining_header_leaves_a_plain_rate_limit_error(remaining: str) -> None:
    """A "too many tokens" 429 whose remaining-tokens header is not a number stays a
    RateLimitError (its size cannot be told) instead of failing to build."""
    text = "Too many tokens. Your team's rate limit is - Tokens per Minute (actual/limit): 9/5"
    error = status_error(
        429, None, orjson.dumps({"error": text}), {"x-ratelimit-remaining-tokens": remaining}, None
    )
    assert type(error) is RateLimitError


async def test_a_prompt_over_one_seconds_tokens_is_not_too_large_under_per_second() -> None:
    """Under "per_second" refill a prompt larger than a second's tokens but within the
    minute's limit is a spent budget: the server's refusal says so (RateLimitError with
    xAI's text, never RequestTooLargeError), and a paced call waits it out."""
    prompt = [{"role": "user", "content": "word " * 150}]
    body = orjson.dumps({"model": "grok-4", "messages": prompt})
    async with (
        FakeGrok(tokens_per_minute=6000, refill="per_second", time_scale=0.05) as fake,
        AsyncGrok(
            api_key="test", base_url=fake.base_url, max_retries=0, rate_limit_period=fake.minute
        ) as client,
    ):
        await client.request("POST", "/chat/completions", body=body)
        with pytest.raises(RateLimitError) as caught:
            await client.request("POST", "/chat/completions", body=body)
        assert type(caught.value) is RateLimitError
        assert "Tokens per Minute" in str(caught.value)
        answer = await client.chat.completions.create(model="grok-4", messages=prompt)
    assert answer.choices


async def test_the_servers_timings_reach_the_on_response_hook() -> None:
    """Each on_response event carries the attempt's X-Metrics-* timings, in seconds."""
    events: list[HookEvent] = []
    async with (
        FakeGrok(latency=0.02) as fake,
        AsyncGrok(
            api_key="test", base_url=fake.base_url, hooks=Hooks(on_response=events.append)
        ) as client,
    ):
        await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    (event,) = events
    assert event.server_e2e is not None and event.server_e2e >= 0.02
    assert event.server_ttft is not None
    assert event.server_itl is not None
