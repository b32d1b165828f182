"""Shared plumbing of the benchmark suite: CPU pinning, CPU/RSS probes, worker subprocesses,
statistics and markdown tables. Measures nothing by itself."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent

# The grok_async under test: run_all.py points GROK_BENCH_LIB at a snapshot of the working
# tree taken when the suite starts, so edits made while it runs cannot mix two versions
# into one report. Standalone benchmarks use the checkout itself.
LIB_DIR = Path(os.environ.get("GROK_BENCH_LIB") or REPO_ROOT)
if str(LIB_DIR) not in sys.path:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(LIB_DIR))
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

try:
    import psutil
except ImportError:  # the suite still runs; CPU and RSS then come from /proc
    psutil = None

# On a machine with at least two cores the server gets core 0 and every client process
# core 1, so neither steals cycles from the other and the numbers are repeatable.
TWO_CORES = (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
SERVER_CPU: int | None = 0 if TWO_CORES else None
CLIENT_CPU: int | None = 1 if TWO_CORES else None

SATURATED = 90.0  # server CPU% above which the server, not the client, may be the limit

PYCACHE_PREFIX = Path(tempfile.gettempdir()) / "grok_async_bench_pycache"


def pin_client() -> None:
    """Pin this process (and the subprocesses it starts) to the client core."""
    if CLIENT_CPU is not None:
        try:
            os.sched_setaffinity(0, {CLIENT_CPU})
        except OSError:
            pass


def child_env() -> dict[str, str]:
    """The environment of every worker: the checkout importable, no stray proxies."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    lib = os.environ.get("GROK_BENCH_LIB") or str(REPO_ROOT)
    env["PYTHONPATH"] = lib + (os.pathsep + path if path else "")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    # Bytecode caching on, as after a normal `pip install` (which compiles .pyc files):
    # without it every fresh interpreter recompiles aiohttp, openai and grok_async from
    # source and "import time" measures the compiler. uv does not compile on install and
    # this environment sets PYTHONDONTWRITEBYTECODE=1, so the caches go to a private
    # prefix directory instead of the installed packages.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE_PREFIX))
    return env


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds consumed so far by process ``pid``."""
    if psutil is not None:
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_bytes() -> int:
    """Current resident set size of this process."""
    if psutil is not None:
        return int(psutil.Process().memory_info().rss)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process since it started.

    Linux: ``VmHWM`` of ``/proc/self/status``, the high-water mark of this program's own
    address space. Not ``ru_maxrss``: that survives ``fork`` + ``exec``, so a worker started
    by a larger parent would report the parent's peak.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def run_worker(script: str, args: Sequence[str], timeout: float = 900) -> dict[str, Any]:
    """Run ``benchmarks/<script> --worker ...`` in a fresh interpreter; return its JSON line."""
    cmd = [sys.executable, str(BENCH_DIR / script), "--worker", *args]
    done = subprocess.run(
        cmd, capture_output=True, text=True, env=child_env(), timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"worker failed ({' '.join(cmd[1:])}):\n{done.stderr[-4000:]}{done.stdout[-2000:]}"
        )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            return result
    raise RuntimeError(f"worker printed no result: {done.stdout[-2000:]}")


def rotated(items: Sequence[Any], rep: int) -> list[Any]:
    """``items`` starting at position ``rep`` (wrapping): the running order of one round.

    Whatever runs first in a round measured up to 3 % apart from identical code run later
    (an A/A control of bench_observability.py), so each round shifts the order by one and,
    over a multiple of ``len(items)`` rounds, every client takes every position equally.
    """
    shift = rep % len(items) if items else 0
    return [*items[shift:], *items[:shift]]


def emit(result: dict[str, Any]) -> None:
    """A worker's last act: its result as one JSON line on stdout."""
    print(json.dumps(result), flush=True)


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
    return ordered[index]


def median_of(runs: Sequence[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


def ratio(value: float, floor: float) -> str:
    if not floor or floor != floor or value != value:
        return "n/a"
    return f"{value / floor:.2f}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table; numbers right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    aligns = []
    for i in range(len(headers)):
        numeric = all(_numeric(r[i]) for r in cells) and cells
        aligns.append("-" * (widths[i] - 1) + ":" if numeric else "-" * widths[i])
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"]
    lines.append("| " + " | ".join(aligns) + " |")
    for row in cells:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(lines)


def _numeric(text: str) -> bool:
    stripped = text.replace(",", "").replace("x", "").replace("%", "").replace("n/a", "0")
    stripped = stripped.replace(" ms", "").replace(" µs", "").replace(" MB", "").strip()
    try:
        float(stripped.split()[0] if stripped else "x")
    except ValueError:
        return False
    return True


class Stopwatch:
    """Wall time, this process's CPU time and the server's CPU time over one section."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid

    def __enter__(self) -> Stopwatch:
        self._server0 = process_cpu_seconds(self.server_pid) if self.server_pid else 0.0
        self._cpu0 = time.process_time()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = time.process_time() - self._cpu0
        self.server_cpu = (
            process_cpu_seconds(self.server_pid) - self._server0 if self.server_pid else 0.0
        )

    @property
    def server_percent(self) -> float:
        return 100.0 * self.server_cpu / self.wall if self.wall else 0.0

    @property
    def client_percent(self) -> float:
        return 100.0 * self.cpu / self.wall if self.wall else 0.0


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def fmt_mb(value: float) -> str:
    return f"{value / 1e6:.1f} MB"
