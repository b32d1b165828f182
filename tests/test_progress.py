"""The fan-out's progress: live and width-aware on a terminal, plain lines elsewhere, and
the real state (attempts on the wire, budget waits, the learned limits) either way."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
from typing import Any

import pytest

from grok_async import AsyncGrok, FanOutStats, Progress
from grok_async._progress import Snapshot
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def requests(count: int) -> list[dict[str, Any]]:
    return [
        {"model": "grok-4", "messages": [{"role": "user", "content": f"q{i}"}], "max_tokens": 8}
        for i in range(count)
    ]


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


async def test_plain_lines_when_the_stream_is_not_a_terminal() -> None:
    """Not a terminal: whole lines, written every interval and once at the end, with no
    carriage return and no escape code."""
    out = io.StringIO()
    stats = FanOutStats()
    async with (
        FakeGrok(latency=0.02) as fake,
        AsyncGrok(FAKE_KEY, base_url=fake.base_url) as client,
    ):
        bar = Progress(stats, stream=out, interval=0.05)
        assert not bar.live
        await client.chat.completions.create_many(requests(40), concurrency=4, progress=bar)
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) >= 3  # periodic lines while it ran, then the final one
    assert lines[-1].startswith("40/40  ")
    assert all(" · sending " in line and "waiting for the budget" in line for line in lines)


@pytest.mark.parametrize("columns", [50, 120])
async def test_live_display_fits_the_terminal(
    monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    """On a terminal the rich display is redrawn in place and no line of it is wider than
    the terminal, narrow or wide; the bar grows with the width."""
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.delenv("TERM", raising=False)
    out = Terminal()
    stats = FanOutStats()
    async with (
        FakeGrok(latency=0.01) as fake,
        AsyncGrok(FAKE_KEY, base_url=fake.base_url) as client,
    ):
        bar = Progress(stats, stream=out, interval=0.02)
        assert bar.live
        await client.chat.completions.create_many(requests(30), concurrency=4, progress=bar)
    text = out.getvalue()
    assert "\x1b[" in text  # drawn in place (cursor movements), not appended
    lines = [ANSI.sub("", line) for line in text.splitlines()]
    assert lines and all(len(line) <= columns for line in lines)
    final = [line for line in lines if "30/30" in line][-1]
    assert len(final) > columns - 5  # the bar takes the width that is left
    assert any("sending" in line for line in lines)


async def test_the_state_is_read_where_it_lives() -> None:
    """Under a spent budget the display shows requests waiting for it and only the
    attempts actually sent as sending (never more than the slots), and the limits the
    headers reported."""
    stats = FanOutStats()
    seen: list[Snapshot] = []
    async with (
        FakeGrok(requests_per_minute=10, time_scale=1 / 30) as fake,  # a 2-second minute
        AsyncGrok(FAKE_KEY, base_url=fake.base_url, rate_limit_period=fake.minute) as client,
    ):
        bar = Progress(stats, stream=io.StringIO(), interval=60)

        async def sample() -> None:
            while True:
                seen.append(bar.snapshot())
                await asyncio.sleep(0.01)

        sampler = asyncio.create_task(sample())
        await client.chat.completions.create_many(requests(20), concurrency=8, progress=bar)
        sampler.cancel()
    assert any(snap.budget_waiting > 0 for snap in seen)
    assert all(snap.sending is not None and snap.slots is not None for snap in seen)
    assert all(0 <= snap.sending <= snap.slots for snap in seen)  # type: ignore[operator]
    # While requests waited for the budget, fewer were on the wire than were in the
    # fan-out's hands: the old bar showed the latter as "in flight".
    assert any(snap.sending is not None and snap.sending < snap.budget_waiting for snap in seen)
    final = bar.snapshot()
    assert final.budget_waiting == 0
    assert final.limits is not None and final.limits.requests_limit == 10
    assert "limit 10 req/min" in bar.render()
    assert final.budget_waits == stats.budget_waits > 0


def test_rich_is_imported_only_for_a_live_display() -> None:
    """A fan-out with progress on a stream that is not a terminal (and `import grok_async`)
    never loads rich."""
    code = """
import asyncio, sys
from grok_async import AsyncGrok
from grok_async.testing import FakeGrok

async def main():
    async with FakeGrok() as fake, AsyncGrok("k", base_url=fake.base_url) as client:
        reqs = [{"model": "grok-4", "messages": [{"role": "user", "content": "hi"}]}] * 5
        await client.chat.completions.create_many(reqs, progress=True)

asyncio.run(main())
print("rich" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    assert "5/5" in result.stderr


def test_the_plain_line_reads_every_counter() -> None:
    """The plain line names each counter of the state, the limits and the cost."""
    from grok_async import RateLimits

    snap = Snapshot(
        done=450,
        total=1000,
        failed=2,
        retries=7,
        rate_limited=1,
        sending=3,
        slots=64,
        budget_waiting=61,
        budget_waits=300,
        cost_usd=0.1234,
        requests_per_second=150.0,
        elapsed=3.0,
        limits=RateLimits(requests_limit=600, requests_remaining=4, tokens_limit=60000),
    )
    assert snap.line() == (
        "450/1,000  150 req/s, 4 s left · sending 3 of 64 · 61 waiting for the budget · "
        "2 failed · 1 refused (429) · 7 retries · limit 600 req/min (4 left), 60,000 tokens/min"
        " · 300 budget waits · $0.1234"
    )
