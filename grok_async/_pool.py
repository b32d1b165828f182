"""``PoolGate``: the pool's capacity, counted on our side of aiohttp.

aiohttp's connector queues a request when all its connections are checked out, but it
does not say how long a request waited, nor how many wait. The gate holds the same limit
in front of it: a request takes a place before it is sent and gives it back when its
response is released or closed, so the connector never queues, and the wait is ours to
time (``timings.pool_wait``) and to count (``pool_stats().waiting``).

When there is room, entering is a comparison and an increment; only a full pool allocates
a future. Places are handed over in arrival order. The per-request fast paths (taking a
free place, giving one back with nobody waiting) are inlined by the transport.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

__all__ = ["PoolGate"]


class PoolGate:
    """A FIFO counter of connections in use, up to ``limit`` (one per event loop)."""

    __slots__ = ("_waiters", "in_use", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        """Requests queued for a place."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def enter(self) -> None:
        """Queue for a place (when there was no room)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # A place was handed over just as we were cancelled: pass it on.
                self.leave()
            else:
                try:
                    self._waiters.remove(waiter)
                except ValueError:  # pragma: no cover - already popped by leave()
                    pass
            raise

    def fail_waiters(self, make_error: Callable[[], BaseException]) -> None:
        """Wake every queued request with an error (the pool is closing): no place is
        handed over, so none is counted."""
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(make_error())  # one each: a shared one grows tracebacks

    def leave(self) -> None:
        """Give a place back: to the first live waiter, else to the pool."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the place moves on; in_use is unchanged
                return
        self.in_use -= 1
