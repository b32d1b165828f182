"""Memory of a fan-out of 1,000,000 requests: is it flat in N?

``iter_many`` over a lazy generator of one million request dicts at concurrency 64,
against the fast local server (another process), each result dropped once seen. The
client process's resident memory is sampled (after a garbage collection) every 10 % of
the run; flat means the last sample is within a few MB of the first one taken after
warm-up, however many requests went through. The fan-out's own ``FanOutStats`` keeps a
bounded latency reservoir, so it is on too.

    python benchmarks/bench_million.py [--n 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from typing import Any

import _common as common
from _clients import API_KEY, MESSAGES, MODEL, PARAMS

CONCURRENCY = 64


def _requests(n: int) -> Any:
    for _ in range(n):
        yield {"model": MODEL, "messages": MESSAGES, **PARAMS}


async def worker(base_url: str, n: int) -> None:
    import grok_async

    client = grok_async.AsyncGrok(API_KEY, base_url=base_url, max_connections=CONCURRENCY)
    stats = grok_async.FanOutStats()
    every = max(1, n // 10)
    samples: list[tuple[int, float]] = []
    failed = 0
    seen = 0
    started = time.perf_counter()
    try:
        async for index, result in client.chat.completions.iter_many(
            _requests(n), concurrency=CONCURRENCY, return_exceptions=True, stats=stats
        ):
            del index
            seen += 1
            if isinstance(result, Exception):
                failed += 1
            if seen % every == 0:
                gc.collect()
                samples.append((seen, common.rss_bytes() / 2**20))
    finally:
        await client.close()
    elapsed = time.perf_counter() - started
    common.emit(
        {
            "n": n,
            "done": stats.done,
            "failed": failed,
            "seconds": elapsed,
            "rps": stats.done / elapsed,
            "samples": samples,
            "peak_mb": common.peak_rss_bytes() / 2**20,
        }
    )


def report(result: dict[str, Any]) -> str:
    samples = result["samples"]
    rows = [[common.fmt_int(done), f"{mb:.1f} MB"] for done, mb in samples]
    first_mb = samples[0][1]
    last_mb = samples[-1][1]
    lines = [
        common.table(["results seen", "RSS"], rows),
        "",
        f"{result['done']:,} requests ({result['failed']:,} failed) in "
        f"{result['seconds']:.0f} s ({result['rps']:,.0f} req/s); RSS at "
        f"{samples[0][0]:,}: {first_mb:.1f} MB, at {samples[-1][0]:,}: {last_mb:.1f} MB "
        f"({last_mb - first_mb:+.1f} MB); peak {result['peak_mb']:.1f} MB.",
    ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        base_url, n = sys.argv[2:4]
        common.pin_client()
        asyncio.run(worker(base_url, int(n)))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    import server as bench_server

    common.pin_client()
    with bench_server.start(cpu=common.SERVER_CPU) as srv:
        result = common.run_worker("bench_million.py", [srv.base_url, str(args.n)], timeout=3600)
    print(report(result))


if __name__ == "__main__":
    main()
