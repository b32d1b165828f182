"""Do the hand-made parts pay for themselves? The read-timeout watchdog and the pool gate
against aiohttp's own mechanisms, in one harness.

grok_async has two parts of its own where aiohttp has one: the read timeout (one check per
event loop, ``_watchdog.py``, instead of aiohttp's ``sock_read`` timer, re-armed on every
piece of data that arrives) and the pool's queue (a counter in front of the connector,
``_pool.py``, instead of the connector's own queue, with its waits timed and counted by an
``aiohttp.TraceConfig``'s ``on_connection_queued_start/end``). Three variants of the same
library, switched by private module-level flags of ``_transport`` in the worker process
(flags that exist only in ``grok_async/`` as of commit ``SWITCHED``, exported from git: the
variants measured there, and the checkout beside them, ``checkout``):

- ``hand-made``: the library as it is (the watchdog and the gate);
- ``sock_read``: the read timeout by aiohttp's ``ClientTimeout(sock_read=...)``;
- ``connector``: the pool's queue by aiohttp's connector, timed and counted by a
  ``TraceConfig`` (``timings.pool_wait``, ``pool_stats().waiting``).

Each against the fast local server (``server.py``, its own core), in three loads:

- ``c=64``: 64 non-streamed ``create()`` calls in flight on a pool of 64 (nobody queues);
- ``c=256``: 256 in flight on a pool of 64 (192 always queue for a connection);
- ``stream``: 64 streams in flight, 50 chunks each, the server writing one event every
  2 ms (``--gap``), so each chunk arrives on its own and is one read of the body: where a
  timer re-armed per read costs most.

Reported per load and variant: requests (or chunks) per second and **client CPU per
request** (process CPU time / requests; per chunk for streams), medians over the
repetitions, and the ratio of each variant to ``hand-made`` measured in the same round:
its median, the range of the per-round ratios and in how many rounds it was above 1.00 (a
difference within the noise goes either way from round to round). Every run is a fresh
interpreter pinned to the client core, the variants interleaved (the order rotated each
round).

Then the two read-timeout mechanisms alone, in-process (best of 7): what each does per
non-streamed call and per read of a body, over 64 requests in flight on one event loop
(aiohttp's ``ResponseHandler`` timer calls as its ``data_received`` makes them, against
the watch calls ``HTTPResponse`` makes), minus the same loop doing nothing.

``--at REV`` measures the variants in another revision that has the switches.

    python benchmarks/bench_handmade.py [--quick] [--reps 9] [--at REV]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as common
from _clients import API_KEY, MESSAGES, MODEL, PARAMS, drive
from bench_observability import export_baseline

#: The last commit whose ``_transport`` has the switches (they were removed once this
#: benchmark had decided; see benchmarks/README.md).
SWITCHED = "63ab402"
VARIANTS = ["hand-made", "sock_read", "connector", "checkout"]
# load: (calls in flight, pool size, streamed)
LOADS = {"c=64": (64, 64, False), "c=256": (256, 64, False), "stream": (64, 64, True)}
STREAM_CHUNKS = 50
GAP_MS = 2.0
# calls per run: (full, --quick)
CALLS = {"c=64": (10_000, 1_000), "c=256": (10_000, 1_000), "stream": (1_280, 256)}


async def worker(variant: str, load: str, base_url: str, total: int, server_pid: int) -> None:
    import grok_async
    from grok_async import _transport

    if variant != "checkout":
        if not hasattr(_transport, "_POOL_QUEUE_BY_AIOHTTP"):
            raise SystemExit("this grok_async has no switches: --at a revision that has")
        _transport._READ_TIMEOUT_BY_AIOHTTP = variant == "sock_read"
        _transport._POOL_QUEUE_BY_AIOHTTP = variant == "connector"
    concurrency, pool, streamed = LOADS[load]
    client = grok_async.AsyncGrok(API_KEY, base_url=base_url, max_connections=pool)
    waited = [0.0]

    async def complete() -> int:
        reply = await client.chat.completions.create(model=MODEL, messages=MESSAGES, **PARAMS)
        if reply.timings is not None:
            waited[0] += reply.timings.pool_wait
        return 1 if reply.choices[0].message.content else 0

    async def stream() -> int:
        chunks = 0
        response = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, **PARAMS
        )
        async for _ in response:
            chunks += 1
        return chunks

    call = stream if streamed else complete
    try:
        await drive(call, max(200, 2 * concurrency), concurrency)
        waited[0] = 0.0
        gc.collect()
        with common.Stopwatch(server_pid) as watch:
            _, units = await drive(call, total, concurrency)
    finally:
        await client.close()
    if streamed and units != total * (STREAM_CHUNKS + 1):
        raise SystemExit(f"read {units} chunks, expected {total * (STREAM_CHUNKS + 1)}")
    common.emit(
        {
            "variant": variant,
            "load": load,
            "rate": units / watch.wall,
            "cpu_per_unit": watch.cpu / units,
            "client_cpu_pct": watch.client_percent,
            "server_cpu_pct": watch.server_percent,
            "pool_wait_ms": 1000 * waited[0] / total,
        }
    )


def measure(
    servers: dict[bool, Any],
    *,
    variants: list[str],
    reps: int,
    quick: bool,
    at: Path,
    log: Any = print,
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rep in range(reps):
        for load, (_, _, streamed) in LOADS.items():
            srv = servers[streamed]
            total = CALLS[load][1 if quick else 0]
            for variant in common.rotated(variants, rep):
                # The workers import grok_async from GROK_BENCH_LIB (see _common.child_env).
                lib = common.LIB_DIR if variant == "checkout" else at
                os.environ["GROK_BENCH_LIB"] = str(lib)
                result = common.run_worker(
                    "bench_handmade.py", [variant, load, srv.base_url, str(total), str(srv.pid)]
                )
                runs.setdefault((load, variant), []).append(result)
                log(
                    f"  [rep {rep + 1}/{reps}] {load:<6} {variant:<9} "
                    f"{result['rate']:>9,.0f}/s  cpu/unit {result['cpu_per_unit'] * 1e6:6.1f} µs  "
                    f"client {result['client_cpu_pct']:.0f}%  "
                    f"server {result['server_cpu_pct']:.0f}%"
                )
    return runs


def report(runs: dict[tuple[str, str], list[dict[str, Any]]], variants: list[str]) -> str:
    out = []
    for load, (concurrency, pool, streamed) in LOADS.items():
        unit = "chunk" if streamed else "req"
        base = runs[(load, "hand-made")]
        rows = []
        for variant in variants:
            results = runs[(load, variant)]
            cpu = common.median_of(results, "cpu_per_unit")
            cpus = [r["cpu_per_unit"] for r in results]
            # Per-round ratios to hand-made (the runs of one round are neighbours in time).
            ratios = sorted(
                r["cpu_per_unit"] / b["cpu_per_unit"] for r, b in zip(results, base, strict=True)
            )
            rates = sorted(r["rate"] / b["rate"] for r, b in zip(results, base, strict=True))
            above = sum(ratio > 1.0 for ratio in ratios)
            rows.append(
                [
                    variant,
                    common.fmt_int(common.median_of(results, "rate")),
                    f"{statistics.median(rates):.3f}x ({rates[0]:.2f}-{rates[-1]:.2f})",
                    f"{cpu * 1e6:.1f} µs ({min(cpus) * 1e6:.1f}-{max(cpus) * 1e6:.1f})",
                    f"{statistics.median(ratios):.3f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})",
                    "" if variant == "hand-made" else f"{above} of {len(ratios)}",
                    f"{common.median_of(results, 'pool_wait_ms'):.2f} ms",
                    f"{common.median_of(results, 'client_cpu_pct'):.0f}%",
                    f"{common.median_of(results, 'server_cpu_pct'):.0f}%",
                ]
            )
        title = f"{load}: {concurrency} {'streams' if streamed else 'calls'} in flight, pool {pool}"
        if streamed:
            title += f", {STREAM_CHUNKS} chunks {GAP_MS:g} ms apart"
        out.append(f"#### {title}\n")
        out.append(
            common.table(
                [
                    "variant",
                    f"{unit}/s",
                    "vs hand-made (range)",
                    f"client CPU/{unit} (range)",
                    "CPU vs hand-made (range)",
                    "rounds CPU above",
                    "pool wait/call",
                    "client CPU",
                    "server CPU",
                ],
                rows,
            )
            + "\n"
        )
    return "\n".join(out)


def mechanisms(in_flight: int = 64, rounds: int = 2_000) -> dict[str, float]:
    """Microseconds of each read-timeout mechanism alone: per call and per read of a body.

    ``in_flight`` requests take turns (one operation each, then the loop runs once), so
    aiohttp's timers sit in a heap as large as under load, and its cancelled timers are
    cleaned up as the loop does it.
    """
    from aiohttp.client_proto import ResponseHandler

    from grok_async._watchdog import ReadWatchdog

    async def timed(step: Any, items: list[Any]) -> float:
        best = float("inf")
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(rounds):
                for item in items:
                    step(item)
                await asyncio.sleep(0)
            best = min(best, time.perf_counter() - start)
        return best / (rounds * len(items))

    def sock_read_call(proto: Any) -> None:
        proto.start_timeout()  # the request is written
        proto._reschedule_timeout()  # its response arrives (data_received)
        proto._drop_timeout()  # the body is complete (on_eof)

    def watch_call(watchdog: ReadWatchdog) -> None:
        watch = watchdog.watch(900.0)  # Transport.send
        watch.waiting = False  # HTTPResponse.__init__
        watch.wait()  # HTTPResponse.read
        watch.stop()  # HTTPResponse._release

    def sock_read_read(proto: Any) -> None:
        proto._reschedule_timeout()  # data_received, once per piece of the body

    def watch_read(watch: Any) -> None:
        watch.wait()  # HTTPResponse.read_chunk, before and after its read
        watch.waiting = False

    def nothing(item: Any) -> None:
        pass

    async def run() -> dict[str, float]:
        loop = asyncio.get_running_loop()
        protos = []
        for _ in range(in_flight):
            proto = ResponseHandler(loop)
            proto.read_timeout = 900.0
            proto.start_timeout()
            protos.append(proto)
        watchdog = ReadWatchdog()
        watches = [watchdog.watch(900.0) for _ in range(in_flight)]
        floor = await timed(nothing, protos)
        result = {
            "sock_read_call": await timed(sock_read_call, protos) - floor,
            "watch_call": await timed(watch_call, [watchdog] * in_flight) - floor,
            "sock_read_read": await timed(sock_read_read, protos) - floor,
            "watch_read": await timed(watch_read, watches) - floor,
        }
        for proto in protos:
            proto._drop_timeout()
        for watch in watches:
            watch.stop()
        return result

    return asyncio.run(run())


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        variant, load, base_url, total, server_pid = sys.argv[2:7]
        common.pin_client()
        asyncio.run(worker(variant, load, base_url, int(total), int(server_pid)))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument(
        "--at", default=SWITCHED, help="the git revision whose variants are measured"
    )
    args = parser.parse_args()
    import server as bench_server

    common.pin_client()
    reps = 1 if args.quick else args.reps
    with tempfile.TemporaryDirectory() as tmp:
        variants = list(VARIANTS)
        at = export_baseline(args.at, Path(tmp))
        with (
            bench_server.start(cpu=common.SERVER_CPU) as plain,
            bench_server.start(chunks=STREAM_CHUNKS, cpu=common.SERVER_CPU, gap_ms=GAP_MS) as paced,
        ):
            runs = measure(
                {False: plain, True: paced}, variants=variants, reps=reps, quick=args.quick, at=at
            )
    print(report(runs, variants))
    alone = mechanisms()
    print(
        "\nThe read-timeout mechanisms alone (in-process, 64 in flight, best of 7), "
        "microseconds:\n\n"
        + common.table(
            ["", "aiohttp sock_read", "watchdog"],
            [
                [
                    "per non-streamed call",
                    f"{alone['sock_read_call'] * 1e6:.2f}",
                    f"{alone['watch_call'] * 1e6:.2f}",
                ],
                [
                    "per read of a body",
                    f"{alone['sock_read_read'] * 1e6:.2f}",
                    f"{alone['watch_read'] * 1e6:.2f}",
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()
