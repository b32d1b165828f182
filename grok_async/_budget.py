"""Client-side rate budgets: requests and tokens per minute, shared by every call of a client.

xAI limits each team per model in requests and tokens per minute, and the client paces
every call from the budgets the server reports. A client that should keep to a fixed share
of them sets budgets of its own: every chat completion of the client (and of its
``with_options`` copies, and every fan-out) draws from these too.

Each budget is a bucket refilled continuously at ``per_minute / 60`` per second, holding up
to a minute's worth, so a fresh client may spend its share at once (the server's headers
keep a burst from overrunning what the server grants). Requests wait for the budget in the
order they asked. A request's tokens are not known before its answer: the estimate
(prompt bytes / 4 plus the requested output cap) is drawn first and corrected by the
difference once ``usage`` arrives. A bucket may go into debt for one large request; later
ones wait until it is repaid, so over any minute the budget holds.
"""

from __future__ import annotations

import asyncio
import time

from ._waiters import Waiters

__all__ = ["RateBudget", "estimate_tokens"]

# Roughly four bytes of English JSON per token: good enough to pace, corrected by usage.
_BYTES_PER_TOKEN = 4


def estimate_tokens(body: bytes, max_output: int | None) -> int:
    """A request's tokens before the answer tells: its bytes / 4 plus its output cap."""
    return len(body) // _BYTES_PER_TOKEN + (max_output or 0)


class _Bucket:
    __slots__ = ("balance", "capacity", "per_second", "updated")

    def __init__(self, per_minute: float) -> None:
        if per_minute <= 0:
            raise ValueError("a per-minute budget must be > 0")
        self.per_second = per_minute / 60.0
        self.capacity = max(1.0, per_minute)
        self.balance = self.capacity
        self.updated = time.monotonic()

    def refill(self, now: float) -> None:
        self.balance = min(self.capacity, self.balance + (now - self.updated) * self.per_second)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` may be drawn (0 now); a full bucket lends any amount."""
        if self.balance >= min(amount, self.capacity):
            return 0.0
        return (min(amount, self.capacity) - self.balance) / self.per_second


class RateBudget:
    """Requests and tokens per minute for one client family (thread-unsafe, loop-agnostic).

    A :class:`~grok_async.RateLimiter`: pass one as ``rate_limit=`` to a fan-out to give it
    a budget of its own (:class:`~grok_async.RedisRateLimiter` shares one between processes).
    """

    def __init__(
        self, *, requests_per_minute: float | None = None, tokens_per_minute: float | None = None
    ) -> None:
        self.requests = _Bucket(requests_per_minute) if requests_per_minute else None
        self.tokens = _Bucket(tokens_per_minute) if tokens_per_minute else None
        # Until when the server asked everyone to wait (a 429's Retry-After), monotonic.
        self._pause_until = 0.0
        # One request at a time waits for the refill (it has the turn); the others wait in
        # line for the turn, in the order they asked.
        self._turn_taken = False
        self._line = Waiters()

    async def acquire(self, tokens: int) -> None:
        """Wait until one request and ``tokens`` tokens fit the budgets, then draw them.

        First come, first served: while others wait, a newcomer queues behind them (a
        small request does not overtake a large one that waits for the refill).
        """
        if not self._turn_taken and self._wait(tokens) <= 0.0:
            self._draw(tokens)
            return
        if self._turn_taken:
            await self._line.wait(give_back=self._end_turn)  # the turn is handed over
        else:
            self._turn_taken = True
        try:
            await self._wait_and_draw(tokens)
        finally:
            if not self._line.hand_over():
                self._end_turn()

    def _end_turn(self) -> None:
        self._turn_taken = False

    def _wait(self, tokens: int) -> float:
        """Seconds until one request and ``tokens`` fit (0: now)."""
        now = time.monotonic()
        wait = self._pause_until - now
        for bucket, amount in ((self.requests, 1.0), (self.tokens, float(tokens))):
            if bucket is not None:
                bucket.refill(now)
                wait = max(wait, bucket.wait_for(amount))
        return wait

    async def _wait_and_draw(self, tokens: int) -> None:
        # A timed wait, not an event: nothing but the clock refills a bucket.
        while (wait := self._wait(tokens)) > 0.0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        self._draw(tokens)

    def _draw(self, tokens: int) -> None:
        if self.requests is not None:
            self.requests.balance -= 1.0
        if self.tokens is not None:
            self.tokens.balance -= tokens

    def settle(self, estimated: int, actual: int) -> None:
        """Correct the token budget once a request's real usage is known."""
        if self.tokens is not None:
            self.tokens.balance -= actual - estimated

    async def pause(self, seconds: float) -> None:
        """Make every later :meth:`acquire` wait ``seconds`` (a server's Retry-After)."""
        self._pause_until = max(self._pause_until, time.monotonic() + seconds)
