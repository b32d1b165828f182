"""Pacing from the server's own numbers: one model's start gate, first come first served.

Every api.x.ai response carries the team's per-minute budgets for the model and what is
left of them (``X-Ratelimit-*``, SPEC §9). A :class:`Pacer` turns the latest reading into a
level per budget: what the reading said was left, minus what this client started since the
attempt that carried it (the server had not counted those yet), plus what the budget
refilled since, at ``limit / period`` per second (xAI documents RPS = RPM/60). While the
level covers a request it starts at once, so what the headers report left is spent as fast
as the server takes it; as it runs low, starts follow the refill. Attempts started before
the reading's own and still out are taken off it too (a pooled connection may overtake a
new one, so the server may not have counted them), and before the first answer only
``COLD_START`` attempts go out. Each budget's bookkeeping is a :class:`~._pacelevel.Level`.

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

from ._pacelevel import Level
from ._ratecontrol import budget_waits
from ._ratelimits import RateLimits

__all__ = ["COLD_START", "Pacer", "Ticket"]


# Monotonic seconds (a module attribute, so tests can drive the pacer with a fake clock).
_clock = time.monotonic

# The longest probe delay, as a share of the period: a fixed window's first reset is found
# within a twentieth of a minute, at the price of about twenty refused probes.
_PROBE_SHARE = 1.0 / 20.0
#: Attempts a pacer lets out before the first reading arrives: enough not to serialise the
#: start of a fan-out on one slow answer, few enough that a budget smaller than this (a
#: per-second budget of under 8 requests) refuses only a few, which are then waited out.
COLD_START = 8
# While a budget is more than half full, a reading is taken at most once per this share of
# the period: it cannot change a decision, and reading costs a little on every answer.
_PLENTY_READS = 1.0 / 600.0


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


class Pacer:
    """Starts one model's attempts no faster than its reported budgets allow, in order."""

    def __init__(self, period: float = 60.0) -> None:
        if period <= 0:
            raise ValueError("rate_limit_period must be > 0")
        self.period = period
        self._requests = Level()
        self._tokens = Level()
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
        # Starts the last check left room for, beyond the margin: (requests, tokens).
        self._credit = (0.0, 0.0)
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
        if wait <= 0.0 and not blind:
            # Room to spare: the next starts may skip these sums until a reading, a
            # refusal or the room runs out (the refill since only adds to the room).
            self._credit = (
                self._requests.headroom(1.0, self._drawn_requests, now, period),
                self._tokens.headroom(
                    float(tokens), self._drawn_tokens + self._corrected, now, period
                ),
            )
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
        requests, budget = self._credit
        if requests >= 1.0 and budget >= 2.0 * tokens:
            # Well within what the last check found left: no sums needed.
            self._credit = (requests - 1.0, budget - tokens)
            self._blind = False
            return self._draw(seq, tokens, _clock())
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
        if (
            answered
            and _plenty(state)
            and ticket.started - self._requests.read_at < (self.period * _PLENTY_READS)
        ):
            # More than half of both budgets left: a newer reading could not change a
            # decision soon, and the last one is recent. (Costs per answer, skipped.)
            return
        self._credit = (0.0, 0.0)
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

        Explained: the refusal's own headers say a budget ran out, or ``spent`` names the
        budget its text says ran out ("requests" or "tokens"). The text counts even when
        the headers show room: they are worked out a moment after the refusal, and a
        budget refilling fast may have refilled in between. Unexplained refusals (neither
        says a budget ran out) pause nobody but the request.
        """
        requests, tokens = spent == "requests", spent == "tokens"
        if state is not None:
            requests = requests or (
                state.requests_remaining is not None and state.requests_remaining < 1
            )
            tokens = tokens or (
                state.tokens_remaining is not None
                and state.tokens_remaining < max(ticket.tokens, 1)
            )
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
        self._credit = (0.0, 0.0)
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
        # Corrections are pruned only when a reading comes; a server that never reports a
        # token budget sends none, and the list would grow by one entry per request.
        if delta and self._tokens.limit > 0 and ticket.drawn_tokens > self._tokens.drawn_at:
            self._corrections.append((ticket.drawn_tokens, delta))
            self._corrected += delta


def _plenty(state: RateLimits) -> bool:
    """Whether a reading shows more than half of each reported budget left."""
    requests, tokens = state.requests_remaining, state.tokens_remaining
    if requests is not None and state.requests_limit and 2 * requests < state.requests_limit:
        return False
    return not (tokens is not None and state.tokens_limit and 2 * tokens < state.tokens_limit)
