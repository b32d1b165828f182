"""RedisRateLimiter: one requests/tokens budget and one pause shared through a real Redis.

Every test runs against a real ``redis-server`` on 127.0.0.1 (see ``tests/redis_server.py``)
and uses keys of its own, so tests never see each other's buckets.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from grok_async import (
    AsyncGrok,
    RateLimiter,
    RateLimiterError,
    RedisRateLimiter,
)
from grok_async._budget import RateBudget
from grok_async.testing import FakeGrok, Fault

from .conftest import FAKE_KEY
from .redis_server import RedisServer, running_redis

redis_asyncio = pytest.importorskip("redis.asyncio", reason="needs redis-py: pip install redis")

MODEL = "grok-4"


def request(i: int) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": f"#{i}"}]}


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
def key() -> str:
    """A key no other test uses."""
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Any]:
    """A plain redis-py client, to look at what the limiter stored."""
    client = redis_asyncio.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def limiters(redis_server: RedisServer) -> AsyncIterator[list[RedisRateLimiter]]:
    """Limiters made by a test; each is closed when it ends."""
    made: list[RedisRateLimiter] = []
    yield made
    for limiter in made:
        await limiter.aclose()


def make(
    made: list[RedisRateLimiter], server: RedisServer, key: str, **budgets: Any
) -> RedisRateLimiter:
    limiter = RedisRateLimiter(server.url, key=key, **budgets)
    made.append(limiter)
    return limiter


async def draws_within(limiter: RateLimiter, seconds: float, tokens: int = 0) -> int:
    """How many acquires complete in ``seconds`` (one caller after another)."""
    count = 0

    async def keep_drawing() -> None:
        nonlocal count
        while True:
            await limiter.acquire(tokens)
            count += 1

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(keep_drawing(), seconds)
    return count


def test_both_limiters_satisfy_the_protocol(redis_server: RedisServer) -> None:
    """The in-process budget and the Redis one are both RateLimiters."""
    assert isinstance(RateBudget(requests_per_minute=60), RateLimiter)
    assert isinstance(RedisRateLimiter(redis_server.url, requests_per_minute=60), RateLimiter)


def test_bad_settings_are_refused_and_the_password_never_shown() -> None:
    """Budgets <= 0, an empty key and a non-Redis URL are refused; repr hides the password."""
    with pytest.raises(ValueError, match="requests_per_minute"):
        RedisRateLimiter("redis://127.0.0.1/0", requests_per_minute=0)
    with pytest.raises(ValueError, match="key"):
        RedisRateLimiter("redis://127.0.0.1/0", key="")
    with pytest.raises(ValueError, match="not a Redis URL") as refused:
        RedisRateLimiter("http://user:hunter2@127.0.0.1/0")
    assert "hunter2" not in str(refused.value)
    limiter = RedisRateLimiter("redis://:hunter2@127.0.0.1:6379/0", requests_per_minute=60)
    assert "hunter2" not in repr(limiter)
    assert "hunter2" not in repr(pickle.loads(pickle.dumps(limiter)))


async def test_pacing_holds_the_budget_over_a_window(
    redis_server: RedisServer, key: str, limiters: list[RedisRateLimiter]
) -> None:
    """600/min: a burst of one second's worth (10), then 10 per second: counted over
    0.8 s, eight callers together draw no more than the budget allows and not far less."""
    limiter = make(limiters, redis_server, key, requests_per_minute=600)
    started = time.monotonic()
    counts = await asyncio.gather(*(draws_within(limiter, 0.8) for _ in range(8)))
    elapsed = time.monotonic() - started
    allowed = 10 + 10 * elapsed
    assert sum(counts) <= allowed + 1
    assert sum(counts) >= 10 + 10 * 0.8 * 0.6  # the burst, and most of the refill


async def test_two_workers_share_one_budget(
    redis_server: RedisServer, key: str, limiters: list[RedisRateLimiter]
) -> None:
    """Two limiter instances (two workers) on one key draw from one bucket: together they
    stay within the budget, and one's draws leave less for the other."""
    first = make(limiters, redis_server, key, requests_per_minute=600)
    second = make(limiters, redis_server, key, requests_per_minute=600)
    started = time.monotonic()
    counts = await asyncio.gather(draws_within(first, 0.8), draws_within(second, 0.8))
    elapsed = time.monotonic() - started
    assert sum(counts) <= 10 + 10 * elapsed + 1
    assert min(counts) > 0  # both got turns

    slow = make(limiters, redis_server, f"{key}:slow", requests_per_minute=60)  # one a second
    other = make(limiters, redis_server, f"{key}:slow", requests_per_minute=60)
    await slow.acquire(0)  # takes the only request of this second
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(other.acquire(0), 0.3)


async def test_a_pause_holds_back_every_sharer(
    redis_server: RedisServer, key: str, limiters: list[RedisRateLimiter]
) -> None:
    """A pause stored by one worker makes the others' acquires wait; other keys go on."""
    first = make(limiters, redis_server, key, requests_per_minute=6000)
    second = make(limiters, redis_server, key, requests_per_minute=6000)
    elsewhere = make(limiters, redis_server, f"{key}:other", requests_per_minute=6000)
    await first.pause(5.0)
    assert 4.0 < await second.paused_for() <= 5.0
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(second.acquire(0), 0.3)
    assert await elsewhere.paused_for() == 0.0
    await asyncio.wait_for(elsewhere.acquire(0), 2.0)
    await first.pause(0.0)  # a zero pause neither clears nor shortens the stored one
    assert 3.5 < await first.paused_for() <= 5.0


async def test_tokens_are_drawn_then_corrected_from_usage(
    redis_server: RedisServer, key: str, limiters: list[RedisRateLimiter], redis: Any
) -> None:
    """Tokens: a draw takes the estimate; settle() gives back what was not used, stored
    with the next call (here flush()), visible to every sharer."""
    limiter = make(limiters, redis_server, key, tokens_per_minute=600)  # 10/s, capacity 10
    await limiter.acquire(10)
    assert float(await redis.hget(key, "t")) < 1.0  # the bucket is empty
    limiter.settle(estimated=10, actual=2)  # 8 come back
    assert float(await redis.hget(key, "t")) < 1.0  # not sent yet
    await limiter.flush()
    assert 8.0 <= float(await redis.hget(key, "t")) <= 10.0
    other = make(limiters, redis_server, key, tokens_per_minute=600)
    await asyncio.wait_for(other.acquire(8), 0.5)  # the returned tokens are there for it
    limiter.settle(estimated=0, actual=40)  # a request used far more than estimated
    await limiter.flush()
    assert float(await redis.hget(key, "t")) < -20.0  # in debt: later draws must wait
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(other.acquire(1), 0.5)


async def test_keys_never_collide(
    redis_server: RedisServer, key: str, limiters: list[RedisRateLimiter], redis: Any
) -> None:
    """Different keys (even one that extends another) are different budgets, and the
    limiter stores nothing under any other key."""
    drained = make(limiters, redis_server, key, requests_per_minute=60)
    longer = make(limiters, redis_server, f"{key}:x", requests_per_minute=60)
    await drained.acquire(0)
    await drained.pause(30)
    await asyncio.wait_for(longer.acquire(0), 1.0)
    assert await longer.paused_for() == 0.0
    assert sorted(await redis.keys(f"{key}*")) == [key, f"{key}:x"]
    assert 0 < await redis.pttl(key) <= 91_000  # expires once idle: never left behind


async def test_the_script_is_reloaded_after_a_flush(
    redis_server: RedisServer, key: str, limiters: list[RedisRateLimiter], redis: Any
) -> None:
    """EVALSHA falls back to EVAL when the server has forgotten the script."""
    limiter = make(limiters, redis_server, key, requests_per_minute=600)
    await limiter.acquire(0)
    await redis.script_flush()
    await limiter.acquire(0)
    assert float(await redis.hget(key, "r")) < 9.5  # both draws were counted


async def test_a_pickled_copy_shares_the_budget(
    redis_server: RedisServer, key: str, limiters: list[RedisRateLimiter]
) -> None:
    """A copy sent to another process (pickled) reconnects and draws from the same key."""
    limiter = make(limiters, redis_server, key, requests_per_minute=60)
    copy = pickle.loads(pickle.dumps(limiter))
    limiters.append(copy)
    await limiter.acquire(0)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(copy.acquire(0), 0.3)


async def test_an_unreachable_redis_is_a_clear_error(redis_server: RedisServer) -> None:
    """A Redis that is not there: RateLimiterError naming the key and the address (never
    the password), and a pending correction is kept for the next try."""
    with running_redis() as doomed:
        url = f"redis://:hunter2@127.0.0.1:{doomed.port}/0"
        limiter = RedisRateLimiter(url, tokens_per_minute=600, key="gone", timeout=1.0)
        await limiter.acquire(1)
        doomed.stop()
        limiter.settle(estimated=1, actual=3)
        with pytest.raises(RateLimiterError) as failed:
            await limiter.acquire(1)
        message = str(failed.value)
        assert "'gone'" in message and f"127.0.0.1:{doomed.port}" in message
        assert "hunter2" not in message
        assert isinstance(failed.value, ConnectionError)
        assert limiter._correction == 2
        with pytest.raises(RateLimiterError):
            await limiter.aclose()  # the correction could not be sent either


async def test_a_fan_out_draws_every_request_and_shares_server_pauses(
    redis_server: RedisServer, key: str, limiters: list[RedisRateLimiter]
) -> None:
    """create_many(rate_limit=...) paces every request by the shared budget (counted at the
    server), and a pause it takes for correlated 429s (with Retry-After) holds back the other
    workers too."""
    limiter = make(limiters, redis_server, key, requests_per_minute=1200)  # 20/s, burst 20
    watcher = make(limiters, redis_server, key, requests_per_minute=1200)
    async with FakeGrok() as fake, AsyncGrok(FAKE_KEY, base_url=fake.base_url) as client:
        results = await client.chat.completions.create_many(
            [request(i) for i in range(36)], concurrency=16, rate_limit=limiter
        )
        assert len(results) == 36
        assert all(r.choices[0].message.content for r in results)
        times = sorted(r.time for r in fake.requests)
        # Within any window, at most the burst plus what refills in it.
        for i, start in enumerate(times):
            inside = sum(1 for t in times[i:] if t - start <= 0.5)
            assert inside <= 20 + 20 * 0.5 + 1

        # Refusals correlated enough to pause the fan-out (a stray one would only delay
        # its own request): the sixth in a row asks for a second.
        fake.enqueue(*[Fault.status(429, retry_after=0.02)] * 5, Fault.status(429, retry_after=1.0))
        run = asyncio.ensure_future(
            client.chat.completions.create_many([request(0)], rate_limit=limiter)
        )
        seen: list[float] = []

        async def watch() -> bool:
            seen.append(await watcher.paused_for())
            return seen[-1] > 0.3

        assert await wait_until_async(watch, timeout=3.0)
        (result,) = await run
        assert result.choices[0].message.content is not None
        assert len(fake.requests) == 36 + 7  # six refused attempts and the answered one


async def wait_until_async(predicate: Any, timeout: float) -> bool:
    """Like ``wait_until`` for an async predicate."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_an_unreachable_limiter_fails_each_request_without_sending_it() -> None:
    """With return_exceptions=True, a fan-out whose limiter is unreachable returns a
    RateLimiterError per request and sends nothing."""
    with running_redis() as doomed:
        url = doomed.url
    limiter = RedisRateLimiter(url, requests_per_minute=600, key="gone", timeout=1.0)
    async with FakeGrok() as fake, AsyncGrok(FAKE_KEY, base_url=fake.base_url) as client:
        results = await client.chat.completions.create_many(
            [request(i) for i in range(3)], rate_limit=limiter, return_exceptions=True
        )
        assert [type(r) for r in results] == [RateLimiterError] * 3
        assert fake.requests == []
    await limiter.aclose()


async def test_rate_limit_must_be_a_rate_limiter() -> None:
    """Anything else is refused before a request is sent."""
    async with FakeGrok() as fake, AsyncGrok(FAKE_KEY, base_url=fake.base_url) as client:
        not_a_limiter: Any = 600
        with pytest.raises(TypeError, match="rate_limit must be a RateLimiter"):
            await client.chat.completions.create_many([request(0)], rate_limit=not_a_limiter)
        assert fake.requests == []


async def test_the_in_process_budget_works_as_rate_limit_too() -> None:
    """rate_limit= also takes a RateBudget (one process): every request draws from it and
    a server pause is stored in it."""
    budget = RateBudget(requests_per_minute=60)
    async with FakeGrok() as fake, AsyncGrok(FAKE_KEY, base_url=fake.base_url) as client:
        # Refusals the budget headers do not explain pause the fan-out once they are most
        # of its attempts (a stray one only delays its own request).
        fake.enqueue(*[Fault.status(429, retry_after=0.05)] * 5, Fault.status(429, retry_after=0.3))
        started = time.monotonic()
        (result,) = await client.chat.completions.create_many([request(0)], rate_limit=budget)
        assert result.choices[0].message.content
        assert budget._pause_until >= started + 0.3
        # Drawn: each of the seven attempts took one of the minute's 60 (plus the refill).
        assert budget.requests is not None and budget.requests.balance < 60 - 7 + 2


async def test_an_in_process_pause_holds_back_acquires() -> None:
    """RateBudget.pause: the next acquire waits the pause out."""
    budget = RateBudget(requests_per_minute=60_000)
    await budget.pause(0.3)
    started = time.monotonic()
    await budget.acquire(0)
    assert time.monotonic() - started >= 0.25


class _Unsharable(RateBudget):
    """An in-process budget whose pauses cannot be shared (as if its backend were down)."""

    async def pause(self, seconds: float) -> None:
        raise RateLimiterError("the backend is down")


async def test_a_pause_that_cannot_be_shared_is_logged_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failure to share a server pause is a warning; the fan-out still pauses and ends."""
    async with FakeGrok() as fake, AsyncGrok(FAKE_KEY, base_url=fake.base_url) as client:
        fake.enqueue(*[Fault.status(429, retry_after=0.02)] * 6)  # correlated: a pause
        with caplog.at_level("WARNING", logger="grok_async"):
            (result,) = await client.chat.completions.create_many(
                [request(0)], rate_limit=_Unsharable()
            )
    assert result.choices[0].message.content
    assert "could not share a rate-limit pause: the backend is down" in caplog.text


async def test_the_limiter_closes_as_a_context_manager(
    redis_server: RedisServer, key: str, redis: Any
) -> None:
    """``async with`` sends pending corrections and closes the connection; closing a
    limiter that never connected does nothing."""
    async with RedisRateLimiter(redis_server.url, tokens_per_minute=600, key=key) as limiter:
        await limiter.acquire(10)
        limiter.settle(estimated=10, actual=0)
    assert float(await redis.hget(key, "t")) >= 9.0  # the correction went out on close
    await RedisRateLimiter(redis_server.url, key=key).aclose()


async def test_a_silent_redis_is_asked_once_not_once_per_waiting_request() -> None:
    """A Redis that accepts but never answers: the first draw waits out the timeout, the
    draws queued behind it fail at once instead of each waiting its own timeout."""
    received = bytearray()

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            received.extend(data)
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{port}/0", requests_per_minute=600, timeout=0.3)
    try:
        results = await asyncio.gather(
            *(limiter.acquire(0) for _ in range(5)), return_exceptions=True
        )
        assert [type(r) for r in results] == [RateLimiterError] * 5
        # Every try starts with the connection's handshake: one try in all.
        assert received.upper().count(b"HELLO") == 1
        assert "not retried" in str(results[-1])
    finally:
        server.close()
        with contextlib.suppress(RateLimiterError):
            await limiter.aclose()
        await server.wait_closed()
