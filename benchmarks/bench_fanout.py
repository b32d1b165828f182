"""Fan-out: ``create_many`` / ``iter_many`` of 10,000 and 100,000 requests at concurrency 64.

Measures throughput (requests/s), client CPU per request and the client process's memory,
each run in a fresh interpreter pinned to the client core, against the fast local server:

* ``grok create_many``: ``await client.chat.completions.create_many(gen, concurrency=64)``
  with a lazy generator of request dicts; it returns all N typed completions, so its memory
  *must* grow with N by the size of the results it hands back.
* ``grok iter_many``: ``async for i, r in client.chat.completions.iter_many(gen, ...)``,
  each result dropped once seen: the fan-out machinery alone, whose memory should be
  flat in N (bounded by the concurrency, not the number of requests).
* ``raw aiohttp gather`` (the floor for create_many): ``asyncio.Semaphore(64)`` and
  ``asyncio.gather`` over N coroutines (all N tasks exist at once), each posting with
  ``orjson.dumps`` and returning ``orjson.loads`` of the body; the N dicts are kept.

Memory: ``baseline`` is the RSS after imports, client set-up and a 200-request warm-up;
``peak`` is the process's RSS high-water mark (``VmHWM``) at the end; ``growth`` is
peak - baseline, also shown per request.
Comparing N = 10,000 with N = 100,000 shows whether memory grows with N.

    python benchmarks/bench_fanout.py [--quick] [--reps 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from typing import Any

import _common as common
from _clients import API_KEY, MESSAGES, MODEL, PARAMS, REQUEST

CONCURRENCY = 64
MODES = ("raw-gather", "grok-create-many", "grok-iter-many")
MODE_LABELS = {
    "raw-gather": "raw aiohttp, Semaphore + gather (floor)",
    "grok-create-many": "grok_async create_many",
    "grok-iter-many": "grok_async iter_many (results dropped)",
}
FULL_SIZES = (10_000, 100_000)
QUICK_SIZES = (1_000, 4_000)


def _requests(n: int) -> Any:
    for _ in range(n):
        yield {"model": MODEL, "messages": MESSAGES, **PARAMS}


async def run_raw(base_url: str, n: int, server_pid: int) -> dict[str, Any]:
    import aiohttp
    import orjson

    url = base_url + "/chat/completions"
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def one() -> Any:
            async with (
                semaphore,
                session.post(url, data=orjson.dumps(REQUEST), headers=headers) as r,
            ):
                if r.status != 200:
                    raise RuntimeError(f"HTTP {r.status}")
                return orjson.loads(await r.read())

        await asyncio.gather(*(one() for _ in range(200)))
        gc.collect()
        baseline = common.rss_bytes()
        with common.Stopwatch(server_pid) as watch:
            results = await asyncio.gather(*(one() for _ in range(n)))
        assert len(results) == n
        assert results[-1]["choices"][0]["message"]["content"]
        return _result(watch, n, baseline)


async def run_grok(base_url: str, n: int, server_pid: int, *, keep: bool) -> dict[str, Any]:
    from grok_async import AsyncGrok

    async with AsyncGrok(api_key=API_KEY, base_url=base_url, max_connections=CONCURRENCY) as client:
        await client.chat.completions.create_many(_requests(200), concurrency=CONCURRENCY)
        gc.collect()
        baseline = common.rss_bytes()
        with common.Stopwatch(server_pid) as watch:
            if keep:
                results = await client.chat.completions.create_many(
                    _requests(n), concurrency=CONCURRENCY
                )
                count = len(results)
                assert results[-1].choices[0].message.content  # type: ignore[union-attr]
            else:
                count = 0
                async for _, result in client.chat.completions.iter_many(
                    _requests(n), concurrency=CONCURRENCY
                ):
                    count += 1
                    del result
        assert count == n
        return _result(watch, n, baseline)


def _result(watch: common.Stopwatch, n: int, baseline: int) -> dict[str, Any]:
    peak = common.peak_rss_bytes()
    return {
        "requests": n,
        "seconds": watch.wall,
        "rps": n / watch.wall,
        "cpu_per_request": watch.cpu / n,
        "server_cpu_pct": watch.server_percent,
        "baseline_rss": baseline,
        "peak_rss": peak,
        "growth": max(0, peak - baseline),
        "growth_per_request": max(0, peak - baseline) / n,
    }


async def worker(mode: str, base_url: str, n: int, server_pid: int) -> None:
    if mode == "raw-gather":
        result = await run_raw(base_url, n, server_pid)
    else:
        result = await run_grok(base_url, n, server_pid, keep=mode == "grok-create-many")
    common.emit({"mode": mode, **result})


def measure(
    server: Any, *, quick: bool, reps: int, log: Any = print
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    sizes = QUICK_SIZES if quick else FULL_SIZES
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for rep in range(reps):
        for n in sizes:
            for mode in common.rotated(MODES, rep):
                result = common.run_worker(
                    "bench_fanout.py", [mode, server.base_url, str(n), str(server.pid)]
                )
                runs.setdefault((mode, n), []).append(result)
                log(
                    f"  [fan-out rep {rep + 1}/{reps}] {mode:<17} n={n:<7} "
                    f"{result['rps']:>8,.0f} req/s  peak RSS {result['peak_rss'] / 1e6:7.1f} MB  "
                    f"growth {result['growth'] / 1e6:7.1f} MB  "
                    f"server {result['server_cpu_pct']:.0f}%"
                )
    return runs


def report(runs: dict[tuple[str, int], list[dict[str, Any]]]) -> tuple[str, dict[str, float]]:
    sizes = sorted({n for _, n in runs})
    rows = []
    ratios: dict[str, float] = {}
    for n in sizes:
        floor = runs.get(("raw-gather", n), [])
        floor_rps = common.median_of(floor, "rps")
        floor_peak = common.median_of(floor, "peak_rss")
        floor_cpu = common.median_of(floor, "cpu_per_request")
        for mode in MODES:
            results = runs.get((mode, n))
            if not results:
                continue
            rps = common.median_of(results, "rps")
            peak = common.median_of(results, "peak_rss")
            cpu = common.median_of(results, "cpu_per_request")
            server_pct = common.median_of(results, "server_cpu_pct")
            rows.append(
                [
                    MODE_LABELS[mode],
                    f"{n:,}",
                    common.fmt_int(rps),
                    common.ratio(rps, floor_rps),
                    f"{cpu * 1e6:.0f} µs",
                    common.fmt_mb(common.median_of(results, "baseline_rss")),
                    common.fmt_mb(peak),
                    common.ratio(peak, floor_peak),
                    common.fmt_mb(common.median_of(results, "growth")),
                    f"{common.median_of(results, 'growth_per_request'):,.0f} B",
                    f"{server_pct:.0f}%"
                    + (" (saturated)" if server_pct > common.SATURATED else ""),
                ]
            )
            if mode != "raw-gather":
                key = "create_many" if mode == "grok-create-many" else "iter_many"
                ratios[f"{key}_rps_{n}"] = rps / floor_rps if floor_rps else float("nan")
                ratios[f"{key}_peak_{n}"] = peak / floor_peak if floor_peak else float("nan")
                ratios[f"{key}_cpu_{n}"] = cpu / floor_cpu if floor_cpu else float("nan")
                ratios[f"{key}_growth_{n}"] = common.median_of(results, "growth")
            else:
                ratios[f"raw_growth_{n}"] = common.median_of(results, "growth")
    text = common.table(
        [
            "fan-out",
            "requests",
            "req/s",
            "vs raw",
            "client CPU/req",
            "baseline RSS",
            "peak RSS",
            "peak vs raw",
            "growth",
            "growth/request",
            "server CPU",
        ],
        rows,
    )
    return text + "\n", ratios


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        mode, base_url, n, server_pid = sys.argv[2:6]
        common.pin_client()
        asyncio.run(worker(mode, base_url, int(n), int(server_pid)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    import server as bench_server

    common.pin_client()
    with bench_server.start(cpu=common.SERVER_CPU) as srv:
        runs = measure(srv, quick=args.quick, reps=args.reps)
    print(report(runs)[0])


if __name__ == "__main__":
    main()
