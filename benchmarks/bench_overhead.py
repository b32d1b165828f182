"""grok_async's own cost, without a network or aiohttp: per non-streamed call and per chunk.

Wall-clock benchmarks against a server move by several per cent from run to run on a
shared machine; these in-memory measurements (the best of 7 timed loops each) usually stay
within a few per cent, so they show what a change to the library's own code costs or
saves. A busy machine can still slow a whole run: run it twice.

* ``create()``: ``client.chat.completions.create()`` against a stand-in aiohttp session
  whose ``request()`` returns the benchmark server's completion at once: everything the
  library does per call (body, pool gate, read-timeout watch, timings, decoding into typed
  objects) and nothing aiohttp or the network does. Beside it, ``orjson.loads`` of the same
  body, what a hand-written caller would do instead.
* ``AsyncStream``: iterating a 200-chunk stream (the benchmark server's, cut into 16 KiB
  reads) from a stand-in response, and the parts of that: the SSE decoder, ``orjson.loads``,
  building the typed chunks, the final-message accumulator. Beside it, the hand-written
  floor (``bench_streaming``'s ``raw`` client's own ``stream()``: split, ``orjson.loads``)
  over the same reads.

    python benchmarks/bench_overhead.py
"""

from __future__ import annotations

import asyncio
import time
import timeit
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import orjson
import server
from _clients import MESSAGES, MODEL, PARAMS, make
from multidict import CIMultiDict, CIMultiDictProxy

from grok_async import AsyncGrok, AsyncStream, ChatCompletionAccumulator
from grok_async._serialization import converter
from grok_async._sse import SSEDecoder
from grok_async.types.chat import ChatCompletionChunk

COMPLETION = server.completion_body()
STREAM = b"".join(server.stream_events(200))
READS = [STREAM[i : i + 16384] for i in range(0, len(STREAM), 16384)]
CHUNKS = 201  # 200 content chunks and the usage chunk


class _Content:
    total_bytes = 0

    async def read(self) -> bytes:
        return COMPLETION


class _Response:
    """What the library reads of an aiohttp response, answered at once."""

    status = 200
    reason = "OK"
    headers = CIMultiDictProxy(
        CIMultiDict({"x-request-id": "req-1", "Content-Length": str(len(COMPLETION))})
    )
    content = _Content()
    content_length = len(COMPLETION)

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


class _Session:
    closed = False

    async def request(self, *args: Any, **kwargs: Any) -> _Response:
        return _Response()


class _StreamResponse:
    """What ``AsyncStream`` reads of the library's ``HTTPResponse``: the stream in pieces."""

    request_id = "req-1"
    timings = None
    started = 0.0
    call = None
    settle = None  # the client's pacing correction: none for a bare stream

    def __init__(self) -> None:
        self._reads = iter(READS)

    async def read_chunk(self) -> bytes:
        return next(self._reads, b"")

    async def finish(self) -> None:
        pass

    def close(self) -> None:
        pass


def best_of(loop: Callable[[], Coroutine[Any, Any, int]], repeat: int = 7) -> float:
    """Seconds per unit: the best of ``repeat`` runs of ``loop`` (which returns its units)."""

    async def timed() -> float:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            units = await loop()
            best = min(best, (time.perf_counter() - start) / units)
        return best

    return asyncio.run(timed())


def per_call() -> float:
    calls = 20_000

    async def run() -> int:
        client = AsyncGrok(api_key="xai-bench", base_url="http://127.0.0.1:9/v1")
        pool = client._transport._pool()  # the running loop's pool, its session swapped
        real, pool.session = pool.session, _Session()  # type: ignore[assignment]
        create: Any = client.chat.completions.create
        try:
            for _ in range(calls):
                await create(model=MODEL, messages=MESSAGES, **PARAMS)
        finally:
            pool.session = real
            await client.close()
        return calls

    return best_of(run)


def per_chunk() -> float:
    streams = 200

    async def run() -> int:
        chunks = 0
        for _ in range(streams):
            stream = AsyncStream(_StreamResponse(), ChatCompletionChunk)  # type: ignore[arg-type]
            async for chunk in stream:
                if chunk.choices:
                    _ = chunk.choices[0].delta.content
                chunks += 1
        return chunks

    return best_of(run)


class _RawStreamReply:
    """What bench_streaming's raw client reads of an aiohttp response: the same reads."""

    status = 200

    def __init__(self) -> None:
        self.content = self

    async def iter_any(self) -> AsyncIterator[bytes]:
        for piece in READS:
            yield piece

    async def __aenter__(self) -> _RawStreamReply:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        pass


class _RawStreamSession:
    def post(self, *args: Any, **kwargs: Any) -> _RawStreamReply:
        return _RawStreamReply()


def raw_per_chunk() -> float:
    """bench_streaming's raw client (its own ``stream()``, the floor) over the same reads."""
    streams = 200

    async def run() -> int:
        raw = make("raw", "http://127.0.0.1:9/v1", 1)
        await raw.open()
        await raw.close()  # its real session is not used: the stand-in below answers
        raw.session = _RawStreamSession()  # type: ignore[attr-defined]
        return sum([await raw.stream() for _ in range(streams)])

    return best_of(run)


def timed(step: Callable[[], object], units: int, number: int = 200) -> float:
    return min(timeit.repeat(step, number=number, repeat=7)) / number / units


def main() -> None:
    call = per_call()
    loads = timed(lambda: orjson.loads(COMPLETION), 1, 20_000)
    print(f"create(), library only:          {call * 1e6:6.2f} µs per call")
    print(f"  orjson.loads of the body alone: {loads * 1e6:6.2f} µs")

    events = [e for e in SSEDecoder().feed_raw(STREAM) if e[1] != b"[DONE]"]
    payloads = [orjson.loads(e[1]) for e in events]
    structure = converter.get_structure_hook(ChatCompletionChunk)
    typed = [structure(p, ChatCompletionChunk) for p in payloads]

    def accumulate() -> None:
        accumulator = ChatCompletionAccumulator()
        for chunk in typed:
            accumulator.add(chunk)

    steps: list[tuple[str, Callable[[], object]]] = [
        ("SSE decoder (feed_raw)", lambda: SSEDecoder().feed_raw(STREAM)),
        ("orjson.loads", lambda: [orjson.loads(e[1]) for e in events]),
        (
            "typed chunk (3 attrs objects)",
            lambda: [structure(p, ChatCompletionChunk) for p in payloads],
        ),
        ("accumulator", accumulate),
    ]
    print(f"AsyncStream, library only:       {per_chunk() * 1e6:6.2f} µs per chunk")
    for label, step in steps:
        print(f"  {label + ':':<31} {timed(step, CHUNKS) * 1e6:6.2f} µs")
    print(f"hand-written floor's decoding:   {raw_per_chunk() * 1e6:6.2f} µs per chunk")


if __name__ == "__main__":
    main()
