"""Where a client's time goes: cProfile of one non-streaming or streaming load run.

Not part of ``run_all.py``. Starts the benchmark server, warms the client up, then runs
N requests (or streams) at the given concurrency under cProfile and prints the functions
with the most own time (tottime) and the most cumulative time, each as a share of the
profiled total.

    python benchmarks/profile_client.py [--client grok] [--mode requests|stream]
        [--concurrency 64] [--n 20000] [--top 30]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats

import _common as common
import server as bench_server
from _clients import drive, make


async def run(name: str, base_url: str, mode: str, concurrency: int, n: int) -> cProfile.Profile:
    client = make(name, base_url, concurrency)
    await client.open()
    call = client.complete if mode == "requests" else client.stream
    await drive(call, max(200, 2 * concurrency), concurrency)
    profile = cProfile.Profile()
    profile.enable()
    await drive(call, n, concurrency)
    profile.disable()
    await client.close()
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", default="grok")
    parser.add_argument("--mode", choices=("requests", "stream"), default="requests")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    common.pin_client()
    with bench_server.start(cpu=common.SERVER_CPU) as srv:
        profile = asyncio.run(run(args.client, srv.base_url, args.mode, args.concurrency, args.n))
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"profiled total {total:.2f} s ({args.client}, {args.mode}, c={args.concurrency})")
    for key in (args.sort, "cumulative"):
        print(f"\n== top {args.top} by {key} ==")
        rows = sorted(
            stats.stats.items(),  # type: ignore[attr-defined]
            key=lambda kv: kv[1][2] if key == "tottime" else kv[1][3],
            reverse=True,
        )[: args.top]
        for (filename, line, func), (_, calls, tt, ct, _) in rows:
            where = filename.replace(str(common.REPO_ROOT) + "/", "")
            if "site-packages/" in where:
                where = where.split("site-packages/", 1)[1]
            print(
                f"{tt / total * 100:5.1f}% own {ct / total * 100:5.1f}% cum "
                f"{calls:>8} calls  {func} ({where}:{line})"
            )


if __name__ == "__main__":
    main()
