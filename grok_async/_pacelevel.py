"""One budget (requests or tokens) as the pacer believes it stands.

A :class:`Level` turns readings of one ``X-Ratelimit-*`` budget into what may be spent
now: the reading's remaining (less the doubt about attempts it may not count yet), less
this client's draws since, plus the refill, never more than the budget was seen to hold.
It also notices when the refill model is wrong (a fixed window) and learns how fast
others draw from the budget. The policy around it (order, probes, pauses) is the
:class:`~._pacer.Pacer`'s.
"""

from __future__ import annotations

import math

__all__ = ["Level"]

# Others' draw is measured over at least this share of the period (shorter spans are noise).
_OTHERS_SPAN = 1.0 / 20.0


class Level:
    """One budget (requests or tokens) as the pacer believes it stands."""

    __slots__ = (
        "anchor",
        "base",
        "based_at",
        "confirm",
        "drawn_at",
        "limit",
        "next_reset",
        "others",
        "peak",
        "read_at",
        "refused_at",
        "remaining",
        "windowed",
    )

    def __init__(self) -> None:
        self.limit = 0  # 0: the server never reported this budget
        self.remaining = 0.0
        self.drawn_at = 0  # this client's draws counted up to the reading's attempt
        self.read_at = 0.0  # when that attempt started (monotonic)
        # The level's base: (what was left, this client's draws then), since ``based_at``;
        # the reading's, or a full budget's (beyond which the refill is lost).
        self.base = (0.0, 0)
        self.based_at = 0.0
        self.peak = 0.0  # the most the budget was seen to hold
        self.others = 0.0  # what others draw per second, learned from low readings
        self.anchor: tuple[float, float, int] | None = None  # (time, remaining, drawn)
        self.windowed = False  # refusals showed the budget does not refill continuously
        self.next_reset = 0.0  # the expected start of a fixed window's next minute (0: unknown)
        self.confirm = False  # an expected reset came: a probe must confirm it
        self.refused_at = 0.0  # the start of the last refused attempt since a reading

    def rate(self, period: float) -> float:
        """What the budget refills per second for this client (none while windowed)."""
        if self.windowed:
            return 0.0
        return max(self.limit / period - self.others, self.limit / period / 100.0)

    def level(self, drawn: int, now: float, period: float) -> float:
        left, then = self.base
        level = left - (drawn - then) + (now - self.based_at) * self.rate(period)
        if level > self.peak:
            # Full: what refills beyond it is lost, as from a full bucket.
            self.base, self.based_at = (self.peak, drawn), now
            return self.peak
        return level

    def wait_for(
        self, amount: float, margin: float, drawn: int, now: float, period: float
    ) -> float | None:
        """Seconds until ``amount`` is available (0: now), or ``None`` when only a probe
        can tell. A full budget lends any amount: a request larger than it leaves it in debt.
        """
        if self.windowed and self.next_reset and now >= self.next_reset:
            # The expected window start: believe nothing until a probe confirms it.
            self.remaining, self.drawn_at, self.read_at = 0.0, drawn, now
            self.base, self.based_at = (0.0, drawn), now
            self.confirm = True
            while self.next_reset <= now:
                self.next_reset += period
        # One request's worth of margin (when the budget can hold it): a reading may
        # predate a request started before its own attempt that reached the server later.
        missing = min(amount + margin, self.peak) - self.level(drawn, now, period)
        if missing <= 0.0:
            return 0.0
        rate = self.rate(period)
        if rate > 0.0:
            return missing / rate
        if self.next_reset and not self.confirm:
            return self.next_reset - now
        return None

    def headroom(self, amount: float, drawn: int, now: float, period: float) -> float:
        """What is left beyond ``amount`` and its margin (``inf``: an unreported budget)."""
        if self.limit <= 0:
            return math.inf
        if self.windowed:
            return 0.0  # a window's reset is watched for on every start
        return self.level(drawn, now, period) - 2.0 * amount

    def refused(self, amount: float, drawn: int, started: float) -> None:
        """This budget refused an attempt that drew it up to ``drawn``."""
        relied_on_refill = self.remaining - (drawn - amount - self.drawn_at) < amount
        if self.read_at and not self.windowed and relied_on_refill:
            # Only the refill promised room, and the server had none: not a plain bucket.
            self.windowed = True
        self.refused_at = max(self.refused_at, started)

    def read(
        self,
        remaining: int,
        doubt: float,
        limit: int,
        drawn: int,
        started: float,
        period: float,
        answered: bool,
    ) -> None:
        """Take a reading from an attempt that started at ``started`` (``answered``: not
        refused); ``doubt`` of what it says is left may already be spent by attempts it may
        not count yet. (Doubt beyond what is left would only stall a small budget whose
        earlier attempts were counted long ago: it is capped there.)"""
        confirming = False
        if self.windowed and self.read_at and answered:
            expected = self.remaining - (drawn - self.drawn_at)
            if remaining - expected >= 0.5 * limit:
                # The budget came back at once: a window reset. It happened after the last
                # refusal; without one, the reset may have come earlier still, so the
                # guess creeps earlier until a refusal brackets it.
                if self.refused_at:
                    reset = 0.5 * (self.refused_at + started)
                else:
                    reset = started - period / 120.0
                self.next_reset = reset + period
            elif self.confirm:
                # Answered from what the old window had left: the reset is still to come.
                confirming = True
            elif self.refused_at:
                # Room again after a refusal, but no jump: it refills gradually after all.
                self.windowed = False
                self.next_reset = 0.0
        self._learn_others(remaining, drawn, started, period)
        self.limit = limit
        self.remaining = remaining - min(doubt, float(remaining))
        self.drawn_at = drawn
        self.read_at = self.based_at = started
        self.base = (self.remaining, drawn)
        self.peak = min(float(limit), max(self.peak, remaining + 1.0))
        if answered and not confirming:
            self.confirm = False
            self.refused_at = 0.0

    def _learn_others(self, remaining: int, drawn: int, started: float, period: float) -> None:
        # Only while the budget is low is the refill not lost to a full bucket, so only then
        # does "used more than we drew" mean someone else drew.
        if self.windowed or remaining >= 0.5 * self.peak:
            self.anchor = None
            return
        anchor = self.anchor
        if anchor is None:
            self.anchor = (started, float(remaining), drawn)
            return
        span = started - anchor[0]
        if span < period * _OTHERS_SPAN:
            return
        used = anchor[1] - remaining + span * self.limit / period
        rate = max(0.0, used - (drawn - anchor[2])) / span
        self.others = min(0.5 * (self.others + rate), 0.99 * self.limit / period)
        self.anchor = (started, float(remaining), drawn)
