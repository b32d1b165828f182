"""Pacing from the server's own numbers: one model's start gate, first come first served.

Every api.x.ai response carries the team's per-minute budgets for the model and what is
left of them (``X-Ratelimit-*``, SPEC §9). A :class:`Pacer` turns the latest reading into a
level per budget: what the reading said was left, minus what this client started since the
attempt that carried it (the server had not counted those yet), plus what the budget
refilled since, at ``limit / period`` per second (xAI documents RPS = RPM/60). While the
level covers a request it starts at once, so what the headers report left is spent as fast
as the server takes it; as it runs low, starts follow the refill.

The refill model is not documented, so the pacer checks its belief against the server:

- The level never exceeds the most the budget was seen to hold: under a per-second budget
  (a sixtieth of the minute at a time) the headers never show more, so no burst is sent
  that the server would refuse.
- Readings taken while the budget is low show how fast *others* draw from it (other
  processes or machines of the team): their share of the refill is not this client's. So
  several processes pacing this way share the team's budget without talking to each other.
- A refusal the headers explain (nothing left) although the refill promised something means
  the budget does not refill continuously: the pacer then believes only what it sees. It
  sends one probe at a time, spaced by a delay that doubles up to ``period / 20``, until one
  is answered with a budget that jumped back up: a fixed window's reset. The next reset is
  expected a period later, and confirmed by one probe before the window is spent.

Requests start in the order they were submitted; a retried request keeps its place, so it
goes ahead of every request never sent.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time

from ._ratecontrol import budget_waits
from ._ratelimits import RateLimits

__all__ = ["COLD_START", "Pacer", "Ticket"]


# Monotonic seconds (a module attribute, so tests can drive the pacer with a fake clock).
_clock = time.monotonic

# The longest probe delay, as a share of the period: a fixed window's first reset is found
# within a twentieth of a minute, at the price of about twenty refused probes.
_PROBE_SHARE = 1.0 / 20.0
#: Attempts a pacer lets out before the first reading arrives: enough not to serialise the
#: start of a fan-out on one slow answer, few enough to fit any per-second budget.
COLD_START = 8
# Others' draw is measured over at least this share of the period (shorter spans are noise).
_OTHERS_SPAN = 1.0 / 20.0


class Ticket:
    """One started attempt: its place in line, when it started, what was drawn with it."""

    __slots__ = ("drawn_requests", "drawn_tokens", "probe", "seq", "started", "tokens")

    def __init__(
        self, seq: int, started: float, drawn_requests: int, drawn_tokens: int, tokens: int
    ) -> None:
        self.seq = seq
        self.started = started
        self.drawn_requests = drawn_requests
        self.drawn_tokens = drawn_tokens
        self.tokens = tokens
        self.probe = False


class _Level:
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


class Pacer:
    """Starts one model's attempts no faster than its reported budgets allow, in order."""

    def __init__(self, period: float = 60.0) -> None:
        if period <= 0:
            raise ValueError("rate_limit_period must be > 0")
        self.period = period
        self._requests = _Level()
        self._tokens = _Level()
        self._drawn_requests = 0
        self._drawn_tokens = 0  # estimates as drawn (snapshots in tickets compare to it)
        # Corrections from usage, (attempt's snapshot, tokens), for attempts started after
        # the current reading's; and their sum.
        self._corrections: list[tuple[int, int]] = []
        self._corrected = 0
        self._cold_out = 0  # attempts out before the first one ended
        self._warm = False  # an attempt ended: its reading (or its lack of one) is known
        self._blind = False  # set by _wait: the next start is a probe
        self._probe_out = False  # a probe is out: the next one waits for its outcome
        self._pause_until = 0.0
        self._probe = 0.0
        self._order = itertools.count()
        self._open: set[Ticket] = set()  # attempts started and not yet over
        self._queue: list[tuple[int, int, asyncio.Future[Ticket]]] = []
        self._timer: asyncio.TimerHandle | None = None
        #: Starts that had to wait, and the seconds they waited in all.
        self.waits = 0
        self.waited = 0.0
        #: Refusals the headers explained (the budget was spent).
        self.refusals = 0

    def next_seq(self) -> int:
        """The submission number of a new request (its retries keep it)."""
        return next(self._order)

    # -- starting ----------------------------------------------------------------------------

    def _wait(self, tokens: int, now: float) -> float:
        if not self._warm:
            return 0.0 if self._cold_out < COLD_START else math.inf
        period = self.period
        wait = self._pause_until - now
        blind = False
        for level, amount, drawn in (
            (self._requests, 1.0, self._drawn_requests),
            (self._tokens, float(tokens), self._drawn_tokens + self._corrected),
        ):
            if level.limit > 0:
                seconds = level.wait_for(amount, amount, drawn, now, period)
                if seconds is None:
                    blind = True
                elif seconds > wait:
                    wait = seconds
        self._blind = blind
        if blind and self._probe_out:
            return math.inf
        return wait

    def _draw(self, seq: int, tokens: int, now: float) -> Ticket:
        self._drawn_requests += 1
        self._drawn_tokens += tokens
        ticket = Ticket(seq, now, self._drawn_requests, self._drawn_tokens, tokens)
        self._open.add(ticket)
        if not self._warm:
            self._cold_out += 1
        elif self._blind:
            ticket.probe = self._probe_out = True
        return ticket

    def start_now(self, tokens: int, seq: int) -> Ticket | None:
        """A ticket at once when nobody waits and the budgets allow it, else ``None``."""
        if self._queue:
            return None
        now = _clock()
        if self._wait(tokens, now) > 0.0:
            return None
        return self._draw(seq, tokens, now)

    async def start(self, tokens: int, seq: int) -> Ticket:
        """Wait for this request's turn (by submission number) and the budgets."""
        waiter: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, (seq, tokens, waiter))
        began = _clock()
        self._dispatch()
        counter = budget_waits.get()
        if counter is not None:
            counter.budget_waiting += 1
        try:
            ticket = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.done(waiter.result())  # drawn, then cancelled: the turn passes on
            else:
                # Out of the line at once: a waiter left in it would keep its task alive.
                self._queue = [entry for entry in self._queue if entry[2] is not waiter]
                heapq.heapify(self._queue)
            self._dispatch()
            raise
        finally:
            if counter is not None:
                counter.budget_waiting -= 1
        waited = ticket.started - began
        self.waits += 1
        self.waited += waited
        if counter is not None:
            counter.budget_waits += 1
            counter.budget_wait_seconds += waited
        return ticket

    def _dispatch(self) -> None:
        """Start every waiter at the head whose turn it is; wake up again for the next."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        queue = self._queue
        while queue:
            seq, tokens, waiter = queue[0]
            if waiter.done():  # cancelled while queued
                heapq.heappop(queue)
                continue
            now = _clock()
            wait = self._wait(tokens, now)
            if wait > 0.0:
                if wait < math.inf:  # else news (an answer, a refusal) dispatches again
                    loop = asyncio.get_running_loop()
                    self._timer = loop.call_at(loop.time() + wait, self._dispatch)
                return
            heapq.heappop(queue)
            waiter.set_result(self._draw(seq, tokens, now))

    # -- learning ----------------------------------------------------------------------------

    def _read(self, ticket: Ticket, state: RateLimits | None, answered: bool) -> None:
        if state is None:
            return
        # Attempts started before this one and still out may have reached the server after
        # it (a new connection takes longer than a pooled one): the reading may not count
        # them yet, so they are taken off it as well.
        older = [t for t in self._open if t.drawn_requests < ticket.drawn_requests]
        unsure = (float(len(older)), float(sum(t.tokens for t in older)))
        period = self.period
        for level, limit, remaining, drawn, doubt in (
            (
                self._requests,
                state.requests_limit,
                state.requests_remaining,
                ticket.drawn_requests,
                unsure[0],
            ),
            (
                self._tokens,
                state.tokens_limit,
                state.tokens_remaining,
                ticket.drawn_tokens,
                unsure[1],
            ),
        ):
            if limit and remaining is not None and ticket.started >= level.read_at:
                level.read(remaining, doubt, limit, drawn, ticket.started, period, answered)
        if self._corrections:
            since = self._tokens.drawn_at
            self._corrections = [entry for entry in self._corrections if entry[0] > since]
            self._corrected = sum(delta for _, delta in self._corrections)

    def succeeded(self, ticket: Ticket, state: RateLimits | None) -> None:
        """An answer came: take its reading; the budget is flowing, probing starts afresh."""
        self._read(ticket, state, True)
        self._probe = 0.0
        self._pause_until = 0.0
        self.done(ticket)

    def refused(self, ticket: Ticket, state: RateLimits | None, spent: str | None) -> bool:
        """A 429 for this attempt; returns whether the budgets explain it (and pauses if so).

        Explained: the refusal's own headers say a budget ran out, or (without headers)
        ``spent`` names the budget its text says ran out ("requests" or "tokens").
        Unexplained refusals (the headers show plenty left) pause nobody but the request.
        """
        if state is not None:
            requests = state.requests_remaining is not None and state.requests_remaining < 1
            tokens = state.tokens_remaining is not None and state.tokens_remaining < max(
                ticket.tokens, 1
            )
        else:
            requests, tokens = spent == "requests", spent == "tokens"
        if not (requests or tokens):
            self._read(ticket, state, False)
            self.done(ticket)
            return False
        if requests and ticket.started >= self._requests.read_at:
            self._requests.refused(1.0, ticket.drawn_requests, ticket.started)
        if tokens and ticket.started >= self._tokens.read_at:
            self._tokens.refused(float(ticket.tokens), ticket.drawn_tokens, ticket.started)
        self._read(ticket, state, False)
        self.refusals += 1
        limit = self._requests.limit
        first = self.period / limit if limit else 0.05
        self._probe = min(max(self._probe * 2.0, first), self.period * _PROBE_SHARE)
        self._pause_until = max(self._pause_until, _clock() + self._probe)
        self.done(ticket)
        return True

    def done(self, ticket: Ticket) -> None:
        """The attempt is over, however it ended: a probe's place is free again."""
        self._warm = True
        self._open.discard(ticket)
        if ticket.probe:
            ticket.probe = self._probe_out = False
        if self._queue:
            self._dispatch()

    def settle(self, ticket: Ticket, actual_tokens: int) -> None:
        """Correct an attempt's drawn tokens to what its answer used.

        Only attempts started after the current reading's own are corrected: the reading
        already counts what the earlier ones used, as the server saw it.
        """
        delta = actual_tokens - ticket.tokens
        ticket.tokens = actual_tokens
        if delta and ticket.drawn_tokens > self._tokens.drawn_at:
            self._corrections.append((ticket.drawn_tokens, delta))
            self._corrected += delta
