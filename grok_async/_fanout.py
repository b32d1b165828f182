"""Fan-out: many requests, bounded in flight, each ending exactly once.

Workers pull requests from the caller's iterable (sync or async) one at a time, so a
million-request generator is never materialised; finished results go through a bounded
queue to the consumer. All attempts share one :class:`AdaptiveLimiter`, whose
``concurrency`` slots bound the attempts in flight, so on correlated refusals the whole
batch backs off together. There are twice as many workers as slots: a request waiting
out its backoff before a retry holds no slot, and another request may use it meanwhile.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from typing import Any, Generic, TypeVar

import attrs

from ._ratecontrol import AdaptiveLimiter, attempt_counter, budget_waits, current_limiter

__all__ = ["FanOutStats", "iter_many", "run_many"]

R = TypeVar("R")

# Latencies are kept in a fixed-size reservoir so memory stays flat for any number of
# requests; 10,000 samples put p99 within a fraction of a percent.
_RESERVOIR = 10_000
# Workers per slot of concurrency (see the module's docstring).
_WORKERS_PER_SLOT = 2


@attrs.define
class FanOutStats:
    """Counters of a fan-out, live while it runs and final when it ends."""

    total: int | None = None
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    in_flight: int = 0
    rate_limited: int = 0
    #: Starts the team's budgets held back (the pacer waited for them to refill), and the
    #: seconds those waits took in all (summed over requests, so it may exceed elapsed).
    budget_waits: int = 0
    budget_wait_seconds: float = 0.0
    #: Attempts waiting for the budgets right now (live; each holds a slot of concurrency).
    budget_waiting: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    #: Dollars spent: the sum of each answer's ``usage.cost_usd`` (answers without a cost
    #: add nothing).
    cost_usd: float = 0.0
    started: float = attrs.field(factory=time.monotonic, repr=False)
    finished: float | None = attrs.field(default=None, repr=False)
    _latencies: list[float] = attrs.field(factory=list, repr=False)
    _seen: int = attrs.field(default=0, repr=False)

    @property
    def done(self) -> int:
        """Requests finished so far, successfully or not."""
        return self.succeeded + self.failed

    @property
    def elapsed(self) -> float:
        """Seconds since the fan-out started (until it finished, once it has)."""
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    @property
    def requests_per_second(self) -> float:
        """Finished requests per second of elapsed time."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def latency(self, quantile: float) -> float | None:
        """Latency (seconds) at ``quantile`` (0..1) over the sampled requests."""
        if not self._latencies:
            return None
        ordered = sorted(self._latencies)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]

    @property
    def p50(self) -> float | None:
        """Median latency in seconds (retries included), or None before any result."""
        return self.latency(0.50)

    @property
    def p99(self) -> float | None:
        """99th-percentile latency in seconds, or None before any result."""
        return self.latency(0.99)

    def record(self, latency: float, result: Any) -> None:
        """Count one finished request (called by the fan-out)."""
        if isinstance(result, BaseException):
            self.failed += 1
        else:
            self.succeeded += 1
            usage = getattr(result, "usage", None)
            if usage is not None:
                self.prompt_tokens += usage.prompt_tokens or 0
                self.completion_tokens += usage.completion_tokens or 0
                self.total_tokens += usage.total_tokens or 0
                cost = usage.cost_usd
                if cost:
                    self.cost_usd += cost
        self._seen += 1
        # Unsorted: sorting happens only when a percentile is asked for.
        if len(self._latencies) < _RESERVOIR:
            self._latencies.append(latency)
        else:  # reservoir sampling keeps a uniform sample of every latency seen
            slot = random.randrange(self._seen)
            if slot < _RESERVOIR:
                self._latencies[slot] = latency

    def summary(self) -> str:
        """One line: counts, rate, latency percentiles, retries, budget waits, tokens and
        cost (when the server sent any)."""
        p50, p99 = self.p50, self.p99
        lat = (
            f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
            if p50 is not None and p99 is not None
            else "no latency samples"
        )
        return (
            f"{self.succeeded} ok, {self.failed} failed in {self.elapsed:.2f} s "
            f"({self.requests_per_second:,.0f} req/s); {lat}; {self.retries} retries "
            f"({self.rate_limited} rate-limited); {self.budget_waits} budget waits "
            f"({self.budget_wait_seconds:.1f} s); {self.total_tokens:,} tokens"
            + (f"; ${self.cost_usd:.4f}" if self.cost_usd else "")
        )


class _Source(Generic[R]):
    """Hands out ``(index, request)`` pairs from a sync or async iterable, lazily."""

    def __init__(self, requests: Iterable[Any] | AsyncIterable[Any]) -> None:
        self._index = 0
        self._lock = asyncio.Lock()
        if isinstance(requests, AsyncIterable):
            self._async: AsyncIterator[Any] | None = requests.__aiter__()
            self._sync = None
        else:
            self._async = None
            self._sync = iter(requests)

    @property
    def count(self) -> int:
        """How many requests were handed out so far."""
        return self._index

    @property
    def is_sync(self) -> bool:
        """Whether :meth:`take` serves (a plain iterable: no coroutine per request)."""
        return self._sync is not None

    def take(self) -> tuple[int, Any] | None:
        """The next pair of a plain iterable, or None at its end."""
        assert self._sync is not None
        try:
            item = next(self._sync)
        except StopIteration:
            return None
        index = self._index
        self._index += 1
        return index, item

    async def next(self) -> tuple[int, Any] | None:
        """The next pair, or None at the end."""
        if self._sync is not None:
            return self.take()
        assert self._async is not None
        # An async generator cannot be advanced by two workers at once.
        async with self._lock:
            try:
                item = await self._async.__anext__()
            except StopAsyncIteration:
                return None
        index = self._index
        self._index += 1
        return index, item


_WORKER_DONE = object()


class _Abort(Exception):
    """Raised by a result sink to stop the fan-out (the first failure, when it is fatal)."""


async def _work(
    source: _Source[Any],
    call: Callable[[Mapping[str, Any]], Awaitable[R]],
    limiter: AdaptiveLimiter,
    stats: FanOutStats,
    deliver: Callable[[int, R | Exception], Awaitable[None] | None],
) -> None:
    """One worker: take a request, run it to its end, deliver the result; until none left.

    ``deliver`` returns an awaitable only when it must wait (a full queue): the common
    case costs no coroutine, as a plain iterable's next request does not.
    """
    sync = source.is_sync
    # The limiter counts each request's attempts here; the worker's requests run in its
    # own task, one after the other, so one counter per worker, reset per request, will do.
    current_limiter.set(limiter)
    attempts = [0]
    attempt_counter.set(attempts)
    budget_waits.set(stats)
    while True:
        item = source.take() if sync else await source.next()
        if item is None:
            return
        index, request = item
        stats.in_flight += 1
        started = time.monotonic()
        attempts[0] = 0
        result: R | Exception
        try:
            if request.__class__ is not dict and not isinstance(request, Mapping):
                raise TypeError(
                    "each request must be a dict of create() arguments, "
                    f"not {type(request).__name__}"
                )
            result = await call(request)
        except Exception as exc:
            result = exc
        finally:
            stats.in_flight -= 1
        if attempts[0] > 1:
            stats.retries += attempts[0] - 1
        stats.rate_limited = limiter.rate_limited
        stats.record(time.monotonic() - started, result)
        waiting = deliver(index, result)
        if waiting is not None:
            await waiting


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    # Workers blocked on a full queue or a slot must see their cancellation through.
    await asyncio.gather(*tasks, return_exceptions=True)


async def run_many(
    call: Callable[[Mapping[str, Any]], Awaitable[R]],
    requests: Iterable[Any] | AsyncIterable[Any],
    *,
    concurrency: int,
    limiter: AdaptiveLimiter,
    stats: FanOutStats,
    return_exceptions: bool,
    on_result: Callable[[int, R | Exception], Any] | None = None,
) -> list[R | Exception]:
    """Results in request order; see ``Completions.create_many``.

    Workers write each result straight into its slot: no queue and no generator between
    them and the list, which a million results would otherwise each pass through.
    """
    source: _Source[Any] = _Source(requests)
    results: list[Any] = []
    failure: list[Exception] = []

    def store(index: int, result: R | Exception) -> None:
        if on_result is not None:
            on_result(index, result)
        if isinstance(result, Exception) and not return_exceptions:
            failure.append(result)
            raise _Abort
        if index >= len(results):
            # Grown by doubling (trimmed at the end): not a new list per result.
            results.extend([None] * max(index + 1 - len(results), len(results), 64))
        results[index] = result

    workers = [
        asyncio.create_task(_work(source, call, limiter, stats, store))
        for _ in range(concurrency * _WORKERS_PER_SLOT)
    ]
    try:
        done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            exc = task.exception()
            if exc is not None:  # a fatal result, or the request iterable failed
                raise failure[0] if isinstance(exc, _Abort) else exc
    finally:
        stats.finished = time.monotonic()
        await _cancel_all(workers)
    del results[source.count :]
    return results


async def iter_many(
    call: Callable[[Mapping[str, Any]], Awaitable[R]],
    requests: Iterable[Any] | AsyncIterable[Any],
    *,
    concurrency: int,
    limiter: AdaptiveLimiter,
    stats: FanOutStats,
    return_exceptions: bool,
    on_result: Callable[[int, R | Exception], Any] | None = None,
) -> AsyncGenerator[tuple[int, R | Exception], None]:
    """Yield ``(index, result)`` in completion order; see ``Completions.iter_many``."""
    source: _Source[Any] = _Source(requests)
    # Bounded: workers wait for a slow consumer instead of piling results up.
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=concurrency)

    async def feed() -> None:
        def deliver(index: int, result: R | Exception) -> Awaitable[None] | None:
            if queue.full():
                return queue.put((index, result))  # wait for the consumer
            queue.put_nowait((index, result))
            return None

        try:
            await _work(source, call, limiter, stats, deliver)
        except Exception as exc:  # the request iterable itself failed
            await queue.put((-1, exc))
            return
        # Only on a normal exit: a cancelled worker must not block on a full queue that
        # nobody reads any more.
        await queue.put(_WORKER_DONE)

    workers = [asyncio.create_task(feed()) for _ in range(concurrency * _WORKERS_PER_SLOT)]
    running = len(workers)
    try:
        while running:
            item = await queue.get()
            if item is _WORKER_DONE:
                running -= 1
                continue
            index, result = item
            if index < 0:
                raise result
            if on_result is not None:
                on_result(index, result)
            if isinstance(result, Exception) and not return_exceptions:
                raise result
            yield index, result
    finally:
        stats.finished = time.monotonic()
        await _cancel_all(workers)
