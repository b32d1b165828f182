"""Micro-benchmark of grok_async._sse.SSEDecoder on a realistic chat-completion stream.

Builds an in-memory stream of ``data: {chat.completion.chunk}`` events (about 170 bytes each,
LF line ends, one ``data: [DONE]`` at the end), then times:

* the decoder fed 16 KiB chunks (about what aiohttp hands over per read),
* the decoder fed 64 KiB chunks,
* the decoder fed 16 KiB chunks of the same stream with CRLF line ends (the slower CR path),
* a naive floor: decode the whole body, ``text.split("\\n")`` and keep ``startswith("data: ")``
  lines; it knows nothing of CR, comments, multi-line data or split reads, so it is a bound on
  how fast a pure-Python line parser can go, not a competitor.

Chunks are sliced before the clock starts, so only parsing is timed.  Each case runs
``--repeat`` times and the best run is reported.

    python benchmarks/bench_sse_decoder.py [--mb 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

try:
    from grok_async._sse import SSEDecoder
except ImportError:  # run from a checkout without installing: use the repository's package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from grok_async._sse import SSEDecoder

WORDS = (
    "The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".",
    " Streaming", " tokens", " arrive", " one", " at", " a", " time", ",", " each", " in",
    " its", " own", " event", "\\n\\n", " café", " naïve", " —", " 数据", " 🚀", " `code`",
    ' \\"quoted\\"', " 42", " and", " so", " on",
)  # fmt: skip


def build_stream(target_bytes: int, seed: int = 1) -> tuple[bytes, int]:
    """Return (body, number of events) for a stream of about ``target_bytes`` bytes."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    count = 0
    while size < target_bytes:
        if count % 1000 == 0:
            completion_id = f"{rng.getrandbits(128):032x}"
        word = rng.choice(WORDS)
        line = (
            f'data: {{"id":"{completion_id}","object":"chat.completion.chunk",'
            f'"created":1735689600,"model":"grok-4","choices":[{{"index":0,'
            f'"delta":{{"content":"{word}"}}}}]}}\n\n'
        )
        parts.append(line)
        size += len(line.encode())
        count += 1
    parts.append("data: [DONE]\n\n")
    return "".join(parts).encode(), count + 1


def chunked(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def run_decoder(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    count = 0
    for chunk in chunks:
        count += len(decoder.feed(chunk))
    decoder.flush()
    return count


def run_naive(body: bytes) -> int:
    events = []
    for line in body.decode("utf-8", "replace").split("\n"):
        if line.startswith("data: "):
            events.append(line[6:])
    return len(events)


def best_time(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="stream size in MB (1e6 bytes)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best counts")
    args = parser.parse_args()

    body, expected = build_stream(int(args.mb * 1_000_000))
    mb = len(body) / 1e6
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{sys.platform}; stream {mb:.1f} MB, {expected:,} events, "
        f"{len(body) / expected:.0f} bytes/event; best of {args.repeat}"
    )

    crlf = body.replace(b"\n", b"\r\n")
    kib16, kib64 = 16 * 1024, 64 * 1024
    cases: list[tuple[str, Callable[[], int], int]] = [
        ("SSEDecoder, 16 KiB chunks", partial(run_decoder, chunked(body, kib16)), len(body)),
        ("SSEDecoder, 64 KiB chunks", partial(run_decoder, chunked(body, kib64)), len(body)),
        ("SSEDecoder, 16 KiB, CRLF", partial(run_decoder, chunked(crlf, kib16)), len(crlf)),
        ("naive split + startswith", partial(run_naive, body), len(body)),
    ]

    rows = []
    for name, fn, size in cases:
        seconds, events = best_time(fn, args.repeat)
        if events != expected:
            raise SystemExit(f"{name}: got {events} events, expected {expected}")
        rows.append((name, seconds, size / 1e6 / seconds, events / seconds))

    floor = rows[-1][3]
    print()
    print(f"{'case':<30} {'seconds':>8} {'MB/s':>8} {'events/s':>12} {'vs naive':>9}")
    print("-" * 71)
    for name, seconds, mb_s, ev_s in rows:
        print(f"{name:<30} {seconds:>8.3f} {mb_s:>8.1f} {ev_s:>12,.0f} {ev_s / floor:>8.2f}x")


if __name__ == "__main__":
    main()
