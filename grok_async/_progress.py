"""A fan-out's progress on screen: live on a terminal, a plain line every few seconds elsewhere.

On a terminal a display drawn with rich is redrawn a few times a second, as wide as the
terminal: a bar with done/total, the rate and the time left, and under it the fan-out's
real state. Anywhere else (a log file, CI, a pipe) a plain line is written every few
seconds and once at the end: no carriage returns, no escape codes. rich is imported only
when a live display is shown, so a fan-out without one never loads it.

The state is read where it lives, not guessed: attempts on the wire (the limiter's slots
held, less those waiting for the budget), the limiter's current slots (cut when the server
refuses for reasons the budgets do not explain), the last ``X-Ratelimit-*`` reading
(``client.rate_limits()``), budget waits, refusals, failures, retries and cost.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

import attrs

from ._fanout import FanOutStats
from ._ratecontrol import AdaptiveLimiter
from ._ratelimits import RateLimits

__all__ = ["Progress", "Snapshot"]

# Seconds between redraws of a live display (smooth enough, cheap enough)...
_LIVE_INTERVAL = 0.2
# ...and between plain lines, which pile up in a log: one every few seconds.
_PLAIN_INTERVAL = 5.0


@attrs.frozen
class Snapshot:
    """What one redraw shows: the fan-out's state at one moment."""

    done: int
    total: int | None
    failed: int
    retries: int
    rate_limited: int
    #: Attempts sent and not answered yet (None: no limiter to read them from).
    sending: int | None
    #: The slots of concurrency the fan-out may use now (None: unknown).
    slots: int | None
    budget_waiting: int
    budget_waits: int
    cost_usd: float
    requests_per_second: float
    elapsed: float
    limits: RateLimits | None
    #: Tokens the answers reported so far (prompt and completion).
    tokens: int = 0

    @property
    def tokens_per_minute(self) -> float:
        """Tokens per minute of elapsed time, as the answers reported them."""
        return self.tokens * 60 / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        """Seconds to the end at the current rate (None: no total or no rate yet)."""
        if self.total is None or self.requests_per_second <= 0:
            return None
        return max(0, self.total - self.done) / self.requests_per_second

    def counts(self) -> str:
        """Done of total, rate and time left: what goes beside the bar."""
        done = f"{self.done:,}/{self.total:,}" if self.total else f"{self.done:,} done"
        left = self.seconds_left
        running = self.done and (self.total is None or self.done < self.total)
        eta = f", {_duration(left)} left" if left is not None and running else ""
        return f"{done}  {self.requests_per_second:,.0f} req/s{eta}"

    def state(self) -> str:
        """What holds the fan-out back and what went wrong, as clauses joined by " · "."""
        parts = []
        if self.sending is not None:
            slots = f" of {self.slots}" if self.slots is not None else ""
            parts.append(f"sending {self.sending}{slots}")
        parts.append(f"{self.budget_waiting} waiting for the budget")
        parts.append(f"{self.failed} failed")
        parts.append(f"{self.rate_limited} refused (429)")
        parts.append(f"{self.retries} retries")
        if self.limits is not None:
            parts.append(_limits(self.limits))
        parts.append(f"{self.budget_waits:,} budget waits")
        if self.tokens:
            parts.append(f"{self.tokens_per_minute:,.0f} tokens/min")
        if self.cost_usd:
            parts.append(f"${self.cost_usd:.4f}")
        return " · ".join(parts)

    def line(self) -> str:
        """The plain line: counts then state."""
        return f"{self.counts()} · {self.state()}"


def _duration(seconds: float) -> str:
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _limits(limits: RateLimits) -> str:
    """The last reading of the budgets, e.g. ``limit 600 req/min (58 left)``."""
    parts = []
    if limits.requests_limit is not None:
        left = "" if limits.requests_remaining is None else f" ({limits.requests_remaining:,} left)"
        parts.append(f"{limits.requests_limit:,} req/min{left}")
    if limits.tokens_limit is not None:
        left = "" if limits.tokens_remaining is None else f" ({limits.tokens_remaining:,} left)"
        parts.append(f"{limits.tokens_limit:,} tokens/min{left}")
    return "limit " + ", ".join(parts) if parts else "no limit reported"


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        tty = bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False
    return tty and os.environ.get("TERM") != "dumb"


class Progress:
    """A fan-out's progress on ``stream`` (default stderr): live on a terminal, else a line
    every few seconds.

    ``create_many(progress=True)`` and ``iter_many(progress=True)`` make one; pass your own
    to choose the stream, the redraw ``interval`` (seconds) or ``live`` (True: the live
    display, False: plain lines; default: live on a terminal).
    """

    def __init__(
        self,
        stats: FanOutStats,
        *,
        stream: TextIO | None = None,
        interval: float | None = None,
        live: bool | None = None,
    ) -> None:
        self.stats = stats
        self.stream: TextIO = stream if stream is not None else sys.stderr
        self.live = _is_terminal(self.stream) if live is None else live
        default = _LIVE_INTERVAL if self.live else _PLAIN_INTERVAL
        self.interval = default if interval is None else interval
        self._limiter: AdaptiveLimiter | None = None
        self._rate_limits: Callable[[], RateLimits | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._display: Any = None

    def follow(
        self, limiter: AdaptiveLimiter, rate_limits: Callable[[], RateLimits | None]
    ) -> None:
        """Read the in-flight attempts from ``limiter`` and the budgets from ``rate_limits``
        (the fan-out calls this before it starts)."""
        self._limiter = limiter
        self._rate_limits = rate_limits

    def snapshot(self) -> Snapshot:
        """The state to show now."""
        s = self.stats
        limiter = self._limiter
        return Snapshot(
            done=s.done,
            total=s.total,
            failed=s.failed,
            retries=s.retries,
            rate_limited=limiter.rate_limited if limiter is not None else s.rate_limited,
            sending=max(0, limiter.in_flight - s.budget_waiting) if limiter is not None else None,
            slots=limiter.limit if limiter is not None else None,
            budget_waiting=s.budget_waiting,
            budget_waits=s.budget_waits,
            cost_usd=s.cost_usd,
            requests_per_second=s.requests_per_second,
            elapsed=s.elapsed,
            limits=self._rate_limits() if self._rate_limits is not None else None,
            tokens=s.total_tokens,
        )

    def render(self) -> str:
        """The plain line of the current state."""
        return self.snapshot().line()

    # -- drawing ----------------------------------------------------------------------------

    def _renderable(self) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        snap = self.snapshot()
        row = Table.grid(expand=True, padding=(0, 1))
        row.add_column(ratio=1)
        row.add_column(no_wrap=True, justify="right")
        bar = ProgressBar(total=snap.total or None, completed=snap.done, width=None)
        row.add_row(bar, Text(snap.counts()))
        # Wrapped at the terminal's width: a narrow one gets more lines, not less state.
        state = Text(snap.state(), style="dim")
        return Group(row, state)

    def _draw(self) -> None:
        if self._display is not None:
            self._display.update(self._renderable(), refresh=True)
        else:
            self.stream.write(self.render() + "\n")
            self.stream.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self._draw()

    def start(self) -> None:
        """Start drawing (in the running loop)."""
        if self.live:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.stream)
            # Redrawn by this loop's task, not by rich's thread: the counters belong to
            # the loop, and a redraw between two of its steps sees them consistent.
            self._display = Live(
                self._renderable(), console=console, auto_refresh=False, transient=False
            )
            self._display.start()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Draw the final state and stop."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._draw()
        if self._display is not None:
            self._display.stop()
            self._display = None
