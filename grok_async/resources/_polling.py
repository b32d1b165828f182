"""Polling a job the server finishes later (deferred completions, videos): the pauses
between polls, the timeout of each poll, the checks of a wait's arguments, and the loop
that polls until a result comes or the wait's time is up.

Kept apart from the resources that poll, so each can use it without importing the others.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import attrs

from .._backoff import jittered, step
from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutTypes, as_timeout, positive_seconds

__all__ = ["MIN_POLL_CONNECT", "check_wait", "poll_pauses", "poll_timeout", "poll_until"]

T = TypeVar("T")

#: The shortest connect limit of a poll near the end of a wait, in seconds.
MIN_POLL_CONNECT = 1.0
# Each pause grows by half until it reaches the wait's max_interval.
_POLL_GROWTH = 1.5


def check_wait(timeout: float | None, interval: float, max_interval: float) -> None:
    """Refuse a wait's arguments before anything is sent.

    Raises:
        ValueError: an interval is not a finite number > 0, or ``timeout`` is negative or
            not finite (NaN, infinity: None means no limit).
    """
    if not (positive_seconds(interval) and positive_seconds(max_interval)):
        raise ValueError(
            "interval and max_interval must be finite numbers > 0 seconds, "
            f"got {interval!r} and {max_interval!r}"
        )
    if timeout is not None and not (math.isfinite(timeout) and timeout >= 0):
        raise ValueError(f"timeout must be a finite number >= 0 seconds or None, got {timeout!r}")


def poll_timeout(client_timeout: TimeoutTypes, left: float | None) -> TimeoutTypes | NotGiven:
    """The timeout of one poll with ``left`` seconds of the wait to go.

    Only the connect limit shrinks to what is left of the wait (never below
    :data:`MIN_POLL_CONNECT`, so the last poll can still connect): a poll is cut off only
    before its request is sent. Everything else is the client's (``client_timeout``).
    """
    if left is None:
        return NOT_GIVEN
    limits = as_timeout(client_timeout, stream=False)
    connect = max(left, MIN_POLL_CONNECT)
    if limits.connect is not None and limits.connect <= connect:
        return NOT_GIVEN
    return attrs.evolve(limits, connect=connect)


def poll_pauses(interval: float, max_interval: float) -> Iterator[float]:
    """The pauses between polls: growing by half from ``interval`` to ``max_interval``,
    each one a random fraction (half to all) of its step, so waiters drift apart."""
    number = 1
    while True:
        yield jittered(step(interval, _POLL_GROWTH, max_interval, number))
        number += 1


async def poll_until(
    poll: Callable[[TimeoutTypes | NotGiven], Awaitable[T | None]],
    client_timeout: TimeoutTypes,
    *,
    timeout: float | None,
    interval: float,
    max_interval: float,
    late: Callable[[int], Exception],
) -> T:
    """Call ``poll`` until it returns a result (not None), pausing as :func:`poll_pauses`
    says, within ``timeout`` seconds (None: no limit); then raise ``late(polls)``.

    ``poll`` gets the timeout each poll should use (:func:`poll_timeout`); the first poll
    is immediate, and one last poll is made right at the deadline.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    pauses = poll_pauses(interval, max_interval)
    polls = 0
    while True:
        left = None if deadline is None else deadline - loop.time()
        result = await poll(poll_timeout(client_timeout, left))
        polls += 1
        if result is not None:
            return result
        sleep = next(pauses)
        if deadline is not None:
            left = deadline - loop.time()
            if left <= 0:
                raise late(polls)
            sleep = min(sleep, left)
        await asyncio.sleep(sleep)
