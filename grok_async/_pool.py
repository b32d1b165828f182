"""``PoolGate``: the pool's capacity, counted on our side of aiohttp.

aiohttp's connector queues a request when all its connections are checked out, but it
does not say how long a request waited, nor how many wait, except to an
``aiohttp.TraceConfig`` (``on_connection_queued_start/end``), and a session with a trace
config sends every request through its trace signals. The gate holds the same limit in
front of the connector: a request takes a place before it is sent and gives it back when
its response is released or closed, so the connector never queues, and the wait is ours
to time (``timings.pool_wait``) and to count (``pool_stats().waiting``). Measured against
the connector's queue timed by a ``TraceConfig`` (``benchmarks/bench_handmade.py``;
figures in benchmarks/README.md, "The hand-made parts"), the gate costs clearly less client
CPU per call, with the pool full or not.

When there is room, entering is a comparison and an increment; only a full pool puts a
request in line (``_waiters.Waiters``), where places are handed over in arrival order. The
per-request fast paths (taking a free place, giving one back with nobody waiting) are
inlined by the transport.
"""

from __future__ import annotations

from collections.abc import Callable

from ._waiters import Waiters

__all__ = ["PoolGate"]


class PoolGate:
    """A FIFO counter of connections in use, up to ``limit`` (one per event loop)."""

    __slots__ = ("in_use", "limit", "waiters")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0
        #: The requests waiting for a place; a place handed over stays counted in use.
        self.waiters = Waiters()

    @property
    def waiting(self) -> int:
        """Requests queued for a place."""
        return self.waiters.live()

    async def enter(self) -> None:
        """Queue for a place (when there was no room)."""
        await self.waiters.wait(give_back=self._free)

    def fail_waiters(self, make_error: Callable[[], BaseException]) -> None:
        """Wake every queued request with an error (the pool is closing): no place is
        handed over, so none is counted."""
        self.waiters.fail_all(make_error)

    def leave(self) -> None:
        """Give a place back: to the first live waiter, else to the pool."""
        if not self.waiters.hand_over():
            self.in_use -= 1

    def _free(self) -> None:
        self.in_use -= 1
