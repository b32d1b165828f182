"""The local Grok emulator speaks xAI's wire format, is scriptable, and fails on demand.

These tests talk to it with a raw aiohttp client, so they check the bytes on the wire
rather than what the library makes of them.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grok_async.testing import FakeGrok, Fault, RecordedRequest, Reply, Stats, default_reply
from grok_async.testing._tokens import split_tokens

PLUGIN = "grok_async.testing.pytest_plugin"
# Once the package is installed, its pytest11 entry point loads the plugin; loading it a
# second time under its module name would be an error.
PLUGIN_INSTALLED = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
pytest_plugins = ["pytester"] + ([] if PLUGIN_INSTALLED else [PLUGIN])

INVALID_ARGUMENT = "Client specified an invalid argument"
NOT_FOUND = "Some requested entity was not found"
ROOT = Path(__file__).resolve().parent.parent

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "detailed": {"type": "boolean"},
                "ratio": {"type": ["number", "null"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "where": {
                    "type": "object",
                    "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                    "required": ["lat"],
                },
                "optional": {"type": "string"},
            },
            "required": ["city", "days", "unit", "detailed", "ratio", "tags", "where"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


def chat_body(content: str = "Hello there", **extra: Any) -> dict[str, Any]:
    return {"model": "grok-3", "messages": [{"role": "user", "content": content}], **extra}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def post_chat(
    session: aiohttp.ClientSession, fake: FakeGrok, body: Any, **kwargs: Any
) -> tuple[int, Any]:
    """POST a chat completion; (status, decoded JSON body or None)."""
    async with session.post(f"{fake.base_url}/chat/completions", json=body, **kwargs) as resp:
        raw = await resp.read()
    return resp.status, orjson.loads(raw) if raw else None


async def stream_events(session: aiohttp.ClientSession, fake: FakeGrok, body: Any) -> list[str]:
    """POST a streamed chat completion; the ``data:`` payloads, in order."""
    async with session.post(f"{fake.base_url}/chat/completions", json=body) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream"
        text = await resp.text()
    assert text.endswith("\n\n")
    events = text.split("\n\n")[:-1]
    assert all(event.startswith("data: ") and "\n" not in event for event in events)
    return [event[len("data: ") :] for event in events]


def chunks_of(events: list[str]) -> list[dict[str, Any]]:
    assert events[-1] == "[DONE]"
    return [orjson.loads(event) for event in events[:-1]]


async def read_events_until_error(resp: aiohttp.ClientResponse) -> tuple[list[bytes], Exception]:
    """Read SSE lines until the connection breaks; the data lines seen and the error."""
    lines: list[bytes] = []
    try:
        async for line in resp.content:
            if line.startswith(b"data: "):
                lines.append(line.rstrip(b"\n"))
    except Exception as exc:
        return lines, exc
    raise AssertionError("the stream ended cleanly")


def is_uuid4(value: str) -> bool:
    return uuid.UUID(value).version == 4


# -- lifecycle -----------------------------------------------------------------------


async def test_async_context_manager_serves_on_a_random_local_port() -> None:
    """`async with` starts a server on 127.0.0.1 whose base_url ends in /v1."""
    async with FakeGrok() as fake:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", fake.base_url)
        assert fake.port > 0
        assert fake.url + "/v1" == fake.base_url
        assert repr(fake) == f"<FakeGrok {fake.base_url}>"
    await fake.stop()  # stopping twice is harmless


def test_not_started_has_no_url() -> None:
    """Asking for the URL of a server that never started is a clear error."""
    fake = FakeGrok()
    assert repr(fake) == "<FakeGrok not started>"
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.base_url
    assert fake.open_connections() == 0


async def test_starting_twice_is_refused() -> None:
    """A running emulator cannot be started again."""
    async with FakeGrok() as fake:
        with pytest.raises(RuntimeError, match="already running"):
            await fake.start()


async def test_fixture_yields_a_started_emulator(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """The pytest plugin's `fake_grok` fixture is a running FakeGrok."""
    status, body = await post_chat(session, fake_grok, chat_body())
    assert status == 200
    assert body["object"] == "chat.completion"


def test_fixture_takes_options_from_the_marker(pytester: pytest.Pytester) -> None:
    """`@pytest.mark.fake_grok(**options)` configures the fixture's emulator."""
    pytester.makeini(
        """
        [pytest]
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = function
        addopts = --strict-markers
        filterwarnings = error
        """
    )
    pytester.makepyfile(
        """
        import aiohttp
        import pytest

        @pytest.mark.fake_grok(api_key="xai-from-marker")
        async def test_marker(fake_grok):
            async with aiohttp.ClientSession() as session:
                async with session.get(fake_grok.base_url + "/models") as resp:
                    assert resp.status == 401
                headers = {"Authorization": "Bearer xai-from-marker"}
                async with session.get(fake_grok.base_url + "/models", headers=headers) as resp:
                    assert resp.status == 200

        async def test_without_marker(fake_grok):
            assert fake_grok.requests == []
        """
    )
    result = pytester.runpytest_inprocess(*([] if PLUGIN_INSTALLED else ["-p", PLUGIN]))
    result.assert_outcomes(passed=2)


def test_fixture_runs_in_a_thread_without_pytest_asyncio(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without pytest-asyncio, `fake_grok` is a sync fixture serving from a thread."""
    # A plugin loaded first makes pytest_asyncio unimportable for the plugin under test.
    pytester.makepyfile(hide_asyncio="import sys\nsys.modules['pytest_asyncio'] = None\n")
    pytester.makepyfile(
        test_sync="""
        import urllib.request

        def test_sync(fake_grok):
            assert fake_grok._thread.is_alive()
            with urllib.request.urlopen(fake_grok.base_url + "/models", timeout=5) as resp:
                assert resp.status == 200
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    args = ["-p", "hide_asyncio", "-p", "no:asyncio", "-p", "no:cacheprovider"]
    result = pytester.runpytest_subprocess(*args, *([] if PLUGIN_INSTALLED else ["-p", PLUGIN]))
    result.assert_outcomes(passed=1)


def test_thread_mode_serves_blocking_clients() -> None:
    """`with FakeGrok()` runs the server in a thread, usable from synchronous code."""
    with FakeGrok() as fake:
        request = urllib.request.Request(
            f"{fake.base_url}/chat/completions",
            data=orjson.dumps(chat_body()),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert resp.status == 200
            assert orjson.loads(resp.read())["choices"][0]["finish_reason"] == "stop"
        assert fake.stats.requests == 1
        thread = fake._thread
    assert thread is not None
    assert not thread.is_alive()
    fake.stop_in_thread()  # stopping twice is harmless


async def test_thread_mode_from_async_code(session: aiohttp.ClientSession) -> None:
    """A threaded emulator also serves the test's own event loop, and counts its
    connections from any thread."""
    with FakeGrok() as fake:
        async with session.get(f"{fake.base_url}/models") as resp:
            assert resp.status == 200
        assert fake.open_connections() == 1


def test_run_forever_serves_until_sigterm() -> None:
    """`FakeGrok.run_forever` (behind `grok-async serve-fake`) announces its URL, serves,
    and exits cleanly on SIGTERM."""
    code = "from grok_async.testing import FakeGrok; FakeGrok.run_forever('127.0.0.1', 0)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        assert process.stderr is not None
        line = process.stderr.readline()
        base_url = re.search(r"http://\S+/v1", line)
        assert base_url, line
        with urllib.request.urlopen(f"{base_url.group()}/models", timeout=5) as resp:
            assert resp.status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stderr.read() == ""


# -- authentication --------------------------------------------------------------------


async def test_without_api_key_any_or_no_key_is_accepted(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """With api_key=None the emulator does not check Authorization at all."""
    status, _ = await post_chat(session, fake_grok, chat_body())
    assert status == 200
    status, _ = await post_chat(
        session, fake_grok, chat_body(), headers={"Authorization": "Bearer whatever"}
    )
    assert status == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="not-bearer"),
        pytest.param({"Authorization": "Bearer "}, id="empty-token"),
    ],
)
async def test_missing_or_malformed_key_is_401(
    session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    """No usable bearer token: 401 with xAI's flat error body."""
    async with FakeGrok(api_key="xai-secret-key-42") as fake:
        status, body = await post_chat(session, fake, chat_body(), headers=headers)
    assert status == 401
    assert set(body) == {"code", "error"}
    assert "Bearer" in body["error"]


async def test_wrong_key_is_400_with_masked_key(session: aiohttp.ClientSession) -> None:
    """xAI answers a wrong key with 400 "Incorrect API key provided", masking the key."""
    async with FakeGrok(api_key="xai-secret-key-42") as fake:
        headers = {"Authorization": "Bearer xai-wrong-key-yz"}
        status, body = await post_chat(session, fake, chat_body(), headers=headers)
        assert status == 400
        assert body == {
            "code": INVALID_ARGUMENT,
            "error": "Incorrect API key provided: xa***yz. "
            "You can obtain an API key from https://console.x.ai.",
        }
        headers = {"Authorization": "Bearer xai-secret-key-42"}
        status, _ = await post_chat(session, fake, chat_body(), headers=headers)
        assert status == 200
        recorded = [r.headers["authorization"] for r in fake.requests]
    assert recorded == ["Bearer xa***yz", "Bearer xa***42"]


async def test_api_key_endpoint_never_reveals_the_key(session: aiohttp.ClientSession) -> None:
    """GET /v1/api-key describes the key with its value redacted."""
    async with (
        FakeGrok(api_key="xai-secret-key-42") as fake,
        session.get(
            f"{fake.base_url}/api-key", headers={"Authorization": "Bearer xai-secret-key-42"}
        ) as resp,
    ):
        assert resp.status == 200
        text = await resp.text()
    assert "secret" not in text
    body = orjson.loads(text)
    assert body["redacted_api_key"] == "xa***42"
    assert set(body) == {
        "redacted_api_key",
        "user_id",
        "name",
        "create_time",
        "modify_time",
        "modified_by",
        "team_id",
        "acls",
        "api_key_id",
        "team_blocked",
        "api_key_blocked",
        "api_key_disabled",
    }
    assert body["api_key_blocked"] is False
    assert isinstance(body["acls"], list)


# -- request validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        pytest.param({"messages": [{"role": "user", "content": "x"}]}, 400, "model", id="no-model"),
        pytest.param({"model": 3, "messages": []}, 422, "model", id="model-not-string"),
        pytest.param({"model": "grok-3"}, 422, "messages", id="no-messages"),
        pytest.param(chat_body() | {"messages": []}, 400, "at least one", id="empty-messages"),
        pytest.param(chat_body() | {"messages": "hi"}, 422, "messages", id="messages-not-list"),
        pytest.param(
            {"model": "grok-3", "messages": [{"role": "robot", "content": "x"}]},
            400,
            "role",
            id="bad-role",
        ),
        pytest.param(
            {"model": "grok-3", "messages": [{"role": "user"}]}, 400, "content", id="no-content"
        ),
        pytest.param(chat_body(temperature=2.5), 400, "temperature", id="temperature-high"),
        pytest.param(chat_body(temperature=-0.1), 400, "temperature", id="temperature-low"),
        pytest.param(chat_body(temperature="hot"), 422, "temperature", id="temperature-type"),
        pytest.param(chat_body(top_p=0), 400, "top_p", id="top-p-zero"),
        pytest.param(chat_body(stop=["a", "b", "c", "d", "e"]), 400, "stop", id="five-stops"),
        pytest.param(chat_body(top_logprobs=9), 400, "top_logprobs", id="top-logprobs-9"),
        pytest.param(chat_body(n=0), 400, "n must", id="n-zero"),
        pytest.param(chat_body(n=True), 422, "n", id="n-bool"),
        pytest.param(chat_body(stream="yes"), 422, "stream", id="stream-not-bool"),
        pytest.param(chat_body(stream_options=[1]), 422, "stream_options", id="stream-options"),
        pytest.param(chat_body(max_tokens=0), 400, "max_tokens", id="max-tokens-zero"),
        pytest.param(chat_body(presence_penalty=3), 400, "presence_penalty", id="penalty"),
        pytest.param(chat_body(tools=[WEATHER_TOOL] * 129), 400, "128", id="too-many-tools"),
        pytest.param(chat_body(model="grok-2-image"), 400, "image", id="image-model"),
        pytest.param([1, 2], 422, "object", id="not-an-object"),
    ],
)
async def test_invalid_chat_requests_are_refused(
    fake_grok: FakeGrok,
    session: aiohttp.ClientSession,
    body: Any,
    status: int,
    needle: str,
) -> None:
    """Invalid requests get xAI's status and flat error body naming the problem."""
    got_status, got = await post_chat(session, fake_grok, body)
    assert got_status == status
    assert got["code"] == INVALID_ARGUMENT
    assert needle in got["error"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(chat_body(temperature=0), id="temperature-0"),
        pytest.param(chat_body(temperature=2), id="temperature-2"),
        pytest.param(chat_body(stop=["a", "b", "c", "d"]), id="four-stops"),
        pytest.param(chat_body(stop="a"), id="stop-string"),
        pytest.param(chat_body(logprobs=True, top_logprobs=8), id="top-logprobs-8"),
        pytest.param(chat_body(top_p=1), id="top-p-1"),
        pytest.param(chat_body(search_parameters={"mode": "auto"}, seed=7), id="xai-fields"),
        pytest.param(
            chat_body(messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}]),
            id="content-parts",
        ),
    ],
)
async def test_limit_values_are_accepted(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    """Values at the edge of the documented ranges (and unknown fields) pass."""
    status, _ = await post_chat(session, fake_grok, body)
    assert status == 200


async def test_unknown_model_is_404_naming_it(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """An unknown model gets xAI's 404 "does not exist or your team ... no access"."""
    status, body = await post_chat(session, fake_grok, chat_body(model="grok-99"))
    assert status == 404
    assert body["code"] == NOT_FOUND
    assert re.fullmatch(
        r"The model grok-99 does not exist or your team [0-9a-f-]{36} "
        r"does not have access to it\.",
        body["error"],
    )


@pytest.mark.parametrize(
    ("content_type", "data", "status"),
    [
        pytest.param("text/plain", b'{"model": "grok-3"}', 415, id="not-json-content-type"),
        pytest.param("application/json", b"", 415, id="empty-body"),
        pytest.param("application/json", b'{"model": ', 400, id="invalid-json"),
    ],
)
async def test_bodies_that_are_not_json_are_refused(
    fake_grok: FakeGrok,
    session: aiohttp.ClientSession,
    content_type: str,
    data: bytes,
    status: int,
) -> None:
    """xAI wants `Content-Type: application/json` (415) and well-formed JSON (400)."""
    async with session.post(
        f"{fake_grok.base_url}/chat/completions",
        data=data,
        headers={"Content-Type": content_type},
    ) as resp:
        assert resp.status == status
        body = await resp.json()
    assert body["code"] == INVALID_ARGUMENT


async def test_extra_models_are_accepted(session: aiohttp.ClientSession) -> None:
    """`models=[...]` adds names the emulator accepts and lists."""
    async with FakeGrok(models=["my-test-model"]) as fake:
        status, body = await post_chat(session, fake, chat_body(model="my-test-model"))
        assert status == 200
        assert body["model"] == "my-test-model"
        async with session.get(f"{fake.base_url}/models") as resp:
            ids = [m["id"] for m in (await resp.json())["data"]]
    assert "my-test-model" in ids


# -- chat completions ------------------------------------------------------------------


async def test_completion_has_xai_shape(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """A non-streamed answer carries every field of xAI's ChatResponse."""
    async with session.post(
        f"{fake_grok.base_url}/chat/completions", json=chat_body(model="grok-4")
    ) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
        request_id = resp.headers["x-request-id"]
        body = await resp.json()
    assert is_uuid4(request_id)
    assert is_uuid4(body["id"])
    assert body["id"] != request_id
    assert body["object"] == "chat.completion"
    assert abs(body["created"] - time.time()) < 60
    assert body["model"] == "grok-4-0709"  # the alias is resolved, as xAI does
    assert body["system_fingerprint"].startswith("fp_")
    [choice] = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    message = choice["message"]
    assert message["role"] == "assistant"
    assert message["content"].endswith(".")
    assert message["refusal"] is None
    assert "reasoning_content" not in message  # grok-4 hides its reasoning
    usage = body["usage"]
    assert usage["prompt_tokens"] == 2  # "Hello there"
    assert usage["completion_tokens"] > 8
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0
    assert usage["prompt_tokens_details"]["text_tokens"] == 2
    assert usage["num_sources_used"] == 0


@pytest.mark.parametrize(
    "model", ["grok-3-mini", "grok-code-fast-1", "grok-4-fast-reasoning", "grok-4-1-fast"]
)
async def test_reasoning_models_add_reasoning_content(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, model: str
) -> None:
    """Reasoning models return reasoning_content, counted apart from completion tokens."""
    _, body = await post_chat(session, fake_grok, chat_body(model=model))
    message = body["choices"][0]["message"]
    assert message["reasoning_content"]
    usage = body["usage"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    assert reasoning > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] + reasoning


async def test_non_reasoning_models_have_no_reasoning(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """ "-non-reasoning" models do not reason, although their name contains "reasoning"."""
    _, body = await post_chat(session, fake_grok, chat_body(model="grok-4-fast-non-reasoning"))
    assert "reasoning_content" not in body["choices"][0]["message"]


async def test_answers_are_deterministic(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """The same request gets the same answer (from any emulator); another one differs."""
    _, first = await post_chat(session, fake_grok, chat_body("What is 2+2?"))
    _, again = await post_chat(session, fake_grok, chat_body("What is 2+2?", temperature=1))
    _, other = await post_chat(session, fake_grok, chat_body("Something else"))
    content = first["choices"][0]["message"]["content"]
    assert again["choices"][0]["message"]["content"] == content
    assert other["choices"][0]["message"]["content"] != content
    assert first["id"] != again["id"]
    [expected] = default_reply(chat_body("What is 2+2?"))
    assert expected.content == content


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
async def test_token_limit_truncates_with_finish_reason_length(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, field: str
) -> None:
    """max_tokens / max_completion_tokens cut the answer: finish_reason "length"."""
    _, full = await post_chat(session, fake_grok, chat_body())
    _, cut = await post_chat(session, fake_grok, chat_body() | {field: 3})
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] == 3
    content = cut["choices"][0]["message"]["content"]
    assert full["choices"][0]["message"]["content"].startswith(content)


async def test_n_gives_that_many_distinct_choices(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """`n` yields n choices, indexed in order, with different texts."""
    _, body = await post_chat(session, fake_grok, chat_body(n=3))
    choices = body["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2]
    assert len({c["message"]["content"] for c in choices}) == 3
    completion = sum(len(split_tokens(c["message"]["content"])) for c in choices)
    assert body["usage"]["completion_tokens"] == completion


# -- tool calls --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "tool_choice"),
    [
        pytest.param("Hi", "required", id="required"),
        pytest.param("Hi", {"type": "function", "function": {"name": "get_weather"}}, id="named"),
        pytest.param("Use get_weather for Paris", "auto", id="mentioned"),
        pytest.param("Use get_weather for Paris", None, id="mentioned-default-choice"),
    ],
)
async def test_tool_call_when_required_named_or_mentioned(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, content: str, tool_choice: Any
) -> None:
    """The answer calls the tool, with schema-shaped placeholder arguments."""
    extra = {"tool_choice": tool_choice} if tool_choice is not None else {}
    body = chat_body(content, tools=[WEATHER_TOOL, TIME_TOOL], **extra)
    _, answer = await post_chat(session, fake_grok, body)
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert re.fullmatch(r"call_[0-9a-f]+", call["id"])
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert orjson.loads(call["function"]["arguments"]) == {
        "city": "example",
        "days": 1,
        "unit": "celsius",
        "detailed": True,
        "ratio": 1.5,
        "tags": ["example"],
        "where": {"lat": 1.5},
    }


@pytest.mark.parametrize(
    ("messages", "tool_choice"),
    [
        pytest.param([{"role": "user", "content": "Use get_weather"}], "none", id="choice-none"),
        pytest.param([{"role": "user", "content": "Just chat"}], "auto", id="not-mentioned"),
        pytest.param(
            [
                {"role": "user", "content": "Use get_weather"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
            ],
            "required",
            id="after-tool-result",
        ),
    ],
)
async def test_no_tool_call_otherwise(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, messages: Any, tool_choice: str
) -> None:
    """No call when tool_choice is "none", nothing asks for one, or a tool just answered."""
    body = {"model": "grok-3", "messages": messages, "tools": [WEATHER_TOOL]}
    _, answer = await post_chat(session, fake_grok, body | {"tool_choice": tool_choice})
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "tool_calls" not in choice["message"]
    assert choice["message"]["content"]


async def test_every_mentioned_tool_is_called_unless_parallel_is_off(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Mentioning two tools calls both; parallel_tool_calls=false calls only the first."""
    body = chat_body("get_time and get_weather please", tools=[WEATHER_TOOL, TIME_TOOL])
    _, both = await post_chat(session, fake_grok, body)
    calls = both["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert calls[1]["function"]["arguments"] == "{}"
    assert calls[0]["id"] != calls[1]["id"]
    _, one = await post_chat(session, fake_grok, body | {"parallel_tool_calls": False})
    assert len(one["choices"][0]["message"]["tool_calls"]) == 1


# -- streaming ---------------------------------------------------------------------------


async def test_stream_matches_the_non_streamed_answer(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Streamed: data-only SSE, role with the first token, reasoning before content token
    by token, a finish chunk, a usage chunk with no choices, then [DONE]."""
    body = chat_body(model="grok-3-mini")
    _, whole = await post_chat(session, fake_grok, body)
    stream_body = body | {"stream": True, "stream_options": {"include_usage": True}}
    chunks = chunks_of(await stream_events(session, fake_grok, stream_body))
    assert len({c["id"] for c in chunks}) == 1
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["model"] == "grok-3-mini" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0]["role"] == "assistant"
    assert "reasoning_content" in deltas[0]  # the first token rides with the role
    kinds = [next(k for k in d if k != "role") if d else "finish" for d in deltas]
    assert kinds == sorted(kinds, key=["reasoning_content", "content", "finish"].index)
    message = whole["choices"][0]["message"]
    reasoning = "".join(d.get("reasoning_content", "") for d in deltas)
    content = "".join(d.get("content", "") for d in deltas)
    assert reasoning == message["reasoning_content"]
    assert content == message["content"]
    assert kinds.count("content") == len(split_tokens(content))
    finish = chunks[-2]["choices"]
    assert finish == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert all("finish_reason" not in c["choices"][0] for c in chunks[:-2])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == whole["usage"]


async def test_stream_without_include_usage_has_no_usage_chunk(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Without stream_options.include_usage, no chunk carries usage."""
    chunks = chunks_of(await stream_events(session, fake_grok, chat_body(stream=True)))
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_stream_sends_tool_calls_whole(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """A streamed tool call arrives whole in one chunk, with index, id, type, function."""
    body = chat_body(tools=[WEATHER_TOOL], tool_choice="required", stream=True)
    chunks = chunks_of(await stream_events(session, fake_grok, body))
    with_calls = [c for c in chunks if c["choices"] and "tool_calls" in c["choices"][0]["delta"]]
    [chunk] = with_calls
    [call] = chunk["choices"][0]["delta"]["tool_calls"]
    assert call["index"] == 0
    assert call["type"] == "function"
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert orjson.loads(call["function"]["arguments"])["city"] == "example"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_stream_of_n_choices_finishes_each(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """With n=2 each choice gets its role chunk and its own finish chunk."""
    chunks = chunks_of(await stream_events(session, fake_grok, chat_body(n=2, stream=True)))
    finishes = [c["choices"][0]["index"] for c in chunks if "finish_reason" in c["choices"][0]]
    roles = [c["choices"][0]["index"] for c in chunks if "role" in c["choices"][0]["delta"]]
    assert finishes == [0, 1]
    assert roles == [0, 1]


async def test_heartbeats_come_before_the_content(session: aiohttp.ClientSession) -> None:
    """`chunk_heartbeats` sends empty-delta chunks first, as reasoning models do."""
    async with FakeGrok(chunk_heartbeats=3) as fake:
        chunks = chunks_of(await stream_events(session, fake, chat_body(stream=True)))
    assert [c["choices"] for c in chunks[:3]] == [[{"index": 0, "delta": {}}]] * 3
    assert chunks[3]["choices"][0]["delta"]["role"] == "assistant"


async def test_tokens_per_second_paces_the_stream(session: aiohttp.ClientSession) -> None:
    """`tokens_per_second` spaces the chunks out."""
    async with FakeGrok(tokens_per_second=200) as fake:
        started = time.monotonic()
        events = await stream_events(session, fake, chat_body(stream=True))
        elapsed = time.monotonic() - started
    assert elapsed >= (len(events) - 1) / 200 * 0.9


# -- scripting ---------------------------------------------------------------------------


async def test_enqueued_items_answer_in_order_then_default(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """enqueue() items are consumed one per request, then the default answer returns."""
    fake_grok.enqueue("first", Reply("second"), Fault.status(500))
    contents = []
    for _ in range(2):
        _, body = await post_chat(session, fake_grok, chat_body())
        contents.append(body["choices"][0]["message"]["content"])
    status, _ = await post_chat(session, fake_grok, chat_body())
    _, body = await post_chat(session, fake_grok, chat_body())
    assert contents == ["first", "second"]
    assert status == 500
    assert body["choices"][0]["message"]["content"] == default_reply(chat_body())[0].content


async def test_replies_iterable_is_a_script(session: aiohttp.ClientSession) -> None:
    """An iterable `replies` answers one item per request; the queue goes first."""
    async with FakeGrok(replies=["a", Reply("b")]) as fake:
        fake.enqueue("queued")
        seen = []
        for _ in range(4):
            _, body = await post_chat(session, fake, chat_body("x"))
            seen.append(body["choices"][0]["message"]["content"])
    assert seen == ["queued", "a", "b", default_reply(chat_body("x"))[0].content]


async def test_replies_callable_sees_the_request(session: aiohttp.ClientSession) -> None:
    """A sync `replies` callable gets the request JSON; None means the default answer."""

    def echo(request: dict[str, Any]) -> Reply | None:
        text = request["messages"][-1]["content"]
        return None if text == "default" else Reply(f"echo: {text}")

    async with FakeGrok(replies=echo) as fake:
        _, body = await post_chat(session, fake, chat_body("ping"))
        _, default = await post_chat(session, fake, chat_body("default"))
    assert body["choices"][0]["message"]["content"] == "echo: ping"
    assert (
        default["choices"][0]["message"]["content"]
        == default_reply(chat_body("default"))[0].content
    )


async def test_async_replies_callable_can_answer_each_choice(
    session: aiohttp.ClientSession,
) -> None:
    """An async `replies` callable may return one Reply per choice."""

    async def per_choice(request: dict[str, Any]) -> list[Reply]:
        await asyncio.sleep(0)
        return [Reply(f"choice {i}") for i in range(request.get("n", 1))]

    async with FakeGrok(replies=per_choice) as fake:
        _, body = await post_chat(session, fake, chat_body(n=2))
    assert [c["message"]["content"] for c in body["choices"]] == ["choice 0", "choice 1"]


async def test_a_failing_replies_callable_is_a_500_saying_why(
    session: aiohttp.ClientSession,
) -> None:
    """A bug in a test's replier surfaces as a 500 whose message names the exception."""

    def broken(request: dict[str, Any]) -> Reply:
        raise KeyError("oops")

    async with FakeGrok(replies=broken) as fake:
        status, body = await post_chat(session, fake, chat_body())
    assert status == 500
    assert "KeyError" in body["error"]


async def test_reply_fields_reach_the_wire(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Every Reply field shows up where xAI puts it, unknown extras included."""
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 10}
    fake_grok.enqueue(
        Reply(
            "Answer",
            reasoning_content="Thinking",
            tool_calls=[{"name": "lookup", "arguments": {"q": "x"}, "id": "call_given"}],
            finish_reason="end_turn",
            usage=usage,
            citations=["https://x.ai"],
            model="grok-custom",
            extra={"output_files": None, "brand_new_field": {"a": 1}},
        )
    )
    _, body = await post_chat(session, fake_grok, chat_body())
    choice = body["choices"][0]
    assert choice["finish_reason"] == "end_turn"
    assert choice["message"]["content"] == "Answer"
    assert choice["message"]["reasoning_content"] == "Thinking"
    assert choice["message"]["tool_calls"] == [
        {
            "id": "call_given",
            "type": "function",
            "function": {"name": "lookup", "arguments": '{"q":"x"}'},
        }
    ]
    assert body["usage"] == usage
    assert body["citations"] == ["https://x.ai"]
    assert body["model"] == "grok-custom"
    assert body["brand_new_field"] == {"a": 1}
    assert "output_files" in body


async def test_reply_fields_reach_the_stream(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Streamed, a Reply's citations come on the last chunk and extras on every chunk."""
    fake_grok.enqueue(Reply("A b", citations=["https://x.ai"], extra={"unknown": 1}))
    chunks = chunks_of(await stream_events(session, fake_grok, chat_body(stream=True)))
    assert all(c["unknown"] == 1 for c in chunks)
    assert chunks[-1]["citations"] == ["https://x.ai"]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "A b"


async def test_extra_may_override_the_envelope(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """extra can replace id/object/created, e.g. to test region-suffixed ids."""
    fake_grok.enqueue(Reply("x", extra={"id": "abc_us-east-1"}))
    _, body = await post_chat(session, fake_grok, chat_body())
    assert body["id"] == "abc_us-east-1"


def test_replies_must_be_callable_or_iterable() -> None:
    """A lone string is almost certainly a mistake: refuse it."""
    with pytest.raises(TypeError, match="callable or an iterable"):
        FakeGrok(replies="hello")


# -- faults --------------------------------------------------------------------------------


async def test_status_fault_default_body_and_retry_headers(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Fault.status sends the code with xAI's flat body and the retry headers asked for."""
    fake_grok.enqueue(Fault.status(429, retry_after=2, retry_after_ms=150))
    async with session.post(f"{fake_grok.base_url}/chat/completions", json=chat_body()) as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "2"
        assert resp.headers["retry-after-ms"] == "150"
        assert is_uuid4(resp.headers["x-request-id"])
        body = await resp.json()
    assert body["code"] == "Some resource has been exhausted"
    assert body["error"]
    assert fake_grok.stats.faults == {"429": 1}


async def test_status_fault_with_custom_body_and_date(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """A custom body is sent as given; retry_after_date sends Retry-After as an HTTP date."""
    fake_grok.enqueue(
        Fault.status(503, body={"code": 503, "error": "down"}, retry_after=3, retry_after_date=True)
    )
    async with session.post(f"{fake_grok.base_url}/chat/completions", json=chat_body()) as resp:
        assert resp.status == 503
        when = email.utils.parsedate_to_datetime(resp.headers["Retry-After"]).timestamp()
        assert await resp.json() == {"code": 503, "error": "down"}
    assert 2 <= when - time.time() <= 5


async def test_status_fault_applies_to_streams_before_any_event(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """A status fault on a streamed request is a plain error response, not SSE."""
    fake_grok.enqueue(Fault.status(500))
    async with session.post(
        f"{fake_grok.base_url}/chat/completions", json=chat_body(stream=True)
    ) as resp:
        assert resp.status == 500
        assert resp.headers["Content-Type"] == "application/json"
        assert (await resp.json())["code"] == "Internal error"


async def test_html_fault_sends_an_html_page(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Fault.html() is what a proxy in front of the API sends: text/html."""
    fake_grok.enqueue(Fault.html(), Fault.html(504))
    for status in (502, 504):
        async with session.post(f"{fake_grok.base_url}/chat/completions", json=chat_body()) as resp:
            assert resp.status == status
            assert resp.content_type == "text/html"
            assert "<html>" in await resp.text()


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_reset_closes_the_connection_without_an_answer(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, stream: bool
) -> None:
    """Fault.reset() drops the TCP connection before any byte of a response."""
    fake_grok.enqueue(Fault.reset())
    with pytest.raises(aiohttp.ClientConnectionError):
        await post_chat(session, fake_grok, chat_body(stream=stream))
    assert fake_grok.stats.faults == {"reset": 1}
    assert fake_grok.stats.responses_by_status == {}
    status, _ = await post_chat(session, fake_grok, chat_body())
    assert status == 200


async def test_reset_mid_stream_after_some_chunks(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Fault.reset_mid_stream(n): n SSE events arrive, then the connection drops."""
    fake_grok.enqueue(Fault.reset_mid_stream(after_chunks=3))
    async with session.post(
        f"{fake_grok.base_url}/chat/completions", json=chat_body(stream=True)
    ) as resp:
        assert resp.status == 200
        lines, error = await read_events_until_error(resp)
    assert len(lines) == 3
    assert isinstance(error, aiohttp.ClientPayloadError)


async def test_reset_mid_body_when_not_streamed(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Not streamed, reset_mid_stream sends headers and part of the body, then drops."""
    fake_grok.enqueue(Fault.reset_mid_stream())
    async with session.post(f"{fake_grok.base_url}/chat/completions", json=chat_body()) as resp:
        assert resp.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()


async def test_stall_delays_the_headers(session: aiohttp.ClientSession) -> None:
    """Fault.stall(s) answers normally after s seconds; a shorter client timeout fires."""
    async with FakeGrok() as fake:
        fake.enqueue(Fault.stall(0.2), Fault.stall(5))
        started = time.monotonic()
        status, _ = await post_chat(session, fake, chat_body())
        assert status == 200
        assert time.monotonic() - started >= 0.2
        with pytest.raises(asyncio.TimeoutError):
            await post_chat(session, fake, chat_body(), timeout=aiohttp.ClientTimeout(total=0.2))
        assert fake.stats.faults == {"stall": 2}


async def test_stall_mid_stream_goes_silent_then_finishes(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Fault.stall_mid_stream(n, s): n events, s seconds of silence, then the rest."""
    fake_grok.enqueue(Fault.stall_mid_stream(after_chunks=2, seconds=0.2))
    arrivals = []
    async with session.post(
        f"{fake_grok.base_url}/chat/completions", json=chat_body(stream=True)
    ) as resp:
        async for line in resp.content:
            if line.startswith(b"data: "):
                arrivals.append((time.monotonic(), line.strip()))
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(arrivals)]
    assert gaps.index(max(gaps)) == 1  # between the 2nd and the 3rd event
    assert max(gaps) >= 0.15
    assert arrivals[-1][1] == b"data: [DONE]"


async def test_stall_mid_body_when_not_streamed(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Not streamed, stall_mid_stream pauses inside the body; the body is still whole."""
    fake_grok.enqueue(Fault.stall_mid_stream(after_chunks=0, seconds=0.2))
    started = time.monotonic()
    status, body = await post_chat(session, fake_grok, chat_body())
    assert status == 200
    assert body["object"] == "chat.completion"
    assert time.monotonic() - started >= 0.2


async def test_malformed_body(fake_grok: FakeGrok, session: aiohttp.ClientSession) -> None:
    """Fault.malformed() sends a 200 application/json body that is truncated JSON."""
    fake_grok.enqueue(Fault.malformed())
    async with session.post(f"{fake_grok.base_url}/chat/completions", json=chat_body()) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        raw = await resp.read()
    assert raw.startswith(b'{"id":')
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)


async def test_malformed_stream_event(fake_grok: FakeGrok, session: aiohttp.ClientSession) -> None:
    """Streamed, Fault.malformed() slips one invalid-JSON data event in after the first."""
    fake_grok.enqueue(Fault.malformed())
    events = await stream_events(session, fake_grok, chat_body(stream=True))
    orjson.loads(events[0])
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(events[1])
    assert events[-1] == "[DONE]"


async def test_error_event_mid_stream(fake_grok: FakeGrok, session: aiohttp.ClientSession) -> None:
    """Fault.error_event: chunks, then an OpenAI-style error event, then the end (no DONE)."""
    fake_grok.enqueue(Fault.error_event("model crashed", after_chunks=2, code=503))
    events = await stream_events(session, fake_grok, chat_body(stream=True))
    assert len(events) == 3
    assert orjson.loads(events[2]) == {
        "error": {"message": "model crashed", "type": "server_error", "code": 503}
    }


async def test_error_event_when_not_streamed(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """Not streamed, error_event is a 500 with a nested (OpenAI-style) error body."""
    fake_grok.enqueue(Fault.error_event("model crashed"))
    status, body = await post_chat(session, fake_grok, chat_body())
    assert status == 500
    assert body["error"]["message"] == "model crashed"


async def test_no_done(fake_grok: FakeGrok, session: aiohttp.ClientSession) -> None:
    """Fault.no_done() ends the stream cleanly but without `data: [DONE]`."""
    fake_grok.enqueue(Fault.no_done(), Fault.no_done())
    events = await stream_events(session, fake_grok, chat_body(stream=True))
    assert "[DONE]" not in events
    assert orjson.loads(events[-1])["choices"][0]["finish_reason"] == "stop"
    status, _ = await post_chat(session, fake_grok, chat_body())
    assert status == 200  # nothing to leave out of a non-streamed answer


def test_fault_constructors_check_their_arguments() -> None:
    """Nonsense faults are refused when built, not when served."""
    with pytest.raises(ValueError, match=r"100\.\.599"):
        Fault.status(42)
    with pytest.raises(ValueError, match="retry_after"):
        Fault.status(429, retry_after_date=True)
    with pytest.raises(ValueError, match="seconds"):
        Fault.stall(-1)
    with pytest.raises(ValueError, match="after_chunks"):
        Fault.reset_mid_stream(after_chunks=-1)


# -- random faults -----------------------------------------------------------------------


async def outcomes(
    session: aiohttp.ClientSession, fake: FakeGrok, count: int, body: Any
) -> list[int | str]:
    results: list[int | str] = []
    for _ in range(count):
        try:
            status, _ = await post_chat(session, fake, body)
            results.append(status)
        except aiohttp.ClientError as exc:
            results.append(type(exc).__name__)
    return results


async def test_random_faults_are_seeded_and_counted(session: aiohttp.ClientSession) -> None:
    """fault_rates draws faults from a seeded RNG: the same seed, the same sequence."""
    rates = {"500": 0.3, "503": 0.2, "reset": 0.1}
    runs = []
    for _ in range(2):
        async with FakeGrok(fault_rates=rates, seed=7) as fake:
            runs.append(await outcomes(session, fake, 40, chat_body()))
            stats = fake.stats
    assert runs[0] == runs[1]
    assert {500, 503, 200} <= set(runs[0])
    assert stats.faults["500"] == runs[0].count(500)
    assert stats.faults["503"] == runs[0].count(503)
    assert stats.faults["reset"] == 40 - sum(runs[0].count(s) for s in (200, 500, 503))


async def test_random_429_and_503_carry_retry_headers(session: aiohttp.ClientSession) -> None:
    """Random 429/503 tell the client when to retry, in ms and whole seconds."""
    async with (
        FakeGrok(fault_rates={"429": 1.0}, retry_after=0.05) as fake,
        session.post(f"{fake.base_url}/chat/completions", json=chat_body()) as resp,
    ):
        assert resp.status == 429
        assert resp.headers["retry-after-ms"] == "50"
        assert resp.headers["Retry-After"] == "1"


async def test_random_faults_leave_the_script_alone(session: aiohttp.ClientSession) -> None:
    """A random fault does not consume a scripted reply: the retry gets it."""
    async with FakeGrok(fault_rates={"503": 0.5}, seed=1) as fake:
        fake.enqueue("scripted")
        statuses = []
        while True:
            status, body = await post_chat(session, fake, chat_body())
            statuses.append(status)
            if status == 200:
                break
    assert body["choices"][0]["message"]["content"] == "scripted"
    assert len(statuses) <= 20


def test_fault_rates_are_checked() -> None:
    """Unknown kinds and probabilities adding up past 1 are refused."""
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FakeGrok(fault_rates={"explode": 0.1})
    with pytest.raises(ValueError, match="at most 1"):
        FakeGrok(fault_rates={"500": 0.7, "503": 0.7})


# -- latency and limits ------------------------------------------------------------------


async def test_latency_delays_every_answer(session: aiohttp.ClientSession) -> None:
    """`latency` is waited before each response's headers."""
    async with FakeGrok(latency=0.1) as fake:
        started = time.monotonic()
        async with session.get(f"{fake.base_url}/models") as resp:
            assert resp.status == 200
        assert time.monotonic() - started >= 0.1


async def test_requests_per_second_is_a_token_bucket(session: aiohttp.ClientSession) -> None:
    """Past the burst, requests get 429 with retry-after (>= 1 s) and retry-after-ms."""
    async with FakeGrok(requests_per_second=5, burst=2) as fake:
        statuses = []
        for _ in range(3):
            async with session.get(f"{fake.base_url}/models") as resp:
                statuses.append(resp.status)
                headers = resp.headers
                body = await resp.json()
        assert statuses == [200, 200, 429]
        assert headers["retry-after"] == "1"
        assert 1 <= int(headers["retry-after-ms"]) <= 200
        assert body["code"] == "Some resource has been exhausted"
        assert fake.stats.faults == {"rate_limited": 1}
        await asyncio.sleep(int(headers["retry-after-ms"]) / 1000)
        async with session.get(f"{fake.base_url}/models") as resp:
            assert resp.status == 200


async def test_max_in_flight_refuses_the_excess(session: aiohttp.ClientSession) -> None:
    """Requests beyond max_in_flight running at once get 429 with retry-after-ms."""

    async def call() -> tuple[int, str | None]:
        async with session.post(f"{fake.base_url}/chat/completions", json=chat_body()) as resp:
            await resp.read()
            return resp.status, resp.headers.get("retry-after-ms")

    async with FakeGrok(max_in_flight=2, latency=0.2) as fake:
        results = await asyncio.gather(*(call() for _ in range(5)))
        assert sorted(status for status, _ in results) == [200, 200, 429, 429, 429]
        assert all(ms is not None for status, ms in results if status == 429)
        assert fake.stats.max_in_flight_seen == 2
        assert fake.stats.in_flight == 0
        assert fake.stats.faults == {"over_max_in_flight": 3}


def test_limits_are_checked() -> None:
    """Impossible limits are refused up front."""
    with pytest.raises(ValueError, match="requests_per_second"):
        FakeGrok(requests_per_second=0)
    with pytest.raises(ValueError, match="latency"):
        FakeGrok(latency=-1)
    with pytest.raises(ValueError, match="max_in_flight"):
        FakeGrok(max_in_flight=0)


# -- deferred completions ----------------------------------------------------------------


async def test_deferred_completion_is_pending_then_served_once(
    session: aiohttp.ClientSession,
) -> None:
    """deferred: true returns a request_id; polling gets 202 (empty), then 200 once, then 404."""
    async with FakeGrok(deferred_delay=0.15) as fake:
        status, started = await post_chat(session, fake, chat_body(deferred=True))
        assert status == 200
        assert set(started) == {"request_id"}
        url = f"{fake.base_url}/chat/deferred-completion/{started['request_id']}"
        async with session.get(url) as resp:
            assert resp.status == 202
            assert await resp.read() == b""
        await asyncio.sleep(0.2)
        async with session.get(url) as resp:
            assert resp.status == 200
            body = await resp.json()
        async with session.get(url) as resp:
            assert resp.status == 404
            assert (await resp.json())["code"] == NOT_FOUND
        async with session.get(f"{fake.base_url}/chat/deferred-completion/nope") as resp:
            assert resp.status == 404
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == default_reply(chat_body())[0].content


# -- other endpoints -----------------------------------------------------------------------


async def test_models_list_is_openai_shaped(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """GET /v1/models: {"object": "list", "data": [{id, created, object, owned_by}]}."""
    async with session.get(f"{fake_grok.base_url}/models") as resp:
        body = await resp.json()
    assert body["object"] == "list"
    ids = {m["id"] for m in body["data"]}
    assert {"grok-4-0709", "grok-3", "grok-3-mini", "grok-code-fast-1"} <= ids
    assert "grok-2-image-1212" in ids
    assert all(set(m) == {"id", "created", "object", "owned_by"} for m in body["data"])


@pytest.mark.parametrize(
    ("path", "status", "model_id"),
    [
        pytest.param("models/grok-3", 200, "grok-3", id="models"),
        pytest.param("models/grok-4", 200, "grok-4-0709", id="models-alias"),
        pytest.param("models/nope", 404, None, id="models-unknown"),
        pytest.param("language-models/grok-3-mini", 200, "grok-3-mini", id="language"),
        pytest.param("language-models/grok-2-image-1212", 404, None, id="language-not-image"),
        pytest.param("image-generation-models/grok-2-image", 200, "grok-2-image-1212", id="image"),
        pytest.param("image-generation-models/grok-3", 404, None, id="image-not-language"),
    ],
)
async def test_single_model_lookup(
    fake_grok: FakeGrok,
    session: aiohttp.ClientSession,
    path: str,
    status: int,
    model_id: str | None,
) -> None:
    """Each model endpoint finds models by id or alias, and 404s the rest."""
    async with session.get(f"{fake_grok.base_url}/{path}") as resp:
        assert resp.status == status
        body = await resp.json()
    if model_id is None:
        assert body["code"] == NOT_FOUND
    else:
        assert body["id"] == model_id


async def test_language_models_are_xai_shaped(
    fake_grok: FakeGrok, session: aiohttp.ClientSession
) -> None:
    """GET /v1/language-models: {"models": [...]} with prices, modalities and aliases."""
    async with session.get(f"{fake_grok.base_url}/language-models") as resp:
        models = {m["id"]: m for m in (await resp.json())["models"]}
    assert "grok-2-image-1212" not in models
    grok4 = models["grok-4-0709"]
    assert grok4["aliases"] == ["grok-4", "grok-4-latest"]
    assert grok4["prompt_text_token_price"] == 30_000  # $3 per million tokens
    for key in (
        "fingerprint",
        "created",
        "object",
        "owned_by",
        "version",
        "input_modalities",
        "output_modalities",
        "cached_prompt_text_token_price",
        "prompt_image_token_price",
        "completion_text_token_price",
        "search_price",
    ):
        assert key in grok4
    async with session.get(f"{fake_grok.base_url}/image-generation-models") as resp:
        [image] = (await resp.json())["models"]
    assert image["id"] == "grok-2-image-1212"
    assert image["output_modalities"] == ["image"]
    assert "image_price" in image


async def test_tokenize_text(fake_grok: FakeGrok, session: aiohttp.ClientSession) -> None:
    """POST /v1/tokenize-text returns pieces that rebuild the text, with ids and bytes."""
    text = "Hello, wörld!"
    async with session.post(
        f"{fake_grok.base_url}/tokenize-text", json={"text": text, "model": "grok-3"}
    ) as resp:
        assert resp.status == 200
        tokens = (await resp.json())["token_ids"]
    assert "".join(t["string_token"] for t in tokens) == text
    assert [t["string_token"] for t in tokens] == ["Hello", ",", " wörld", "!"]
    for token in tokens:
        assert bytes(token["token_bytes"]) == token["string_token"].encode()
        assert isinstance(token["token_id"], int)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({"model": "grok-3"}, 422, id="no-text"),
        pytest.param({"text": "hi"}, 400, id="no-model"),
        pytest.param({"text": "hi", "model": "nope"}, 404, id="unknown-model"),
    ],
)
async def test_tokenize_text_validation(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, body: dict[str, Any], status: int
) -> None:
    """The tokenizer checks its request like chat completions do."""
    async with session.post(f"{fake_grok.base_url}/tokenize-text", json=body) as resp:
        assert resp.status == status
        assert set(await resp.json()) == {"code", "error"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/v1/nothing-here", 404, id="unknown-path"),
        pytest.param("POST", "/v2/chat/completions", 404, id="unknown-version"),
        pytest.param("GET", "/v1/chat/completions", 405, id="wrong-method"),
    ],
)
async def test_unknown_routes_get_xai_error_bodies(
    fake_grok: FakeGrok, session: aiohttp.ClientSession, method: str, path: str, status: int
) -> None:
    """Misspelt URLs and wrong methods get xAI-style JSON errors too."""
    async with session.request(method, f"{fake_grok.url}{path}") as resp:
        assert resp.status == status
        assert is_uuid4(resp.headers["x-request-id"])
        body = await resp.json()
    assert set(body) == {"code", "error"}
    assert path in body["error"]


# -- recording and stats -------------------------------------------------------------------


async def test_requests_are_recorded(fake_grok: FakeGrok, session: aiohttp.ClientSession) -> None:
    """Each request is recorded: method, path, lower-cased headers, JSON, time."""
    await post_chat(session, fake_grok, chat_body(), headers={"X-Custom": "yes"})
    async with session.get(f"{fake_grok.base_url}/models?limit=1"):
        pass
    first, second = fake_grok.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path) == ("POST", "/v1/chat/completions")
    assert first.json == chat_body()
    assert first.headers["x-custom"] == "yes"
    assert first.headers["content-type"] == "application/json"
    assert (second.method, second.path, second.json) == ("GET", "/v1/models", None)
    assert second.query == {"limit": "1"}
    assert first.time <= second.time <= time.monotonic()
    assert fake_grok.last_request is second


async def test_recording_can_be_switched_off(session: aiohttp.ClientSession) -> None:
    """record_requests=False keeps no requests (for benchmarks) but still counts them."""
    async with FakeGrok(record_requests=False) as fake:
        await post_chat(session, fake, chat_body())
        assert fake.requests == []
        assert fake.stats.requests == 1


async def test_stats_and_reset(fake_grok: FakeGrok, session: aiohttp.ClientSession) -> None:
    """stats counts requests, statuses, faults and connections; reset() zeroes them."""
    fake_grok.enqueue(Fault.status(503))
    await post_chat(session, fake_grok, chat_body())
    await post_chat(session, fake_grok, chat_body())
    await post_chat(session, fake_grok, chat_body(model="nope"))
    stats = fake_grok.stats
    assert isinstance(stats, Stats)
    assert stats.requests == 3
    assert stats.responses_by_status == {503: 1, 200: 1, 404: 1}
    assert stats.faults == {"503": 1}
    assert stats.in_flight == 0
    assert stats.max_in_flight_seen == 1
    assert stats.connections_opened == 1  # one keep-alive connection served all three
    fake_grok.reset()
    assert fake_grok.requests == []
    assert fake_grok.stats == Stats()


async def test_open_connections_follows_the_client(fake_grok: FakeGrok) -> None:
    """open_connections() counts the client's live TCP connections."""
    assert fake_grok.open_connections() == 0
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{fake_grok.base_url}/models") as resp:
            await resp.read()
        assert fake_grok.open_connections() == 1
    for _ in range(100):
        if fake_grok.open_connections() == 0:
            break
        await asyncio.sleep(0.01)
    assert fake_grok.open_connections() == 0


async def test_every_response_has_a_request_id(session: aiohttp.ClientSession) -> None:
    """x-request-id (a fresh uuid4) is on successes, errors and streams alike."""
    async with FakeGrok(api_key="k") as fake:
        ids = []
        for path, body, headers in [
            ("/chat/completions", chat_body(), {"Authorization": "Bearer k"}),
            ("/chat/completions", chat_body(stream=True), {"Authorization": "Bearer k"}),
            ("/chat/completions", chat_body(), {}),
        ]:
            async with session.post(fake.base_url + path, json=body, headers=headers) as resp:
                await resp.read()
                ids.append(resp.headers["x-request-id"])
    assert all(is_uuid4(i) for i in ids)
    assert len(set(ids)) == 3


# -- the tokenizer -------------------------------------------------------------------------


@given(st.text())
def test_token_pieces_rebuild_any_text(text: str) -> None:
    """Streamed deltas and tokenize-text pieces always concatenate back to the text."""
    assert "".join(split_tokens(text)) == text
