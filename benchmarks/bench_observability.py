"""What observability costs: requests/s and client CPU per request with and without hooks.

Three variants of grok_async ``create()`` against the fast local server at concurrency 64
(``--concurrency``),
interleaved over several repetitions in fresh interpreters pinned to the client core:

- ``before``: the library as it was before timings, hooks and pool statistics existed
  (git revision ``BASELINE``, exported to a temporary directory), the reference;
- ``no hooks``: this checkout with no hooks and no tracing (timings are always on);
- ``no-op hooks``: this checkout with all five hooks set to a function that does nothing.

The issue's target: no measurable cost (< 2 %) when no hook is set. ``--baseline HEAD``
compares the checkout with itself (an A/A control: what the harness alone reports as a
difference).

    python benchmarks/bench_observability.py [--quick] [--reps 9] [--baseline REV]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

import _common as common
from _clients import API_KEY, MESSAGES, MODEL, PARAMS, drive

#: The last commit before observability landed.
BASELINE = "5a5b335"
VARIANTS = ["before", "no-hooks", "noop-hooks"]
LABELS = {
    "before": "grok_async before observability",
    "no-hooks": "grok_async, no hooks",
    "noop-hooks": "grok_async, 5 no-op hooks",
}


async def worker(
    variant: str, base_url: str, total: int, server_pid: int, concurrency: int
) -> None:
    import grok_async

    options: dict[str, Any] = {}
    if variant == "noop-hooks":

        def nothing(event: Any) -> None:
            return None

        options["hooks"] = grok_async.Hooks(
            on_request=nothing,
            on_response=nothing,
            on_retry=nothing,
            on_error=nothing,
            on_stream_end=nothing,
        )
    client = grok_async.AsyncGrok(
        API_KEY, base_url=base_url, max_connections=concurrency, **options
    )

    async def complete() -> int:
        reply = await client.chat.completions.create(model=MODEL, messages=MESSAGES, **PARAMS)
        return 1 if reply.choices[0].message.content else 0

    try:
        await drive(complete, max(500, 2 * concurrency), concurrency)
        gc.collect()
        with common.Stopwatch(server_pid) as watch:
            _, done = await drive(complete, total, concurrency)
    finally:
        await client.close()
    common.emit(
        {
            "variant": variant,
            "rps": done / watch.wall,
            "cpu_per_request": watch.cpu / done,
            "server_cpu_pct": watch.server_percent,
        }
    )


def bookkeeping(number: int = 200_000) -> float:
    """Microseconds per call of what a call does for observability when nothing observes it.

    The A/B run above compares whole libraries, so it also counts every other change made
    since ``BASELINE``. This times the observability statements of a non-streamed call's
    success path alone, written out as they run in ``_client.request``, ``_client._send``,
    ``_transport.send``, ``HTTPResponse`` and ``_chat_create._decode_completion`` (keep
    them in step): the call's clock readings, its ``Timings``, the request id, the pool
    gate's counting (which is what makes ``pool_wait`` and ``pool_stats()`` exact) and the
    two "observed?" tests. Best of 5.
    """
    import timeit
    from time import perf_counter

    from grok_async._observe import Timings
    from grok_async._pool import PoolGate

    class Reply:  # stands in for HTTPResponse and ChatCompletion: plain attribute writes
        __slots__ = ("call", "request_id", "started", "time_to_headers", "timings")

    headers = {"x-request-id": "0174cc72"}
    gate = PoolGate(64)
    observer = None

    def one_call() -> None:
        started = perf_counter()  # request()
        timings = Timings(attempts=0)
        call = None if observer is None else observer
        timings.attempts += 1  # _send()
        if gate.in_use < gate.limit and not gate.waiters:  # transport.send(): the gate
            gate.in_use += 1
        sent = perf_counter()
        reply = Reply()  # HTTPResponse.__init__
        reply.request_id = headers.get("x-request-id")
        reply.time_to_headers = perf_counter() - sent
        reply.timings = None
        reply.started = 0.0
        reply.call = None
        if gate.waiters:  # HTTPResponse._release()
            gate.leave()
        else:
            gate.in_use -= 1
        timings.time_to_headers = reply.time_to_headers  # request()
        reply.timings = timings
        result = Reply()  # _decode_completion()
        result.request_id = reply.request_id or "id"
        result.timings = reply.timings
        timings.total = perf_counter() - started  # request()
        if call is not None:
            raise AssertionError

    best = min(timeit.repeat(one_call, number=number, repeat=5))
    return best / number


def export_baseline(revision: str, into: Path) -> Path:
    """``grok_async/`` as of ``revision``, extracted under ``into``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "grok_async"],
        cwd=common.REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure(
    server: Any,
    *,
    reps: int,
    total: int,
    baseline: Path,
    concurrency: int = 64,
    log: Any = print,
) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {}
    own_lib = os.environ.get("GROK_BENCH_LIB")
    for rep in range(reps):
        # The order rotates from one repetition to the next (see common.rotated): a fixed
        # order measured the same code 3 % apart.
        for variant in common.rotated(VARIANTS, rep):
            # The workers import grok_async from GROK_BENCH_LIB (see _common.child_env).
            os.environ["GROK_BENCH_LIB"] = (
                str(baseline) if variant == "before" else str(common.LIB_DIR)
            )
            try:
                result = common.run_worker(
                    "bench_observability.py",
                    [variant, server.base_url, str(total), str(server.pid), str(concurrency)],
                )
            finally:
                if own_lib is None:
                    os.environ.pop("GROK_BENCH_LIB", None)
                else:
                    os.environ["GROK_BENCH_LIB"] = own_lib
            runs.setdefault(variant, []).append(result)
            log(
                f"  [observability rep {rep + 1}/{reps}] {variant:<11} "
                f"{result['rps']:>8,.0f} req/s  cpu/req {result['cpu_per_request'] * 1e6:5.0f} µs"
            )
    return runs


def report(
    runs: dict[str, list[dict[str, Any]]], revision: str, concurrency: int = 64
) -> tuple[str, dict[str, float]]:
    before_rps = common.median_of(runs["before"], "rps")
    before_cpu = common.median_of(runs["before"], "cpu_per_request")
    rows = []
    ratios: dict[str, float] = {}
    for variant in VARIANTS:
        rps = common.median_of(runs[variant], "rps")
        cpu = common.median_of(runs[variant], "cpu_per_request")
        rows.append(
            [
                LABELS[variant] + (f" (`{revision}`)" if variant == "before" else ""),
                common.fmt_int(rps),
                common.ratio(rps, before_rps),
                f"{cpu * 1e6:.1f} µs",
                common.ratio(cpu, before_cpu),
                f"{common.median_of(runs[variant], 'server_cpu_pct'):.0f}%",
            ]
        )
        ratios[f"rps_{variant}"] = rps / before_rps
        ratios[f"cpu_{variant}"] = cpu / before_cpu
    table = common.table(
        [
            f"variant (c={concurrency})",
            "req/s",
            "vs before",
            "client CPU/req",
            "CPU vs before",
            "server CPU",
        ],
        rows,
    )
    return table, ratios


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        variant, base_url, total, server_pid, concurrency = sys.argv[2:7]
        common.pin_client()
        asyncio.run(worker(variant, base_url, int(total), int(server_pid), int(concurrency)))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    import server as bench_server

    common.pin_client()
    total = 1_000 if args.quick else 10_000
    reps = 1 if args.quick else args.reps
    with tempfile.TemporaryDirectory() as tmp:
        baseline = export_baseline(args.baseline, Path(tmp))
        with bench_server.start(cpu=common.SERVER_CPU) as srv:
            runs = measure(
                srv, reps=reps, total=total, baseline=baseline, concurrency=args.concurrency
            )
    table, ratios = report(runs, args.baseline, args.concurrency)
    print(table)
    print(
        f"\nno hooks: {ratios['rps_no-hooks']:.3f}x the requests/s and "
        f"{ratios['cpu_no-hooks']:.3f}x the client CPU per request of {args.baseline}"
    )
    cost = bookkeeping(20_000 if args.quick else 200_000)
    cpu = common.median_of(runs["no-hooks"], "cpu_per_request")
    print(
        f"observability bookkeeping of a call with no hooks, timed alone: {cost * 1e6:.2f} µs, "
        f"{cost / cpu:.1%} of the {cpu * 1e6:.0f} µs of client CPU per request"
    )


if __name__ == "__main__":
    main()
