"""Non-streaming chat completions: requests/s, p50/p99 latency and client CPU per request.

Measures each client (raw aiohttp as the floor, grok_async ``create()``, AsyncOpenAI with
httpx and with aiohttp) sending the same ``POST /v1/chat/completions`` to the fast local
server (``server.py``, another process on its own core) at concurrency 1, 64 and 256:
``concurrency`` workers share one counter, each awaiting one call at a time, so exactly
that many requests are in flight. Each run happens in a fresh interpreter pinned to the
client core, warms the pool up (2 x concurrency requests, at least 200) and then times N
requests. Reported per run: requests/s, p50/p99 latency of single calls, client CPU
seconds per request (process CPU time / requests: the most robust view of the client's
own overhead, unaffected by how busy the server is), client and server CPU% (the server's
from psutil; above 90% of a core the server may be the limit and the table says so).

    python benchmarks/bench_requests.py [--quick] [--reps 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from typing import Any

import _common as common
from _clients import CLIENTS, LABELS, available, drive, make

# (concurrency, requests for the fast clients, requests for AsyncOpenAI). AsyncOpenAI is
# several times slower, so it runs fewer requests to keep the suite within minutes; rates
# and percentiles do not depend on N once the pool is warm.
FULL = [(1, 2_000, 300), (64, 10_000, 1_500), (256, 10_000, 1_500)]
QUICK = [(1, 100, 50), (64, 1_000, 300), (256, 1_000, 300)]


async def worker(name: str, base_url: str, concurrency: int, total: int, server_pid: int) -> None:
    client = make(name, base_url, concurrency)
    await client.open()
    try:
        await drive(client.complete, max(200, 2 * concurrency), concurrency)
        gc.collect()
        with common.Stopwatch(server_pid) as watch:
            latencies, done = await drive(client.complete, total, concurrency)
    finally:
        await client.close()
    common.emit(
        {
            "client": name,
            "concurrency": concurrency,
            "requests": done,
            "seconds": watch.wall,
            "rps": done / watch.wall,
            "p50": common.percentile(latencies, 0.50),
            "p99": common.percentile(latencies, 0.99),
            "cpu_per_request": watch.cpu / done,
            "client_cpu_pct": watch.client_percent,
            "server_cpu_pct": watch.server_percent,
        }
    )


def measure(
    server: Any, *, quick: bool, reps: int, clients: list[str] | None = None, log: Any = print
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Every (client, concurrency) run ``reps`` times, interleaved so drift hits all alike."""
    clients = [c for c in (clients or CLIENTS) if available(c)]
    plan = QUICK if quick else FULL
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for rep in range(reps):
        for concurrency, fast_n, slow_n in plan:
            for name in common.rotated(clients, rep):
                if quick and name.startswith("openai") and concurrency != 64:
                    continue  # --quick: AsyncOpenAI only at c=64, to stay under a minute
                n = slow_n if name.startswith("openai") else fast_n
                result = common.run_worker(
                    "bench_requests.py",
                    [name, server.base_url, str(concurrency), str(n), str(server.pid)],
                )
                runs.setdefault((name, concurrency), []).append(result)
                log(
                    f"  [requests rep {rep + 1}/{reps}] {name:<15} c={concurrency:<4} "
                    f"{result['rps']:>9,.0f} req/s  p50 {result['p50'] * 1e3:6.2f} ms  "
                    f"cpu/req {result['cpu_per_request'] * 1e6:6.0f} µs  "
                    f"server {result['server_cpu_pct']:.0f}%"
                )
    return runs


def report(runs: dict[tuple[str, int], list[dict[str, Any]]]) -> tuple[str, dict[str, float]]:
    """Markdown tables (one per concurrency) and the ratios the targets are judged on."""
    out = []
    ratios: dict[str, float] = {}
    for concurrency in sorted({c for _, c in runs}):
        floor = runs.get(("raw", concurrency), [])
        floor_rps = common.median_of(floor, "rps")
        floor_cpu = common.median_of(floor, "cpu_per_request")
        rows = []
        saturated = False
        for name in CLIENTS:
            results = runs.get((name, concurrency))
            if not results:
                continue
            rps = common.median_of(results, "rps")
            cpu = common.median_of(results, "cpu_per_request")
            server_pct = common.median_of(results, "server_cpu_pct")
            saturated |= server_pct > common.SATURATED
            rows.append(
                [
                    LABELS[name],
                    common.fmt_int(common.median_of(results, "requests")),
                    common.fmt_int(rps),
                    common.ratio(rps, floor_rps),
                    common.fmt_ms(common.median_of(results, "p50")),
                    common.fmt_ms(common.median_of(results, "p99")),
                    f"{cpu * 1e6:.0f} µs",
                    common.ratio(cpu, floor_cpu),
                    f"{common.median_of(results, 'client_cpu_pct'):.0f}%",
                    f"{server_pct:.0f}%"
                    + (" (saturated)" if server_pct > common.SATURATED else ""),
                ]
            )
            if name == "grok":
                ratios[f"rps_c{concurrency}"] = rps / floor_rps if floor_rps else float("nan")
                ratios[f"cpu_c{concurrency}"] = cpu / floor_cpu if floor_cpu else float("nan")
        out.append(f"#### Concurrency {concurrency}\n")
        out.append(
            common.table(
                [
                    "client",
                    "requests",
                    "req/s",
                    "vs raw",
                    "p50",
                    "p99",
                    "client CPU/req",
                    "CPU vs raw",
                    "client CPU",
                    "server CPU",
                ],
                rows,
            )
        )
        if saturated:
            out.append(
                "\n**The server was above 90% of a core in some runs here: requests/s may be "
                "capped by the server; compare client CPU/req instead.**"
            )
        out.append("")
    return "\n".join(out), ratios


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        name, base_url, concurrency, total, server_pid = sys.argv[2:7]
        common.pin_client()
        asyncio.run(worker(name, base_url, int(concurrency), int(total), int(server_pid)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--clients", nargs="*", default=None)
    args = parser.parse_args()
    import server as bench_server

    common.pin_client()
    with bench_server.start(cpu=common.SERVER_CPU) as srv:
        runs = measure(srv, quick=args.quick, reps=args.reps, clients=args.clients)
    print(report(runs)[0])


if __name__ == "__main__":
    main()
