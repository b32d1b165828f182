"""Pacing from the server's budget headers (#16): the pacer alone, then against FakeGrok."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from grok_async import AsyncGrok, AsyncStream, RateLimitError, _pacer
from grok_async._pacer import COLD_START, Pacer, Ticket
from grok_async._ratecontrol import AdaptiveLimiter
from grok_async._ratelimits import RateLimits
from grok_async.testing import FakeGrok
from grok_async.types.chat import ChatCompletionChunk

from .conftest import FAKE_KEY

MODEL = "grok-4"


class Clock:
    """A fake monotonic clock for the pacer's synchronous paths."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(_pacer, "_clock", fake)
    return fake


def reading(requests: int, limit: int = 60, tokens: int | None = None) -> RateLimits:
    return RateLimits(
        requests_limit=limit,
        requests_remaining=requests,
        tokens_limit=None if tokens is None else 1_000_000,
        tokens_remaining=tokens,
    )


def warm(pacer: Pacer, state: RateLimits) -> Ticket:
    """The first attempt, answered with ``state``."""
    ticket = pacer.start_now(0, pacer.next_seq())
    assert ticket is not None
    pacer.succeeded(ticket, state)
    return ticket


def starts(pacer: Pacer, tokens: int = 0, cap: int = 1000) -> int:
    """How many attempts may start at once now (counting up to ``cap``)."""
    count = 0
    while count < cap and pacer.start_now(tokens, pacer.next_seq()) is not None:
        count += 1
    return count


# -- the pacer alone ---------------------------------------------------------------------


def test_before_the_first_answer_only_a_few_attempts_go(clock: Clock) -> None:
    """Nothing is known of the budget before an answer: COLD_START attempts go, then the
    next waits for the first outcome (which may show a budget of one a second)."""
    pacer = Pacer(60.0)
    tickets = [pacer.start_now(0, pacer.next_seq()) for _ in range(COLD_START)]
    assert all(ticket is not None for ticket in tickets)
    assert pacer.start_now(0, pacer.next_seq()) is None
    assert tickets[0] is not None
    pacer.succeeded(tickets[0], None)  # a server without the headers: nothing to pace by
    assert starts(pacer) == 1000


def test_what_a_reading_reports_left_goes_at_once_then_the_refill(clock: Clock) -> None:
    """A reading of 20 left lets out 20 less a one-request margin (the first attempt's own
    reading counts it already), then one start per refill interval (limit / period)."""
    pacer = Pacer(60.0)
    warm(pacer, reading(20, limit=60))
    assert starts(pacer) == 19
    clock.now += 0.5  # half of one request's refill (60 a minute: one a second)
    assert starts(pacer) == 0
    clock.now += 0.6
    assert starts(pacer) == 1


def test_attempts_still_out_are_doubted_by_a_newer_reading(clock: Clock) -> None:
    """An older attempt still out may reach the server after a newer one: the newer one's
    reading does not count it, so the pacer takes it off what is left."""
    pacer = Pacer(60.0)
    first = warm(pacer, reading(100, limit=600))
    assert first is not None
    older = [pacer.start_now(0, pacer.next_seq()) for _ in range(5)]
    newer = pacer.start_now(0, pacer.next_seq())
    assert newer is not None and all(older)
    # The server counted only the first and the newest: 98 left, 5 attempts unaccounted.
    pacer.succeeded(newer, reading(98, limit=600))
    assert starts(pacer) == 98 - 5 - 1


def test_the_level_never_exceeds_what_the_budget_was_seen_to_hold(clock: Clock) -> None:
    """Under a per-second budget the headers show at most a 60th of the limit left: after
    a long idle the pacer lends no more than that, whatever the minute's limit says."""
    pacer = Pacer(60.0)
    warm(pacer, reading(9, limit=600))  # a bucket of 10 behind a limit of 600
    clock.now += 3600.0
    assert starts(pacer) <= 10


def test_a_refusal_the_headers_explain_pauses_the_model(clock: Clock) -> None:
    """A 429 whose headers show the budget spent holds every start back for a probe delay;
    one whose headers show plenty left holds back nobody."""
    pacer = Pacer(60.0)
    warm(pacer, reading(50, limit=60))
    ticket = pacer.start_now(0, pacer.next_seq())
    assert ticket is not None
    assert not pacer.refused(ticket, reading(40, limit=60), None)
    assert pacer.start_now(0, pacer.next_seq()) is not None
    ticket = pacer.start_now(0, pacer.next_seq())
    assert ticket is not None
    assert pacer.refused(ticket, reading(0, limit=60), None)
    assert pacer.refusals == 1
    assert pacer.start_now(0, pacer.next_seq()) is None


def test_without_headers_the_text_explains_a_refusal(clock: Clock) -> None:
    pacer = Pacer(60.0)
    warm(pacer, reading(50, limit=60))
    ticket = pacer.start_now(0, pacer.next_seq())
    assert ticket is not None
    assert pacer.refused(ticket, None, "requests")


def test_the_text_explains_a_refusal_whose_headers_already_show_the_refill(
    clock: Clock,
) -> None:
    """A fast budget may refill between the refusal and its headers: the text ("Requests
    per Minute (actual/limit): 2/1") still says the budget was spent, so the refusal pauses
    the model (and is retried without spending max_retries) instead of passing as a stray."""
    pacer = Pacer(60.0)
    warm(pacer, reading(50, limit=60))
    ticket = pacer.start_now(0, pacer.next_seq())
    assert ticket is not None
    assert pacer.refused(ticket, reading(1, limit=60), "requests")
    assert pacer.refusals == 1
    assert pacer.start_now(0, pacer.next_seq()) is None


def test_a_fixed_window_is_learned_and_its_reset_expected(clock: Clock) -> None:
    """A refusal although the refill promised room: the budget is windowed. Probes find
    the reset (the budget jumps back); the next window is expected a period later, and
    nothing is sent in between."""
    pacer = Pacer(60.0)
    warm(pacer, reading(0, limit=60))
    clock.now += 5.0  # a bucket would have refilled five
    ticket = pacer.start_now(0, pacer.next_seq())
    assert ticket is not None
    assert pacer.refused(ticket, reading(0, limit=60), None)
    # Blind now: one probe at a time, after the probe delay.
    clock.now += 30.0
    probe = pacer.start_now(0, pacer.next_seq())
    assert probe is not None and probe.probe
    assert pacer.start_now(0, pacer.next_seq()) is None  # one probe at a time
    pacer.succeeded(probe, reading(59, limit=60))  # the window reset
    assert starts(pacer) == 59 - 1
    clock.now += 30.0  # no refill inside a window
    assert starts(pacer) == 0
    clock.now += 31.0  # past the expected reset: one probe confirms it first
    probe = pacer.start_now(0, pacer.next_seq())
    assert probe is not None and probe.probe
    assert pacer.start_now(0, pacer.next_seq()) is None


def test_usage_corrects_the_tokens_of_attempts_the_reading_does_not_count(
    clock: Clock,
) -> None:
    pacer = Pacer(60.0)
    warm(pacer, reading(1000, tokens=1000))
    ticket = pacer.start_now(400, pacer.next_seq())  # 400, and as much again of margin
    assert ticket is not None
    assert pacer.start_now(400, pacer.next_seq()) is None  # 600 left: not enough
    pacer.settle(ticket, 10)  # it used 10, not 400
    assert pacer.start_now(400, pacer.next_seq()) is not None


async def test_waiters_start_in_submission_order_and_a_retry_goes_first() -> None:
    """Held back by a spent budget, requests start in the order they were submitted; a
    retried request (an older number) goes ahead of every newer one."""
    pacer = Pacer(0.5)  # 60 a "minute" of half a second: one every 8 ms
    first = pacer.start_now(0, pacer.next_seq())
    assert first is not None
    numbers = [pacer.next_seq() for _ in range(6)]
    pacer.succeeded(first, reading(0, limit=60))
    order: list[int] = []

    async def start(seq: int) -> None:
        ticket = await pacer.start(0, seq)
        order.append(seq)
        pacer.succeeded(ticket, None)

    # Submitted newest first: the line is by number, not by arrival.
    tasks = [asyncio.create_task(start(seq)) for seq in reversed(numbers[1:])]
    await asyncio.sleep(0)
    retry = asyncio.create_task(start(numbers[0]))  # an older request, retried
    await asyncio.wait_for(asyncio.gather(retry, *tasks), timeout=5.0)
    assert order == numbers


async def test_a_waiter_cancelled_in_line_leaves_it() -> None:
    pacer = Pacer(60.0)
    first = pacer.start_now(0, pacer.next_seq())
    assert first is not None
    pacer.succeeded(first, reading(0, limit=60))
    waiter = asyncio.create_task(pacer.start(0, pacer.next_seq()))
    await asyncio.sleep(0)
    assert len(pacer._queue) == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pacer._queue == []


# -- the fan-out's concurrency ------------------------------------------------------------


def _refusal(budget_spent: bool) -> RateLimitError:
    error = RateLimitError("Too many requests", status_code=429, body=None)
    error.budget_spent = budget_spent
    return error


async def test_stray_429s_do_not_cut_a_fan_outs_concurrency() -> None:
    """One refusal in twenty the headers do not explain: the request backs off alone."""
    limiter = AdaptiveLimiter(64)
    for i in range(400):
        started = limiter.try_acquire() or await limiter.acquire()
        limiter.release(started, _refusal(False) if i % 20 == 0 else None)
    assert limiter.limit == 64
    assert limiter.rate_limited == 20


async def test_spent_budgets_do_not_cut_concurrency_either() -> None:
    limiter = AdaptiveLimiter(64)
    for _ in range(50):
        limiter.release(limiter.try_acquire() or await limiter.acquire(), _refusal(True))
    assert limiter.limit == 64


async def test_correlated_unexplained_429s_cut_concurrency() -> None:
    """A server refusing most attempts for reasons the budgets do not show (a concurrency
    limit, say): AIMD halves the slots."""
    limiter = AdaptiveLimiter(64)
    for _ in range(12):
        limiter.release(limiter.try_acquire() or await limiter.acquire(), _refusal(False))
    assert limiter.limit < 64


# -- streams settle what they used ---------------------------------------------------------


class _Body:
    """Stands in for HTTPResponse: hands out one stream's bytes, records the settlement."""

    def __init__(self, data: bytes) -> None:
        self.request_id = "req-1"
        self.timings = None
        self.started = 0.0
        self.call = None
        self.settled: list[object] = []
        self.settle = self.settled.append
        self._pieces = [data]

    async def read_chunk(self) -> bytes:
        return self._pieces.pop(0) if self._pieces else b""

    def close(self) -> None:
        pass

    async def finish(self, grace: float = 1.0) -> None:
        pass


def _chunk(**fields: Any) -> bytes:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    return b"data: " + orjson.dumps({**base, **fields}) + b"\n\n"


async def test_a_stream_settles_its_tokens_from_its_usage_once() -> None:
    usage = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
    data = (
        _chunk(choices=[{"index": 0, "delta": {"content": "hi"}}])
        + _chunk(choices=[], usage=usage)
        + b"data: [DONE]\n\n"
    )
    body = _Body(data)
    stream = AsyncStream(body, ChatCompletionChunk)  # type: ignore[arg-type]
    async for _ in stream:
        pass
    await stream.aclose()
    assert body.settled == [12]


async def test_a_stream_without_usage_settles_with_none() -> None:
    """No usage came (the caller did not ask): the estimate stands."""
    data = _chunk(choices=[{"index": 0, "delta": {"content": "hi"}}]) + b"data: [DONE]\n\n"
    body = _Body(data)
    stream = AsyncStream(body, ChatCompletionChunk)  # type: ignore[arg-type]
    async for _ in stream:
        pass
    assert body.settled == [None]


# -- against FakeGrok ---------------------------------------------------------------------


def _requests(n: int) -> list[dict[str, Any]]:
    return [
        {"model": MODEL, "messages": [{"role": "user", "content": f"#{i}"}], "max_tokens": 16}
        for i in range(n)
    ]


def _client(fake: FakeGrok, **kwargs: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, rate_limit_period=fake.minute, **kwargs)


# (requests per minute, time_scale) per refill model, each binding for 150 requests: a
# bucket and a fixed window of 60 a 0.6 s "minute"; per second, 600 a 3 s minute (a bucket
# of 10 refilled at 200 a second: one of a single request would make the test measure the
# machine's scheduling jitter between requests 10 ms apart, not the pacer).
_BUDGETS = {"bucket": (60, 0.01), "per_second": (600, 0.05), "fixed_window": (60, 0.01)}


@pytest.mark.parametrize("refill", ["bucket", "per_second", "fixed_window"])
async def test_a_fan_out_lives_within_the_budget_under_every_refill(refill: str) -> None:
    """150 requests through a binding budget: every one answered (none lost to its
    retries, here none at all), few refused: under a fixed window, the probes that find
    its first reset; otherwise about none."""
    rpm, scale = _BUDGETS[refill]
    async with FakeGrok(requests_per_minute=rpm, refill=refill, time_scale=scale) as fake:
        async with _client(fake, max_retries=0) as client:
            results = await client.chat.completions.create_many(_requests(150), concurrency=32)
        assert len(results) == 150
        refused = fake.stats.faults["requests_limited"]
        allowed = {"bucket": 2, "per_second": 3, "fixed_window": 30}[refill]
        assert refused <= allowed, f"{refused} refusals under {refill}"


async def test_a_token_budget_paces_a_fan_out() -> None:
    async with FakeGrok(tokens_per_minute=1500, time_scale=0.01) as fake:
        async with _client(fake, max_retries=0) as client:
            results = await client.chat.completions.create_many(_requests(120), concurrency=32)
        assert len(results) == 120
        assert fake.stats.faults["tokens_limited"] <= 3


async def test_requests_reach_the_server_in_submission_order() -> None:
    """Under a binding budget, the server admits requests in the order they were
    submitted, give or take the requests in flight together."""
    async with FakeGrok(requests_per_minute=60, time_scale=0.01) as fake:
        async with _client(fake) as client:
            await client.chat.completions.create_many(_requests(120), concurrency=8)
        answered = [
            int(r.json["messages"][0]["content"][1:])
            for r in fake.requests
            if r.path.endswith("/chat/completions")
        ]
    # Each request reaches the server before any request submitted 8 (the concurrency)
    # or more places after it.
    firsts: dict[int, int] = {}
    for position, index in enumerate(answered):
        firsts.setdefault(index, position)
    order = sorted(firsts, key=firsts.__getitem__)
    worst = max(max(order[: k + 1]) - index for k, index in enumerate(order))
    assert worst <= 8


async def test_a_plain_call_waits_for_a_spent_budget_instead_of_failing() -> None:
    """max_retries=0, and a budget of one request: the second call waits for the refill
    (a 429 the headers explain spends no retries) and is answered."""
    async with (
        FakeGrok(requests_per_minute=1, time_scale=0.005) as fake,
        _client(fake, max_retries=0) as client,
    ):
        messages = [{"role": "user", "content": "hi"}]
        for _ in range(3):
            answer = await client.chat.completions.create(model=MODEL, messages=messages)
            assert answer.choices
        state = client.rate_limits(MODEL)
        assert state is not None and state.requests_limit == 1


async def test_two_clients_share_the_teams_budget_without_talking() -> None:
    """Two clients (as two processes would) pace from the same team budget: each learns
    the other's draw from the headers; every request is answered, few are refused."""
    async with FakeGrok(requests_per_minute=60, time_scale=0.01) as fake:
        async with _client(fake, max_retries=0) as one, _client(fake, max_retries=0) as two:
            first, second = await asyncio.gather(
                one.chat.completions.create_many(_requests(90), concurrency=16),
                two.chat.completions.create_many(_requests(90), concurrency=16),
            )
        assert len(first) == len(second) == 90
        attempts = fake.stats.requests
        assert fake.stats.faults["requests_limited"] <= 0.2 * attempts


async def test_with_options_copies_pace_from_the_same_readings() -> None:
    """A copy made with with_options shares the client's pacer: after the client spent
    the budget, the copy's call waits for the refill instead of being refused."""
    async with (
        FakeGrok(requests_per_minute=2, time_scale=0.01) as fake,
        _client(fake, max_retries=0) as client,
    ):
        messages = [{"role": "user", "content": "hi"}]
        for _ in range(2):
            await client.chat.completions.create(model=MODEL, messages=messages)
        copy = client.with_options(timeout=10.0)
        answer = await copy.chat.completions.create(model=MODEL, messages=messages)
        assert answer.choices
        assert fake.stats.faults["requests_limited"] == 0


def test_settling_without_a_token_budget_keeps_no_corrections(clock: Clock) -> None:
    """A server that reports no token budget gives nothing to correct against: settling
    10,000 answers keeps no corrections (the list would otherwise grow per request, which
    a million-line batch would feel)."""
    pacer = Pacer()
    for _ in range(10_000):
        ticket = pacer.start_now(400, pacer.next_seq())
        assert ticket is not None
        pacer.succeeded(ticket, None)
        pacer.settle(ticket, 10)
    assert pacer._corrections == []


@pytest.mark.parametrize("period", [0.0, -1.0, float("nan")])
def test_a_period_that_is_not_positive_is_refused(period: float) -> None:
    with pytest.raises(ValueError, match="rate_limit_period"):
        AsyncGrok(FAKE_KEY, rate_limit_period=period)
