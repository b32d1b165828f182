"""The read timeout: one periodic check per pool and event loop instead of timers per request.

``Timeout.read`` is the longest silence the client waits through: from sending a request to
its response headers (opening a new connection and sending the body, when needed, are part
of that wait), and between two reads of the body. aiohttp's own ``sock_read`` does this
with a timer per request that is cancelled and re-created on every piece of data that
arrives: two timers per non-streamed call, and one per read of a stream. This watchdog
exists because that costs more than it: measured in one harness against ``sock_read``
(``benchmarks/bench_handmade.py``; figures in benchmarks/README.md, "The hand-made parts"),
client CPU per non-streamed call is lower with the watchdog by more than the run-to-run
noise; in a stream read chunk by chunk the difference is within the noise.

Here a request registers a :class:`Watch` (a set insertion; removed when its connection is
given back), and one :class:`ReadWatchdog` per connection pool (a client and its copies)
and event loop looks at every watch each ``read / 8`` seconds, only while there are
watches. (A session the caller gave keeps aiohttp's ``sock_read``: its requests may queue
inside aiohttp for a connection, where a watch could not tell waiting from silence.)
A watch counts silence only while its request is actually waiting for the server (inside
``session.request``, ``read()`` or a stream's ``read_chunk``), and any growth of the
body's byte count is progress, so a slow consumer of a stream that the server already
sent is never timed out. The check never fires early: silence is counted from the first
check that sees the request waiting (up to one period after it began), and the check that
finds it over may come up to one more period late when a shorter timeout has moved the
checks; so at most ``read / 4`` late.

What a timeout does: before the headers, the waiting task is cancelled and the
cancellation turned back into :class:`APITimeoutError` (as ``asyncio.timeout`` does);
after them, the body's reader gets a timeout error and the connection is closed.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import aiohttp

__all__ = ["ReadWatchdog", "Watch"]

# How often a loop's watches are checked, as a fraction of the shortest read timeout among
# them (the most a timeout can fire late), and never more often than this many seconds.
_CHECKS_PER_TIMEOUT = 8
_MIN_PERIOD = 0.005


def _period(read: float) -> float:
    """Seconds between checks while the shortest watched timeout is ``read``."""
    return max(read / _CHECKS_PER_TIMEOUT, _MIN_PERIOD)


class Watch:
    """One request's read timeout: who to stop, and what progress was seen when."""

    # Defaults on the class rather than __slots__: a watch is made per request, and a few
    # assignments cost less than nine.
    #: The response once its headers are here; its body's byte count is the progress.
    response: aiohttp.ClientResponse | None = None
    #: True while the request waits for the server (the only time silence counts).
    waiting = True
    #: The progress seen at ``since`` (-1: not looked at since waiting began).
    seen = -1
    since = 0.0
    #: Set when the watchdog stopped the request.
    fired = False

    def __init__(self, owner: set[Watch], task: asyncio.Task[Any] | None, read: float) -> None:
        self.owner = owner
        self.task = task
        self.read = read
        # The task's cancellations requested before the request was sent (as
        # asyncio.timeout records on entry): one requested later is someone else's even
        # when it lands together with the watchdog's, and must not be taken back.
        self.cancelling = 0
        if sys.version_info >= (3, 11) and task is not None:  # 3.10 keeps no count
            self.cancelling = task.cancelling()

    def stop(self) -> None:
        """The request is over (its connection given back): stop watching it."""
        self.owner.discard(self)

    def wait(self) -> None:
        """The request waits for the server again: silence counts from the next check."""
        self.waiting = True
        self.seen = -1

    def timed_out(self, exc: BaseException) -> bool:
        """Whether ``exc`` (caught around ``session.request``) is this watch's timeout.

        A cancellation the watchdog caused is taken back, unless the task was also
        cancelled by someone else, whose cancellation then goes on.
        """
        if not self.fired or not isinstance(exc, asyncio.CancelledError):
            return False
        if sys.version_info >= (3, 11) and self.task is not None:
            return self.task.uncancel() <= self.cancelling
        return True  # Python 3.10 keeps no count of cancellations


class ReadWatchdog:
    """The read timeouts of one event loop's requests (used on that loop only)."""

    __slots__ = ("_handle", "_shortest", "watches")

    def __init__(self) -> None:
        # No reference to the loop: the watchdog belongs to one loop's pool and always
        # runs on that loop.
        self.watches: set[Watch] = set()
        self._handle: asyncio.TimerHandle | None = None
        # The read timeout the checks are paced for (the shortest watched when scheduled).
        self._shortest = 0.0

    def watch(self, read: float) -> Watch:
        """Start watching the current task's request, which is about to be sent."""
        watch = Watch(self.watches, asyncio.current_task(), read)
        self.watches.add(watch)
        if self._handle is None:
            self._schedule(read)
        elif read < self._shortest:
            # A shorter timeout than any being watched: check sooner, never later than
            # the check already due (that would make the other watches fire late).
            self._shortest = read
            handle = self._handle
            loop = asyncio.get_running_loop()
            due = loop.time() + _period(read)
            if due < handle.when():
                handle.cancel()
                self._handle = loop.call_at(due, self._check)
        return watch

    def _schedule(self, read: float) -> None:
        self._shortest = read
        self._handle = asyncio.get_running_loop().call_later(_period(read), self._check)

    def _check(self) -> None:
        self._handle = None
        if not self.watches:
            return  # idle: the next watch starts the checks again
        now = asyncio.get_running_loop().time()
        shortest = None
        for watch in list(self.watches):
            if shortest is None or watch.read < shortest:
                shortest = watch.read
            if not watch.waiting or watch.fired:
                continue
            response = watch.response
            progress = 0 if response is None else response.content.total_bytes
            if progress != watch.seen:
                watch.seen = progress
                watch.since = now
            elif now - watch.since >= watch.read:
                self._fire(watch)
        if shortest is not None:
            self._schedule(shortest)

    @staticmethod
    def _fire(watch: Watch) -> None:
        watch.fired = True
        response = watch.response
        if response is None:
            task = watch.task
            if task is None or task.done():
                return
            task.cancel()
            return
        # The reader wakes whoever waits on it with the error; closing first would make
        # aiohttp report a connection error instead.
        response.content.set_exception(
            aiohttp.ServerTimeoutError(f"no data from the server for {watch.read:g} s")
        )
        response.close()
