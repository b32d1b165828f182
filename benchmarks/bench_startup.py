"""Start-up cost: ``import`` time and the memory of an idle client.

Import time: the wall time of ``python -c "import X"`` minus that of ``python -c "pass"``,
each in a fresh interpreter (so nothing is cached in-process; the OS file cache is warm
after the first round), median of 10 interleaved rounds, for ``grok_async``, ``aiohttp``
and ``openai``. The target compares ``import grok_async`` with ``import aiohttp``, which it
necessarily includes.

Idle RSS: a fresh interpreter imports one client library, builds one client, makes one
request to the local server (so the pool, connector and lazily imported modules exist),
collects garbage and reports its resident set size: raw ``aiohttp.ClientSession`` vs
``AsyncGrok`` vs ``AsyncOpenAI`` (httpx, and aiohttp transport). Median of 3 runs each.

    python benchmarks/bench_startup.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
import time
from typing import Any

import _common as common
from _clients import CLIENTS, LABELS, available, make

MODULES = ("aiohttp", "grok_async", "openai")


def import_times(rounds: int, log: Any = print) -> dict[str, list[float]]:
    """Seconds of ``python -c "import X"`` minus ``python -c "pass"`` per round."""
    env = common.child_env()
    stmts = {"pass": "pass", **{m: f"import {m}" for m in MODULES}}
    raw: dict[str, list[float]] = {k: [] for k in stmts}
    for _ in range(1):  # warm the OS file cache and the bytecode caches
        for stmt in stmts.values():
            subprocess.run([sys.executable, "-c", stmt], env=env, check=True)
    for _ in range(rounds):
        for key, stmt in stmts.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", stmt], env=env, check=True)
            raw[key].append(time.perf_counter() - start)
    base = statistics.median(raw["pass"])
    log(f"  [imports] python -c pass: {base * 1e3:.1f} ms (median of {rounds})")
    return {m: [t - base for t in raw[m]] for m in MODULES} | {"pass": raw["pass"]}


async def idle_worker(name: str, base_url: str) -> None:
    rss_start = common.rss_bytes()
    client = make(name, base_url, 100)
    await client.open()
    await client.complete()
    gc.collect()
    await asyncio.sleep(0.05)
    rss = common.rss_bytes()
    await client.close()
    common.emit({"client": name, "rss": rss, "rss_interpreter": rss_start})


def measure(
    server: Any, *, quick: bool, log: Any = print
) -> tuple[dict[str, list[float]], dict[str, list[dict[str, Any]]]]:
    imports = import_times(3 if quick else 10, log)
    for m in MODULES:
        log(f"  [imports] import {m}: {statistics.median(imports[m]) * 1e3:.1f} ms")
    idle: dict[str, list[dict[str, Any]]] = {}
    for _ in range(1 if quick else 3):
        for name in CLIENTS:
            if not available(name):
                continue
            result = common.run_worker("bench_startup.py", [name, server.base_url])
            idle.setdefault(name, []).append(result)
            log(f"  [idle RSS] {name:<15} {result['rss'] / 1e6:6.1f} MB")
    return imports, idle


def report(
    imports: dict[str, list[float]], idle: dict[str, list[dict[str, Any]]]
) -> tuple[str, dict[str, float]]:
    floor = statistics.median(imports["aiohttp"])
    rows = []
    for m in MODULES:
        t = statistics.median(imports[m])
        rows.append([f"`import {m}`", f"{t * 1e3:.1f} ms", common.ratio(t, floor)])
    ratios = {"import": statistics.median(imports["grok_async"]) / floor}
    text = common.table(["module", "import time (minus bare interpreter)", "vs aiohttp"], rows)
    text += (
        f"\n\nBare interpreter (`python -c pass`): "
        f"{statistics.median(imports['pass']) * 1e3:.1f} ms, subtracted above.\n\n"
    )
    floor_rss = common.median_of(idle.get("raw", []), "rss")
    rows = []
    for name in CLIENTS:
        results = idle.get(name)
        if not results:
            continue
        rss = common.median_of(results, "rss")
        rows.append(
            [
                LABELS[name].replace(" (floor)", " session (floor)"),
                common.fmt_mb(rss),
                common.ratio(rss, floor_rss),
                common.fmt_mb(rss - common.median_of(results, "rss_interpreter")),
            ]
        )
        if name == "grok":
            ratios["idle_rss"] = rss / floor_rss if floor_rss else float("nan")
    text += common.table(
        ["idle client (after one request)", "RSS", "vs raw", "added by import + client"], rows
    )
    return text + "\n", ratios


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        common.pin_client()
        asyncio.run(idle_worker(sys.argv[2], sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import server as bench_server

    common.pin_client()
    with bench_server.start(cpu=common.SERVER_CPU) as srv:
        imports, idle = measure(srv, quick=args.quick)
    print(report(imports, idle)[0])


if __name__ == "__main__":
    main()
