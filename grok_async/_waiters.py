"""``Waiters``: the line of tasks waiting for a place, first come first served.

Three parts of the client let a limited number of tasks through and make the others wait
in line: the pool's gate (``_pool``: a pooled connection), a fan-out's limiter
(``_ratecontrol``: a slot for an attempt) and the client's rate budget (``_budget``: the
turn to wait for the refill). Each owner counts its places itself and decides when a task
must wait; the line hands places from task to task:

* :meth:`Waiters.wait` queues the current task, at the back (or at the front: a retry that
  has waited its turn once already) until a place is handed to it.
* :meth:`Waiters.hand_over` gives one place to the first task still waiting; ``False``
  when nobody waits, and the owner keeps the place.
* A task cancelled while it waits leaves the line. A task cancelled just after a place was
  handed to it (both in the same loop iteration, before it could resume) does not lose the
  place: it is handed to the next waiting task, or, with nobody waiting, given back to the
  owner (``wait``'s ``give_back``).
* :meth:`Waiters.fail_all` wakes every waiting task with an error (the owner is closing).

``handed`` counts places handed over whose tasks have not resumed yet, for an owner that
must keep such a place for its task (the limiter: a newcomer must not take it).

The line is a ``deque`` of the waiting tasks' futures, so an owner's test "is anyone in
line?" on its per-request path is a plain deque's truth test.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable

__all__ = ["Waiters"]


class Waiters(collections.deque["asyncio.Future[None]"]):
    """The futures of the tasks waiting for a place, in the order they are served."""

    __slots__ = ("handed",)

    def __init__(self) -> None:
        super().__init__()
        #: Places handed over to tasks that have not resumed yet.
        self.handed = 0

    def live(self) -> int:
        """The tasks waiting (not counting cancelled ones that have not left yet)."""
        return sum(1 for waiter in self if not waiter.done())

    async def wait(
        self, *, first: bool = False, give_back: Callable[[], None] | None = None
    ) -> None:
        """Wait in line until a place is handed over (``first``: at the head of the line).

        Cancelled after a place was handed over, the place goes to the next task in line,
        else to ``give_back`` (the owner's: a place nobody takes). Raises what
        :meth:`fail_all` gave, or the cancellation.
        """
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if first:
            self.appendleft(waiter)
        else:
            self.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # A place was handed over just as this task was cancelled: pass it on.
                self.handed -= 1
                if not self.hand_over() and give_back is not None:
                    give_back()
            else:
                try:
                    self.remove(waiter)
                except ValueError:  # already taken out by hand_over() or fail_all()
                    pass
            raise
        self.handed -= 1

    def hand_over(self) -> bool:
        """Give a place to the first task still waiting; ``False`` if there is none."""
        while self:
            waiter = self.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self.handed += 1
                return True
        return False

    def fail_all(self, make_error: Callable[[], BaseException]) -> None:
        """Wake every waiting task with an error of its own; no place is handed over."""
        waiters = list(self)
        self.clear()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(make_error())  # one each: a shared one grows tracebacks
