"""Transport behaviour against a real server on 127.0.0.1: pooling, resets, refusals, timeouts."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from grok_async import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncGrok,
    Timeout,
)

from .conftest import FAKE_KEY, LocalServer, completion_body

MESSAGES = [{"role": "user", "content": "Hi"}]


async def test_pool_limit_is_honoured(server: LocalServer) -> None:
    """With max_connections=3, 12 concurrent calls never have more than 3 in flight."""

    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.05)
        return web.json_response(completion_body())

    server.handler = slow
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_connections=3) as client:
        await asyncio.gather(
            *(client.chat.completions.create(model="grok-4", messages=MESSAGES) for _ in range(12))
        )
    assert len(server.requests) == 12
    assert server.max_in_flight == 3
    assert len(set(server.peers)) == 3  # the three connections were reused


async def test_sequential_calls_reuse_one_connection(server: LocalServer) -> None:
    """Keep-alive: ten calls in a row travel over a single TCP connection."""
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        for _ in range(10):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert len(set(server.peers)) == 1


async def test_reset_then_success_is_retried(server: LocalServer, no_backoff: list[float]) -> None:
    """A connection reset before the response is retried and the next attempt succeeds."""
    calls = 0

    async def reset_once(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            assert request.transport is not None
            request.transport.abort()
            await asyncio.sleep(0.05)
        return web.json_response(completion_body())

    server.handler = reset_once
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert reply.choices[0].message.content == "Hello!"
    assert len(server.requests) == 2


async def test_reset_every_time_is_a_connection_error(
    server: LocalServer, no_backoff: list[float]
) -> None:
    """Resets on every attempt end in APIConnectionError (an aiohttp error never leaks)."""

    async def reset(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.abort()
        await asyncio.sleep(0.05)
        return web.Response()

    server.handler = reset
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=1) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert type(info.value) is APIConnectionError
    assert len(server.requests) == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refused_port_is_a_connection_error(no_backoff: list[float]) -> None:
    """Nothing listening: APIConnectionError after the retries, naming the failure."""
    port = _free_port()
    async with AsyncGrok(FAKE_KEY, base_url=f"http://127.0.0.1:{port}/v1", max_retries=2) as client:
        with pytest.raises(APIConnectionError, match="Connection error") as info:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert not isinstance(info.value, APITimeoutError)
    assert len(no_backoff) >= 2  # it was retried


async def test_slow_server_times_out(server: LocalServer) -> None:
    """A server silent for longer than the timeout raises APITimeoutError (a TimeoutError)."""

    async def silent(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(3)
        return web.json_response(completion_body())

    server.handler = silent
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, timeout=0.2, max_retries=0) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(TimeoutError) as info:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        assert loop.time() - start < 2.0
    assert isinstance(info.value, APITimeoutError)


async def test_read_timeout_from_a_timeout_object(server: LocalServer) -> None:
    """Timeout(read=...) bounds the silence before the response."""

    async def silent(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(3)
        return web.json_response(completion_body())

    server.handler = silent
    async with AsyncGrok(
        FAKE_KEY, base_url=server.base_url, timeout=Timeout(read=0.2), max_retries=0
    ) as client:
        with pytest.raises(APITimeoutError):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)


async def test_per_call_timeout_overrides_the_client(server: LocalServer) -> None:
    """timeout= on a call replaces the client's (long) default for that call."""

    async def slowish(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.5)
        return web.json_response(completion_body())

    server.handler = slowish
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=0) as client:
        with pytest.raises(APITimeoutError):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES, timeout=0.1)
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert reply.choices[0].message.content == "Hello!"


async def test_timeouts_are_retried(server: LocalServer, no_backoff: list[float]) -> None:
    """A timed-out attempt is retried; a fast second attempt succeeds."""
    calls = 0

    async def slow_once(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(1)
        return web.json_response(completion_body())

    server.handler = slow_once
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, timeout=0.2, max_retries=1) as client:
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert reply.id == "cmpl-1"
    assert len(server.requests) == 2


async def test_oversized_body_is_refused(server: LocalServer) -> None:
    """A response body over max_response_size raises instead of filling memory."""

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(64):
            await response.write(b" " * 16384)
        await response.write_eof()
        return response

    server.handler = huge
    async with AsyncGrok(
        FAKE_KEY, base_url=server.base_url, max_retries=0, max_response_size=100_000
    ) as client:
        with pytest.raises(APIResponseValidationError, match="100,000-byte limit"):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        # The pool is still usable afterwards.
        server.handler = LocalServer._default
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert reply.id == "cmpl-1"


async def test_truncated_body_mid_read_is_a_connection_error(
    server: LocalServer, no_backoff: list[float]
) -> None:
    """A response cut off mid-body (Content-Length not reached) is APIConnectionError."""

    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = 1000
        await response.prepare(request)
        await response.write(b'{"id": "x", "choices": [')
        assert request.transport is not None
        request.transport.abort()
        return response

    server.handler = cut
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=0) as client:
        with pytest.raises(APIConnectionError):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)


async def test_close_leaves_no_open_connections(server: LocalServer) -> None:
    """After close() the server sees the pooled connection closed."""
    client = AsyncGrok(FAKE_KEY, base_url=server.base_url)
    await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    session = client._transport.session()
    await client.close()
    assert session.closed


async def test_close_with_calls_in_flight_ends_them_promptly(server: LocalServer) -> None:
    """close() while calls are in flight: each ends at once with a GrokError, none is
    retried into a closed pool, and nothing warns."""
    from grok_async import GrokError

    arrived = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        arrived.set()
        await asyncio.sleep(5)
        return web.json_response(completion_body())

    server.handler = slow
    client = AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=3)
    calls = [
        asyncio.create_task(client.chat.completions.create(model="grok-4", messages=MESSAGES))
        for _ in range(4)
    ]
    await arrived.wait()
    await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await client.close()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert loop.time() - start < 3.0
    assert all(isinstance(r, GrokError) for r in results), results
    assert len(server.requests) == 4  # no retry reached the server after close
