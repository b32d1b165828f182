"""The local batch runner: its throughput against ``create_many`` on the same requests, and
its memory over 1,000,000 input lines and more.

* ``throughput``: N chat requests at concurrency 64 against the fast local server, each
  run in a fresh interpreter pinned to the client core, rounds alternating the order:
  ``create_many(requests, return_exceptions=True)`` (the fan-out alone, results kept in a
  list) vs ``client.batches.run_file(INPUT, OUTPUT)`` on a JSONL file of the same requests
  (checking every line first, then the same fan-out, each answer appended to OUTPUT).
  The runner's overhead is ``1 - runner req/s / create_many req/s``; the target is <= 5 %.
* ``memory``: ``run_file`` over a file of M lines (default 1,000,000); the client's RSS is
  sampled (after a garbage collection) every 10 % of the answers. Flat means the last
  sample is within a few MB of the first: the input is read lazily, the output appended,
  and one bit per line (the lines OUTPUT answered before the run) is kept.
* ``check``: the part before the first request, alone: ``run_file`` over an input of
  M lines and one of B lines (default 3,000,000), each with an OUTPUT that already answers
  every line, so it checks the input (duplicates included), reads OUTPUT to resume, and has
  nothing to send. Its peak RSS over the client's RSS before the call, per size: flat
  means the same few MB for both sizes (the ids past 100,000 go to temporary files).

    python benchmarks/bench_batch.py [--quick] [--n 20000] [--m 1000000] [--big 3000000]
                                     [--reps 3] [--only throughput memory check]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as common
from _clients import API_KEY, MESSAGES, MODEL, PARAMS

CONCURRENCY = 64


def write_input(path: Path, n: int) -> None:
    body = {"model": MODEL, "messages": MESSAGES, **PARAMS}
    with path.open("w") as f:
        for i in range(n):
            row = {"custom_id": f"r-{i}", "method": "POST", "url": "/v1/chat/completions"}
            f.write(json.dumps({**row, "body": body}) + "\n")


def write_answered(path: Path, n: int) -> None:
    """An OUTPUT that answers each of the ``n`` lines of :func:`write_input`."""
    with path.open("w") as f:
        for i in range(n):
            response = {"status_code": 200, "request_id": f"req-{i}", "body": {}}
            row = {"id": f"batch_req_{i}", "custom_id": f"r-{i}", "response": response}
            f.write(json.dumps({**row, "error": None}) + "\n")


async def run_create_many(base_url: str, n: int) -> dict[str, Any]:
    import grok_async

    async with grok_async.AsyncGrok(API_KEY, base_url=base_url) as client:
        requests = ({"model": MODEL, "messages": MESSAGES, **PARAMS} for _ in range(n))
        started = time.perf_counter()
        results = await client.chat.completions.create_many(
            requests, concurrency=CONCURRENCY, return_exceptions=True
        )
        elapsed = time.perf_counter() - started
    failed = sum(isinstance(r, Exception) for r in results)
    return {"mode": "create_many", "n": n, "failed": failed, "rps": n / elapsed}


async def run_runner(base_url: str, source: str, output: str, sample: bool) -> dict[str, Any]:
    import grok_async

    stats = grok_async.FanOutStats()
    samples: list[tuple[int, float]] = []

    async def sampler() -> None:
        step = None
        while True:
            await asyncio.sleep(0.05)
            if stats.total:
                step = step or max(1, stats.total // 10)
                if stats.done >= (len(samples) + 1) * step:
                    gc.collect()
                    samples.append((stats.done, common.rss_bytes() / 2**20))

    async with grok_async.AsyncGrok(API_KEY, base_url=base_url) as client:
        task = asyncio.create_task(sampler()) if sample else None
        started = time.perf_counter()
        summary = await client.batches.run_file(
            source, output, concurrency=CONCURRENCY, stats=stats
        )
        elapsed = time.perf_counter() - started
        if task is not None:
            task.cancel()
    return {
        "mode": "runner",
        "n": summary.requests,
        "failed": summary.failed,
        "rps": summary.requests / elapsed,
        "samples": samples,
        "peak_mb": common.peak_rss_bytes() / 2**20,
    }


async def run_check(base_url: str, source: str, output: str) -> dict[str, Any]:
    """``run_file`` where OUTPUT answers every line: the check and the resume scan alone."""
    import grok_async

    async with grok_async.AsyncGrok(API_KEY, base_url=base_url) as client:
        gc.collect()
        before = common.rss_bytes()
        started = time.perf_counter()
        summary = await client.batches.run_file(source, output, concurrency=CONCURRENCY)
        elapsed = time.perf_counter() - started
    assert summary.skipped == summary.requests, summary
    assert summary.complete, summary
    return {
        "mode": "check",
        "n": summary.requests,
        "seconds": elapsed,
        "before_mb": before / 2**20,
        "peak_mb": common.peak_rss_bytes() / 2**20,
    }


def worker(args: list[str]) -> None:
    mode, base_url, *rest = args
    common.pin_client()
    if mode == "create_many":
        result = asyncio.run(run_create_many(base_url, int(rest[0])))
    elif mode == "check":
        result = asyncio.run(run_check(base_url, rest[0], rest[1]))
    else:
        source, output, sample = rest
        result = asyncio.run(run_runner(base_url, source, output, sample == "1"))
    common.emit(result)


def measure_throughput(tmp: Path, base_url: str, n: int, reps: int) -> None:
    source = tmp / "in.jsonl"
    write_input(source, n)
    rates: dict[str, list[float]] = {"create_many": [], "runner": []}
    for rep in range(reps):
        for mode in common.rotated(["create_many", "runner"], rep):
            output = tmp / f"out-{rep}.jsonl"
            output.unlink(missing_ok=True)
            worker_args = (
                [mode, base_url, str(n)]
                if mode == "create_many"
                else [mode, base_url, str(source), str(output), "0"]
            )
            result = common.run_worker("bench_batch.py", worker_args, timeout=3600)
            assert result["failed"] == 0, result
            rates[mode].append(result["rps"])
    base = statistics.median(rates["create_many"])
    runner = statistics.median(rates["runner"])
    print(
        common.table(
            ["", "req/s (median)", "vs create_many", "each round"],
            [
                ["create_many", f"{base:,.0f}", "1.00x", spread(rates["create_many"])],
                [
                    "batch runner (file in, file out)",
                    f"{runner:,.0f}",
                    f"{runner / base:.2f}x",
                    spread(rates["runner"]),
                ],
            ],
        )
    )
    print(
        f"\nrunner overhead: {(1 - runner / base) * 100:+.1f} % over {n:,} requests, median of "
        f"{reps} interleaved rounds (target <= 5 %)"
    )


def spread(rates: list[float]) -> str:
    return ", ".join(f"{rate:,.0f}" for rate in rates)


def measure_memory(tmp: Path, base_url: str, m: int) -> None:
    big = tmp / "big.jsonl"
    write_input(big, m)
    memory = common.run_worker(
        "bench_batch.py",
        ["runner", base_url, str(big), str(tmp / "big-out.jsonl"), "1"],
        timeout=7200,
    )
    big.unlink()
    samples = memory["samples"]
    rows = [[common.fmt_int(done), f"{mb:.1f} MB"] for done, mb in samples]
    print("\n" + common.table(["answers written", "RSS"], rows))
    if samples:
        (first_done, first_mb), (last_done, last_mb) = samples[0], samples[-1]
        print(
            f"\n{m:,} lines: RSS {first_mb:.1f} MB at {first_done:,}, {last_mb:.1f} MB at "
            f"{last_done:,} ({last_mb - first_mb:+.1f} MB); peak {memory['peak_mb']:.1f} MB"
        )


def measure_check(tmp: Path, base_url: str, sizes: list[int]) -> None:
    rows = []
    for size in sizes:
        source, output = tmp / f"check-{size}.jsonl", tmp / f"check-{size}-out.jsonl"
        write_input(source, size)
        write_answered(output, size)
        result = common.run_worker(
            "bench_batch.py", ["check", base_url, str(source), str(output)], timeout=7200
        )
        source.unlink()
        output.unlink()
        rows.append(
            [
                common.fmt_int(size),
                f"{result['seconds']:.1f} s",
                f"{result['before_mb']:.1f} MB",
                f"{result['peak_mb']:.1f} MB",
                f"{result['peak_mb'] - result['before_mb']:+.1f} MB",
            ]
        )
    print(
        "\ninput check + resume scan (OUTPUT answers every line, nothing to send):\n"
        + common.table(["lines", "time", "RSS before", "peak RSS", "peak - before"], rows)
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument("--n", type=int, default=None, help="requests of the throughput runs")
    parser.add_argument("--m", type=int, default=None, help="input lines of the memory run")
    parser.add_argument("--big", type=int, default=None, help="input lines of the larger check run")
    parser.add_argument("--reps", type=int, default=3)
    parts = ["throughput", "memory", "check"]
    parser.add_argument("--only", nargs="+", choices=parts, default=parts)
    args = parser.parse_args()
    n = args.n or (2_000 if args.quick else 20_000)
    m = args.m or (20_000 if args.quick else 1_000_000)
    big = args.big or (150_000 if args.quick else 3_000_000)
    import server as bench_server

    common.pin_client()
    with tempfile.TemporaryDirectory() as name, bench_server.start(cpu=common.SERVER_CPU) as srv:
        tmp = Path(name)
        if "throughput" in args.only:
            measure_throughput(tmp, srv.base_url, n, args.reps)
        if "memory" in args.only:
            measure_memory(tmp, srv.base_url, m)
        if "check" in args.only:
            measure_check(tmp, srv.base_url, [m, big])


if __name__ == "__main__":
    main()
