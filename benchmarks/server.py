"""A fast OpenAI-compatible HTTP/1.1 server for the benchmarks (not a test double).

What it is for: being cheap enough that the *client* is the bottleneck. It is a bare
``asyncio.Protocol`` (no framework, no per-request allocation beyond slicing the input
buffer) that answers with response bytes built once (and rebuilt once a second, for the
``Date`` header):

* ``POST /v1/chat/completions`` -> a fixed, realistic non-streamed completion (about 650
  bytes of JSON with ``usage`` and its token details, ``Content-Length``), or, when the
  body contains ``"stream": true`` / ``"stream":true`` (a bytes check, no JSON parsing), an
  SSE stream of K ``chat.completion.chunk`` events (a role chunk, content words, a
  ``finish_reason`` chunk), one usage chunk with ``choices: []`` and ``data: [DONE]``.
  The stream uses chunked transfer encoding, one HTTP chunk per SSE event, as a real
  streaming server flushes it. K is ``?chunks=N`` on the URL, else ``--chunks`` (200).
  The events are written at once, or ``--gap`` milliseconds apart (so a client reads
  them one by one, as it does from a model producing tokens; no pipelining then).
* anything else -> 404.

Keep-alive and pipelining are supported; request bodies must carry ``Content-Length``
(aiohttp, httpx and curl all send it for a JSON body).

Run it alone::

    python benchmarks/server.py --port 8765 [--chunks 200] [--cpu 0] [--gap 0]

It prints ``LISTENING <port> <pid>`` on stdout once the socket is bound (``--port 0`` picks
a free port). :func:`start` launches it as a subprocess and waits for that line.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import json
import os
import subprocess
import sys
import time
from typing import Any

__all__ = ["ServerProcess", "completion_body", "start", "stream_body"]

MODEL = "grok-4-0709"
FINGERPRINT = "fp_b534e555cc"
COMPLETION_ID = "c7123bc7-6867-48ee-befc-41fb2e6f9c55"
REQUEST_ID = "0174cc72-eca9-43aa-990c-ba73fd22b391"
CREATED = 1_735_689_600
WORDS = (
    "Island", "pebble", "hollow", "amber", "field", "golden", "grove", "willow", "north",
    "topaz", "swift", "clear", "comet", "river", "summit", "lantern",
)  # fmt: skip


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def completion_body() -> bytes:
    """The non-streamed answer: the shape xAI sends, about 650 bytes."""
    return _json(
        {
            "id": COMPLETION_ID,
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": " ".join(WORDS[:15]) + ".",
                        "refusal": None,
                    },
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 27,
                "completion_tokens": 17,
                "total_tokens": 44,
                "prompt_tokens_details": {
                    "text_tokens": 27,
                    "audio_tokens": 0,
                    "image_tokens": 0,
                    "cached_tokens": 0,
                },
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
                "num_sources_used": 0,
            },
            "system_fingerprint": FINGERPRINT,
        }
    ).encode()


def _chunk(choices: list[Any], **extra: Any) -> bytes:
    event = {
        "id": COMPLETION_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": choices,
        **extra,
        "system_fingerprint": FINGERPRINT,
    }
    return b"data: " + _json(event).encode() + b"\n\n"


def stream_events(chunks: int) -> list[bytes]:
    """The SSE events of a streamed answer: ``chunks`` chunk events, usage, ``[DONE]``."""
    events = []
    for i in range(chunks):
        if i == 0:
            choice: dict[str, Any] = {"index": 0, "delta": {"role": "assistant", "content": ""}}
        elif i == chunks - 1:
            choice = {"index": 0, "delta": {}, "finish_reason": "stop"}
        else:
            choice = {"index": 0, "delta": {"content": WORDS[i % len(WORDS)].lower() + " "}}
        events.append(_chunk([choice]))
    usage = {
        "prompt_tokens": 27,
        "completion_tokens": chunks,
        "total_tokens": chunks + 27,
        "num_sources_used": 0,
    }
    events.append(_chunk([], usage=usage))
    events.append(b"data: [DONE]\n\n")
    return events


def stream_body(chunks: int) -> bytes:
    """The SSE body in chunked transfer encoding, one HTTP chunk per event."""
    parts = [b"%x\r\n%s\r\n" % (len(event), event) for event in stream_events(chunks)]
    return b"".join(parts) + b"0\r\n\r\n"


class _Responses:
    """Every response's bytes, rebuilt only when the ``Date`` second changes."""

    def __init__(self, default_chunks: int) -> None:
        self.default_chunks = default_chunks
        self._body = completion_body()
        self._streams: dict[int, bytes] = {}
        self._second = -1
        self.completion = b""
        self.not_found = b""
        self._stream_cache: dict[int, bytes] = {}
        self.refresh()

    def refresh(self) -> None:
        now = int(time.time())
        if now == self._second:
            return
        self._second = now
        date = email.utils.formatdate(now, usegmt=True).encode()
        common = b"Date: %s\r\nServer: bench\r\nx-request-id: %s\r\n" % (date, REQUEST_ID.encode())
        self.completion = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
            % (len(self._body), common, self._body)
        )
        self._stream_head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\n%s\r\n" % common
        )
        self._stream_cache = {}
        body = b'{"error":"not found"}'
        self.not_found = (
            b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n%s\r\n%s" % (len(body), common, body)
        )

    def stream_pieces(self, chunks: int) -> list[bytes]:
        """The stream as written one event at a time: the head with the first event, then
        one HTTP chunk per event, the terminator with the last."""
        parts = [b"%x\r\n%s\r\n" % (len(event), event) for event in stream_events(chunks)]
        parts[0] = self._stream_head + parts[0]
        parts[-1] += b"0\r\n\r\n"
        return parts

    def stream(self, chunks: int) -> bytes:
        cached = self._stream_cache.get(chunks)
        if cached is None:
            body = self._streams.get(chunks)
            if body is None:
                body = self._streams[chunks] = stream_body(chunks)
            cached = self._stream_cache[chunks] = self._stream_head + body
        return cached


class _HTTP(asyncio.Protocol):
    __slots__ = ("_buffer", "_gap", "_responses", "_transport")

    def __init__(self, responses: _Responses, gap: float = 0.0) -> None:
        self._responses = responses
        self._buffer = b""
        self._transport: Any = None
        self._gap = gap

    def _write_paced(self, pieces: list[bytes]) -> None:
        """Write ``pieces`` one every ``gap`` seconds."""
        loop = asyncio.get_running_loop()
        rest = iter(pieces)

        def step() -> None:
            piece = next(rest, None)
            if piece is not None and not self._transport.is_closing():
                self._transport.write(piece)
                loop.call_later(self._gap, step)

        step()

    def connection_made(self, transport: Any) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        out: list[bytes] = []
        close = False
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            lowered = head.lower()
            at = lowered.find(b"\r\ncontent-length:")
            length = 0
            if at >= 0:
                stop = lowered.find(b"\r\n", at + 2)
                length = int(lowered[at + 17 : stop if stop >= 0 else None])
            total = end + 4 + length
            if len(buffer) < total:
                break
            body = buffer[end + 4 : total]
            buffer = buffer[total:]
            line = head[: head.find(b"\r\n")] if b"\r\n" in head else head
            parts = line.split(b" ")
            target = parts[1] if len(parts) > 1 else b""
            path, _, query = target.partition(b"?")
            if parts[0] == b"POST" and path.endswith(b"/chat/completions"):
                if b'"stream":true' in body or b'"stream": true' in body:
                    chunks = self._responses.default_chunks
                    if query.startswith(b"chunks="):
                        chunks = int(query[7:].split(b"&")[0])
                    if self._gap:
                        self._write_paced(self._responses.stream_pieces(chunks))
                    else:
                        out.append(self._responses.stream(chunks))
                else:
                    out.append(self._responses.completion)
            else:
                out.append(self._responses.not_found)
            if b"\r\nconnection: close" in lowered:
                close = True
                break
        self._buffer = buffer
        if out:
            self._transport.write(out[0] if len(out) == 1 else b"".join(out))
        if close:
            self._transport.close()


async def serve(host: str, port: int, chunks: int, gap: float = 0.0) -> None:
    loop = asyncio.get_running_loop()
    responses = _Responses(chunks)

    def tick() -> None:
        responses.refresh()
        loop.call_later(0.5, tick)

    tick()
    server = await loop.create_server(lambda: _HTTP(responses, gap), host, port, backlog=4096)
    bound = server.sockets[0].getsockname()[1]
    print(f"LISTENING {bound} {os.getpid()}", flush=True)
    async with server:
        await server.serve_forever()


def pin_to_cpu(cpu: int | None) -> None:
    """Run this process on one CPU only (Linux); silently does nothing elsewhere."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        pass


class ServerProcess:
    """A running benchmark server subprocess."""

    def __init__(self, process: subprocess.Popen[str], port: int, host: str) -> None:
        self.process = process
        self.port = port
        self.pid = process.pid
        self.base_url = f"http://{host}:{port}/v1"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    *,
    chunks: int = 200,
    cpu: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 15.0,
    gap_ms: float = 0.0,
) -> ServerProcess:
    """Start the server in a subprocess on a free port; return once it is listening."""
    cmd = [sys.executable, os.path.abspath(__file__), "--host", host, "--port", "0"]
    cmd += ["--chunks", str(chunks), "--gap", str(gap_ms)]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("LISTENING "):
            return ServerProcess(process, int(line.split()[1]), host)
    process.kill()
    raise RuntimeError("the benchmark server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description="Fast OpenAI-compatible benchmark server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--chunks",
        type=int,
        default=int(os.environ.get("BENCH_STREAM_CHUNKS", "200")),
        help="chunk events per streamed answer (default 200; ?chunks=N overrides)",
    )
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    parser.add_argument(
        "--gap", type=float, default=0.0, help="milliseconds between a stream's events (0: none)"
    )
    args = parser.parse_args()
    pin_to_cpu(args.cpu)
    try:
        asyncio.run(serve(args.host, args.port, args.chunks, args.gap / 1000))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
