"""Streamed Responses: typed named events, text(), the final response, error events, premature
ends, releasing connections, and the accumulator on hand-built events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web

from grok_async import (
    APIConnectionError,
    APIResponseValidationError,
    AsyncGrok,
    BadRequestError,
    GrokError,
    InternalServerError,
    NotFoundError,
    Response,
    ResponseAccumulator,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFailedError,
    ResponseFailedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionToolCall,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseStream,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)
from grok_async._sse import SSEDecoder
from grok_async.testing import FakeGrok, Fault

from .conftest import FAKE_KEY, LocalServer, completion_body, wait_until

MODEL = "grok-3"
REASONING_MODEL = "grok-3-mini"
REQUEST_ID = "req-responses-stream-1"


def client_for(fake: FakeGrok | LocalServer, **options: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)


async def collect(stream: AsyncIterator[Any], into: list[Any]) -> list[Any]:
    """Append every item of ``stream`` to ``into`` (kept by the caller if this raises)."""
    async for item in stream:
        into.append(item)
    return into


# -- a scripted server's events ---------------------------------------------------------------


def named(payload: dict[str, Any], *, name: str | None = None) -> bytes:
    """One named SSE event: ``event: <type>`` then the JSON payload."""
    event = name if name is not None else payload["type"]
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1754475266,
    "model": "grok-4",
    "status": "in_progress",
    "output": [],
}
MESSAGE_ITEM = {"id": "msg_1", "type": "message", "role": "assistant", "content": []}
FINAL_MESSAGE = {
    **MESSAGE_ITEM,
    "status": "completed",
    "content": [{"type": "output_text", "text": "Hello there", "annotations": []}],
}


def text_events(*pieces: str) -> list[dict[str, Any]]:
    """The events before the terminal one, of an answer made of ``pieces``."""
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    return [
        {"type": "response.created", "response": RESPONSE},
        {"type": "response.in_progress", "response": RESPONSE},
        {"type": "response.output_item.added", "output_index": 0, "item": MESSAGE_ITEM},
        *({"type": "response.output_text.delta", **where, "delta": p} for p in pieces),
        {"type": "response.output_text.done", **where, "text": "".join(pieces)},
    ]


def completed(**changes: Any) -> dict[str, Any]:
    return {
        "type": "response.completed",
        "response": {
            **RESPONSE,
            "status": "completed",
            "output": [FINAL_MESSAGE],
            "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
            **changes,
        },
    }


def numbered(events: list[dict[str, Any]]) -> bytes:
    return b"".join(named({**e, "sequence_number": n}) for n, e in enumerate(events))


async def start_sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "x-request-id": REQUEST_ID}
    )
    await response.prepare(request)
    return response


def streaming(body: bytes, closed: list[str] | None = None, linger: float = 0.0) -> Any:
    """A handler that streams ``body`` to stream requests (then lingers ``linger`` seconds
    with comments) and answers a plain chat completion otherwise."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if not (await request.json()).get("stream"):
            return web.json_response(completion_body())
        response = await start_sse(request)
        try:
            await response.write(body)
            for _ in range(int(linger / 0.01)):
                await asyncio.sleep(0.01)
                await response.write(b": still here\n\n")
            await response.write_eof()
        except ConnectionResetError:
            if closed is not None:
                closed.append("reset")
        return response

    return handler


async def plain_call_succeeds(client: AsyncGrok, within: float = 2.0) -> bool:
    """A non-streamed call completes in time: the single pooled connection is free."""
    reply = await asyncio.wait_for(
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}]),
        within,
    )
    return reply.choices[0].message.content == "Hello!"


async def open_stream(client: AsyncGrok) -> ResponseStream:
    return await client.responses.create(model=MODEL, input="Hi", stream=True)


# -- against the emulator ---------------------------------------------------------------------


async def test_events_are_typed_and_in_order(fake_grok: FakeGrok) -> None:
    """created, in_progress, item/part/delta events, then completed; sequence numbers count up."""
    async with client_for(fake_grok) as client:
        # Annotated: mypy checks that the stream=True overload returns a ResponseStream.
        stream: ResponseStream = await client.responses.create(
            model=REASONING_MODEL, input="Hi", stream=True
        )
        assert isinstance(stream, ResponseStream)
        async with stream:
            events = [event async for event in stream]
    assert isinstance(events[0], ResponseCreatedEvent)
    assert isinstance(events[1], ResponseInProgressEvent)
    assert isinstance(events[-1], ResponseCompletedEvent)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert fake_grok.last_request.json["stream"] is True
    kinds = {type(e) for e in events}
    assert {
        ResponseOutputItemAddedEvent,
        ResponseOutputItemDoneEvent,
        ResponseReasoningSummaryTextDeltaEvent,
        ResponseTextDeltaEvent,
        ResponseTextDoneEvent,
    } <= kinds
    # The emulator sends reasoning_summary_part events this library has no class for.
    generic = [e for e in events if type(e) is ResponseStreamEvent]
    assert {e.type for e in generic} == {
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done",
    }
    assert generic[0].raw["part"] == {"type": "summary_text", "text": ""}
    created = events[0]
    assert isinstance(created, ResponseCreatedEvent) and created.response is not None
    assert created.response.status == "in_progress"


async def test_final_response_matches_the_non_streamed_one(fake_grok: FakeGrok) -> None:
    """The streamed final response has the text, items and usage of the same call unstreamed."""
    async with client_for(fake_grok) as client:
        plain = await client.responses.create(model=REASONING_MODEL, input="Compare me")
        async with client.responses.stream(model=REASONING_MODEL, input="Compare me") as stream:
            texts = [piece async for piece in stream.text()]
            final = await stream.get_final_response()
    assert "".join(texts) == plain.output_text
    assert final.output_text == plain.output_text
    assert [type(i) for i in final.output] == [ResponseReasoningItem, ResponseOutputMessage]
    assert final.usage == plain.usage
    assert final.status == "completed"
    assert final.request_id == stream.request_id


async def test_streamed_function_calls_are_assembled(fake_grok: FakeGrok) -> None:
    """A tool call streams as argument deltas; the final response has the whole call."""
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    async with (
        client_for(fake_grok) as client,
        client.responses.stream(model=MODEL, input="please lookup", tools=[tool]) as stream,
    ):
        events = [event async for event in stream]
        final = await stream.get_final_response()
    deltas = [e for e in events if isinstance(e, ResponseFunctionCallArgumentsDeltaEvent)]
    assert "".join(d.delta for d in deltas) == "{}"
    (call,) = final.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert (call.name, call.arguments) == ("lookup", "{}")


async def test_an_error_event_raises_after_the_earlier_events(fake_grok: FakeGrok) -> None:
    """Fault.error_event: the events before it arrive, then an InternalServerError with the
    server's message; nothing is retried."""
    fake_grok.enqueue(Fault.error_event("the model fell over", after_chunks=5))
    received: list[ResponseStreamEvent] = []
    async with client_for(fake_grok) as client:
        stream = await open_stream(client)
        with pytest.raises(InternalServerError, match="the model fell over") as info:
            await collect(stream, received)
    assert len(received) == 5
    assert info.value.status_code == 500
    assert info.value.code == "internal_error"
    assert info.value.request_id == stream.request_id
    assert fake_grok.stats.requests == 1


async def test_a_body_ending_before_the_terminal_event_is_an_error(fake_grok: FakeGrok) -> None:
    """Fault.no_done ends the body before response.completed: APIConnectionError, every
    earlier event delivered, and get_final_response() raises it too."""
    fake_grok.enqueue(Fault.no_done())
    received: list[ResponseStreamEvent] = []
    async with client_for(fake_grok) as client:
        stream = await open_stream(client)
        with pytest.raises(APIConnectionError, match=r"response\.completed"):
            await collect(stream, received)
        with pytest.raises(APIConnectionError):
            await stream.get_final_response()
    assert received
    assert not any(isinstance(e, ResponseCompletedEvent) for e in received)
    assert isinstance(received[-1], ResponseOutputItemDoneEvent)


async def test_a_status_fault_raises_at_create(fake_grok: FakeGrok) -> None:
    """A 4xx before the stream raises at create(), before any iteration."""
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError):
            await client.responses.create(model="grok-nope", input="Hi", stream=True)


async def test_a_503_before_the_stream_is_retried(
    fake_grok: FakeGrok, no_backoff: list[float]
) -> None:
    """A retryable status before the first byte is retried; the stream then works."""
    fake_grok.enqueue(Fault.status(503))
    async with (
        client_for(fake_grok) as client,
        client.responses.stream(model=MODEL, input="Hi") as stream,
    ):
        final = await stream.get_final_response()
    assert final.output_text
    assert fake_grok.stats.requests == 2


async def test_a_reset_mid_stream_is_a_connection_error(fake_grok: FakeGrok) -> None:
    """A connection dropped mid-stream raises APIConnectionError and is not retried."""
    fake_grok.enqueue(Fault.reset_mid_stream(after_chunks=3))
    received: list[ResponseStreamEvent] = []
    async with client_for(fake_grok) as client:
        stream = await open_stream(client)
        with pytest.raises(APIConnectionError):
            await collect(stream, received)
    assert len(received) == 3
    assert fake_grok.stats.requests == 1


# -- against a scripted server ----------------------------------------------------------------


@pytest.mark.parametrize(
    "ending",
    [
        pytest.param(b"", id="end-of-body"),
        pytest.param(b"data: [DONE]\n\n", id="done"),
    ],
)
async def test_a_terminal_event_then_the_end_is_clean_and_reuses_the_connection(
    server: LocalServer, ending: bytes
) -> None:
    """response.completed followed by the end of the body, or by [DONE], ends cleanly; the
    connection goes back to the pool."""
    server.handler = streaming(numbered([*text_events("Hello", " there"), completed()]) + ending)
    async with client_for(server) as client:
        for _ in range(2):
            async with client.responses.stream(model=MODEL, input="Hi") as stream:
                final = await stream.get_final_response()
            assert final.output_text == "Hello there"
            assert final.id == "resp_1"
            assert final.request_id == REQUEST_ID
    assert len(server.requests) == 2
    assert len(set(server.peers)) == 1


async def test_an_xai_error_event_keeps_its_status_and_code(server: LocalServer) -> None:
    """event: error with xAI's {"status": 400, "error": {...}} raises BadRequestError with the
    server's code and message, after the earlier events."""
    error = {
        "type": "error",
        "status": 400,
        "error": {
            "code": "previous_response_not_found",
            "message": "Previous response with id 'x' not found.",
            "param": "previous_response_id",
        },
    }
    closed: list[str] = []
    server.handler = streaming(
        numbered(text_events("a", "b")) + named(error), closed=closed, linger=1.0
    )
    received: list[ResponseStreamEvent] = []
    async with client_for(server, max_connections=1) as client:
        stream = await open_stream(client)
        with pytest.raises(BadRequestError, match="Previous response with id 'x'") as info:
            await collect(stream, received)
        # The failed stream gave its connection up: the only pooled slot is free.
        assert await plain_call_succeeds(client)
    assert info.value.code == "previous_response_not_found"
    assert info.value.request_id == REQUEST_ID
    assert [e.delta for e in received if isinstance(e, ResponseTextDeltaEvent)] == ["a", "b"]
    assert await wait_until(lambda: closed == ["reset"])


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            named({"type": "error", "code": "server_error", "message": "boom"}), id="openai-shape"
        ),
        pytest.param(named({"message": "boom"}, name="error"), id="named-only"),
        pytest.param(b'data: {"error": {"message": "boom"}}\n\n', id="chat-style"),
    ],
)
async def test_every_error_event_shape_raises(server: LocalServer, event: bytes) -> None:
    """OpenAI's flat error event, a bare event: error, and a chat-style {"error"} all raise
    an APIStatusError with the message."""
    server.handler = streaming(numbered(text_events("a")) + event)
    async with client_for(server) as client:
        stream = await open_stream(client)
        with pytest.raises(InternalServerError, match="boom"):
            await collect(stream, [])


async def test_unknown_event_types_are_delivered_generically(server: LocalServer) -> None:
    """Event types the library does not know arrive as ResponseStreamEvent with raw data."""
    future = {"type": "response.web_search_call.searching", "item_id": "ws_1", "extra": [1]}
    server.handler = streaming(
        numbered([*text_events("Hi"), future, {"type": "response.quantum.delta"}, completed()])
    )
    async with (
        client_for(server) as client,
        client.responses.stream(model=MODEL, input="Hi") as stream,
    ):
        events = [event async for event in stream]
    unknown = [e for e in events if type(e) is ResponseStreamEvent]
    assert [e.type for e in unknown] == [
        "response.web_search_call.searching",
        "response.quantum.delta",
    ]
    assert unknown[0].raw["extra"] == [1]
    assert isinstance(events[-1], ResponseCompletedEvent)


async def test_data_only_events_and_unnamed_payloads_decode(server: LocalServer) -> None:
    """Without event: lines the payload's type decides; without a type the name does."""
    delta = {"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Hi"}
    body = (
        b"data: " + orjson.dumps({"type": "response.created", "response": RESPONSE}) + b"\n\n"
        + named(delta, name="response.output_text.delta")
        + b"data: " + orjson.dumps(completed()) + b"\n\n"
    )  # fmt: skip
    server.handler = streaming(body)
    async with client_for(server) as client:
        stream = await open_stream(client)
        events = [event async for event in stream]
    assert [type(e) for e in events] == [
        ResponseCreatedEvent,
        ResponseTextDeltaEvent,
        ResponseCompletedEvent,
    ]
    assert isinstance(events[1], ResponseTextDeltaEvent) and events[1].delta == "Hi"


async def test_a_malformed_event_is_a_validation_error(server: LocalServer) -> None:
    """An event that is not JSON raises APIResponseValidationError with the text attached."""
    server.handler = streaming(numbered(text_events("a")) + b"event: x\ndata: {nope\n\n")
    async with client_for(server) as client:
        stream = await open_stream(client)
        with pytest.raises(APIResponseValidationError) as info:
            await collect(stream, [])
    assert info.value.body == "{nope"


async def test_response_failed_is_yielded_and_get_final_response_raises(
    server: LocalServer,
) -> None:
    """response.failed arrives as an event; get_final_response() raises ResponseFailedError
    carrying the failed response and its error."""
    failed = {
        "type": "response.failed",
        "response": {
            **RESPONSE,
            "status": "failed",
            "error": {"code": "server_error", "message": "The model crashed."},
        },
    }
    server.handler = streaming(numbered([*text_events("par"), failed]))
    async with client_for(server) as client:
        async with client.responses.stream(model=MODEL, input="Hi") as stream:
            events = [event async for event in stream]
        assert isinstance(events[-1], ResponseFailedEvent)
        async with client.responses.stream(model=MODEL, input="Hi") as stream:
            with pytest.raises(ResponseFailedError, match="The model crashed") as info:
                await stream.get_final_response()
    assert info.value.code == "server_error"
    assert info.value.response.status == "failed"
    assert info.value.response.id == "resp_1"
    assert info.value.request_id == REQUEST_ID


async def test_response_incomplete_is_a_final_response(server: LocalServer) -> None:
    """response.incomplete ends the stream cleanly; the final response says why."""
    incomplete = {
        "type": "response.incomplete",
        "response": {
            **RESPONSE,
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
        },
    }
    server.handler = streaming(numbered([*text_events("Hel"), incomplete]))
    async with (
        client_for(server) as client,
        client.responses.stream(model=MODEL, input="Hi") as stream,
    ):
        final = await stream.get_final_response()
    assert final.status == "incomplete"
    assert final.incomplete_details is not None
    assert final.incomplete_details.reason == "max_output_tokens"
    # The terminal response carried no output: it is rebuilt from the deltas.
    assert final.output_text == "Hel"


def endless(closed: list[str]) -> Any:
    """A slow, long Responses stream; records when the client hangs up."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if not (await request.json()).get("stream"):
            return web.json_response(completion_body())
        response = await start_sse(request)
        try:
            await response.write(numbered(text_events()[:3]))
            for number in range(1000):
                delta = {"type": "response.output_text.delta", "delta": f"{number} "}
                await response.write(named(delta))
                await asyncio.sleep(0.005)
            await response.write_eof()
        except ConnectionResetError:
            closed.append("reset")
        return response

    return handler


async def test_closing_early_frees_the_only_connection(server: LocalServer) -> None:
    """max_connections=1: ten streams abandoned early neither drain nor exhaust the pool."""
    closed: list[str] = []
    server.handler = endless(closed)
    loop = asyncio.get_running_loop()
    async with client_for(server, max_connections=1) as client:
        start = loop.time()
        for _ in range(10):
            async with client.responses.stream(model=MODEL, input="Hi") as stream:
                async for text in stream.text():
                    if text == "1 ":
                        break
        # Draining ten streams of 1000 events 5 ms apart would take over 50 s.
        assert loop.time() - start < 5
        assert await plain_call_succeeds(client)
    assert await wait_until(lambda: len(closed) == 10)
    assert len(set(server.peers)) == 11


async def test_a_dropped_stream_is_freed_by_aclose(server: LocalServer) -> None:
    """aclose() after two events closes the response at once; the pool slot is free."""
    closed: list[str] = []
    server.handler = endless(closed)
    async with client_for(server, max_connections=1) as client:
        stream = await open_stream(client)
        assert [type(await anext(stream)), type(await anext(stream))] == [
            ResponseCreatedEvent,
            ResponseInProgressEvent,
        ]
        await stream.aclose()
        await stream.aclose()  # idempotent
        assert await plain_call_succeeds(client, within=1.0)
        with pytest.raises(StopAsyncIteration):
            await anext(stream)
    assert await wait_until(lambda: closed == ["reset"])


async def test_get_final_response_after_aclose_is_an_error(server: LocalServer) -> None:
    """A stream closed before its terminal event has no final response: a GrokError that
    says so, not a made-up "in_progress" response with part of the text."""
    closed: list[str] = []
    server.handler = endless(closed)
    async with client_for(server) as client:
        stream = await open_stream(client)
        for _ in range(5):
            await anext(stream)
        await stream.aclose()
        with pytest.raises(GrokError, match="closed before its final event") as info:
            await stream.get_final_response()
    assert not isinstance(info.value, APIConnectionError)  # nothing failed: it was closed
    assert info.value.request_id == REQUEST_ID


async def test_get_final_response_after_leaving_the_block_early_is_an_error(
    server: LocalServer,
) -> None:
    """Breaking out of ``async with ... stream(...)`` closes the stream: asking it for the
    final response afterwards raises instead of returning a partial one."""
    closed: list[str] = []
    server.handler = endless(closed)
    async with client_for(server) as client:
        async with client.responses.stream(model=MODEL, input="Hi") as stream:
            async for text in stream.text():
                if text == "2 ":
                    break
        with pytest.raises(GrokError, match="closed before its final event"):
            await stream.get_final_response()


async def test_closing_after_the_terminal_event_keeps_the_final_response(
    server: LocalServer,
) -> None:
    """Closed after response.completed but before the body ended: the final response
    arrived, so get_final_response() returns it."""
    server.handler = streaming(numbered([*text_events("Hello", " there"), completed()]), linger=2)
    async with client_for(server) as client:
        stream = await open_stream(client)
        async for event in stream:
            if isinstance(event, ResponseCompletedEvent):
                break
        await stream.aclose()
        final = await stream.get_final_response()
    assert final.status == "completed"
    assert final.output_text == "Hello there"


async def test_done_without_a_terminal_event_is_still_a_clean_end(server: LocalServer) -> None:
    """[DONE] is the server ending the stream (not the client closing it): the response
    assembled from the events is returned."""
    body = numbered(text_events("Hel", "lo")) + b"data: [DONE]\n\n"
    server.handler = streaming(body)
    async with client_for(server) as client, client.responses.stream(model=MODEL, input="Hi") as s:
        final = await s.get_final_response()
    assert final.output_text == "Hello"
    assert final.id == "resp_1"


async def test_a_rebuilt_final_response_keeps_unknown_fields(server: LocalServer) -> None:
    """When the terminal response's output is empty and is rebuilt from the deltas, its
    other fields stay, those the library does not know (raw, to_dict()) included."""
    terminal = completed(output=[], a_field_from_the_future={"x": [1]}, service_tier="flex")
    server.handler = streaming(numbered([*text_events("Hel", "lo"), terminal]))
    async with client_for(server) as client, client.responses.stream(model=MODEL, input="Hi") as s:
        final = await s.get_final_response()
    assert final.output_text == "Hello"  # rebuilt
    assert final.status == "completed"
    assert final.usage is not None and final.usage.total_tokens == 5
    assert final.raw["a_field_from_the_future"] == {"x": [1]}
    assert final.raw["service_tier"] == "flex"
    wire = final.to_dict()
    assert wire["service_tier"] == "flex"
    # raw describes the assembled response, not the empty output that was sent.
    assert wire["status"] == "completed"
    assert wire["output"][0]["content"][0]["text"] == "Hello"


# -- pure: decoder and accumulator ------------------------------------------------------------


def test_the_decoder_keeps_event_names_across_arbitrary_splits() -> None:
    """A Responses body split anywhere decodes to the same named events."""
    body = numbered([*text_events("Grüße", " 🚀"), completed()])
    whole = SSEDecoder().feed(body)
    for size in (1, 3, 7):
        decoder = SSEDecoder()
        pieces = [body[i : i + size] for i in range(0, len(body), size)]
        events = [event for piece in pieces for event in decoder.feed(piece)]
        assert events == whole
    assert [e.event for e in whole][:2] == ["response.created", "response.in_progress"]
    assert whole[-1].event == "response.completed"


def test_the_accumulator_rebuilds_output_from_deltas() -> None:
    """Without item-done events or a terminal output, items are rebuilt from their deltas."""
    acc = ResponseAccumulator()
    acc.add(ResponseCreatedEvent(response=Response(id="r1", model="grok-4")))
    acc.add(ResponseOutputItemAddedEvent(output_index=0, item=ResponseOutputMessage(id="m1")))
    for piece in ("Hel", "lo"):
        acc.add(ResponseTextDeltaEvent(output_index=0, delta=piece))
    acc.add(
        ResponseOutputItemAddedEvent(
            output_index=1, item=ResponseFunctionToolCall(call_id="c1", name="f")
        )
    )
    for piece in ('{"a":', "1}"):
        acc.add(ResponseFunctionCallArgumentsDeltaEvent(output_index=1, delta=piece))
    acc.add(ResponseStreamEvent(type="response.something_new"))
    response = acc.response()
    assert response.id == "r1"
    assert response.model == "grok-4"
    assert response.status is None
    message, call = response.output
    assert isinstance(message, ResponseOutputMessage)
    assert message.id == "m1"
    assert message.content == [ResponseOutputText(text="Hello")]
    assert isinstance(call, ResponseFunctionToolCall)
    assert (call.call_id, call.name, call.arguments) == ("c1", "f", '{"a":1}')
    acc.add(ResponseCompletedEvent(response=Response(id="r1", status="completed")))
    final = acc.response()
    assert final.status == "completed"
    assert final.output_text == "Hello"


def test_the_accumulator_prefers_the_terminal_response() -> None:
    """A terminal response with output is returned as sent, whatever the deltas said."""
    acc = ResponseAccumulator()
    acc.add(ResponseTextDeltaEvent(output_index=0, delta="draft"))
    sent = Response(
        id="r1",
        status="completed",
        output=[ResponseOutputMessage(content=[ResponseOutputText(text="final")])],
    )
    acc.add(ResponseCompletedEvent(response=sent))
    assert acc.response() is sent


def test_the_accumulator_uses_item_done_events() -> None:
    """An item-done event's item wins over the deltas seen for it."""
    acc = ResponseAccumulator()
    acc.add(ResponseTextDeltaEvent(output_index=0, delta="partial"))
    done = ResponseOutputMessage(id="m1", content=[ResponseOutputText(text="whole")])
    acc.add(ResponseOutputItemDoneEvent(output_index=0, item=done))
    assert acc.response().output == [done]


def test_an_empty_accumulator_gives_an_empty_response() -> None:
    """No events: an empty response, not an exception."""
    response = ResponseAccumulator().response()
    assert (response.id, response.output, response.output_text) == ("", [], "")
