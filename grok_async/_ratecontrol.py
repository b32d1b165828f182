"""Adaptive concurrency for fan-out: the whole batch backs off together.

Each HTTP attempt of a fan-out takes a slot from one :class:`AdaptiveLimiter`. Pacing to
the team's budgets is not its job: the client's pacer (``_pacer``) starts each model's
calls no faster than the ``X-Ratelimit-*`` headers allow, and a 429 those headers explain
(the budget is spent) is the pacer's to wait out. What is left here are refusals the
budgets do not explain. A stray one (a few per cent of attempts) is the request's own to
back off from (after the server's Retry-After, if it sent one). When they become correlated
(a quarter of recent attempts or more; 429s, or 503s with Retry-After), the server is
limiting something else, often concurrency: the slots are halved (at most once per round
trip: a burst of 429s answering requests sent together counts once) and every request
waits out the server's Retry-After; each window of ``limit`` successes adds one slot back, up to
the configured concurrency. This is AIMD, the rule TCP uses.

When the slots are cut, the pause's end must not fire every waiting request at once, so
starts are also spaced: the server's Retry-After apart (its hint of when the next request
will be accepted; without a hint the spacing grows by half per signal), at most a second,
shrinking by 3 % with each success until it vanishes.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ._errors import APIStatusError
from ._retry import is_rate_limit, retry_after_header
from ._waiters import Waiters

if TYPE_CHECKING:
    from ._ratelimit import RateLimiter

__all__ = ["AdaptiveLimiter", "WaitCounter", "attempt_counter", "budget_waits", "current_limiter"]

T = TypeVar("T")

# Spacing below this is no spacing at all (a loop iteration costs about as much).
_MIN_INTERVAL = 0.001
# Spacing is capped at one start per second; longer waits are the shared pause's job.
_MAX_INTERVAL = 1.0
# Refusals the budget headers do not explain cut concurrency only once they are more than
# this share of recent attempts (an average over about 1 / _SHARE_WEIGHT attempts): a few
# stray 429s must not throttle a whole batch, a server refusing most attempts must.
_CORRELATED = 0.25
_SHARE_WEIGHT = 0.05

#: Set by a fan-out worker to its fan-out's limiter: every call made in the worker's task
#: (a request and its retries) takes its attempts' slots from it.
current_limiter: contextvars.ContextVar[AdaptiveLimiter | None] = contextvars.ContextVar(
    "grok_async_limiter", default=None
)

#: Set by a fan-out worker (once: it resets the count before each of its requests, which
#: run one after the other in its task): the limiter counts the current request's attempts
#: in it (a context variable follows the task through every retry).
attempt_counter: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "grok_async_attempts", default=None
)


class WaitCounter(Protocol):
    """A fan-out's count (its ``FanOutStats``) of the starts the budgets held back, the
    seconds they waited in all, and the attempts waiting right now."""

    budget_waits: int
    budget_wait_seconds: float
    budget_waiting: int


#: Set by a fan-out's workers to the fan-out's counter; the pacer (``_pacer``) counts each
#: start the team's budgets hold back in it.
budget_waits: contextvars.ContextVar[WaitCounter | None] = contextvars.ContextVar(
    "grok_async_budget_waits", default=None
)


class AdaptiveLimiter:
    """Slots for in-flight attempts, with AIMD on rate-limit signals and a shared pause."""

    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError("concurrency must be >= 1")
        self.maximum = maximum
        self.limit = maximum
        self.in_flight = 0
        self.attempts = 0
        self.rate_limited = 0
        #: Recent attempts refused without the budget headers explaining it, as a share.
        self.refused_share = 0.0
        self._successes = 0
        self._last_decrease = -1.0
        self._pause_until = 0.0
        # Spacing between attempt starts, learned from rate-limit signals (0: none).
        self._interval = 0.0
        self._last_start = 0.0
        # Attempts waiting for a slot. A waiter woken for a free slot keeps it until it
        # runs (``_waiters.handed`` counts such slots as taken): a newcomer must not take it.
        self._waiters = Waiters()
        #: Called with the seconds of each server pause that extends the current one, so
        #: a shared rate limiter can hold back other processes too (see ``rate_limit=``).
        self.on_pause: Callable[[float], object] | None = None
        #: The fan-out's own ``rate_limit=`` budget, drawn from instead of the client's.
        self.rate_limit: RateLimiter | None = None

    def wrap(self, once: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        """``once`` (one HTTP attempt) run inside a slot of this limiter."""

        async def paced(*args: Any) -> T:
            # A free slot is taken without a coroutine of its own.
            started = self.try_acquire()
            if started is None:
                started = await self.acquire()
            try:
                result = await once(*args)
            except BaseException as exc:
                self.release(started, exc)
                raise
            self.release(started)
            return result

        return paced

    def try_acquire(self) -> float | None:
        """A slot at once, when one is free and nothing holds attempts back (no queue, no
        pause, no spacing): the attempt's start time. Else ``None``: :meth:`acquire` it.

        The common case of a fan-out that is not being rate-limited, without a coroutine.
        """
        if (
            self._waiters
            or self._waiters.handed
            or self.in_flight >= self.limit
            or self._interval > 0.0
        ):
            return None
        now = time.monotonic()
        if self._pause_until > now:
            return None
        self._last_start = now
        self.in_flight += 1
        self.attempts += 1
        counter = attempt_counter.get()
        if counter is not None:
            counter[0] += 1
        return now

    async def acquire(self) -> float:
        """Wait for a slot (and any shared pause); returns the attempt's start time.

        A retry goes to the front of the queue: it has waited its turn once already, and
        sending it to the back after every 429 could starve it until its retries run out.
        """
        counter = attempt_counter.get()
        is_retry = counter is not None and counter[0] > 0
        try:
            while True:
                # Every condition is re-checked after any wait: the pause and the spacing may
                # have changed meanwhile, and of several waiters woken together only the first
                # may start at once.
                now = time.monotonic()
                if self._pause_until > now:
                    await asyncio.sleep(self._pause_until - now)
                    continue
                due = self._last_start + self._interval
                if self._interval > 0.0 and due > now:
                    await asyncio.sleep(due - now)
                    continue
                waiters = self._waiters
                if self.in_flight + waiters.handed < self.limit and (is_retry or not waiters):
                    break
                # Woken, then cancelled before it ran: the line passes the slot on.
                await waiters.wait(first=is_retry)
                is_retry = True  # it has waited its turn: do not queue behind newcomers
        except BaseException:
            # Leaving without a slot (cancelled in a wait, a pause or the spacing): this
            # task may have been the one woken for a free slot, so pass the turn on.
            self._wake()
            raise
        self._last_start = time.monotonic()
        self.in_flight += 1
        self.attempts += 1
        if counter is not None:
            counter[0] += 1
        return self._last_start

    def _wake(self) -> None:
        waiters = self._waiters
        free = self.limit - self.in_flight - waiters.handed
        while free > 0 and waiters and waiters.hand_over():
            free -= 1

    def release(self, started: float, error: BaseException | None = None) -> None:
        """Give the slot back, learning from how the attempt ended."""
        self.in_flight -= 1
        refusal = error if isinstance(error, APIStatusError) and is_rate_limit(error) else None
        unexplained = refusal is not None and not refusal.budget_spent
        # The share of recent attempts refused for no reason the budget headers give.
        self.refused_share += _SHARE_WEIGHT * (float(unexplained) - self.refused_share)
        if refusal is None:
            self._succeeded(error is None)
            return
        self.rate_limited += 1
        # A spent budget is the pacer's to wait out (it holds every call of the model until
        # the budget refills), and a stray refusal while the budgets show plenty left is the
        # request's own to back off from (after its Retry-After, if any): cutting the batch's
        # concurrency for either would only lose throughput.
        if unexplained and self.refused_share >= _CORRELATED:
            self._back_off(started, retry_after_header(refusal.headers))
        self._wake()

    def _back_off(self, started: float, asked: float | None) -> None:
        """AIMD's decrease, and a pause for the server's Retry-After, if it sent one."""
        if asked:
            until = time.monotonic() + asked
            if until > self._pause_until:
                self._pause_until = until
                if self.on_pause is not None:
                    self.on_pause(asked)
        # The wait the server asked for, spread over the slots we keep: one start per
        # hint when we are down to one slot (a rate limit), less when several in-flight
        # requests are welcome (a concurrency limit).
        hint = min((asked or 0.0) / self.limit, _MAX_INTERVAL)
        if started >= self._last_decrease:
            # Only attempts started after the last decrease signal a new one: a burst of
            # refusals answering requests sent together counts once.
            self.limit = max(1, self.limit // 2)
            self._last_decrease = time.monotonic()
            self._successes = 0
            grown = self._interval * 1.5 if not hint else self._interval
            self._interval = min(_MAX_INTERVAL, max(grown, hint, _MIN_INTERVAL))
        else:
            self._interval = max(self._interval, hint)

    def _succeeded(self, answered: bool) -> None:
        """AIMD's increase after an answer (other failures teach nothing), then wake."""
        if answered:
            if self._interval > 0.0:
                self._interval *= 0.97
                if self._interval < _MIN_INTERVAL:
                    self._interval = 0.0
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.maximum:
                self.limit += 1
                self._successes = 0
        self._wake()
