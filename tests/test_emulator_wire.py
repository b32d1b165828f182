"""FakeGrok answers in today's wire format (issue #18, point 2).

Two kinds of check, both on the raw bytes (an aiohttp client, not the library):

* every answer fits the schema xAI's OpenAPI document gives its operation (a streamed
  chunk its ``ChatResponseChunk``, an error body the flat shape of SPEC.md §4b, which the
  document does not describe), so the emulator cannot drift from the document again;
* every field and header that recorded real traffic shows the API sending (SPEC.md §9) is
  sent: ``X-Request-Id`` on every response, the budget and timing headers, chat
  ``usage.cost_in_usd_ticks`` (plain, streamed, deferred) and the six fields every
  Responses object carries.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
import orjson
import pytest
from multidict import CIMultiDict

from grok_async.testing import FakeGrok, Fault, Reply
from grok_async.testing._catalog import BUILTIN_MODELS

from .openapi import (
    ERROR_SCHEMA,
    assert_fits,
    component,
    operation,
    response_schema,
    schema_validator,
)

HI = [{"role": "user", "content": "Hi"}]
GET_WEATHER = {
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
WEATHER = {"type": "function", "function": GET_WEATHER}
FLAT_WEATHER = {"type": "function", **GET_WEATHER}
CITY_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "city",
        "schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
            "required": ["name", "population"],
        },
    },
}
#: xAI's nested error event of a Responses stream (SPEC.md §4b; not in the document).
ERROR_EVENT_SCHEMA = {
    "type": "object",
    "required": ["type", "error"],
    "properties": {
        "type": {"const": "error"},
        "status": {"type": "integer"},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": ["string", "null"]}, "message": {"type": "string"}},
        },
    },
}
RATE_LIMIT_HEADERS = (
    "X-Ratelimit-Limit-Requests",
    "X-Ratelimit-Remaining-Requests",
    "X-Ratelimit-Limit-Tokens",
    "X-Ratelimit-Remaining-Tokens",
)
METRICS_HEADERS = ("X-Metrics-Ttft-Ms", "X-Metrics-Mean-Itl-Ms", "X-Metrics-E2e-Ms")
#: The fields every Responses object carries (SPEC.md §9), with the server's defaults.
RESPONSES_DEFAULTS = {
    "background": False,
    "frequency_penalty": 0,
    "presence_penalty": 0,
    "service_tier": "default",
    "top_logprobs": 0,
    "truncation": "disabled",
}


@attrs.frozen
class Exchange:
    """One request and the raw answer to it."""

    method: str
    path: str
    status: int
    headers: CIMultiDict[str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    def events(self) -> list[tuple[str | None, Any]]:
        """An SSE body's events as (event name, decoded data); ``[DONE]`` stays a string."""
        assert self.headers["Content-Type"] == "text/event-stream"
        found: list[tuple[str | None, Any]] = []
        for block in self.body.decode().split("\n\n")[:-1]:
            name, data = None, None
            for line in block.split("\n"):
                field, _, value = line.partition(": ")
                if field == "event":
                    name = value
                elif field == "data":
                    data = value if value == "[DONE]" else orjson.loads(value)
            found.append((name, data))
        return found


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def call(
    session: aiohttp.ClientSession,
    fake: FakeGrok,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Exchange:
    """Send ``method /v1<path>`` (with a JSON ``body``) and read the whole answer."""
    url = f"{fake.base_url}{path}"
    async with session.request(method, url, json=body, headers=headers) as response:
        raw = await response.read()
    return Exchange(method, f"/v1{path}", response.status, CIMultiDict(response.headers), raw)


def check_answer(exchange: Exchange) -> None:
    """A 200 fits the document's schema for its operation; an error fits SPEC.md §4b."""
    what = f"the answer to {exchange.method} {exchange.path}"
    if exchange.status >= 400:
        assert_fits(exchange.json(), schema_validator(ERROR_SCHEMA), what)
        return
    validator = response_schema(exchange.method, exchange.path, exchange.status)
    assert validator is not None, f"the document describes no body for {what}"
    assert_fits(exchange.json(), validator, what)


def check_chat_stream(exchange: Exchange) -> list[dict[str, Any]]:
    """Every chunk of a chat stream fits ``ChatResponseChunk``; ``[DONE]`` comes last."""
    events = [data for _, data in exchange.events()]
    assert events[-1] == "[DONE]"
    chunks: list[dict[str, Any]] = events[:-1]
    for position, chunk in enumerate(chunks):
        assert_fits(chunk, component("ChatResponseChunk"), f"chunk {position}")
    return chunks


def check_responses_stream(exchange: Exchange) -> list[dict[str, Any]]:
    """The responses, items and parts a Responses stream carries fit the document."""
    events = [data for _, data in exchange.events()]
    for event in events:
        where = f"the {event['type']} event"
        if "response" in event:
            assert_fits(event["response"], component("ModelResponse"), where)
        if "item" in event:
            assert_fits(event["item"], component("ModelOutput"), where)
        if "part" in event and event["type"].startswith("response.content_part"):
            assert_fits(event["part"], component("OutputMessageContent"), where)
    return events


# -- answers fit the document ------------------------------------------------------------------

CHAT_BODIES = [
    pytest.param({"model": "grok-4", "messages": HI}, id="plain"),
    pytest.param({"model": "grok-3-mini", "messages": HI}, id="reasoning"),
    pytest.param(
        {"model": "grok-4", "messages": HI, "tools": [WEATHER], "tool_choice": "required"},
        id="tool-call",
    ),
    pytest.param({"model": "grok-4", "messages": HI, "n": 2, "max_tokens": 2}, id="n-and-length"),
    pytest.param({"model": "grok-4", "messages": HI, "response_format": CITY_FORMAT}, id="json"),
]


@pytest.mark.parametrize("body", CHAT_BODIES)
async def test_chat_answers_fit_the_document(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    """A chat completion, and the same request streamed chunk by chunk, fit the document."""
    check_answer(await call(session, fake_grok, "POST", "/chat/completions", body))
    streamed = {**body, "stream": True, "stream_options": {"include_usage": True}}
    chunks = check_chat_stream(
        await call(session, fake_grok, "POST", "/chat/completions", streamed)
    )
    assert chunks[-1]["choices"] == []


@pytest.mark.fake_grok(chunk_heartbeats=3)
async def test_scripted_chat_answers_fit_the_document(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Scripted refusals and citations, and a stream's heartbeat chunks, fit too."""
    fake_grok.enqueue(
        Reply(refusal="I cannot help with that."),
        Reply("Sources below.", citations=["https://x.ai"]),
        Reply("Streamed.", citations=["https://x.ai"]),
    )
    body = {"model": "grok-4", "messages": HI}
    check_answer(await call(session, fake_grok, "POST", "/chat/completions", body))
    check_answer(await call(session, fake_grok, "POST", "/chat/completions", body))
    streamed = await call(session, fake_grok, "POST", "/chat/completions", {**body, "stream": True})
    chunks = check_chat_stream(streamed)
    assert sum(chunk["choices"][0]["delta"] == {} for chunk in chunks) >= 3


async def test_deferred_answers_fit_the_document(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """A deferred start is ``{"request_id"}`` (the document's ``StartDeferredChatResponse``;
    it lists only ``ChatResponse`` for the operation); the result fits its operation."""
    body = {"model": "grok-4", "messages": HI, "deferred": True}
    started = await call(session, fake_grok, "POST", "/chat/completions", body)
    assert_fits(started.json(), component("StartDeferredChatResponse"), "a deferred start")
    result_path = f"/chat/deferred-completion/{started.json()['request_id']}"
    check_answer(await call(session, fake_grok, "GET", result_path))


RESPONSES_BODIES = [
    pytest.param({"model": "grok-4", "input": "Hi"}, id="plain"),
    pytest.param(
        {"model": "grok-3-mini", "input": "Hi", "include": ["reasoning.encrypted_content"]},
        id="reasoning",
    ),
    pytest.param(
        {"model": "grok-4", "input": "Use get_weather.", "tools": [FLAT_WEATHER]}, id="tool-call"
    ),
    pytest.param({"model": "grok-4", "input": "Hi", "max_output_tokens": 2}, id="incomplete"),
    pytest.param(
        {
            "model": "grok-4",
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}],
            "instructions": "Be brief.",
            "temperature": 0.5,
            "text": {"format": {"type": "json_object"}},
            "service_tier": "priority",
            "background": False,
        },
        id="parameters",
    ),
]


@pytest.mark.parametrize("body", RESPONSES_BODIES)
async def test_responses_answers_fit_the_document(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    """A response (created, retrieved, deleted) and the same request streamed fit the
    document: every response, output item and content part the events carry."""
    created = await call(session, fake_grok, "POST", "/responses", body)
    check_answer(created)
    response_id = created.json()["id"]
    check_answer(await call(session, fake_grok, "GET", f"/responses/{response_id}"))
    check_answer(await call(session, fake_grok, "DELETE", f"/responses/{response_id}"))
    streamed = await call(session, fake_grok, "POST", "/responses", {**body, "stream": True})
    events = check_responses_stream(streamed)
    assert events[-1]["type"] in ("response.completed", "response.incomplete")


async def test_server_side_tool_answers_fit_the_document(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """A response with every server-side tool's call, citations and tool usage fits the
    document, plain and streamed."""
    fake_grok.add_document("c-1", "Lighthouses guide ships.")
    tools = [
        {"type": "web_search", "allowed_domains": ["x.ai"]},
        {"type": "x_search"},
        {"type": "code_interpreter"},
        {"type": "file_search", "vector_store_ids": ["c-1"]},
        {"type": "mcp", "server_url": "https://mcp.example.com", "server_label": "wiki"},
    ]
    body = {"model": "grok-4", "input": "What do lighthouses do?", "tools": tools}
    created = await call(session, fake_grok, "POST", "/responses", body)
    check_answer(created)
    kinds = [item["type"] for item in created.json()["output"]]
    assert kinds == [
        "web_search_call",
        "custom_tool_call",
        "code_interpreter_call",
        "file_search_call",
        "mcp_call",
        "message",
    ]
    assert created.json()["usage"]["server_side_tool_usage_details"]["mcp_calls"] == 1
    streamed = await call(session, fake_grok, "POST", "/responses", {**body, "stream": True})
    check_responses_stream(streamed)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/images/generations", {"prompt": "A cat"}, id="generate-url"),
        pytest.param(
            "/images/generations",
            {"prompt": "A cat", "n": 2, "response_format": "b64_json", "aspect_ratio": "16:9"},
            id="generate-b64",
        ),
        pytest.param(
            "/images/edits",
            {"prompt": "Brighter", "image": {"url": "https://example.com/a.png"}},
            id="edit",
        ),
        pytest.param("/tokenize-text", {"text": "Hello there", "model": "grok-4"}, id="tokenize"),
        pytest.param("/embeddings", {"model": "v1", "input": ["a", "b"]}, id="embeddings"),
        pytest.param(
            "/embeddings",
            {"model": "v1", "input": [[1, 2]], "encoding_format": "base64"},
            id="embeddings-base64",
        ),
        pytest.param(
            "/videos/generations", {"prompt": "A cat", "duration": 2}, id="video-generation"
        ),
        pytest.param(
            "/videos/edits",
            {"prompt": "Snow", "video": {"url": "https://example.com/a.mp4"}},
            id="video-edit",
        ),
        pytest.param(
            "/videos/extensions",
            {"prompt": "More", "video": {"file_id": "file-1"}, "duration": 2},
            id="video-extension",
        ),
    ],
)
async def test_other_answers_fit_the_document(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, path: str, body: dict[str, Any]
) -> None:
    """Images, embeddings, video starts and tokenize-text answers fit their operations'
    schemas."""
    check_answer(await call(session, fake_grok, "POST", path, body))


async def test_documents_search_answers_fit_the_document(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Matches (metadata fields and page numbers included) fit ``SearchResponse``."""
    fake_grok.add_document("c-1", "Revenue grew.\n\nCosts fell.", fields={"year": "2025"})
    body = {"query": "revenue", "source": {"collection_ids": ["c-1"]}}
    exchange = await call(session, fake_grok, "POST", "/documents/search", body)
    check_answer(exchange)
    assert exchange.json()["matches"]


@pytest.mark.fake_grok(video_delay=0.2)
async def test_video_polls_fit_the_document(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """A pending poll is 202 ``{"status", "progress"}`` as real traffic shows (the document
    describes no body for the 202: it is checked against ``VideoResponse``); the done and
    the failed answers fit the operation's 200."""
    done = await call(session, fake_grok, "POST", "/videos/generations", {"prompt": "A cat"})
    failed = await call(
        session, fake_grok, "POST", "/videos/generations", {"prompt": "A [fail] cat"}
    )
    pending = await call(session, fake_grok, "GET", f"/videos/{done.json()['request_id']}")
    assert pending.status == 202
    assert response_schema("GET", pending.path, 202) is None
    assert_fits(pending.json(), component("VideoResponse"), "a pending poll")
    assert pending.json()["status"] == "pending"
    await asyncio.sleep(0.25)
    for start, status in ((done, "done"), (failed, "failed")):
        exchange = await call(session, fake_grok, "GET", f"/videos/{start.json()['request_id']}")
        check_answer(exchange)
        assert exchange.json()["status"] == status


#: ``POST /v1/stt``'s answer as recorded from real traffic (SPEC.md §12).
TRANSCRIPTION_SCHEMA = {
    "type": "object",
    "required": ["text", "language", "duration", "words"],
    "properties": {
        "text": {"type": "string"},
        "language": {"type": "string"},
        "duration": {"type": "number"},
        "words": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["text", "start", "end"],
                "properties": {
                    "text": {"type": "string"},
                    "start": {"type": "number"},
                    "end": {"type": "number"},
                },
            },
        },
    },
}


async def test_speech_answers_have_the_recorded_shapes(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Text to speech answers ``audio/mpeg`` bytes; speech to text the recorded JSON."""
    speech = await call(
        session, fake_grok, "POST", "/tts", {"text": "Hi there", "language": "auto"}
    )
    assert speech.status == 200
    assert speech.headers["Content-Type"] == "audio/mpeg"
    form = aiohttp.FormData()
    form.add_field("language", "en")
    form.add_field("file", speech.body, filename="a.mp3", content_type="audio/mpeg")
    async with session.post(f"{fake_grok.base_url}/stt", data=form) as response:
        assert response.status == 200
        transcription = await response.json()
    assert_fits(transcription, schema_validator(TRANSCRIPTION_SCHEMA), "a transcription")
    assert transcription["text"] == "Hi there"


@pytest.mark.parametrize(
    "path",
    [
        "/models",
        "/models/grok-4",
        "/language-models",
        "/language-models/grok-3-mini",
        "/image-generation-models",
        "/image-generation-models/grok-2-image",
        "/embedding-models",
        "/embedding-models/embedding-v1",
        "/video-generation-models",
        "/video-generation-models/grok-imagine-video",
        "/api-key",
    ],
)
async def test_catalogue_answers_fit_the_document(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, path: str
) -> None:
    """The model catalogues, one model of each, and the api-key record fit the document."""
    check_answer(await call(session, fake_grok, "GET", path))


ERRORS = [
    pytest.param("POST", "/chat/completions", {"model": "grok-9", "messages": HI}, 404, id="model"),
    pytest.param("POST", "/chat/completions", {"model": "grok-4"}, 422, id="missing-field"),
    pytest.param(
        "POST",
        "/chat/completions",
        {"model": "grok-4", "messages": HI, "temperature": 3},
        400,
        id="out-of-range",
    ),
    pytest.param(
        "POST",
        "/responses",
        {"model": "grok-4", "input": "Hi", "previous_response_id": "nope"},
        404,
        id="responses-unknown-previous",
    ),
    pytest.param(
        "POST",
        "/responses",
        {"model": "grok-4", "input": "Hi", "background": "yes"},
        422,
        id="responses-wrong-type",
    ),
    pytest.param("POST", "/images/generations", {"prompt": ""}, 400, id="empty-prompt"),
    pytest.param("GET", "/chat/deferred-completion/nope", None, 404, id="unknown-deferred"),
    pytest.param("GET", "/models/grok-9", None, 404, id="unknown-model"),
    pytest.param("POST", "/embeddings", {"model": "v9", "input": "a"}, 404, id="embeddings"),
    pytest.param(
        "POST",
        "/documents/search",
        {"query": "q", "source": {"collection_ids": ["nope"]}},
        404,
        id="unknown-collection",
    ),
    pytest.param("POST", "/videos/generations", {"duration": 5}, 422, id="video-no-prompt"),
    pytest.param("GET", "/videos/nope", None, 404, id="unknown-video"),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), ERRORS)
async def test_error_answers_have_xais_flat_shape(
    fake_grok: FakeGrok,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    """Refusals are ``{"code", "error"}`` (SPEC.md §4b; the document describes none)."""
    exchange = await call(session, fake_grok, method, path, body)
    assert exchange.status == status
    operation(method, f"/v1{path}")  # a documented operation, refused for its content
    check_answer(exchange)


@pytest.mark.fake_grok(api_key="secret", quota_exhausted=True)
async def test_refusals_at_the_door_have_xais_flat_shape(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """No key (401), a wrong key (400), no credits (429), no such path (404): flat too."""
    body = {"model": "grok-4", "messages": HI}
    key = {"Authorization": "Bearer secret"}
    wrong_key = {"Authorization": "Bearer x"}
    exchanges = [
        await call(session, fake_grok, "POST", "/chat/completions", body),
        await call(session, fake_grok, "POST", "/chat/completions", body, wrong_key),
        await call(session, fake_grok, "POST", "/chat/completions", body, key),
        await call(session, fake_grok, "GET", "/no-such-endpoint", None, key),
    ]
    assert [exchange.status for exchange in exchanges] == [401, 400, 429, 404]
    for exchange in exchanges:
        check_answer(exchange)


async def test_a_responses_stream_error_event_has_xais_nested_shape(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """A Responses stream that fails mid-way sends ``event: error`` with SPEC.md §4b's
    ``{"type": "error", "status", "error": {"code", "message"}}``."""
    fake_grok.enqueue(Fault.error_event(after_chunks=3))
    body = {"model": "grok-4", "input": "Hi", "stream": True}
    name, last = (await call(session, fake_grok, "POST", "/responses", body)).events()[-1]
    assert name == "error"
    assert_fits(last, schema_validator(ERROR_EVENT_SCHEMA), "the error event")


# -- what SPEC.md §9 says the API sends --------------------------------------------------------


def price(model_id: str) -> tuple[int, int]:
    """The emulator's (prompt, completion) price of a model, in USD ticks per token."""
    model = next(m for m in BUILTIN_MODELS if m.id == model_id)
    return model.prompt_price, model.completion_price


def expected_cost(usage: dict[str, Any], model_id: str) -> int:
    """What ``usage`` costs at the catalogue's prices: the prompt at the prompt price, the
    completion and the reasoning at the completion price."""
    prompt_price, completion_price = price(model_id)
    prompt: int = usage["prompt_tokens"]
    generated: int = (
        usage["completion_tokens"] + usage["completion_tokens_details"]["reasoning_tokens"]
    )
    return prompt_price * prompt + completion_price * generated


@pytest.mark.parametrize("model", ["grok-4", "grok-3-mini"])
async def test_chat_usage_carries_its_cost_in_ticks_everywhere(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, model: str
) -> None:
    """``usage.cost_in_usd_ticks`` is in a plain answer, a stream's usage chunk and a
    deferred result, priced from the catalogue (prompt, and completion plus reasoning)."""
    body = {"model": model, "messages": HI}
    plain = (await call(session, fake_grok, "POST", "/chat/completions", body)).json()["usage"]
    streamed = {**body, "stream": True, "stream_options": {"include_usage": True}}
    exchange = await call(session, fake_grok, "POST", "/chat/completions", streamed)
    chunk_usage = check_chat_stream(exchange)[-1]["usage"]
    started = await call(
        session, fake_grok, "POST", "/chat/completions", {**body, "deferred": True}
    )
    path = f"/chat/deferred-completion/{started.json()['request_id']}"
    deferred = (await call(session, fake_grok, "GET", path)).json()["usage"]
    resolved = "grok-4-0709" if model == "grok-4" else model
    for usage in (plain, chunk_usage, deferred):
        assert usage["cost_in_usd_ticks"] == expected_cost(usage, resolved) > 0
    assert plain == chunk_usage == deferred  # the same answer, priced the same


async def test_responses_usage_carries_its_cost_in_ticks(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """A response's usage is priced like the chat answer it is made from."""
    chat = await call(
        session, fake_grok, "POST", "/chat/completions", {"model": "grok-4", "messages": HI}
    )
    body = {"model": "grok-4", "input": "Hi"}
    response = (await call(session, fake_grok, "POST", "/responses", body)).json()
    assert response["usage"]["cost_in_usd_ticks"] == chat.json()["usage"]["cost_in_usd_ticks"]


@pytest.mark.parametrize(
    ("asked", "sent"),
    [
        pytest.param({}, RESPONSES_DEFAULTS, id="defaults"),
        pytest.param(
            {
                "background": False,
                "service_tier": "priority",
                "truncation": "auto",
                "top_logprobs": 3,
                "logprobs": True,
            },
            {
                **RESPONSES_DEFAULTS,
                "service_tier": "priority",
                "truncation": "auto",
                "top_logprobs": 3,
            },
            id="echoed",
        ),
    ],
)
async def test_every_responses_object_carries_the_fields_xai_always_sends(
    fake_grok: FakeGrok,
    session: aiohttp.ClientSession,
    asked: dict[str, Any],
    sent: dict[str, Any],
) -> None:
    """``background``, ``frequency_penalty``, ``presence_penalty``, ``service_tier``,
    ``top_logprobs`` and ``truncation`` are on the created response, on every response a
    stream's ``response.*`` events carry, and on the retrieved one: as asked, else the
    server's defaults."""
    body = {"model": "grok-4", "input": "Hi", **asked}
    created = (await call(session, fake_grok, "POST", "/responses", body)).json()
    retrieved = (await call(session, fake_grok, "GET", f"/responses/{created['id']}")).json()
    streamed = await call(session, fake_grok, "POST", "/responses", {**body, "stream": True})
    carried = [event["response"] for _, event in streamed.events() if "response" in event]
    assert len(carried) == 3  # created, in_progress, completed
    for response in (created, retrieved, *carried):
        assert {key: response[key] for key in RESPONSES_DEFAULTS} == sent


async def test_every_response_carries_the_headers_xai_sends(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """``X-Request-Id`` on every response, error or not; the ``X-Ratelimit-*`` budgets on
    every model request's; the ``X-Metrics-*`` timings on every model answer's."""
    chat = {"model": "grok-4", "messages": HI}
    answers = [
        await call(session, fake_grok, "POST", "/chat/completions", chat),
        await call(session, fake_grok, "POST", "/chat/completions", {**chat, "stream": True}),
        await call(session, fake_grok, "POST", "/responses", {"model": "grok-4", "input": "Hi"}),
        await call(session, fake_grok, "POST", "/images/generations", {"prompt": "A cat"}),
        await call(session, fake_grok, "POST", "/embeddings", {"model": "v1", "input": "Hi"}),
        await call(
            session,
            fake_grok,
            "POST",
            "/videos/generations",
            {"prompt": "A cat", "model": "grok-imagine-video"},
        ),
    ]
    model_requests = [
        *answers,
        await call(session, fake_grok, "POST", "/tokenize-text", {"text": "Hi", "model": "grok-4"}),
        await call(session, fake_grok, "POST", "/chat/completions", {"model": "grok-4"}),  # 422
    ]
    others = [
        await call(session, fake_grok, "GET", "/models"),
        await call(session, fake_grok, "GET", "/api-key"),
        await call(session, fake_grok, "GET", "/chat/deferred-completion/nope"),
        await call(session, fake_grok, "GET", "/no-such-endpoint"),
    ]
    request_ids = [exchange.headers.get("X-Request-Id") for exchange in model_requests + others]
    assert all(request_ids)
    assert len(set(request_ids)) == len(request_ids)  # one per response
    for exchange in model_requests:
        for header in RATE_LIMIT_HEADERS:
            assert int(exchange.headers[header]) >= 0, (exchange.path, header)
    for exchange in answers:
        for header in METRICS_HEADERS:
            assert float(exchange.headers[header]) >= 0, (exchange.path, header)
