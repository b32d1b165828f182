"""The clients compared by the benchmarks, behind one tiny interface, and the load driver.

Every client sends the same request (``REQUEST``) with the same connection limit
(``concurrency``) and reads the answer the way its users do:

* ``raw``: the floor. One ``aiohttp.ClientSession`` + ``TCPConnector(limit=concurrency)``,
  ``session.post(url, data=orjson.dumps(body), headers=...)``, ``orjson.loads(await
  resp.read())`` and indexing into the dict. Streams: ``iter_any()`` + hand-written line
  splitting + ``orjson.loads`` per ``data:`` line. No models, no retries. The strongest
  hand-written client: the floor of every benchmark and target.
* ``raw-lines`` (streaming only): the streaming floor as the project's issue defined it, "a
  hand-written aiohttp loop (line iteration + json.loads)": the same session and request
  as ``raw``, read with ``async for line in resp.content`` (aiohttp's own line iterator)
  and the stdlib ``json.loads`` per ``data:`` line. Non-streaming calls are ``raw``'s.
* ``grok``: ``AsyncGrok(api_key="bench", base_url=..., max_connections=concurrency)`` and
  ``await client.chat.completions.create(...)`` (typed attrs models, retries on) /
  ``async for chunk in stream``.
* ``openai``: ``AsyncOpenAI`` with its default httpx2 transport, ``max_retries=2`` as shipped,
  pool limits set to ``concurrency`` (max_connections and max_keepalive_connections).
* ``openai-aiohttp``: the same with ``http_client=DefaultAioHttpClient(...)`` (the
  ``openai[aiohttp]`` transport), when it is installed.

Library imports happen in ``open()``, so a worker only loads the library it measures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

MODEL = "grok-4"
MESSAGES = [
    {"role": "system", "content": "You are Grok, a helpful assistant. Answer in one sentence."},
    {"role": "user", "content": "Describe the sea at dawn to someone who has never seen it."},
]
PARAMS = {"max_tokens": 64, "temperature": 0.7}
REQUEST: dict[str, Any] = {"model": MODEL, "messages": MESSAGES, **PARAMS}
API_KEY = "bench"

CLIENTS = ("raw", "grok", "openai", "openai-aiohttp")
# The streaming benchmark also measures the floor (line iterator + stdlib json).
STREAM_CLIENTS = ("raw", "raw-lines", "grok", "openai", "openai-aiohttp")
LABELS = {
    "raw": "raw aiohttp (floor)",
    "raw-lines": "raw aiohttp, line iterator + json (issue's floor)",
    "grok": "grok_async",
    "openai": "AsyncOpenAI (httpx)",
    "openai-aiohttp": "AsyncOpenAI (aiohttp)",
}


def available(name: str) -> bool:
    """Whether a client can run here (the openai aiohttp transport is an optional extra)."""
    try:
        if name.startswith("openai"):
            import openai  # noqa: F401
        if name == "openai-aiohttp":
            from openai import DefaultAioHttpClient

            DefaultAioHttpClient()  # raises RuntimeError without the aiohttp extra
    except Exception:
        return False
    return True


class BenchClient:
    """``complete()`` -> 1 after reading a completion; ``stream()`` -> chunks read."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self.base_url = base_url
        self.concurrency = concurrency

    async def open(self) -> None: ...

    async def complete(self) -> int:
        raise NotImplementedError

    async def stream(self) -> int:
        raise NotImplementedError

    async def close(self) -> None: ...


class RawAiohttp(BenchClient):
    async def open(self) -> None:
        import aiohttp
        import orjson

        self._loads = orjson.loads
        self._body = orjson.dumps(REQUEST)
        self._stream_body = orjson.dumps({**REQUEST, "stream": True})
        self._dumps = orjson.dumps
        self.url = self.base_url + "/chat/completions"
        self.headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.concurrency))

    async def complete(self) -> int:
        # The body is serialised per call, as any real caller does.
        async with self.session.post(
            self.url, data=self._dumps(REQUEST), headers=self.headers
        ) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            data = self._loads(await resp.read())
        content = data["choices"][0]["message"]["content"]
        if not content:
            raise RuntimeError("empty content")
        return 1

    async def stream(self) -> int:
        loads = self._loads
        chunks = 0
        async with self.session.post(
            self.url, data=self._dumps({**REQUEST, "stream": True}), headers=self.headers
        ) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            pending = b""
            async for piece in resp.content.iter_any():
                lines = (pending + piece).split(b"\n") if pending else piece.split(b"\n")
                pending = lines.pop()
                for line in lines:
                    if not line.startswith(b"data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == b"[DONE]":
                        return chunks
                    event = loads(payload)
                    choices = event["choices"]
                    if choices:
                        choices[0]["delta"].get("content")
                    chunks += 1
        raise RuntimeError("stream ended before [DONE]")

    async def close(self) -> None:
        await self.session.close()


class RawAiohttpLines(RawAiohttp):
    """The issue's streaming floor: aiohttp's line iterator and the stdlib ``json``."""

    async def open(self) -> None:
        import json

        await super().open()
        self._json_loads = json.loads

    async def stream(self) -> int:
        loads = self._json_loads
        chunks = 0
        async with self.session.post(
            self.url, data=self._dumps({**REQUEST, "stream": True}), headers=self.headers
        ) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            async for line in resp.content:  # StreamReader.__aiter__: readline()
                if not line.startswith(b"data:"):
                    continue
                payload = line[5:].strip()
                if payload == b"[DONE]":
                    return chunks
                event = loads(payload)
                choices = event["choices"]
                if choices:  # the finishing chunk's delta is {}, hence .get
                    choices[0]["delta"].get("content")
                chunks += 1
        raise RuntimeError("stream ended before [DONE]")


class _ChatClient(BenchClient):
    """grok_async and AsyncOpenAI share the call shape: ``client.chat.completions.create``."""

    client: Any

    async def complete(self) -> int:
        r = await self.client.chat.completions.create(model=MODEL, messages=MESSAGES, **PARAMS)
        if not r.choices[0].message.content:
            raise RuntimeError("empty content")
        return 1

    async def stream(self) -> int:
        chunks = 0
        stream = await self.client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, **PARAMS
        )
        async with stream:
            async for chunk in stream:
                if chunk.choices:
                    _ = chunk.choices[0].delta.content
                chunks += 1
        return chunks

    async def close(self) -> None:
        await self.client.close()


class Grok(_ChatClient):
    async def open(self) -> None:
        from grok_async import AsyncGrok

        self.client = AsyncGrok(
            api_key=API_KEY, base_url=self.base_url, max_connections=self.concurrency
        )


class OpenAI(_ChatClient):
    transport = "httpx"

    async def open(self) -> None:
        import openai

        limits = openai.DEFAULT_CONNECTION_LIMITS.__class__(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        if self.transport == "aiohttp":
            http_client: Any = openai.DefaultAioHttpClient(limits=limits)
        else:
            http_client = openai.DefaultAsyncHttpxClient(limits=limits)
        self.client = openai.AsyncOpenAI(
            api_key=API_KEY, base_url=self.base_url, max_retries=2, http_client=http_client
        )


class OpenAIAiohttp(OpenAI):
    transport = "aiohttp"


def make(name: str, base_url: str, concurrency: int) -> BenchClient:
    classes: dict[str, type[BenchClient]] = {
        "raw": RawAiohttp,
        "raw-lines": RawAiohttpLines,
        "grok": Grok,
        "openai": OpenAI,
        "openai-aiohttp": OpenAIAiohttp,
    }
    return classes[name](base_url, concurrency)


async def drive(
    call: Callable[[], Awaitable[int]], total: int, concurrency: int
) -> tuple[list[float], int]:
    """Run ``call`` ``total`` times, ``concurrency`` at a time (a worker pool over one shared
    counter, so exactly ``concurrency`` calls are in flight until the tail).

    Returns the sorted latencies (seconds) and the sum of what the calls returned.
    """
    latencies = [0.0] * total
    counts = [0] * total
    tickets = iter(range(total))
    clock = time.perf_counter

    async def worker() -> None:
        for i in tickets:  # the shared iterator hands each ticket out once
            start = clock()
            counts[i] = await call()
            latencies[i] = clock() - start

    await asyncio.gather(*(worker() for _ in range(min(concurrency, total))))
    latencies.sort()
    return latencies, sum(counts)
