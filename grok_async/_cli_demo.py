"""``grok-async demo``: the main job end to end, paced to a per-minute budget.

On the embedded emulator the demo runs against a budget like a team's on xAI (requests and
tokens per minute, reported in ``X-Ratelimit-*`` headers, 429 when spent), with a "minute"
of a few seconds; the budget holds a good part of the requests, so the rest must wait for
it to refill. The client paces itself from the headers, and the demo shows how: the budget,
how many requests waited for it, how many the server refused (about none), and what the
last headers said.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ._cli_endpoint import Endpoint, Settings, note, shown_url
from ._constants import API_KEY_ENV, BASE_URL_ENV
from ._fanout import FanOutStats
from ._ratelimits import RateLimits

__all__ = ["describe_limits", "describe_pacing", "emulator_options", "prepare_demo", "run_demo"]

# Requests fanned out when --n is not given. Against a real API each one is billed.
EMULATOR_REQUESTS = 1000
BILLED_REQUESTS = 20
# The embedded emulator's "minute", in seconds: short, so the budget refills during the run.
EMULATOR_MINUTE = 3.0
# The share of the requests the budget holds: the rest wait for its refill, which takes
# (1 - share) / share of a minute (2 s) whatever --n is.
BUDGET_SHARE = 0.6
# Tokens per minute per request of the budget: room for the demo's short prompts and
# 32-token answers, so the request budget is the one that binds.
TOKENS_PER_REQUEST = 100
# A few injected server errors show retries at work (500s: not refusals, which the
# pacing is there to avoid).
EMULATOR_FAULTS = {"500": 0.01}
# A streamed answer the eye can follow.
STREAM_TOKENS_PER_SECOND = 60.0
# Against a real API a few retries more than the default ride out a bad minute.
DEMO_RETRIES = 6


def budget(requests: int) -> tuple[int, int]:
    """The emulator's (requests, tokens) per minute for a demo of *requests*."""
    rpm = max(10, round(requests * BUDGET_SHARE))
    return rpm, rpm * TOKENS_PER_REQUEST


def emulator_options(requests: int) -> dict[str, Any]:
    """``FakeGrok`` options of the demo's emulator: a budget sized to *requests*, a short
    minute, a few server errors, a paced stream."""
    rpm, tpm = budget(requests)
    return {
        "requests_per_minute": rpm,
        "tokens_per_minute": tpm,
        "time_scale": EMULATOR_MINUTE / 60.0,
        "fault_rates": EMULATOR_FAULTS,
        "tokens_per_second": STREAM_TOKENS_PER_SECOND,
    }


def prepare_demo(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Fill in ``--n`` for where the demo runs; the embedded emulator's options."""
    if args.n is None:
        args.n = EMULATOR_REQUESTS if settings.embedded else BILLED_REQUESTS
    return emulator_options(args.n)


def demo_requests(model: str, count: int) -> Any:
    """The fan-out's requests, made one at a time as the fan-out takes them."""
    return (
        {
            "model": model,
            "messages": [{"role": "user", "content": f"Give me fact number {i} about space."}],
            "max_tokens": 32,
        }
        for i in range(count)
    )


def _announce(endpoint: Endpoint, count: int) -> None:
    if endpoint.embedded:
        rpm, tpm = budget(count)
        note(
            f"The emulator enforces a budget of {rpm:,} requests and {tpm:,} tokens per minute, "
            f"as xAI does for a team, with a minute of {EMULATOR_MINUTE:g} s; the client paces "
            "itself from the X-Ratelimit-* headers of each answer."
        )
        return
    settings = endpoint.settings
    if settings.api_key is not None:
        source, key = f"{API_KEY_ENV} is set", ""
    else:
        source, key = f"{BASE_URL_ENV} is set", f" without a key ({API_KEY_ENV} is not set)"
    note(
        f"{source}: the demo sends {count + 1:,} requests ({count:,} fanned out, 1 streamed) "
        f"to {shown_url(endpoint.base_url)}{key}; a real API bills them. The client paces "
        "them from the server's X-Ratelimit-* headers."
    )


def describe_limits(limits: RateLimits | None, model: str) -> str:
    """The last budget reading, as a line."""
    if limits is None:
        return f"Rate limits for {model}: the server sent no X-Ratelimit-* headers."

    def budget_left(left: int | None, limit: int | None, unit: str) -> str:
        if limit is None:
            return f"{unit}: not reported"
        shown_left = "?" if left is None else f"{left:,}"
        return f"{shown_left} of {limit:,} {unit}"

    return (
        f"Rate limits for {model} (the last X-Ratelimit-* headers): "
        f"{budget_left(limits.requests_remaining, limits.requests_limit, 'requests')} and "
        f"{budget_left(limits.tokens_remaining, limits.tokens_limit, 'tokens')} "
        "left per minute."
    )


def describe_pacing(stats: FanOutStats) -> str:
    """How the budget held the fan-out back, as a line."""
    return (
        f"Pacing: {stats.budget_waits:,} of {stats.done:,} requests waited for the budget "
        f"({stats.budget_wait_seconds:.1f} s in all); {stats.rate_limited} answered "
        "429 (refused)."
    )


async def run_demo(args: argparse.Namespace, endpoint: Endpoint) -> None:
    """Fan out, stream one answer, then print the summary and the pacing."""
    from ._client import AsyncGrok

    count: int = args.n
    _announce(endpoint, count)
    options: dict[str, Any] = {"max_retries": DEMO_RETRIES}
    if endpoint.rate_limit_period is not None:
        options["rate_limit_period"] = endpoint.rate_limit_period
    stats = FanOutStats(total=count)
    async with AsyncGrok(endpoint.api_key, base_url=endpoint.base_url, **options) as client:
        note(f"Fanning out {count:,} completions, at most {args.concurrency} in flight:")
        await client.chat.completions.create_many(
            demo_requests(args.model, count),
            concurrency=args.concurrency,
            return_exceptions=True,
            progress=True,
            stats=stats,
        )
        limits = client.rate_limits(args.model)
        note("\nStreaming one answer token by token:")
        first_token: float | None = None
        start = time.monotonic()
        async with client.chat.completions.stream(
            model=args.model,
            messages=[{"role": "user", "content": "Tell me a short story about a fast client."}],
            stream_options={"include_usage": True},
        ) as stream:
            async for text in stream.text():
                if first_token is None:
                    first_token = time.monotonic() - start
                sys.stdout.write(text)
                sys.stdout.flush()
            final = await stream.get_final_completion()
        sys.stdout.write("\n")
    tokens = final.usage.completion_tokens if final.usage else 0
    ttft = f"{first_token * 1000:.0f} ms" if first_token is not None else "n/a"
    note(f"(streamed {tokens} tokens, first token after {ttft})")
    print(f"\nSummary: {stats.summary()}")
    print(describe_pacing(stats))
    print(describe_limits(limits, args.model))
