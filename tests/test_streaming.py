"""Streaming against a real server on 127.0.0.1: chunks, assembly, errors, releasing connections."""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import orjson
import pytest
from aiohttp import web

from grok_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncGrok,
    AsyncStream,
    AuthenticationError,
    BadRequestError,
    ChatCompletionAccumulator,
    ChatCompletionChunk,
    ChoiceDelta,
    GrokError,
    InternalServerError,
    NotFoundError,
    Timeout,
)
from grok_async._serialization import converter

from .conftest import FAKE_KEY, Handler, LocalServer, completion_body, sse, wait_until

MESSAGES = [{"role": "user", "content": "Hi"}]
MODEL = "grok-3-mini"
REQUEST_ID = "req-stream-0001"
CHUNK_ID = "3f1e0c2a-5b7d-4e4f-9a61-000000000001_us-east-1"
HEARTBEAT = {"choices": [{"index": 0, "delta": {}}]}
MIB = 1024 * 1024


def chunk(
    delta: dict[str, Any] | None = None,
    *,
    index: int = 0,
    finish_reason: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` carrying a single choice, as xAI sends it."""
    choice: dict[str, Any] = {"index": index, "delta": delta or {}}
    if finish_reason is not None:
        choice["finish_reason"] = finish_reason
    return {
        "id": CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "grok-3-mini-reasoning",
        "choices": [choice],
        "system_fingerprint": "fp_stream",
        **extra,
    }


def usage_chunk(**extra: Any) -> dict[str, Any]:
    """The usage-only chunk xAI sends last, after the finish chunk: ``choices`` is empty."""
    return {
        "id": CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "grok-3-mini-reasoning",
        "choices": [],
        "usage": {
            "prompt_tokens": 11,
            "completion_tokens": 3,
            "total_tokens": 41,
            "completion_tokens_details": {"reasoning_tokens": 27},
            "num_sources_used": 2,
        },
        **extra,
    }


def content_chunks(*pieces: str, finish_reason: str = "stop") -> list[dict[str, Any]]:
    """A plain answer: role with the first piece, the other pieces, then the finish chunk."""
    first, *rest = pieces
    return [
        chunk({"role": "assistant", "content": first}),
        *(chunk({"content": piece}) for piece in rest),
        chunk({}, finish_reason=finish_reason),
    ]


async def start_sse(request: web.Request, **headers: str) -> web.StreamResponse:
    """Send the headers of a 200 event stream; the body follows with ``response.write``."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "x-request-id": REQUEST_ID, **headers}
    )
    await response.prepare(request)
    return response


def streaming(body: bytes, *, piece_size: int | None = None) -> Handler:
    """A handler that writes ``body`` (in ``piece_size`` writes if given) and ends it."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = await start_sse(request)
        size = piece_size or len(body) or 1
        try:
            for start in range(0, len(body), size):
                await response.write(body[start : start + size])
                if piece_size is not None:
                    await asyncio.sleep(0)  # let each piece leave as its own segment
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client hung up on purpose
        return response

    return handler


def endless(closed: list[str], *, delay: float = 0.005, events: int = 1000) -> Handler:
    """A slow stream of ``events`` chunks; appends to ``closed`` when the client hangs up.

    Non-streamed requests get a plain completion, so the same server answers both.
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if not body.get("stream"):
            return web.json_response(completion_body())
        response = await start_sse(request)
        try:
            for number in range(events):
                await response.write(sse(chunk({"content": f"{number} "}), done=False))
                await asyncio.sleep(delay)
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionResetError:
            closed.append("reset")
        return response

    return handler


async def collect(stream: AsyncIterator[Any], into: list[Any]) -> list[Any]:
    """Append every item of ``stream`` to ``into`` (kept by the caller if this raises)."""
    async for item in stream:
        into.append(item)
    return into


async def open_stream(client: AsyncGrok, **kwargs: Any) -> AsyncStream[ChatCompletionChunk]:
    stream: AsyncStream[ChatCompletionChunk] = await client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, **kwargs
    )
    return stream


async def plain_call_succeeds(client: AsyncGrok, within: float = 2.0) -> bool:
    """A non-streamed call completes within ``within`` seconds (the pool has a free slot)."""
    reply = await asyncio.wait_for(
        client.chat.completions.create(model=MODEL, messages=MESSAGES), within
    )
    return reply.choices[0].message.content == "Hello!"


def contents(chunks: Sequence[ChatCompletionChunk]) -> list[str | None]:
    return [c.choices[0].delta.content for c in chunks if c.choices]


# -- typed chunks, request id -----------------------------------------------------------------


async def test_create_stream_yields_typed_chunks_in_order(server: LocalServer) -> None:
    """create(stream=True) sends "stream": true and yields ChatCompletionChunk objects in order."""
    server.handler = streaming(sse(*content_chunks("Hel", "lo", " world"), usage_chunk()))
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        stream = await open_stream(client)
        assert isinstance(stream, AsyncStream)
        async with stream:
            chunks = [c async for c in stream]
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert contents(chunks) == ["Hel", "lo", " world", None]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[3].choices[0].finish_reason == "stop"
    assert chunks[4].choices == []
    assert chunks[4].usage is not None
    assert chunks[4].usage.total_tokens == 41
    assert {c.id for c in chunks} == {CHUNK_ID}
    assert server.requests[0]["body"]["stream"] is True


async def test_request_id_is_known_before_the_first_chunk(server: LocalServer) -> None:
    """stream.request_id comes from x-request-id while the body has not even been sent yet."""
    go = asyncio.Event()

    async def held(request: web.Request) -> web.StreamResponse:
        response = await start_sse(request)
        await asyncio.wait_for(go.wait(), 5)
        await response.write(sse(*content_chunks("Hi")))
        await response.write_eof()
        return response

    server.handler = held
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        stream = await open_stream(client)
        async with stream:
            assert stream.request_id == REQUEST_ID
            go.set()
            chunks = [c async for c in stream]
    assert contents(chunks) == ["Hi", None]


async def test_iterating_past_the_end_keeps_stopping(server: LocalServer) -> None:
    """A finished stream raises StopAsyncIteration again rather than reading on or failing."""
    server.handler = streaming(sse(*content_chunks("Hi")))
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        await open_stream(client) as stream,
    ):
        assert len([c async for c in stream]) == 2
        assert [c async for c in stream] == []
        with pytest.raises(StopAsyncIteration):
            await anext(stream)


# -- the stream() manager: text() and the assembled completion ---------------------------------

REASONING_STREAM = [
    # role and the first reasoning token together; no role-only chunk
    chunk({"role": "assistant", "reasoning_content": "The"}),
    chunk({"reasoning_content": " user"}),
    chunk({"reasoning_content": " greets."}),
    chunk({"content": "Hello"}),
    chunk({"content": " there"}),
    chunk({"content": "!"}),
    chunk({}, finish_reason="stop"),
    usage_chunk(citations=["https://x.ai/news", "https://docs.x.ai/"]),
]


@pytest.mark.parametrize("read_text_first", [True, False], ids=["text-then-final", "final-only"])
async def test_stream_manager_assembles_the_final_completion(
    server: LocalServer, read_text_first: bool
) -> None:
    """stream(): text() yields only content deltas; get_final_completion() assembles it all."""
    server.handler = streaming(sse(*REASONING_STREAM))
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream,
    ):
        if read_text_first:
            assert [t async for t in stream.text()] == ["Hello", " there", "!"]
        final = await stream.get_final_completion()
    assert server.requests[0]["body"]["stream"] is True
    assert final.id == CHUNK_ID
    assert final.request_id == REQUEST_ID
    assert final.model == "grok-3-mini-reasoning"
    assert final.created == 1700000000
    assert final.system_fingerprint == "fp_stream"
    [choice] = final.choices
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello there!"
    assert choice.message.reasoning_content == "The user greets."
    assert choice.message.tool_calls is None
    assert final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (11, 3)
    assert final.usage.total_tokens == 41  # reasoning tokens are outside completion_tokens
    assert final.usage.completion_tokens_details is not None
    assert final.usage.completion_tokens_details.reasoning_tokens == 27
    assert final.usage.num_sources_used == 2
    assert final.citations == ["https://x.ai/news", "https://docs.x.ai/"]


async def test_stream_manager_closes_the_response_on_exit(server: LocalServer) -> None:
    """Leaving stream()'s block without reading to the end closes the response at once."""
    closed: list[str] = []
    server.handler = endless(closed)
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_connections=1) as client:
        async with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
            await anext(stream)
        assert await plain_call_succeeds(client)
        assert await wait_until(lambda: closed == ["reset"])


# -- heartbeats -------------------------------------------------------------------------------


async def test_empty_delta_heartbeats_are_harmless(server: LocalServer) -> None:
    """Dozens of {"choices":[{"index":0,"delta":{}}]} chunks pass through without effect."""
    events = [
        chunk({"role": "assistant", "reasoning_content": "Hmm"}),
        *[HEARTBEAT] * 30,
        chunk({"content": "4"}),
        *[HEARTBEAT] * 20,
        chunk({"content": "2"}),
        *[HEARTBEAT] * 5,
        chunk({}, finish_reason="stop"),
        usage_chunk(),
    ]
    server.handler = streaming(sse(*events))
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        async with await open_stream(client) as stream:
            chunks = [c async for c in stream]
        async with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
            texts = [t async for t in stream.text()]
            final = await stream.get_final_completion()
    assert len(chunks) == len(events)
    empty = [c for c in chunks if c.choices and c.choices[0].delta == ChoiceDelta()]
    assert len(empty) == 55 + 1  # the heartbeats and the finish chunk
    assert texts == ["4", "2"]
    assert final.choices[0].message.content == "42"
    assert final.choices[0].message.reasoning_content == "Hmm"
    assert final.choices[0].finish_reason == "stop"
    assert len(final.choices) == 1


async def test_heartbeats_before_the_first_token_do_not_blank_the_ids(
    server: LocalServer,
) -> None:
    """Heartbeats sent while a model thinks, before any real chunk, leave id and model intact."""
    server.handler = streaming(sse(*[HEARTBEAT] * 10, *content_chunks("Hi")))
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream,
    ):
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == "Hi"
    assert final.id == CHUNK_ID
    assert final.model == "grok-3-mini-reasoning"
    assert final.created == 1700000000


async def test_heartbeats_reset_the_read_timer(server: LocalServer) -> None:
    """A stream of heartbeats longer than Timeout(read=...) does not time out: each one counts."""

    async def thinking(request: web.Request) -> web.StreamResponse:
        response = await start_sse(request)
        for _ in range(8):  # 0.8 s of thinking against a 0.3 s read timeout
            await response.write(sse(HEARTBEAT, done=False))
            await asyncio.sleep(0.1)
        await response.write(sse(*content_chunks("done")))
        await response.write_eof()
        return response

    server.handler = thinking
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url, timeout=Timeout(read=0.3)) as client,
        client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream,
    ):
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == "done"


# -- tool calls and several choices -----------------------------------------------------------

WEATHER_ARGS = '{"location":"Florence, Italy"}'
TIME_ARGS = '{"timezone":"Europe/Rome"}'

WHOLE_TOOL_CALLS = [
    chunk(
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_51851897",
                    "function": {"name": "weather", "arguments": WEATHER_ARGS},
                    "index": 0,
                    "type": "function",
                },
                {
                    "id": "call_51851898",
                    "function": {"name": "time", "arguments": TIME_ARGS},
                    "index": 1,
                    "type": "function",
                },
            ],
        }
    ),
    chunk({}, finish_reason="tool_calls"),
]


def fragment(index: int, arguments: str, **first: Any) -> dict[str, Any]:
    """An OpenAI-style tool-call fragment; ``first`` adds id/type/name on the first one."""
    call: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if first:
        call["id"] = first["id"]
        call["type"] = "function"
        call["function"]["name"] = first["name"]
    return chunk({"tool_calls": [call]})


FRAGMENTED_TOOL_CALLS = [
    chunk({"role": "assistant"}),
    fragment(0, "", id="call_51851897", name="weather"),
    fragment(0, '{"loca'),
    fragment(1, '{"time', id="call_51851898", name="time"),
    fragment(0, 'tion":"Florence, '),
    fragment(1, 'zone":"Europe/Rome"}'),
    fragment(0, 'Italy"}'),
    chunk({}, finish_reason="tool_calls"),
]

EMPTY_FINISH_TOOL_CALLS = [*WHOLE_TOOL_CALLS[:1], chunk({}, finish_reason="")]


@pytest.mark.parametrize(
    "events",
    [
        pytest.param(WHOLE_TOOL_CALLS, id="whole-in-one-chunk"),
        pytest.param(FRAGMENTED_TOOL_CALLS, id="fragments-interleaved"),
        pytest.param(EMPTY_FINISH_TOOL_CALLS, id="empty-finish-reason"),
    ],
)
async def test_parallel_tool_calls_are_merged_by_index(
    server: LocalServer, events: list[dict[str, Any]]
) -> None:
    """Two tool calls, whole or in fragments, become two ToolCalls with finish_reason tool_calls."""
    server.handler = streaming(sse(*events))
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream,
    ):
        assert [t async for t in stream.text()] == []
        final = await stream.get_final_completion()
    [choice] = final.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls is not None
    assert [(c.index, c.id, c.type, c.function.name) for c in calls] == [
        (0, "call_51851897", "function", "weather"),
        (1, "call_51851898", "function", "time"),
    ]
    assert calls[0].function.arguments == WEATHER_ARGS
    assert calls[1].function.arguments == TIME_ARGS
    assert json.loads(calls[0].function.arguments) == {"location": "Florence, Italy"}


TWO_CHOICES = [
    chunk({"role": "assistant", "content": "Red"}, index=0),
    chunk({"role": "assistant", "content": "Blue"}, index=1),
    chunk({"content": " roses"}, index=1),
    chunk({"content": " apples"}, index=0),
    chunk({}, index=1, finish_reason="length"),
    chunk({"content": "."}, index=0),
    chunk({}, index=0, finish_reason="stop"),
]


async def test_two_choices_interleaved_are_assembled_apart(server: LocalServer) -> None:
    """n=2: chunks for choices 0 and 1 arriving interleaved give two separate choices."""
    server.handler = streaming(sse(*TWO_CHOICES))
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        client.chat.completions.stream(model=MODEL, messages=MESSAGES, n=2) as stream,
    ):
        final = await stream.get_final_completion()
    assert server.requests[0]["body"]["n"] == 2
    assert [c.index for c in final.choices] == [0, 1]
    assert [c.message.content for c in final.choices] == ["Red apples.", "Blue roses"]
    assert [c.finish_reason for c in final.choices] == ["stop", "length"]
    assert [c.message.role for c in final.choices] == ["assistant", "assistant"]


async def test_text_follows_only_the_first_choice(server: LocalServer) -> None:
    """n=2: text() yields the deltas of choice 0 only, as its docstring promises."""
    server.handler = streaming(sse(*TWO_CHOICES))
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        client.chat.completions.stream(model=MODEL, messages=MESSAGES, n=2) as stream,
    ):
        assert [t async for t in stream.text()] == ["Red", " apples", "."]


# -- HTTP errors before the first byte ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        pytest.param(
            400,
            {"code": "Client specified an invalid argument", "error": "Bad temperature 7."},
            BadRequestError,
            "Bad temperature 7.",
            id="400-xai-flat",
        ),
        pytest.param(
            400,
            {
                "code": "Client specified an invalid argument",
                "error": "Incorrect API key provided: xa***89.",
            },
            AuthenticationError,
            "Incorrect API key",
            id="400-wrong-key",
        ),
        pytest.param(
            404,
            {"error": {"message": "The model grok-9 does not exist.", "type": "invalid_request"}},
            NotFoundError,
            "grok-9 does not exist",
            id="404-openai-nested",
        ),
    ],
)
async def test_http_error_raises_at_create_before_iteration(
    server: LocalServer,
    no_backoff: list[float],
    status: int,
    body: dict[str, Any],
    error: type[APIStatusError],
    text: str,
) -> None:
    """A 4xx answer to a stream request raises at `await create(stream=True)`, not retried."""

    async def refuse(request: web.Request) -> web.StreamResponse:
        return web.json_response(body, status=status, headers={"x-request-id": REQUEST_ID})

    server.handler = refuse
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        with pytest.raises(error) as info:
            await open_stream(client)
    assert info.value.status_code == status
    assert text in str(info.value)
    assert info.value.request_id == REQUEST_ID
    assert len(server.requests) == 1
    assert no_backoff == []


async def test_503_before_the_stream_is_retried(
    server: LocalServer, no_backoff: list[float]
) -> None:
    """A 503 before any byte of the body is retried; the second attempt's stream is delivered."""
    calls = 0

    async def unavailable_once(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.json_response(
                {"code": "The service is currently unavailable", "error": "Try again."},
                status=503,
            )
        return await streaming(sse(*content_chunks("Hi", "!")))(request)

    server.handler = unavailable_once
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        await open_stream(client) as stream,
    ):
        chunks = [c async for c in stream]
    assert contents(chunks) == ["Hi", "!", None]
    assert len(server.requests) == 2
    assert len(no_backoff) == 1


async def test_503_every_time_raises_internal_server_error(
    server: LocalServer, no_backoff: list[float]
) -> None:
    """A stream request answered 503 on every attempt raises InternalServerError at create()."""

    async def unavailable(request: web.Request) -> web.StreamResponse:
        return web.json_response({"code": "Unavailable", "error": "Overloaded."}, status=503)

    server.handler = unavailable
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=2) as client:
        with pytest.raises(InternalServerError, match="Overloaded"):
            await open_stream(client)
    assert len(server.requests) == 3


# -- failures in the middle of a stream ---------------------------------------------------------


@pytest.mark.parametrize(
    "error_event",
    [
        pytest.param({"error": {"message": "boom", "type": "server_error"}}, id="openai-nested"),
        pytest.param({"code": "Internal error", "error": "boom"}, id="xai-flat"),
        pytest.param(
            {"type": "error", "status": 400, "error": {"code": "bad", "message": "boom"}},
            id="typed-event",
        ),
    ],
)
async def test_error_event_raises_after_the_earlier_chunks(
    server: LocalServer, no_backoff: list[float], error_event: dict[str, Any]
) -> None:
    """A {"error": ...} event raises a GrokError naming the message, after the chunks before it."""
    closed: list[str] = []
    body = sse(*content_chunks("a", "b")[:2], error_event, done=False)

    async def failing(request: web.Request) -> web.StreamResponse:
        if not (await request.json()).get("stream"):
            return web.json_response(completion_body())
        response = await start_sse(request)
        await response.write(body)
        try:
            await asyncio.sleep(0.05)
            for _ in range(100):  # the server then keeps the stream open
                await response.write(b": still here\n\n")
                await asyncio.sleep(0.01)
        except ConnectionResetError:
            closed.append("reset")
        return response

    server.handler = failing
    received: list[ChatCompletionChunk] = []
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_connections=1) as client:
        stream = await open_stream(client)
        with pytest.raises(GrokError, match="boom") as info:
            await collect(stream, received)
        # The failed stream gave its connection up: the single pooled slot is free.
        assert await plain_call_succeeds(client)
    assert contents(received) == ["a", "b"]
    assert info.value.request_id == REQUEST_ID
    assert len(server.requests) == 2  # the stream once, then the plain call; nothing retried
    assert no_backoff == []
    assert await wait_until(lambda: closed == ["reset"])


async def test_reset_mid_body_is_a_connection_error_not_retried(
    server: LocalServer, no_backoff: list[float]
) -> None:
    """A reset after some events raises APIConnectionError after them; nothing is retried."""

    async def reset(request: web.Request) -> web.StreamResponse:
        response = await start_sse(request)
        await response.write(sse(*content_chunks("a", "b")[:2], done=False))
        await asyncio.sleep(0.05)
        assert request.transport is not None
        request.transport.abort()
        return response

    server.handler = reset
    received: list[ChatCompletionChunk] = []
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=2) as client:
        stream = await open_stream(client)
        with pytest.raises(APIConnectionError) as info:
            await collect(stream, received)
    assert not isinstance(info.value, APITimeoutError)
    assert contents(received) == ["a", "b"]
    assert info.value.request_id == REQUEST_ID
    assert len(server.requests) == 1
    assert no_backoff == []


async def test_body_ending_without_done_is_a_connection_error(
    server: LocalServer, no_backoff: list[float]
) -> None:
    """A stream whose body ends cleanly but without data: [DONE] raises APIConnectionError."""
    server.handler = streaming(sse(*content_chunks("a", "b"), done=False))
    received: list[ChatCompletionChunk] = []
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        stream = await open_stream(client)
        with pytest.raises(APIConnectionError, match=r"\[DONE\]") as info:
            await collect(stream, received)
    assert contents(received) == ["a", "b", None]
    assert info.value.request_id == REQUEST_ID
    assert len(server.requests) == 1


async def test_final_completion_of_a_truncated_stream_raises(server: LocalServer) -> None:
    """get_final_completion() on a stream cut short raises rather than return a partial answer."""
    server.handler = streaming(sse(*content_chunks("a", "b")[:2], done=False))
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream,
    ):
        with pytest.raises(APIConnectionError):
            await stream.get_final_completion()


@pytest.mark.parametrize(
    ("client_timeout", "call_timeout"),
    [
        pytest.param(Timeout(read=0.3), None, id="client-Timeout-read"),
        pytest.param(Timeout(), 0.3, id="per-call-float"),
    ],
)
async def test_stall_mid_stream_times_out(
    server: LocalServer,
    no_backoff: list[float],
    client_timeout: Timeout,
    call_timeout: float | None,
) -> None:
    """A silence longer than the read timeout mid-stream raises APITimeoutError, promptly."""
    release = asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        response = await start_sse(request)
        await response.write(sse(*content_chunks("a", "b")[:2], done=False))
        try:
            await asyncio.wait_for(release.wait(), 5)
            await response.write(sse(chunk({}, finish_reason="stop")))
        except (ConnectionResetError, TimeoutError):
            pass
        return response

    server.handler = stall
    kwargs: dict[str, Any] = {} if call_timeout is None else {"timeout": call_timeout}
    received: list[ChatCompletionChunk] = []
    loop = asyncio.get_running_loop()
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, timeout=client_timeout) as client:
        stream = await open_stream(client, **kwargs)
        start = loop.time()
        with pytest.raises(APITimeoutError) as info:
            await collect(stream, received)
        elapsed = loop.time() - start
        release.set()
    assert isinstance(info.value, TimeoutError)
    assert 0.2 < elapsed < 3.0
    assert contents(received) == ["a", "b"]
    assert len(server.requests) == 1


# -- releasing the connection -------------------------------------------------------------------


async def _break_then_aclose(client: AsyncGrok) -> list[ChatCompletionChunk]:
    stream = await open_stream(client)
    got = []
    async for item in stream:
        got.append(item)
        if len(got) == 2:
            break
    await stream.aclose()
    return got


async def _break_in_async_with(client: AsyncGrok) -> list[ChatCompletionChunk]:
    got = []
    async with await open_stream(client) as stream:
        async for item in stream:
            got.append(item)
            if len(got) == 2:
                break
    return got


async def _break_in_manager(client: AsyncGrok) -> list[ChatCompletionChunk]:
    got = []
    async with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
        async for item in stream:
            got.append(item)
            if len(got) == 2:
                break
    return got


async def _aclose_without_break(client: AsyncGrok) -> list[ChatCompletionChunk]:
    stream = await open_stream(client)
    got = [await anext(stream), await anext(stream)]
    await stream.aclose()
    await stream.aclose()  # idempotent
    return got


@pytest.mark.parametrize(
    "read_two_and_stop",
    [
        pytest.param(_break_then_aclose, id="break-aclose"),
        pytest.param(_break_in_async_with, id="break-async-with"),
        pytest.param(_break_in_manager, id="break-stream-manager"),
        pytest.param(_aclose_without_break, id="anext-aclose-twice"),
    ],
)
async def test_early_exit_frees_the_only_connection(
    server: LocalServer,
    read_two_and_stop: Callable[[AsyncGrok], Any],
) -> None:
    """max_connections=1: 20 streams abandoned after 2 chunks neither drain nor exhaust the pool."""
    closed: list[str] = []
    server.handler = endless(closed)
    loop = asyncio.get_running_loop()
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_connections=1) as client:
        start = loop.time()
        for _ in range(20):
            got = await asyncio.wait_for(read_two_and_stop(client), 2)
            assert contents(got) == ["0 ", "1 "]
        # Draining 20 streams of 1000 events 5 ms apart would take over 100 s.
        assert loop.time() - start < 5
        assert await plain_call_succeeds(client)
    assert await wait_until(lambda: len(closed) == 20)
    # Each abandoned connection was closed, not put back: every stream needed a fresh one.
    assert len(set(server.peers)) == 21
    assert len(server.requests) == 21


async def test_cancelling_the_consumer_closes_the_response(server: LocalServer) -> None:
    """Cancelling the task that reads a stream closes its response at once (pool slot freed)."""
    closed: list[str] = []
    server.handler = endless(closed)
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_connections=1) as client:
        stream = await open_stream(client)  # referenced here: garbage collection cannot help
        received: list[ChatCompletionChunk] = []
        two = asyncio.Event()

        async def consume() -> None:
            async for item in stream:
                received.append(item)
                if len(received) == 2:
                    two.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(two.wait(), 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await plain_call_succeeds(client, within=1.0)
        assert await wait_until(lambda: closed == ["reset"], timeout=1.0)
        await stream.aclose()


async def test_cancel_while_waiting_for_the_end_after_done_frees_the_connection(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelling a consumer while it waits for the body to end after [DONE] frees the slot."""
    monkeypatch.setattr("grok_async._response.DONE_GRACE", 2.0)  # room to cancel inside it
    release = asyncio.Event()

    async def lingering(request: web.Request) -> web.StreamResponse:
        if not (await request.json()).get("stream"):
            return web.json_response(completion_body())
        response = await start_sse(request)
        await response.write(sse(*content_chunks("Hi")))
        try:
            await asyncio.wait_for(release.wait(), 5)  # [DONE] sent, body kept open
            await response.write_eof()
        except (ConnectionResetError, TimeoutError):
            pass
        return response

    server.handler = lingering
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_connections=1) as client:
        stream = await open_stream(client)
        received: list[ChatCompletionChunk] = []
        task = asyncio.create_task(collect(stream, received))
        assert await wait_until(lambda: len(received) == 2)
        await asyncio.sleep(0.1)  # the consumer now waits in the post-[DONE] grace period
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        try:
            assert await plain_call_succeeds(client, within=0.5)
        finally:
            release.set()
            await stream.aclose()


async def test_garbage_collected_stream_frees_its_connection(server: LocalServer) -> None:
    """A stream dropped mid-body without closing frees its connection when collected, silently."""
    closed: list[str] = []
    server.handler = endless(closed)
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_connections=1) as client:
        stream = await open_stream(client)
        assert contents([await anext(stream), await anext(stream)]) == ["0 ", "1 "]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del stream
            gc.collect()
        assert [str(w.message) for w in caught] == []
        assert await plain_call_succeeds(client, within=1.0)
    assert await wait_until(lambda: closed == ["reset"])
    assert len(set(server.peers)) == 2


async def test_completed_streams_return_the_connection_to_the_pool(server: LocalServer) -> None:
    """Streams read to [DONE] hand their connection back: everything uses one connection."""

    async def answer(request: web.Request) -> web.StreamResponse:
        if not (await request.json()).get("stream"):
            return web.json_response(completion_body())
        return await streaming(sse(*content_chunks("Hi"), usage_chunk()))(request)

    server.handler = answer
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        for _ in range(2):
            async with await open_stream(client) as stream:
                assert len([c async for c in stream]) == 3
        async with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as managed:
            assert (await managed.get_final_completion()).choices[0].message.content == "Hi"
        assert await plain_call_succeeds(client)
    assert len(server.requests) == 4
    assert len(set(server.peers)) == 1


# -- framing and sizes ----------------------------------------------------------------------------

FRAMED = [*content_chunks("Grüße, ", "🚀 ", "done"), usage_chunk()]


def framed(*, eol: bytes = b"\n", prefix: bytes = b"data: ", pings: bool = False) -> bytes:
    """FRAMED as an event stream with the given line ends, data prefix and comment lines."""
    out = b""
    for payload in FRAMED:
        if pings:
            out += b": ping" + eol
        out += prefix + orjson.dumps(payload) + eol + eol
    return out + prefix + b"[DONE]" + eol + eol


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(framed(), id="lf"),
        pytest.param(framed(eol=b"\r\n"), id="crlf"),
        pytest.param(framed(eol=b"\r"), id="cr"),
        pytest.param(framed(prefix=b"data:"), id="data-without-space"),
        pytest.param(framed(pings=True), id="ping-comments"),
        pytest.param(framed(eol=b"\r\n", prefix=b"data:", pings=True), id="crlf-no-space-pings"),
    ],
)
@pytest.mark.parametrize("piece_size", [None, 1, 7], ids=["one-write", "1-byte", "7-byte"])
async def test_framing_variants_decode_end_to_end(
    server: LocalServer, body: bytes, piece_size: int | None
) -> None:
    """Line ends, `data:` without space and `: ping` comments, written whole or in tiny pieces."""
    server.handler = streaming(body, piece_size=piece_size)
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream,
    ):
        texts = [t async for t in stream.text()]
        final = await stream.get_final_completion()
    assert texts == ["Grüße, ", "🚀 ", "done"]
    assert final.choices[0].message.content == "Grüße, 🚀 done"
    assert final.usage is not None
    assert final.usage.total_tokens == 41


async def test_one_mebibyte_event_is_decoded_intact(server: LocalServer) -> None:
    """A single 1 MiB content delta (multi-byte characters included) arrives unchanged."""
    big = ("Grok é 🚀 " * (MIB // 12 + 1))[: MIB // 2] + "x" * (MIB // 2)
    server.handler = streaming(sse(chunk({"role": "assistant", "content": big}), *FRAMED[-2:]))
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream,
    ):
        texts = [t async for t in stream.text()]
        final = await stream.get_final_completion()
    assert len(texts) == 1
    assert texts[0] == big
    assert final.choices[0].message.content == big
    assert len(big.encode()) > MIB


async def test_event_over_the_default_cap_is_refused(server: LocalServer) -> None:
    """A 17 MiB event exceeds the 16 MiB default cap: APIResponseValidationError, slot freed."""
    huge = sse(chunk({"role": "assistant", "content": "x" * (17 * MIB)}))

    async def answer(request: web.Request) -> web.StreamResponse:
        if not (await request.json()).get("stream"):
            return web.json_response(completion_body())
        return await streaming(sse(*content_chunks("ok")[:1], done=False) + huge)(request)

    server.handler = answer
    received: list[ChatCompletionChunk] = []
    loop = asyncio.get_running_loop()
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_connections=1) as client:
        start = loop.time()
        stream = await open_stream(client)
        with pytest.raises(APIResponseValidationError, match="16 MiB"):
            await collect(stream, received)
        assert loop.time() - start < 2.0
        assert await plain_call_succeeds(client, within=1.0)
    assert contents(received) == ["ok"]


@pytest.mark.parametrize("same_read", [False, True], ids=["apart", "same-read"])
async def test_async_stream_honours_a_smaller_cap(server: LocalServer, same_read: bool) -> None:
    """AsyncStream(max_event_size=...) refuses an event over its cap, after the chunks before
    it, also those that arrived in the same read as the oversized one."""
    first, oversized, *_ = content_chunks("short", "y" * 5000)

    async def answer(request: web.Request) -> web.StreamResponse:
        response = await start_sse(request)
        if same_read:
            await response.write(sse(first, done=False) + sse(oversized))
            await response.write_eof()
            return response
        await response.write(sse(first, done=False))
        await asyncio.sleep(0.05)
        try:
            await response.write(sse(oversized))
            await response.write_eof()
        except ConnectionResetError:
            pass
        return response

    server.handler = answer
    body = orjson.dumps({"model": MODEL, "messages": MESSAGES, "stream": True})
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        response = await client.open_stream("POST", "/chat/completions", body=body)
        stream = AsyncStream(response, ChatCompletionChunk, max_event_size=1024)
        received: list[ChatCompletionChunk] = []
        with pytest.raises(APIResponseValidationError, match="1024"):
            await collect(stream, received)
    assert contents(received) == ["short"]
    # The same cap set once on the client applies to every stream it opens.
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_event_size=1024) as client:
        stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        received = []
        with pytest.raises(APIResponseValidationError, match="1024"):
            await collect(stream, received)
    assert contents(received) == ["short"]


# -- invalid and unknown data --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        pytest.param(b'data: {"choices": [\n\n', "not valid JSON", id="truncated-json"),
        pytest.param(b"data: hello\n\n", "not valid JSON", id="plain-text"),
        pytest.param(b"data: [1, 2]\n\n", "ChatCompletionChunk", id="json-array"),
        pytest.param(b'data: {"choices": "nope"}\n\n', "ChatCompletionChunk", id="wrong-type"),
    ],
)
async def test_undecodable_event_is_a_validation_error(
    server: LocalServer, bad: bytes, match: str
) -> None:
    """An event that is not a chunk raises APIResponseValidationError after the earlier chunks."""
    server.handler = streaming(sse(*content_chunks("a")[:1], done=False) + bad + sse())
    received: list[ChatCompletionChunk] = []
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        stream = await open_stream(client)
        with pytest.raises(APIResponseValidationError, match=match) as info:
            await collect(stream, received)
    assert contents(received) == ["a"]
    assert info.value.body is not None
    assert bad[len(b"data: ") :].strip().decode() in info.value.body
    assert info.value.request_id == REQUEST_ID


async def test_invalid_utf8_in_an_event_becomes_replacement_characters(
    server: LocalServer,
) -> None:
    """Event data is decoded leniently, as the SSE standard says: a bad byte is U+FFFD.

    (orjson refuses invalid UTF-8 in bytes, so the stream retries such an event as text.)
    """
    good = sse(*content_chunks("a")[:1], done=False)
    bad = b'data: {"choices": [{"index": 0, "delta": {"content": "x\xffy"}}]}\n\n'
    server.handler = streaming(good + bad + sse(*content_chunks("b")))
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        stream = await open_stream(client)
        received = await collect(stream, [])
    assert contents(received)[:3] == ["a", "x\ufffdy", "b"]


async def test_error_event_with_invalid_utf8_keeps_its_parsed_body(server: LocalServer) -> None:
    """An ``{"error": ...}`` event with a bad byte is read from its lenient text: the error
    still has the JSON body, its code and its message (U+FFFD for the byte)."""
    event = b'data: {"error": {"message": "caf\xe9 overloaded", "code": "overloaded"}, '
    server.handler = streaming(event + b'"status": 503}\n\n')
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=0) as client:
        stream = await open_stream(client)
        with pytest.raises(APIStatusError) as info:
            await collect(stream, [])
    assert info.value.status_code == 503
    assert isinstance(info.value.body, dict)
    assert info.value.code == "overloaded"
    assert "caf\ufffd overloaded" in str(info.value)


async def test_invalid_utf8_that_is_not_json_keeps_its_text(server: LocalServer) -> None:
    """An undecodable event that is not JSON either: the error body has its lenient text."""
    server.handler = streaming(b"data: {\xff\n\n" + sse())
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        stream = await open_stream(client)
        with pytest.raises(APIResponseValidationError, match="not valid JSON") as info:
            await collect(stream, [])
    assert info.value.body == "{\ufffd"


async def test_unknown_fields_are_kept_on_raw(server: LocalServer) -> None:
    """Fields the library does not model never raise and stay reachable through .raw."""
    event = chunk({"content": "hi", "x_delta_new": 1}, x_choice_new={"k": "v"})
    event["choices"][0]["x_choice_new"] = [1, 2]
    event["x_top_new"] = {"nested": True}
    server.handler = streaming(sse(event))
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        await open_stream(client) as stream,
    ):
        [received] = [c async for c in stream]
    assert received.choices[0].delta.content == "hi"
    assert received.raw["x_top_new"] == {"nested": True}
    assert received.choices[0].raw["x_choice_new"] == [1, 2]
    assert received.choices[0].delta.raw["x_delta_new"] == 1
    assert received.to_dict()["x_top_new"] == {"nested": True}


# -- request id fallback -----------------------------------------------------------------------


async def test_stream_request_id_falls_back_to_the_chunk_id(server: LocalServer) -> None:
    """Without x-request-id, the stream's request_id is the chunks' id once one has arrived."""

    async def anonymous(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(sse(*content_chunks("Hi")))
        await response.write_eof()
        return response

    server.handler = anonymous
    async with (
        AsyncGrok(FAKE_KEY, base_url=server.base_url) as client,
        await open_stream(client) as stream,
    ):
        assert stream.request_id is None
        await anext(stream)
        assert stream.request_id == CHUNK_ID


# -- the accumulator on its own ------------------------------------------------------------------


def structured(*events: dict[str, Any]) -> list[ChatCompletionChunk]:
    return [converter.structure(e, ChatCompletionChunk) for e in events]


def test_accumulator_assembles_hand_built_chunks() -> None:
    """ChatCompletionAccumulator folds structured chunk dicts into a ChatCompletion."""
    accumulator = ChatCompletionAccumulator()
    for item in structured(*REASONING_STREAM, *[HEARTBEAT] * 3):
        accumulator.add(item)
    final = accumulator.completion()
    assert final.id == CHUNK_ID
    [choice] = final.choices
    assert choice.message.content == "Hello there!"
    assert choice.message.reasoning_content == "The user greets."
    assert choice.finish_reason == "stop"
    assert final.usage is not None
    assert final.usage.completion_tokens_details is not None
    assert final.usage.completion_tokens_details.reasoning_tokens == 27
    assert final.citations == ["https://x.ai/news", "https://docs.x.ai/"]


@pytest.mark.parametrize(
    "events",
    [
        pytest.param(FRAGMENTED_TOOL_CALLS, id="fragments"),
        pytest.param(EMPTY_FINISH_TOOL_CALLS, id="empty-finish-reason"),
    ],
)
def test_accumulator_merges_tool_calls(events: list[dict[str, Any]]) -> None:
    """Tool-call fragments merge by index; an empty finish_reason becomes tool_calls."""
    accumulator = ChatCompletionAccumulator()
    for item in structured(*events):
        accumulator.add(item)
    [choice] = accumulator.completion().choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    assert [(c.id, c.function.name, c.function.arguments) for c in choice.message.tool_calls] == [
        ("call_51851897", "weather", WEATHER_ARGS),
        ("call_51851898", "time", TIME_ARGS),
    ]


def test_accumulator_keeps_the_last_cumulative_usage() -> None:
    """A usage object on every chunk is cumulative: the last one seen wins."""
    events = [
        chunk({"role": "assistant", "content": "a"}, usage={"prompt_tokens": 5, "total_tokens": 6}),
        chunk({"content": "b"}, usage={"prompt_tokens": 5, "total_tokens": 7}),
        chunk({}, finish_reason="stop", usage={"prompt_tokens": 5, "total_tokens": 8}),
    ]
    accumulator = ChatCompletionAccumulator()
    for item in structured(*events):
        accumulator.add(item)
    final = accumulator.completion()
    assert final.usage is not None
    assert final.usage.total_tokens == 8
    assert final.choices[0].message.content == "ab"


def test_accumulator_with_no_chunks_is_an_empty_completion() -> None:
    """An accumulator that saw nothing yields a completion with no choices, not an error."""
    final = ChatCompletionAccumulator().completion()
    assert final.choices == []
    assert final.usage is None


async def test_a_failed_stream_stays_failed(server: LocalServer) -> None:
    """After a mid-stream error, iterating again or asking for the final completion raises
    the same error instead of looking like a clean, shorter stream."""

    async def broken(request: web.Request) -> web.StreamResponse:
        response = await start_sse(request)
        await response.write(sse(*content_chunks("Hi"), done=False))
        await response.write(b'data: {"error": {"message": "boom", "type": "server_error"}}\n\n')
        await response.write_eof()
        return response

    server.handler = broken
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=0) as client:
        stream = await open_stream(client)
        with pytest.raises(GrokError, match="boom"):
            async for _ in stream:
                pass
        with pytest.raises(GrokError, match="boom"):
            await stream.__anext__()
        with pytest.raises(GrokError, match="boom"):
            await stream.get_final_completion()


async def test_a_cancelled_read_leaves_the_stream_failed_not_finished(server: LocalServer) -> None:
    """A read cancelled by a timeout around anext() closes the stream; the next read says so
    instead of ending quietly."""

    async def pausing(request: web.Request) -> web.StreamResponse:
        response = await start_sse(request)
        await response.write(sse(chunk({"content": "first"}), done=False))
        try:
            await asyncio.sleep(2)  # a pause longer than the caller's patience
            await response.write(sse(chunk({"content": "late"})))
            await response.write_eof()
        except ConnectionResetError:
            pass
        return response

    server.handler = pausing
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        stream = await open_stream(client)
        await stream.__anext__()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(stream.__anext__(), timeout=0.1)
        with pytest.raises(GrokError, match="cancelled"):
            await stream.__anext__()


def test_the_generic_stream_knows_no_protocol() -> None:
    """EventStream is protocol-neutral: the chat conveniences live on the chat stream, and
    the Responses stream builds on the neutral one instead of overriding them to raise."""
    from grok_async import EventStream, ResponseStream

    assert issubclass(AsyncStream, EventStream)
    assert issubclass(ResponseStream, EventStream)
    assert not issubclass(ResponseStream, AsyncStream)
    for chat_only in ("get_final_completion", "text", "_accumulator", "_finalize"):
        assert not hasattr(EventStream, chat_only), chat_only
    assert not hasattr(ResponseStream, "get_final_completion")
