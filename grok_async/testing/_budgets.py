"""Budgets: the bookkeeping behind the emulator's rate limits.

Pure and free of I/O: every method takes ``now`` (seconds on any monotonic clock), so the
rules can be checked with a fake clock.

- ``Budget``: what may be spent of something that refills, either a ``TokenBucket``
  (also behind ``requests_per_second``) or a ``FixedWindow``.
- ``per_minute``: one per-minute budget (a model's requests, or its tokens), refilled the
  way ``refill`` says: "bucket", "per_second" or "fixed_window".
- ``Budgets``: a team's budgets, one pair per model, made when a model is first used.
"""

from __future__ import annotations

import math
from typing import Literal

import attrs

__all__ = [
    "DEFAULT_REQUESTS_PER_MINUTE",
    "DEFAULT_TOKENS_PER_MINUTE",
    "REFILLS",
    "Budget",
    "Budgets",
    "FixedWindow",
    "Refusal",
    "TokenBucket",
    "per_minute",
]

REFILLS = ("bucket", "per_second", "fixed_window")
"""The refill models a per-minute budget can follow."""

# Without a configured budget the headers still count down, from limits no test reaches.
DEFAULT_REQUESTS_PER_MINUTE = 1_000_000
DEFAULT_TOKENS_PER_MINUTE = 10_000_000_000


def unknown_refill(refill: object) -> str:
    """The message of the ValueError for a refill model not in ``REFILLS``."""
    return f"refill must be one of {', '.join(map(repr, REFILLS))}; got {refill!r}"


class Budget:
    """What may be spent of something that refills: a ``TokenBucket`` or a ``FixedWindow``.

    ``limit`` is the budget per minute that refusals report (for a bucket of one
    second's worth it is sixty times what the bucket holds). A budget that is not
    ``enforced`` counts but never refuses.
    """

    __slots__ = ("_left", "capacity", "enforced", "limit")

    def __init__(self, capacity: float, limit: float, enforced: bool) -> None:
        self.capacity = capacity
        self.limit = limit
        self.enforced = enforced
        self._left = capacity

    def level(self, now: float) -> float:
        """What is left at *now* (below zero while in debt)."""
        raise NotImplementedError

    def spend(self, amount: float, now: float) -> float:
        """Spend *amount*, into debt if there is not enough; return what is left."""
        self._left = left = self.level(now) - amount
        return left

    def remaining(self, now: float) -> int:
        """What is left right now, floored and never below zero."""
        return _whole(self.level(now))

    def fits(self, amount: float, now: float) -> bool:
        """Whether *amount* may be spent now."""
        if not self.enforced:
            return True
        # More than the budget can ever hold (a long prompt under "per_second") waits for
        # a full budget, then leaves it in debt: refusing it for good would be a livelock.
        return self.level(now) >= min(amount, self.capacity)

    def too_large(self, amount: float) -> bool:
        """Whether *amount* exceeds the whole minute's budget, so it can never fit."""
        return self.enforced and amount > self.limit

    def demand(self, amount: float, now: float) -> int:
        """The "actual" of a refusal: what was spent of the minute's limit as the remaining
        header shows it, plus *amount*. In the headers' own units, so a client can take
        ``limit - remaining`` back off it and see the request's size (under "per_second"
        scaling *amount* up to a minute would make a request look 60 times its size)."""
        return math.ceil(self.limit - self.remaining(now) + amount)


def carried_over(new: Budget, old: Budget, now: float) -> Budget:
    """*new* holding what *old* has left, up to what *new* can hold (a limit changed
    mid-run: what is left stays left, a debt stays owed)."""
    new.level(now)  # a fixed window learns which window it is in before being set
    new._left = min(new.capacity, old.level(now))
    return new


class TokenBucket(Budget):
    """A token bucket: *rate* tokens per second, holding at most *capacity*.

    It starts full, so a burst of *capacity* passes before the rate applies. ``spend``
    may leave it below zero (a debt the refill pays back first); ``take`` never does.
    """

    __slots__ = ("_updated", "rate")

    def __init__(
        self,
        rate: float,
        capacity: float,
        now: float,
        *,
        limit: float | None = None,
        enforced: bool = True,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        super().__init__(capacity, capacity if limit is None else limit, enforced)
        self.rate = rate
        self._updated = now

    def level(self, now: float) -> float:
        """The tokens in the bucket at *now* (below zero while in debt)."""
        left = self._left + (now - self._updated) * self.rate
        self._left = left if left < self.capacity else self.capacity
        self._updated = now
        return self._left

    def take(self, now: float) -> float:
        """Take one token. Returns 0.0 on success, else the seconds until one is free."""
        tokens = self.level(now)
        if tokens >= 1.0:
            self._left = tokens - 1.0
            return 0.0
        return (1.0 - tokens) / self.rate


class FixedWindow(Budget):
    """*capacity* per window of *length* seconds; windows start at *origin*, and each one
    starts full whatever the last one spent."""

    __slots__ = ("_length", "_origin", "_window")

    def __init__(
        self, capacity: float, length: float, origin: float, *, enforced: bool = True
    ) -> None:
        if length <= 0:
            raise ValueError(f"length must be > 0, got {length}")
        super().__init__(capacity, capacity, enforced)
        self._length = length
        self._origin = origin
        self._window = 0.0

    def level(self, now: float) -> float:
        """What is left of the current window at *now* (below zero when overspent)."""
        window = (now - self._origin) // self._length
        if window > self._window:
            self._window = window
            self._left = self.capacity
        return self._left


def per_minute(
    amount: float,
    *,
    refill: str,
    minute: float,
    now: float,
    origin: float,
    enforced: bool = True,
) -> Budget:
    """A budget of *amount* per *minute* seconds, refilled as *refill* says.

    - "bucket": a bucket holding the whole minute's budget, refilled continuously.
    - "per_second": xAI's rule that a second may spend only a 60th of the minute's budget
      ("you cannot spend a full minute's requests in a single second"): a bucket holding
      ``max(1, amount / 60)``, refilled at the same rate.
    - "fixed_window": reset at the start of each minute, minutes counted from *origin*.
    """
    if amount < 1:
        raise ValueError(f"a per-minute budget must be >= 1, got {amount}")
    rate = amount / minute
    if refill == "bucket":
        return TokenBucket(rate, amount, now, enforced=enforced)
    if refill == "per_second":
        return TokenBucket(rate, max(1.0, amount / 60), now, limit=amount, enforced=enforced)
    if refill == "fixed_window":
        return FixedWindow(amount, minute, origin, enforced=enforced)
    raise ValueError(unknown_refill(refill))


@attrs.frozen
class Refusal:
    """Why a model request was refused: which budget, and the actual/limit to report."""

    budget: Literal["requests", "tokens"]
    actual: int
    limit: float


class Budgets:
    """A team's per-minute budgets: requests and tokens for each model, made lazily.

    A budget given as None is counted against the never-binding defaults
    (``DEFAULT_REQUESTS_PER_MINUTE``, ``DEFAULT_TOKENS_PER_MINUTE``) as a bucket.
    """

    def __init__(
        self,
        *,
        requests_per_minute: float | None,
        tokens_per_minute: float | None,
        refill: str = "bucket",
        minute: float = 60.0,
        origin: float = 0.0,
    ) -> None:
        if refill not in REFILLS:
            raise ValueError(unknown_refill(refill))
        if minute <= 0:
            raise ValueError(f"minute must be > 0, got {minute}")
        self._requests_per_minute = requests_per_minute
        self._tokens_per_minute = tokens_per_minute
        self._refill = refill
        self._minute = minute
        self._origin = origin
        self._models: dict[str, tuple[Budget, Budget]] = {}

    def _budget(self, amount: float | None, default: float, now: float) -> Budget:
        if amount is None:
            return per_minute(
                default,
                refill="bucket",
                minute=self._minute,
                now=now,
                origin=self._origin,
                enforced=False,
            )
        return per_minute(
            amount, refill=self._refill, minute=self._minute, now=now, origin=self._origin
        )

    def set_limits(
        self, requests_per_minute: float | None, tokens_per_minute: float | None, now: float
    ) -> None:
        """New per-minute limits from *now* on; each model keeps what it has left, up to
        the new limit."""
        self._requests_per_minute = requests_per_minute
        self._tokens_per_minute = tokens_per_minute
        for model, (requests, tokens) in list(self._models.items()):
            self._models[model] = (
                carried_over(
                    self._budget(requests_per_minute, DEFAULT_REQUESTS_PER_MINUTE, now),
                    requests,
                    now,
                ),
                carried_over(
                    self._budget(tokens_per_minute, DEFAULT_TOKENS_PER_MINUTE, now), tokens, now
                ),
            )

    def of(self, model: str, now: float) -> tuple[Budget, Budget]:
        """The (requests, tokens) budgets of *model*."""
        pair = self._models.get(model)
        if pair is None:
            pair = (
                self._budget(self._requests_per_minute, DEFAULT_REQUESTS_PER_MINUTE, now),
                self._budget(self._tokens_per_minute, DEFAULT_TOKENS_PER_MINUTE, now),
            )
            self._models[model] = pair
        return pair

    def admit(self, model: str, prompt_tokens: int, now: float) -> Refusal | tuple[int, int]:
        """Spend one request and *prompt_tokens* of *model*'s budgets and return what is
        left (requests, tokens), or a ``Refusal`` saying why not (spending nothing)."""
        requests, tokens = self.of(model, now)
        if tokens.too_large(prompt_tokens):
            return Refusal("tokens", prompt_tokens, tokens.limit)
        if not requests.fits(1, now):
            return Refusal("requests", requests.demand(1, now), requests.limit)
        if not tokens.fits(prompt_tokens, now):
            return Refusal("tokens", tokens.demand(prompt_tokens, now), tokens.limit)
        return _whole(requests.spend(1, now)), _whole(tokens.spend(prompt_tokens, now))

    def charge(self, model: str, tokens: int, now: float) -> int:
        """Spend *tokens* more of *model*'s token budget, into debt if need be (an answer's
        tokens are owed once generated, whatever is left); return the tokens left."""
        return _whole(self.of(model, now)[1].spend(tokens, now))

    def remaining(self, model: str, now: float) -> tuple[int, int]:
        """(requests, tokens) left to *model* right now."""
        requests, tokens = self.of(model, now)
        return requests.remaining(now), tokens.remaining(now)


def _whole(left: float) -> int:
    """What is left as the headers show it: floored, never below zero."""
    return int(left) if left > 0 else 0
