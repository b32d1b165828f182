"""Shared fixtures: a real aiohttp server on 127.0.0.1 whose handler each test scripts."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, cast

import aioresponses.core as aioresponses_core
import orjson
import pytest
from aiohttp import ClientResponse, web
from aioresponses import aioresponses

from grok_async.testing import instant_retries

FAKE_KEY = "xai-test-SECRET-key-0123456789"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def completion_body(content: str | None = "Hello!", **extra: Any) -> dict[str, Any]:
    """A minimal valid chat completion as xAI sends it."""
    body: dict[str, Any] = {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "grok-4-0709",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        "system_fingerprint": "fp_test",
    }
    body.update(extra)
    return body


def sse(*payloads: Any, done: bool = True) -> bytes:
    """Data-only SSE framing of JSON payloads, ``[DONE]``-terminated."""
    out = b"".join(b"data: " + orjson.dumps(p) + b"\n\n" for p in payloads)
    return out + (b"data: [DONE]\n\n" if done else b"")


class LocalServer:
    """A real HTTP server on 127.0.0.1 with a swappable handler and request accounting."""

    def __init__(self) -> None:
        self.handler: Handler = self._default
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.peers: list[tuple[str, int] | None] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @staticmethod
    async def _default(request: web.Request) -> web.StreamResponse:
        return web.json_response(completion_body())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None  # a multipart upload: the test reads "raw"
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "headers": dict(request.headers),
                "body": body,
                "raw": raw,
            }
        )
        transport = request.transport
        self.peers.append(transport.get_extra_info("peername") if transport else None)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self.handler(request)
        finally:
            self.in_flight -= 1

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        # TCPSite always runs an asyncio.Server (typed as the abstract base).
        server = cast("asyncio.Server | None", site._server)
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    srv = LocalServer()
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
def no_backoff() -> Iterator[list[float]]:
    """Make retry waits instant (the public switch); yields the waits that were asked for."""
    with instant_retries() as asked:
        yield asked


class _NoStreamWriter:
    output_size = 0


class _CompatResponse(ClientResponse):
    """aioresponses 0.7.9 predates aiohttp 3.14's required ``stream_writer`` argument
    (pnuckowski/aioresponses#289); supply an inert one so the mock keeps working."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _NoStreamWriter())
        super().__init__(method, url, **kwargs)


@pytest.fixture
def mock_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """aioresponses, for unit tests of request building and error mapping."""
    if "stream_writer" in inspect.signature(ClientResponse.__init__).parameters:
        monkeypatch.setattr(aioresponses_core, "ClientResponse", _CompatResponse)
    with aioresponses() as mock:
        yield mock


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a real key or endpoint from the developer's environment."""
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    monkeypatch.delenv("XAI_BASE_URL", raising=False)


async def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Poll until ``predicate()`` holds (for effects the server sees a moment later)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def client_tasks() -> set[asyncio.Task[Any]]:
    """Pending tasks of the running loop, minus the local test server's own handler tasks."""
    mine = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        filename = code.co_filename if code is not None else ""
        if "aiohttp/web" not in filename and task is not asyncio.current_task():
            mine.add(task)
    return mine
