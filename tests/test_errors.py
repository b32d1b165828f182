"""Status codes and bodies become the right exception with a useful message."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aioresponses import aioresponses

import grok_async
from grok_async import (
    APIResponseValidationError,
    APIStatusError,
    AsyncGrok,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)

from .conftest import FAKE_KEY, LocalServer, completion_body

MESSAGES = [{"role": "user", "content": "Hi"}]
URL = "https://api.x.ai/v1/chat/completions"


def _client(**kwargs: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, max_retries=0, **kwargs)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        pytest.param(400, BadRequestError, id="400"),
        pytest.param(401, AuthenticationError, id="401"),
        pytest.param(403, PermissionDeniedError, id="403"),
        pytest.param(404, NotFoundError, id="404"),
        pytest.param(405, APIStatusError, id="405-generic"),
        pytest.param(409, ConflictError, id="409"),
        pytest.param(415, APIStatusError, id="415-generic"),
        pytest.param(422, UnprocessableEntityError, id="422"),
        pytest.param(429, RateLimitError, id="429"),
        pytest.param(500, InternalServerError, id="500"),
        pytest.param(502, InternalServerError, id="502"),
        pytest.param(503, InternalServerError, id="503"),
        pytest.param(504, InternalServerError, id="504"),
    ],
)
async def test_status_maps_to_its_class(
    mock_api: aioresponses, status: int, cls: type[APIStatusError]
) -> None:
    """Each status raises its class (exactly), carrying status, body, headers and request id."""
    body = {"code": "Some code", "error": f"problem {status}"}
    mock_api.post(URL, status=status, payload=body, headers={"x-request-id": "req-9"})
    async with _client() as client:
        with pytest.raises(APIStatusError) as info:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    exc = info.value
    assert type(exc) is cls
    assert exc.status_code == status
    assert exc.body == body
    assert exc.request_id == "req-9"
    assert exc.headers["x-request-id"] == "req-9"
    assert f"problem {status}" in str(exc)
    assert exc.code == "Some code"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"code": "Client specified an invalid argument", "error": "Temperature too hot"},
            "Temperature too hot",
            id="xai-flat",
        ),
        pytest.param(
            {"error": {"message": "Model is sleepy", "type": "invalid_request_error"}},
            "Model is sleepy",
            id="openai-nested",
        ),
        pytest.param(
            {"code": 429, "error": "You ran out of credits."}, "ran out of credits", id="int-code"
        ),
        pytest.param({"message": "plain message"}, "plain message", id="message-key"),
    ],
)
async def test_message_comes_from_the_body(
    mock_api: aioresponses, body: Any, expected: str
) -> None:
    """xAI's flat body, OpenAI's nested body and a bare message all give the server's text."""
    mock_api.post(URL, status=400, payload=body)
    async with _client() as client:
        with pytest.raises(APIStatusError) as info:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert expected in info.value.message
    assert info.value.message.startswith("HTTP 400")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html", id="html"),
        pytest.param("", "text/plain", id="empty"),
    ],
)
async def test_html_and_empty_bodies_fall_back_to_the_status_line(
    server: LocalServer, body: str, content_type: str
) -> None:
    """A proxy's HTML page or an empty body gives 'HTTP 502 Bad Gateway', not markup."""

    async def bad_gateway(request: web.Request) -> web.StreamResponse:
        return web.Response(status=502, text=body, content_type=content_type)

    server.handler = bad_gateway
    async with _client(base_url=server.base_url) as client:
        with pytest.raises(InternalServerError) as info:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert str(info.value) == "HTTP 502 Bad Gateway"
    assert "<html>" not in str(info.value)


async def test_wrong_key_400_is_an_authentication_error(mock_api: aioresponses) -> None:
    """xAI's 400 'Incorrect API key provided' raises AuthenticationError with status 400."""
    body = {
        "code": "Client specified an invalid argument",
        "error": "Incorrect API key provided: xa***yz. You can obtain an API key from https://console.x.ai.",
    }
    mock_api.post(URL, status=400, payload=body)
    async with _client() as client:
        with pytest.raises(AuthenticationError) as info:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert info.value.status_code == 400
    assert "Incorrect API key" in str(info.value)
    assert FAKE_KEY not in str(info.value)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"id": "x", "choices": [', id="truncated"),
        pytest.param(b"not json at all", id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[1, 2, 3]", id="array"),
        pytest.param(b'{"id": "x"}', id="missing-choices"),
        pytest.param(b'{"id": "x", "choices": "nope"}', id="choices-wrong-type"),
        pytest.param(b'{"id": "x", "choices": [{"message": 5}]}', id="message-wrong-type"),
    ],
)
async def test_unexpected_success_bodies_raise_validation_errors(
    server: LocalServer, raw: bytes
) -> None:
    """A 200 whose body is not a completion raises APIResponseValidationError, never a raw error."""

    async def reply(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=raw, content_type="application/json", headers={"x-request-id": "r-7"}
        )

    server.handler = reply
    async with _client(base_url=server.base_url) as client:
        with pytest.raises(APIResponseValidationError) as info:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert info.value.status_code == 200
    assert info.value.request_id == "r-7"
    assert info.value.__cause__ is None or isinstance(info.value.__cause__, grok_async.GrokError)


async def test_unknown_fields_never_raise_and_stay_reachable(server: LocalServer) -> None:
    """Fields the library does not know are kept at every level of the decoded completion."""
    body = completion_body(brand_new_top={"a": 1})
    body["choices"][0]["message"]["brand_new_message_field"] = [1, 2]
    body["usage"]["cost_in_usd_ticks"] = 12345
    body["usage"]["future_detail"] = {"x": 1}

    async def reply(request: web.Request) -> web.StreamResponse:
        return web.json_response(body, headers={"x-request-id": "r-1"})

    server.handler = reply
    async with _client(base_url=server.base_url) as client:
        result = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert result.raw["brand_new_top"] == {"a": 1}
    assert result.choices[0].message.raw["brand_new_message_field"] == [1, 2]
    assert result.usage is not None
    assert result.usage.cost_in_usd_ticks == 12345
    assert result.usage.raw["future_detail"] == {"x": 1}
    assert result.to_dict() == body
    assert result.request_id == "r-1"


async def test_request_id_falls_back_to_the_completion_id(server: LocalServer) -> None:
    """Without an x-request-id header, request_id is the completion's id."""
    async with _client(base_url=server.base_url) as client:
        result = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert result.request_id == "cmpl-1"


async def test_xai_specific_fields_are_modelled(server: LocalServer) -> None:
    """reasoning_content, citations, num_sources_used and reasoning tokens are typed fields."""
    body = completion_body(citations=["https://a.test", "https://b.test"])
    body["choices"][0]["message"]["reasoning_content"] = "Let me think."
    body["usage"] = {
        "prompt_tokens": 32,
        "completion_tokens": 9,
        "total_tokens": 135,
        "prompt_tokens_details": {"text_tokens": 32, "cached_tokens": 6},
        "completion_tokens_details": {"reasoning_tokens": 94},
        "num_sources_used": 2,
    }

    async def reply(request: web.Request) -> web.StreamResponse:
        return web.json_response(body)

    server.handler = reply
    async with _client(base_url=server.base_url) as client:
        result = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert result.choices[0].message.reasoning_content == "Let me think."
    assert result.citations == ["https://a.test", "https://b.test"]
    usage = result.usage
    assert usage is not None and usage.num_sources_used == 2
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 94
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 6
    assert result.system_fingerprint == "fp_test"


async def test_empty_finish_reason_with_tool_calls_is_normalised(server: LocalServer) -> None:
    """xAI's finish_reason "" next to tool calls becomes "tool_calls"."""
    body = completion_body(None)
    body["choices"][0]["finish_reason"] = ""
    body["choices"][0]["message"]["tool_calls"] = [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]

    async def reply(request: web.Request) -> web.StreamResponse:
        return web.json_response(body)

    server.handler = reply
    async with _client(base_url=server.base_url) as client:
        result = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    assert choice.message.tool_calls[0].function.name == "f"


def test_exception_hierarchy_and_builtins() -> None:
    """The tree matches the contract; the timeout error is also a builtin TimeoutError."""
    assert issubclass(grok_async.APITimeoutError, grok_async.APIConnectionError)
    assert issubclass(grok_async.APITimeoutError, TimeoutError)
    for cls in (BadRequestError, AuthenticationError, RateLimitError, InternalServerError):
        assert issubclass(cls, APIStatusError)
    for base in (APIStatusError, APIResponseValidationError, grok_async.APIConnectionError):
        assert issubclass(base, grok_async.GrokError)
    assert grok_async.RateLimitError.__module__ == "grok_async"


async def test_a_plain_error_traceback_does_not_blame_a_closed_client() -> None:
    """A 400 from an open client: no line of its traceback speaks of a client closed while
    the call was in flight (the case the re-raise shared with it)."""
    import traceback

    from grok_async.testing import FakeGrok, Fault

    async with FakeGrok() as fake, grok_async.AsyncGrok("k", base_url=fake.base_url) as client:
        fake.enqueue(Fault.status(400))
        with pytest.raises(grok_async.BadRequestError) as caught:
            await client.chat.completions.create(
                model="grok-4", messages=[{"role": "user", "content": "Hi"}]
            )
    text = "".join(traceback.format_exception(caught.value))
    assert "raise error" in text  # the re-raise is in the traceback...
    assert "in flight" not in text  # ...on a line that says nothing about a closed client
