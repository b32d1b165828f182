"""Scaling out: 4 Ray workers sharing one Redis rate budget vs one process's create_many.

The emulator (FakeGrok, in a thread of this process) enforces a server-side rate limit of
``LIMIT`` requests/s (a token bucket holding one second's worth) with a little latency;
extra requests get 429 with Retry-After. Each run sends the same N chat completions:

* ``ray + redis budget``: ``map_completions`` on 4 local Ray workers (``ray.init(
  num_cpus=4)``), all drawing from one :class:`RedisRateLimiter` at 90 % of the limit;
* ``ray, no budget``: the same 4 workers with only their own adaptive back-off (AIMD):
  each learns the limit from 429s on its own;
* ``create_many + budget``: one process, ``rate_limit=RateBudget(...)`` at 90 %;
* ``create_many, no budget``: one process, adaptive back-off only.

Reported per run: the steady accepted throughput (requests answered after the first
second, which both token buckets open with a burst, over the time to the last answer,
measured at the server), as a share of the budget and of the server's limit; the busiest
one-second window (a bucket allows its burst plus a second's refill: up to 2x the rate);
the number of 429s; and the wall time (for Ray, including starting the workers).

    python benchmarks/bench_ray.py [--quick] [--redis-url redis://...]

Without ``--redis-url`` a temporary ``redis-server`` (from the PATH) is started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from grok_async import AsyncGrok, RedisRateLimiter
from grok_async._budget import RateBudget
from grok_async.testing import FakeGrok

API_KEY = "xai-bench-key"
MODEL = "grok-4"
LATENCY = 0.02  # seconds the emulator waits before each answer
CONCURRENCY = 64  # requests in flight per worker (and for the single process)
WORKERS = 4
BUDGET_SHARE = 0.9  # the budget sits just under the server's limit


def request(i: int) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": f"prompt #{i}"}]}


class Server:
    """A rate-limited FakeGrok that timestamps every request it answers."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.answered: list[float] = []
        self.fake = FakeGrok(
            requests_per_second=limit,
            latency=LATENCY,
            record_requests=False,
            replies=self._reply,
        )

    def _reply(self, body: dict[str, Any]) -> None:
        self.answered.append(time.monotonic())  # only admitted requests get here

    def __enter__(self) -> Server:
        self.fake.start_in_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self.fake.stop_in_thread()

    def figures(self, wall: float, budget: float | None) -> dict[str, Any]:
        stamps = sorted(self.answered)
        # Steady state: after the first second, which both buckets (the budget's and the
        # server's) open with a burst of one second's worth.
        steady = [t for t in stamps if t >= stamps[0] + 1.0] if stamps else []
        span = steady[-1] - (stamps[0] + 1.0) if steady else 0.0
        rate = len(steady) / span if span > 0 else 0.0
        busiest = 0
        j = 0
        for i, start in enumerate(stamps):
            while j < len(stamps) and stamps[j] - start < 1.0:
                j += 1
            busiest = max(busiest, j - i)
        return {
            "answered": len(stamps),
            "rate": rate,
            "of_budget": rate / budget if budget else None,
            "of_limit": rate / self.limit,
            "busiest_second": busiest,
            "429s": self.fake.stats.faults["rate_limited"],
            "wall": wall,
        }


@contextmanager
def temporary_redis() -> Iterator[str]:
    binary = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if binary is None:
        sys.exit("bench_ray: no redis-server on the PATH; pass --redis-url or set REDIS_SERVER")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def run_ray(n: int, limit: float, rate_limit: RedisRateLimiter | None) -> dict[str, Any]:
    import ray

    from grok_async.contrib.ray import map_completions

    with Server(limit) as server:
        items = [{"id": i, "request": json.dumps(request(i))} for i in range(n)]
        started = time.monotonic()
        rows = map_completions(
            ray.data.from_items(items),
            concurrency=CONCURRENCY,
            api_key=API_KEY,
            base_url=server.fake.base_url,
            rate_limit=rate_limit,
            workers=WORKERS,
            batch_size=max(1, n // (WORKERS * 4)),
            # Waiting on the network takes no CPU; the read stage needs some.
            ray_remote_args={"num_cpus": 0.5},
        ).take_all()
        wall = time.monotonic() - started
        figures = server.figures(wall, limit * BUDGET_SHARE if rate_limit else None)
    figures["rows"] = len(rows)
    figures["errors"] = sum(1 for row in rows if row["error"] is not None)
    return figures


def run_single(n: int, limit: float, budgeted: bool) -> dict[str, Any]:
    budget = RateBudget(requests_per_minute=limit * BUDGET_SHARE * 60) if budgeted else None

    async def main(base_url: str) -> list[Any]:
        async with AsyncGrok(API_KEY, base_url=base_url) as client:
            return await client.chat.completions.create_many(
                (request(i) for i in range(n)),
                concurrency=CONCURRENCY,
                rate_limit=budget,
                return_exceptions=True,
            )

    with Server(limit) as server:
        started = time.monotonic()
        results = asyncio.run(main(server.fake.base_url))
        wall = time.monotonic() - started
        figures = server.figures(wall, limit * BUDGET_SHARE if budgeted else None)
    figures["rows"] = len(results)
    figures["errors"] = sum(1 for r in results if isinstance(r, Exception))
    return figures


def table(limit: float, n: int, runs: dict[str, dict[str, Any]]) -> str:
    budget = limit * BUDGET_SHARE
    lines = [
        f"server limit {limit:g} req/s (burst {limit:g}), budget {budget:g} req/s "
        f"({budget * 60:,.0f}/min), {n:,} requests, latency {LATENCY * 1000:.0f} ms, "
        f"concurrency {CONCURRENCY} per worker",
        "",
        "| run | steady req/s | of budget | of server limit | busiest 1 s | 429s "
        "| errors | rows | wall s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, f in runs.items():
        of_budget = f"{f['of_budget']:.2f}x" if f["of_budget"] is not None else "-"
        lines.append(
            f"| {name} | {f['rate']:,.1f} | {of_budget} | {f['of_limit']:.2f}x "
            f"| {f['busiest_second']} | {f['429s']:,} | {f['errors']} | {f['rows']:,} "
            f"| {f['wall']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run, for CI")
    parser.add_argument("--redis-url", help="use this Redis instead of a temporary one")
    args = parser.parse_args()
    limit, n = (50.0, 300) if args.quick else (200.0, 4000)

    import ray

    ray.init(num_cpus=WORKERS, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    runs: dict[str, dict[str, Any]] = {}
    try:
        with temporary_redis() if args.redis_url is None else _given(args.redis_url) as url:
            limiter = RedisRateLimiter(
                url, requests_per_minute=limit * BUDGET_SHARE * 60, key=f"bench:{uuid.uuid4()}"
            )
            runs[f"ray {WORKERS} workers + RedisRateLimiter"] = run_ray(n, limit, limiter)
        runs[f"ray {WORKERS} workers, no budget (AIMD only)"] = run_ray(n, limit, None)
    finally:
        ray.shutdown()
    runs["1 process create_many + RateBudget"] = run_single(n, limit, budgeted=True)
    runs["1 process create_many, no budget (AIMD only)"] = run_single(n, limit, budgeted=False)
    print(table(limit, n, runs))
    incomplete = [name for name, f in runs.items() if f["rows"] != n]
    if incomplete:
        sys.exit(f"bench_ray: runs that lost rows: {incomplete}")


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
