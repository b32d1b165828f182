"""Retries without waiting, for the tests of code that uses grok_async."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .. import _retry

__all__ = ["instant_retries"]


@contextlib.contextmanager
def instant_retries() -> Iterator[list[float]]:
    """Within the block, every client retries at once instead of waiting its backoff or
    the server's Retry-After; retries still happen, as many as without it, and are logged.

    Yields the list of waits that would have been taken, in order, so a test can check
    the policy without sleeping::

        with instant_retries() as waits:
            await client.chat.completions.create(...)   # against a FakeGrok with faults
        assert waits == [pytest.approx(0.05)]

    Pacing to the server's budgets is not a retry wait: it still applies. Blocks may nest;
    the inner one records its own waits. Not thread-safe: meant for a test's own loop.
    """
    outer = _retry.instant
    waits: list[float] = []
    _retry.instant = waits
    try:
        yield waits
    finally:
        _retry.instant = outer
