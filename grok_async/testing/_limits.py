"""Admission control: the token bucket behind ``requests_per_second``."""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """A token bucket: *rate* tokens per second, holding at most *capacity*.

    It starts full, so a burst of *capacity* requests passes before the rate applies —
    the behaviour of the per-second limits of real APIs.
    """

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._updated = now

    def take(self, now: float) -> float:
        """Take one token. Returns 0.0 on success, else the seconds until one is free."""
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate
