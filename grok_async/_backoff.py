"""The one backoff schedule: steps growing by a factor up to a cap, each jittered.

Retries (``_retry``) and polls (``resources._polling``) both wait along it. "Equal
jitter": each wait is a random time between half of its step and the whole step, so many
clients that failed (or started waiting) at the same moment spread out, and none comes
back at once.
"""

from __future__ import annotations

import random

__all__ = ["jittered", "step"]


def step(first: float, growth: float, cap: float, number: int) -> float:
    """The ``number``-th step (1-based): ``first * growth ** (number - 1)``, at most ``cap``."""
    if number <= 1 or first >= cap:
        return min(first, cap)
    # Past the cap the exponent only overflows: stop growing there.
    value = first
    for _ in range(number - 1):
        value *= growth
        if value >= cap:
            return cap
    return value


def jittered(ceiling: float) -> float:
    """A random wait between half of ``ceiling`` and all of it."""
    return random.uniform(ceiling / 2, ceiling)
