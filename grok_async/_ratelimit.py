"""What a fan-out needs from a rate limiter, in-process or shared by a whole cluster.

Two implementations satisfy :class:`RateLimiter`: the client's own
:class:`~grok_async._budget.RateBudget` (one process) and :class:`RedisRateLimiter`
(every process that names the same Redis key draws from one budget). A fan-out given
``rate_limit=`` draws every request from it and tells it about the server's pauses.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol, runtime_checkable

from ._errors import RateLimiterError

__all__ = ["RateLimiter", "RateLimiterError", "SharedPauses"]

logger = logging.getLogger("grok_async")


@runtime_checkable
class RateLimiter(Protocol):
    """A requests/tokens-per-minute budget that chat completions draw from.

    ``acquire`` is awaited before each request with the request's estimated tokens;
    ``settle`` corrects the estimate once ``usage`` is known (it must not block: an
    implementation that talks to a server may send the correction with its next call);
    ``pause`` is awaited when the server answered 429 with a Retry-After, and makes every
    ``acquire`` of every sharer of the budget wait that long.
    """

    async def acquire(self, tokens: int) -> None:
        """Wait until one request and ``tokens`` tokens fit the budget, then draw them."""
        ...

    def settle(self, estimated: int, actual: int) -> None:
        """Correct the tokens drawn for one request (``estimated``) to what it used."""
        ...

    async def pause(self, seconds: float) -> None:
        """Hold back every request that has not started yet for ``seconds``."""
        ...


class SharedPauses:
    """Forwards a fan-out's server pauses to its :class:`RateLimiter`.

    The fan-out learns of a pause in a synchronous callback (a finished attempt), while
    telling a shared limiter may take a round trip, so each pause is sent from a task of
    its own; :meth:`drain` waits for those still under way when the fan-out ends.
    """

    def __init__(self, rate_limit: RateLimiter) -> None:
        if not isinstance(rate_limit, RateLimiter):
            raise TypeError(
                "rate_limit must be a RateLimiter (e.g. grok_async.RedisRateLimiter), "
                f"not {type(rate_limit).__name__}"
            )
        self.rate_limit = rate_limit
        self._sending: set[asyncio.Task[None]] = set()

    def share(self, seconds: float) -> None:
        task = asyncio.get_running_loop().create_task(self.rate_limit.pause(seconds))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Not fatal: this fan-out pauses on its own, and the limiter's next acquire
            # reports an unreachable backend to the request that needs it.
            logger.warning("could not share a rate-limit pause: %s", task.exception())

    async def drain(self) -> None:
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
