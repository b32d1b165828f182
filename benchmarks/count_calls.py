"""Function calls per request, counted by cProfile: what work a version adds to a call.

Wall-clock comparisons on a shared machine move by several per cent between runs, too much
to resolve a cost of 1-2 %. The number of Python and builtin function calls a request
makes does not depend on the machine's load, and the per-function difference between two
versions says exactly what was added to (or removed from) every call's path.

Runs 5,000 ``create()`` calls at concurrency 64 against ``server.py`` under cProfile, in a
fresh process per version (this checkout, and the commit before observability by default),
and prints calls per request and every function whose count changed::

    python benchmarks/count_calls.py [--baseline REV] [--n 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as common
from _clients import API_KEY, MESSAGES, MODEL, PARAMS
from bench_observability import BASELINE, export_baseline

CONCURRENCY = 64


async def profile_calls(base_url: str, n: int) -> dict[str, float]:
    """Calls per request of each function, over ``n`` requests after a warm-up."""
    import grok_async

    lib = os.environ["GROK_BENCH_LIB"]
    if not grok_async.__file__ or not grok_async.__file__.startswith(lib):
        raise RuntimeError(f"imported {grok_async.__file__}, not the version under {lib}")
    client = grok_async.AsyncGrok(API_KEY, base_url=base_url, max_connections=CONCURRENCY)

    async def batch(size: int) -> None:
        await asyncio.gather(
            *(
                client.chat.completions.create(model=MODEL, messages=MESSAGES, **PARAMS)
                for _ in range(size)
            )
        )

    try:
        for _ in range(4):
            await batch(CONCURRENCY)
        profile = cProfile.Profile()
        profile.enable()
        for start in range(0, n, CONCURRENCY):
            await batch(min(CONCURRENCY, n - start))
        profile.disable()
    finally:
        await client.close()
    counts: dict[str, float] = {}
    for (path, _line, function), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        name = f"{Path(path).name}:{function}" if path != "~" else function
        name = re.sub(r" at 0x[0-9a-f]+", "", name)  # addresses differ between processes
        counts[name] = counts.get(name, 0.0) + row[1] / n
    return counts


def calls_of(lib: Path, base_url: str, n: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", base_url, str(n)],
        capture_output=True,
        text=True,
        # _common puts GROK_BENCH_LIB first on sys.path: the version under test.
        env={**common.child_env(), "GROK_BENCH_LIB": str(lib), "PYTHONPATH": str(lib)},
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"profiled run failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        base_url, n = sys.argv[2:4]
        print(json.dumps(asyncio.run(profile_calls(base_url, int(n)))))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--n", type=int, default=5_000)
    args = parser.parse_args()
    import server as bench_server

    with tempfile.TemporaryDirectory() as tmp:
        baseline = export_baseline(args.baseline, Path(tmp))
        with bench_server.start(cpu=common.SERVER_CPU) as srv:
            before = calls_of(baseline, srv.base_url, args.n)
            now = calls_of(common.LIB_DIR, srv.base_url, args.n)
    total_before, total_now = sum(before.values()), sum(now.values())
    print(
        f"calls per request: {total_before:.1f} at {args.baseline}, {total_now:.1f} now "
        f"({total_now / total_before - 1:+.1%})\n"
    )
    changed = sorted(
        ((now.get(k, 0.0) - before.get(k, 0.0), k) for k in before.keys() | now.keys()),
        key=lambda item: (-abs(item[0]), item[1]),
    )
    for delta, name in changed:
        if abs(delta) >= 0.5:
            print(f"  {delta:+6.2f}  {name}")


if __name__ == "__main__":
    main()
