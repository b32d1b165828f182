"""Round trips keep what the server sent (issue #18, point 6): Responses output items sent
back as input carry every field the server gave them, those this library does not model
included, at every depth (items, content parts, annotations, reasoning parts)."""

from __future__ import annotations

import copy
from typing import Any

import attrs
import orjson
from aiohttp import web

from grok_async import AsyncGrok, Response, ResponseOutputMessage, ResponseOutputText
from grok_async._serialization import decode_model, encode_json

from .conftest import FAKE_KEY, LocalServer

#: Output items as a newer server might send them: known types with fields the library
#: has no attribute for, and a server-side tool call of a type it may not model at all.
OUTPUT: list[dict[str, Any]] = [
    {
        "type": "reasoning",
        "id": "rs_1",
        "status": "completed",
        "summary": [{"type": "summary_text", "text": "Thinking.", "lang": "en"}],
        "encrypted_content": "b3BhcXVl",
        "signature": "sig-1",
    },
    {
        "type": "some_future_call",
        "id": "fc_9",
        "status": "completed",
        "action": {"type": "search", "query": "lighthouses", "sources": [{"url": "u"}]},
        "cursor": 3,
    },
    {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
        "status": "completed",
        "namespace": "tools",
    },
    {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "phase": "final",
        "content": [
            {
                "type": "output_text",
                "text": "Sunny.",
                "annotations": [
                    {
                        "type": "url_citation",
                        "url": "https://x.ai",
                        "start_index": 0,
                        "end_index": 6,
                        "confidence": 0.9,
                    }
                ],
                "logprobs": [],
                "audio_seconds": 1.5,
            }
        ],
    },
]

RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "model": "grok-4",
    "status": "completed",
    "output": OUTPUT,
}


async def test_output_items_sent_back_keep_their_unknown_fields(server: LocalServer) -> None:
    """``input=[*first.output, ...]`` sends each item as the server sent it."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(RESPONSE)

    server.handler = handler
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        first = await client.responses.create(model="grok-4", input="Hi")
        await client.responses.create(
            model="grok-4",
            input=[*first.output, {"type": "function_call_output", "call_id": "c", "output": "x"}],
        )
    sent = server.requests[1]["body"]["input"]
    assert sent[:-1] == OUTPUT
    assert sent[-1] == {"type": "function_call_output", "call_id": "c", "output": "x"}


def test_a_changed_known_field_wins_over_the_received_one() -> None:
    """Unknown fields ride along, but a field the caller changed is sent as changed, and a
    part the caller built by hand sends only what it has."""
    response = decode_model(copy.deepcopy(RESPONSE), Response)
    message = response.output[3]
    assert isinstance(message, ResponseOutputMessage)
    part = message.content[0]
    assert isinstance(part, ResponseOutputText)
    part.text = "Cloudy."
    message.content.append(ResponseOutputText(text="Later."))
    sent = orjson.loads(encode_json({"input": [message]}))["input"][0]
    assert sent["phase"] == "final"
    assert sent["content"][0]["text"] == "Cloudy."
    assert sent["content"][0]["audio_seconds"] == 1.5
    assert sent["content"][0]["annotations"][0]["confidence"] == 0.9
    assert sent["content"][1] == {"type": "output_text", "text": "Later.", "annotations": []}


def test_a_copy_keeps_nothing_it_did_not_receive() -> None:
    """An item copied with ``attrs.evolve`` (a new object, no raw form) sends its fields;
    a decoded item never sends a known field the server left out, nor a null for it."""
    response = decode_model(copy.deepcopy(RESPONSE), Response)
    reasoning = response.output[0]
    copied = attrs.evolve(reasoning)
    sent_copy = orjson.loads(encode_json(copied))
    assert "signature" not in sent_copy
    sent = orjson.loads(encode_json(reasoning))
    assert "content" not in sent  # a known field the server did not send
    assert sent["signature"] == "sig-1"
