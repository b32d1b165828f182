"""The whole benchmark suite in one run: ``nox -s bench`` (or ``python benchmarks/run_all.py``).

Starts the fast local server (``server.py``) in its own process, pinned to core 0, pins
itself and every client worker to core 1, and runs, in order:

1. ``bench_requests.py``  non-streaming requests/s, p50/p99, client CPU/request at c=1/64/256
2. ``bench_streaming.py`` streaming chunks/s at c=16 (streams of 200 chunks), against two
   floors: raw aiohttp ``iter_any()`` + ``orjson`` and the issue's line iterator + ``json``
3. ``bench_fanout.py``    create_many / iter_many of 10k and 100k requests: req/s and peak RSS
4. ``bench_startup.py``   import time and idle-client RSS
5. ``bench_sse_decoder.py`` the SSE decoder micro-benchmark

Every client figure is compared with raw aiohttp measured in the same run (the floor);
every configuration runs ``--reps`` times (3) and the median is reported. The markdown
report (machine, versions, date, command, tables, targets) is printed and written to
``benchmarks/results/latest.md`` (``--quick``: ``benchmarks/results/quick.md``).

    python benchmarks/run_all.py            # the full suite, about 6-8 minutes
    python benchmarks/run_all.py --quick    # a tiny version for CI, under a minute
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as common
import bench_fanout
import bench_requests
import bench_startup
import bench_streaming
import server as bench_server

SECTIONS = ("requests", "streaming", "fanout", "startup", "sse")


_T0 = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def snapshot_library() -> tuple[Path, str]:
    """Copy ``grok_async/`` as it is now to a temporary directory and test that copy.

    Other people may edit the working tree during a run of several minutes; the copy keeps
    every measurement of one report on one version. Returns the directory and a
    description of the version (commit, and whether the package had local changes).
    """
    target = Path(tempfile.mkdtemp(prefix="grok_async_bench_lib_"))
    shutil.copytree(
        common.REPO_ROOT / "grok_async",
        target / "grok_async",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    describe = "unknown revision (not a git checkout)"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=common.REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "grok_async"],
            cwd=common.REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        describe = f"commit {commit}" + (
            " + uncommitted changes in grok_async/" if dirty else " (clean)"
        )
    except (OSError, subprocess.CalledProcessError):
        pass
    os.environ["GROK_BENCH_LIB"] = str(target)
    sys.path.insert(0, str(target))
    return target, describe


def machine_section(argv: list[str], quick: bool, reps: int, revision: str) -> str:
    from grok_async import __version__ as grok_version

    pinning = (
        f"server pinned to CPU {common.SERVER_CPU}, clients to CPU {common.CLIENT_CPU}"
        if common.TWO_CORES
        else "no CPU pinning (fewer than 2 cores): server and client share the CPU"
    )
    lines = [
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- Command: `{' '.join(shlex.quote(a) for a in ['python', *argv])}`"
        + (" (quick mode)" if quick else ""),
        f"- Machine: {os.cpu_count()} cores ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}; {pinning}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); "
        f"grok_async {grok_version}, aiohttp {_version('aiohttp')}, openai {_version('openai')} "
        f"(httpx2 {_version('httpx2')}), orjson {_version('orjson')}, "
        f"cattrs {_version('cattrs')}, attrs {_version('attrs')}, psutil {_version('psutil')}",
        f"- grok_async under test: {revision} (a snapshot of the working tree taken when the "
        "suite started)",
        f"- Each configuration ran {reps} time(s) in a fresh interpreter; medians reported.",
    ]
    return "\n".join(lines)


def targets_section(ratios: dict[str, float]) -> str:
    def row(name: str, key: str, goal: float, higher_is_better: bool) -> list[str]:
        value = ratios.get(key)
        sign = "≥" if higher_is_better else "≤"
        if value is None or value != value:
            return [name, f"{sign}{goal:.2f}x", "not measured", "n/a"]
        met = value >= goal if higher_is_better else value <= goal
        return [name, f"{sign}{goal:.2f}x", f"{value:.3f}x", "met" if met else "MISSED"]

    rows = [
        row("requests/s at c=64 vs raw aiohttp", "rps_c64", 0.90, True),
        row("requests/s at c=256 vs raw aiohttp", "rps_c256", 0.90, True),
        row("streaming chunks/s (c=16) vs raw aiohttp", "stream", 0.90, True),
        row(
            "streaming chunks/s (c=16) vs raw aiohttp line iterator + json (the issue's floor)",
            "stream_lines",
            0.90,
            True,
        ),
        row("`import grok_async` vs `import aiohttp`", "import", 1.20, False),
        row(
            "peak RSS, create_many 100k vs raw gather 100k",
            "create_many_peak_100000",
            1.10,
            False,
        ),
    ]
    if "create_many_peak_100000" not in ratios and "create_many_peak_4000" in ratios:
        rows[-1] = row(
            "peak RSS, create_many vs raw gather (quick size)", "create_many_peak_4000", 1.10, False
        )
    text = common.table(["target", "goal", "measured", "status"], rows)
    extra = []
    if "cpu_c64" in ratios:
        extra.append(
            f"- Client CPU per request vs raw aiohttp: {ratios['cpu_c64']:.2f}x at c=64, "
            f"{ratios.get('cpu_c256', float('nan')):.2f}x at c=256, "
            f"{ratios.get('cpu_c1', float('nan')):.2f}x at c=1."
        )
    if "stream_cpu" in ratios:
        extra.append(
            f"- Client CPU per streamed chunk vs raw: {ratios['stream_cpu']:.2f}x "
            f"(vs the issue's line-iterator + json floor: "
            f"{ratios.get('stream_cpu_lines', float('nan')):.2f}x)."
        )
    for n in (4_000, 100_000):
        if f"iter_many_growth_{n}" in ratios:
            extra.append(
                f"- iter_many memory growth over {n:,} requests: "
                f"{ratios[f'iter_many_growth_{n}'] / 1e6:.1f} MB (flat: independent of N); "
                f"create_many grows by {ratios[f'create_many_growth_{n}'] / 1e6:.1f} MB, raw "
                f"gather by {ratios[f'raw_growth_{n}'] / 1e6:.1f} MB: both keep all N results."
            )
    if "idle_rss" in ratios:
        extra.append(f"- Idle client RSS vs raw aiohttp session: {ratios['idle_rss']:.2f}x.")
    return text + ("\n\n" + "\n".join(extra) if extra else "")


def run_sse_decoder(quick: bool) -> str:
    args = ["--mb", "5", "--repeat", "1"] if quick else ["--mb", "50", "--repeat", "3"]
    done = subprocess.run(
        [sys.executable, str(common.BENCH_DIR / "bench_sse_decoder.py"), *args],
        capture_output=True,
        text=True,
        env=common.child_env(),
        check=True,
    )
    return "```\n" + done.stdout.strip() + "\n```\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each (CI)")
    parser.add_argument("--reps", type=int, default=None, help="runs per configuration (3)")
    parser.add_argument("--only", nargs="*", choices=SECTIONS, default=None)
    parser.add_argument("--output", type=Path, default=None, help="markdown report path")
    args = parser.parse_args()
    reps = args.reps or (1 if args.quick else 3)
    sections = args.only or list(SECTIONS)
    output = args.output or common.BENCH_DIR / "results" / (
        "quick.md" if args.quick else "latest.md"
    )

    common.pin_client()
    snapshot, revision = snapshot_library()
    log(f"testing grok_async {revision}, snapshot in {snapshot}")
    try:
        run(args, reps, sections, output, revision)
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)


def run(
    args: argparse.Namespace, reps: int, sections: list[str], output: Path, revision: str
) -> None:
    started = time.perf_counter()
    ratios: dict[str, float] = {}
    parts: dict[str, str] = {}
    server_peaks: list[float] = []

    def note_server(runs: Any) -> None:
        for results in runs.values():
            server_peaks.extend(r.get("server_cpu_pct", 0.0) for r in results)

    with bench_server.start(chunks=bench_streaming.CHUNKS, cpu=common.SERVER_CPU) as srv:
        log(f"benchmark server: {srv.base_url} (pid {srv.pid})")
        if "requests" in sections:
            log("== non-streaming requests ==")
            runs = bench_requests.measure(srv, quick=args.quick, reps=reps, log=log)
            note_server(runs)
            parts["requests"], r = bench_requests.report(runs)
            ratios.update(r)
        if "streaming" in sections:
            log("== streaming ==")
            sruns = bench_streaming.measure(srv, quick=args.quick, reps=reps, log=log)
            note_server(sruns)
            parts["streaming"], r = bench_streaming.report(sruns)
            ratios.update(r)
        if "fanout" in sections:
            log("== fan-out ==")
            fruns = bench_fanout.measure(srv, quick=args.quick, reps=reps, log=log)
            note_server(fruns)
            parts["fanout"], r = bench_fanout.report(fruns)
            ratios.update(r)
        if "startup" in sections:
            log("== start-up ==")
            imports, idle = bench_startup.measure(srv, quick=args.quick, log=log)
            parts["startup"], r = bench_startup.report(imports, idle)
            ratios.update(r)
    if "sse" in sections:
        log("== SSE decoder micro-benchmark ==")
        parts["sse"] = run_sse_decoder(args.quick)
    elapsed = time.perf_counter() - started

    busiest = max(server_peaks, default=0.0)
    server_note = (
        f"The benchmark server's CPU stayed at or below {busiest:.0f}% of one core in every "
        "run: it was never the bottleneck."
        if busiest <= common.SATURATED
        else f"**The server reached {busiest:.0f}% of a core in some runs (marked "
        "'saturated'): there the client's own cost is read from client CPU/request.**"
    )
    doc = [
        "# grok_async benchmark results"
        + (" (quick mode: tiny sizes, not for comparison)" if args.quick else ""),
        "",
        machine_section(sys.argv, args.quick, reps, revision),
        f"- Suite wall time: {elapsed / 60:.1f} min",
        "",
        "## Targets",
        "",
        targets_section(ratios),
        "",
        server_note,
        "",
    ]
    titles = {
        "requests": "## Non-streaming chat completions (requests/s, latency, client CPU)",
        "streaming": "## Streaming (chunks/s at concurrency 16, 200-chunk streams)",
        "fanout": "## Fan-out: create_many / iter_many at concurrency 64",
        "startup": "## Start-up: import time and idle RSS",
        "sse": "## SSE decoder micro-benchmark (`benchmarks/bench_sse_decoder.py`)",
    }
    for key in SECTIONS:
        if key in parts:
            doc += [titles[key], "", parts[key]]
    text = "\n".join(doc).rstrip() + "\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    log(f"written to {output} in {elapsed:.0f} s")
    if not args.quick and args.output is None and not args.only:
        update_readme(text)


README_START = "<!-- latest-results:start -->"
README_END = "<!-- latest-results:end -->"


def update_readme(text: str) -> None:
    """Paste a full run's report into benchmarks/README.md between the two markers."""
    readme = common.BENCH_DIR / "README.md"
    try:
        current = readme.read_text()
    except OSError:
        return
    start, end = current.find(README_START), current.find(README_END)
    if start < 0 or end < start:
        return
    body = text.split("\n", 1)[1].strip()  # drop the report's own title
    body = body.replace("\n## ", "\n### ")  # under the README's "## Latest full run"
    readme.write_text(current[: start + len(README_START)] + "\n\n" + body + "\n\n" + current[end:])
    log(f"pasted into {readme}")


if __name__ == "__main__":
    main()
