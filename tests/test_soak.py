"""Fault soak: thousands of calls through a FakeGrok that fails ~30 % of attempts.

Each round sends ``GROK_SOAK_N`` requests (600 unless set; ``nox -s soak``: 10,000):
nine in ten through ``create_many(return_exceptions=True)``, every tenth as a stream read
to its end with ``get_final_completion()``. About 5 % of attempts each meet a reset before
the response, a reset mid-body/mid-stream, a 429 with Retry-After, a 500 or 503, a stall
past the read timeout, or a malformed body. Checked: every request ends exactly once, with
its own answer or an error of the kind its faults explain; the success ratio is what the
retry policy predicts; and after three rounds no task, file descriptor, pooled connection
or memory has been left behind. The figures are printed (``pytest -s``) for the docs.
"""

from __future__ import annotations

import asyncio
import collections
import math
import os
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
import pytest

from grok_async import (
    APIConnectionError,
    APIResponseValidationError,
    AsyncGrok,
    AsyncStream,
    ChatCompletion,
    ChatCompletionChunk,
    FanOutStats,
    GrokError,
    InternalServerError,
    RateLimitError,
    Timeout,
)
from grok_async._constants import FANOUT_RATE_LIMIT_RETRIES
from grok_async._response import HTTPResponse
from grok_async.testing import FakeGrok, default_reply

from .conftest import FAKE_KEY, client_tasks, wait_until
from .leakcheck import live_objects, open_fds, pool_in_use, rss_bytes

SOAK_N = int(os.environ.get("GROK_SOAK_N", "600"))
ROUNDS = 3

# Rate limits hold the fan-out to a few dozen requests a second: allow ~20 ms a request.
pytestmark = [pytest.mark.soak, pytest.mark.timeout(120 + SOAK_N * ROUNDS // 50)]
STREAM_EVERY = 10  # every tenth request is streamed, outside the fan-out
MODEL = "grok-3"  # not a reasoning model: answers are content only

# Per attempt; what is left (70 %) is answered normally.
FAULT_RATES = {
    "reset": 0.05,  # connection reset before any response
    "reset_mid_stream": 0.05,  # reset after half the body, or after two SSE events
    "429": 0.05,  # with retry-after-ms (and a whole-second Retry-After)
    "500": 0.025,
    "503": 0.025,  # with Retry-After, so a rate-limit signal as far as the client is concerned
    "stall": 0.05,  # silence before the headers, longer than the read timeout
    "malformed": 0.05,  # a truncated 200 body, or a broken JSON event mid-stream
}
READ_TIMEOUT = 0.3
STALL_SECONDS = 0.6
RETRY_AFTER = 0.01
MAX_RETRIES = 2
CONCURRENCY = 64
STREAM_CONCURRENCY = 8
MAX_CONNECTIONS = 100

# The errors each way of calling may end with, once its retries are spent.
FANOUT_ERRORS = (
    APIResponseValidationError,
    APIConnectionError,
    RateLimitError,
    InternalServerError,
)
STREAM_ERRORS = FANOUT_ERRORS

# Objects that would pile up if something held on to finished calls: no more of them may
# be alive after a round than before the first (the test and the emulator own a few).
TRACKED = (
    aiohttp.ClientResponse,
    HTTPResponse,
    AsyncStream,
    ChatCompletion,
    ChatCompletionChunk,
    asyncio.Task,
    asyncio.Future,
)
LIVE_SLACK = 8
# Slack for descriptors the runtime opens on its own (e.g. a resolver socket).
FD_SLACK = 8
# RSS of round 3 may exceed round 1 by this fraction plus this many bytes (allocator noise).
RSS_GROWTH = 0.10
RSS_SLACK = 16 * 1024 * 1024


def request(i: int) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": f"soak #{i}"}]}


def expected_content(i: int) -> str | None:
    """The emulator's deterministic answer to request i."""
    return default_reply(request(i))[0].content


def success_probability(*, fan_out: bool) -> float:
    """The chance that a request succeeds under FAULT_RATES, given the retry policy.

    Each attempt: answered (success), malformed (not retried: a failure), or a retryable
    fault. Under fan-out a rate-limit signal (429, 503 with Retry-After) does not use up a
    retry (up to FANOUT_RATE_LIMIT_RETRIES of them), elsewhere it does. A stream is also
    lost to a mid-stream reset: data was delivered, so it is never retried.
    """
    ok = 1.0 - sum(FAULT_RATES.values())
    rate_limited = FAULT_RATES["429"] + FAULT_RATES["503"]
    if fan_out:
        fatal = FAULT_RATES["malformed"]
        free = rate_limited
    else:
        fatal = FAULT_RATES["malformed"] + FAULT_RATES["reset_mid_stream"]
        free = 0.0
    counted = 1.0 - ok - fatal - free
    # Free retries only re-roll the attempt: condition them away.
    ok, counted = ok / (1.0 - free), counted / (1.0 - free)
    return sum(ok * counted**k for k in range(MAX_RETRIES + 1))


@attrs.define
class Round:
    """The figures of one soak round."""

    requests: int = 0
    fanout_outcomes: collections.Counter[str] = attrs.field(factory=collections.Counter)
    stream_outcomes: collections.Counter[str] = attrs.field(factory=collections.Counter)
    fanout_retries: int = 0
    fanout_rate_limited: int = 0
    attempts: int = 0  # chat requests the emulator received
    faults: collections.Counter[str] = attrs.field(factory=collections.Counter)
    statuses: collections.Counter[int] = attrs.field(factory=collections.Counter)
    connections_opened: int = 0
    elapsed: float = 0.0
    fds: int = 0
    tasks: int = 0
    rss: int = 0
    pool_in_use: int = 0
    live: dict[str, int] = attrs.field(factory=dict)


def check_completion(index: int, result: ChatCompletion) -> None:
    assert result.choices[0].message.content == expected_content(index), f"request {index}"


async def fan_out(client: AsyncGrok, indexes: list[int], figures: Round) -> None:
    """The fan-out share of a round: every index ends once, in its own slot."""
    ended: collections.Counter[int] = collections.Counter()
    stats = FanOutStats()
    results = await client.chat.completions.create_many(
        [request(i) for i in indexes],
        concurrency=CONCURRENCY,
        return_exceptions=True,
        stats=stats,
        on_result=lambda position, _result: ended.update([position]),
    )
    assert len(results) == len(indexes)
    assert ended == collections.Counter(range(len(indexes))), "a request ended twice or never"
    for index, result in zip(indexes, results, strict=True):
        if isinstance(result, ChatCompletion):
            check_completion(index, result)
        else:
            assert isinstance(result, FANOUT_ERRORS), repr(result)
        figures.fanout_outcomes[type(result).__name__] += 1
    assert stats.succeeded == figures.fanout_outcomes["ChatCompletion"]
    assert stats.done == len(indexes) and stats.in_flight == 0
    figures.fanout_retries += stats.retries
    figures.fanout_rate_limited += stats.rate_limited


async def stream_one(client: AsyncGrok, index: int) -> ChatCompletion | GrokError:
    try:
        stream: AsyncStream[ChatCompletionChunk] = await client.chat.completions.create(
            **request(index), stream=True
        )
        async with stream:
            return await stream.get_final_completion()
    except GrokError as exc:
        return exc


async def stream_all(client: AsyncGrok, indexes: list[int], figures: Round) -> None:
    """The streamed share of a round, a few at a time beside the fan-out."""
    gate = asyncio.Semaphore(STREAM_CONCURRENCY)

    async def gated(index: int) -> ChatCompletion | GrokError:
        async with gate:
            return await stream_one(client, index)

    results = await asyncio.gather(*(gated(i) for i in indexes))
    for index, result in zip(indexes, results, strict=True):
        if isinstance(result, ChatCompletion):
            check_completion(index, result)
        else:
            assert isinstance(result, STREAM_ERRORS), repr(result)
        figures.stream_outcomes[type(result).__name__] += 1


async def soak_round(client: AsyncGrok, fake: FakeGrok, figures: Round) -> None:
    fake.reset()
    indexes = range(SOAK_N)
    streamed = [i for i in indexes if i % STREAM_EVERY == STREAM_EVERY - 1]
    fanned = [i for i in indexes if i % STREAM_EVERY != STREAM_EVERY - 1]
    started = time.monotonic()
    await asyncio.gather(fan_out(client, fanned, figures), stream_all(client, streamed, figures))
    figures.elapsed = time.monotonic() - started
    figures.requests = SOAK_N
    stats = fake.stats
    # Handlers of abandoned attempts (stalls) are cancelled when the client hangs up.
    assert await wait_until(lambda: stats.in_flight == 0, timeout=5.0)
    figures.attempts = stats.requests
    figures.faults = collections.Counter(stats.faults)
    figures.statuses = collections.Counter(stats.responses_by_status)
    figures.connections_opened = stats.connections_opened
    figures.pool_in_use = pool_in_use(client)
    figures.tasks = len(client_tasks())
    figures.fds = open_fds()
    figures.rss = rss_bytes()
    figures.live = live_objects(*TRACKED)


def report(
    rounds: list[Round],
    fds: tuple[int, int],
    tasks: tuple[int, int],
    live_before: Mapping[str, int],
    wall: float,
) -> str:
    mib = 1024 * 1024
    total = collections.Counter[str]()
    for r in rounds:
        total.update(r.faults)
    lines = [
        f"fault soak: {len(rounds)} rounds x {SOAK_N} requests "
        f"({SOAK_N // STREAM_EVERY} streamed per round), {wall:.1f} s",
        f"  client: max_retries={MAX_RETRIES}, timeout=Timeout(read={READ_TIMEOUT}), "
        f"max_connections={MAX_CONNECTIONS}, concurrency={CONCURRENCY}; "
        f"emulator: fault_rates={FAULT_RATES}, stall_seconds={STALL_SECONDS}, "
        f"retry_after={RETRY_AFTER}",
        f"  expected success: fan-out {success_probability(fan_out=True):.2%}, "
        f"streams {success_probability(fan_out=False):.2%}",
    ]
    for number, r in enumerate(rounds, 1):
        fan_total = sum(r.fanout_outcomes.values())
        stream_total = sum(r.stream_outcomes.values())
        lines += [
            f"  round {number}: {r.elapsed:.1f} s, {r.attempts} attempts for {r.requests} "
            f"requests ({r.attempts - r.requests} retries; fan-out {r.fanout_retries}, "
            f"{r.fanout_rate_limited} rate-limited), {r.connections_opened} connections opened",
            f"    faults injected: {dict(r.faults.most_common())} (total {sum(r.faults.values())})",
            f"    fan-out outcomes: {dict(r.fanout_outcomes.most_common())} "
            f"({r.fanout_outcomes['ChatCompletion'] / fan_total:.2%} ok)",
            f"    stream outcomes: {dict(r.stream_outcomes.most_common())} "
            f"({r.stream_outcomes['ChatCompletion'] / stream_total:.2%} ok)",
            f"    after: fds {r.fds}, tasks {r.tasks}, pool in use {r.pool_in_use}, "
            f"RSS {r.rss / mib:.1f} MiB",
            f"    live objects: {r.live}",
        ]
    lines += [
        f"  faults over all rounds: {dict(total.most_common())} (total {sum(total.values())})",
        f"  fds before/after: {fds[0]}/{fds[1]}; tasks before/after: {tasks[0]}/{tasks[1]}; "
        f"RSS round 1/{len(rounds)}: {rounds[0].rss / mib:.1f}/{rounds[-1].rss / mib:.1f} MiB",
        f"  live objects before round 1: {live_before}",
    ]
    return "\n".join(lines)


def assert_success_ratio(outcomes: list[Mapping[str, int]], *, fan_out: bool) -> None:
    """The observed success ratio is within five standard deviations of the prediction."""
    successes = sum(o["ChatCompletion"] for o in outcomes)
    total = sum(sum(o.values()) for o in outcomes)
    expected = success_probability(fan_out=fan_out)
    sigma = math.sqrt(expected * (1 - expected) / total)
    observed = successes / total
    assert abs(observed - expected) <= 5 * sigma + 0.01, (
        f"{'fan-out' if fan_out else 'stream'} success {observed:.2%}, "
        f"expected {expected:.2%} +- {5 * sigma:.2%}"
    )


async def test_fault_soak() -> None:
    """Every request ends once with its answer or a typed error, most succeed, nothing leaks."""
    assert FANOUT_RATE_LIMIT_RETRIES >= 10  # the prediction treats rate limits as free
    wall = time.monotonic()
    # A thread-mode emulator: its server tasks live in another loop, so every task left in
    # this one is the client's, and its sockets are counted in the same /proc/self/fd.
    with FakeGrok(
        fault_rates=FAULT_RATES,
        stall_seconds=STALL_SECONDS,
        retry_after=RETRY_AFTER,
        record_requests=False,
        seed=2025,
    ) as fake:
        fds_before = open_fds()
        tasks_before = client_tasks()
        live_before = live_objects(*TRACKED)
        rounds: list[Round] = []
        async with AsyncGrok(
            FAKE_KEY,
            base_url=fake.base_url,
            timeout=Timeout(connect=5.0, read=READ_TIMEOUT),
            max_retries=MAX_RETRIES,
            max_connections=MAX_CONNECTIONS,
        ) as client:
            for _ in range(ROUNDS):
                figures = Round()
                await soak_round(client, fake, figures)
                rounds.append(figures)
                assert figures.pool_in_use == 0
                assert await wait_until(lambda: client_tasks() <= tasks_before), "task leaked"
                # Client socket + server socket per pooled connection, plus slack.
                assert figures.fds <= fds_before + 2 * MAX_CONNECTIONS + FD_SLACK
        # Closing the client closes its sockets; the server side follows a moment later.
        assert await wait_until(lambda: fake.open_connections() == 0, timeout=5.0)
        assert await wait_until(lambda: open_fds() <= fds_before + FD_SLACK, timeout=5.0)
        fds_after = open_fds()
        tasks_after = client_tasks()
    wall = time.monotonic() - wall
    counts = (len(tasks_before), len(tasks_after))
    print("\n" + report(rounds, (fds_before, fds_after), counts, live_before, wall))

    assert tasks_after == tasks_before
    assert fds_after <= fds_before + FD_SLACK
    for r in rounds:
        assert r.attempts >= r.requests
        assert sum(r.faults.values()) > 0
    # Every fault kind was injected, and the errors are explained by the faults: each
    # validation error needs a malformed answer, each other failure a retryable fault.
    total_faults = collections.Counter[str]()
    for r in rounds:
        total_faults.update(r.faults)
    assert set(total_faults) == set(FAULT_RATES)
    for r in rounds:
        invalid = r.fanout_outcomes["APIResponseValidationError"]
        invalid += r.stream_outcomes["APIResponseValidationError"]
        assert invalid <= r.faults["malformed"]
    assert_success_ratio([r.fanout_outcomes for r in rounds], fan_out=True)
    assert_success_ratio([r.stream_outcomes for r in rounds], fan_out=False)
    # Nothing of a finished call stays alive, and memory is flat across rounds: what
    # round 1 allocated (pools, caches) is reused.
    for number, r in enumerate(rounds, 1):
        for name, count in r.live.items():
            assert count <= live_before[name] + LIVE_SLACK, f"{count} {name} after round {number}"
    assert rounds[-1].rss <= rounds[0].rss * (1 + RSS_GROWTH) + RSS_SLACK
