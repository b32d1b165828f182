"""AsyncGrok configuration, lifecycle and request building."""

from __future__ import annotations

import asyncio
import logging
import platform
import re
import threading
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import grok_async
from grok_async import AsyncGrok, GrokError, Timeout, UserMessage

from .conftest import FAKE_KEY, LocalServer, completion_body

MESSAGES = [{"role": "user", "content": "Hi"}]


def test_missing_key_names_the_environment_variable() -> None:
    """Without api_key= or XAI_API_KEY the client refuses to start, naming the variable."""
    with pytest.raises(GrokError, match="XAI_API_KEY"):
        AsyncGrok()


def test_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """XAI_API_KEY and XAI_BASE_URL are used when no argument is given."""
    monkeypatch.setenv("XAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("XAI_BASE_URL", "http://127.0.0.1:1/v1/")
    client = AsyncGrok()
    assert client.api_key == FAKE_KEY
    assert client.base_url == "http://127.0.0.1:1/v1"


def test_default_base_url_is_the_real_endpoint() -> None:
    """With nothing configured the client points at api.x.ai."""
    assert AsyncGrok(FAKE_KEY).base_url == "https://api.x.ai/v1"


def test_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit api_key / base_url wins over the environment."""
    monkeypatch.setenv("XAI_API_KEY", "env-key")
    monkeypatch.setenv("XAI_BASE_URL", "https://env.invalid/v1")
    client = AsyncGrok("arg-key", base_url="https://arg.invalid/v1")
    assert (client.api_key, client.base_url) == ("arg-key", "https://arg.invalid/v1")


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("abc\r\nX-Injected: 1", id="crlf"),
        pytest.param("abc\nX: 1", id="lf"),
        pytest.param("abc\r", id="cr"),
        pytest.param("clé-ünïcode-€", id="non-latin-1"),
    ],
)
def test_key_with_control_characters_is_rejected_without_echoing_it(key: str) -> None:
    """A key that would split or corrupt the request header is refused; the error hides it."""
    with pytest.raises(GrokError) as info:
        AsyncGrok(key)
    assert key not in str(info.value)
    assert "Authorization" in str(info.value)


def test_a_key_from_the_environment_with_a_newline_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """XAI_API_KEY read from a file with its trailing newline: the error names XAI_API_KEY
    and says what to do, without the key."""
    monkeypatch.setenv("XAI_API_KEY", FAKE_KEY + "\n")
    with pytest.raises(GrokError) as info:
        AsyncGrok()
    message = str(info.value)
    assert "XAI_API_KEY" in message
    assert "trailing newline" in message
    assert FAKE_KEY not in message


def test_repr_and_str_never_show_the_key() -> None:
    """repr()/str() of a client redact the key entirely."""
    client = AsyncGrok(FAKE_KEY)
    for text in (repr(client), str(client)):
        assert FAKE_KEY not in text
        assert FAKE_KEY[-6:] not in text
        assert "redacted" in text


def test_bad_default_header_is_rejected() -> None:
    """default_headers with CR/LF in a value fail at construction."""
    with pytest.raises(GrokError, match="X-Custom"):
        AsyncGrok(FAKE_KEY, default_headers={"X-Custom": "a\r\nb"})


async def test_bad_extra_header_sends_nothing(server: LocalServer) -> None:
    """A per-call header with CR/LF raises before anything reaches the server."""
    client = AsyncGrok(FAKE_KEY, base_url=server.base_url)
    with pytest.raises(GrokError, match="X-Trace"):
        await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, extra_headers={"X-Trace": "1\n2"}
        )
    assert server.requests == []
    await client.close()


async def test_request_headers_and_user_agent(server: LocalServer) -> None:
    """Bearer auth, JSON content type, the User-Agent and default/extra headers are sent."""
    async with AsyncGrok(
        FAKE_KEY, base_url=server.base_url, default_headers={"X-Team": "eval"}
    ) as client:
        await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, extra_headers={"X-Trace": "t-1"}
        )
    headers = server.requests[0]["headers"]
    assert headers["Authorization"] == f"Bearer {FAKE_KEY}"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Team"] == "eval"
    assert headers["X-Trace"] == "t-1"
    ua = headers["User-Agent"]
    assert ua == (
        f"grok-async/{grok_async.__version__} python/{platform.python_version()} "
        f"aiohttp/{aiohttp.__version__}"
    )
    assert server.requests[0]["path"] == "/v1/chat/completions"


async def test_unset_parameters_are_not_sent(server: LocalServer) -> None:
    """Only the parameters given appear in the JSON body: no nulls on the wire."""
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        await client.chat.completions.create(model="grok-4", messages=MESSAGES, temperature=0.5)
    raw = server.requests[0]["raw"]
    assert b"null" not in raw
    assert server.requests[0]["body"] == {
        "model": "grok-4",
        "messages": MESSAGES,
        "temperature": 0.5,
    }


async def test_every_documented_parameter_is_sent(server: LocalServer) -> None:
    """Each keyword of create() reaches the body under its xAI name."""
    params: dict[str, Any] = {
        "temperature": 0.2,
        "top_p": 0.9,
        "n": 2,
        "stop": ["\n"],
        "max_tokens": 10,
        "max_completion_tokens": 11,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "logit_bias": {"1": 2.0},
        "logprobs": True,
        "top_logprobs": 3,
        "seed": 7,
        "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning_effort": "low",
        "search_parameters": {"mode": "auto"},
        "web_search_options": {"search_context_size": "low"},
        "user": "u-1",
    }
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        await client.chat.completions.create(model="grok-4", messages=MESSAGES, **params)
    body = server.requests[0]["body"]
    assert body == {"model": "grok-4", "messages": MESSAGES, **params}


async def test_attrs_and_dict_messages_are_both_accepted(server: LocalServer) -> None:
    """Message objects are unstructured to the same JSON as the equivalent dicts."""
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        await client.chat.completions.create(
            model="grok-4",
            messages=[
                grok_async.SystemMessage("Be brief."),
                UserMessage(
                    [
                        grok_async.TextPart("What is this?"),
                        grok_async.ImagePart(grok_async.ImageURL("https://x.test/a.png")),
                    ]
                ),
                {"role": "assistant", "content": "A cat."},
            ],
            response_format=grok_async.ResponseFormat(
                "json_schema", grok_async.JSONSchema("answer", {"type": "object"})
            ),
            tools=[grok_async.Tool(grok_async.FunctionDefinition("lookup", parameters={}))],
        )
    body = server.requests[0]["body"]
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
            ],
        },
        {"role": "assistant", "content": "A cat."},
    ]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object"}},
    }
    assert body["tools"] == [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]


async def test_extra_body_is_merged_last(server: LocalServer) -> None:
    """extra_body adds unknown parameters and overrides known ones."""
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        await client.chat.completions.create(
            model="grok-4",
            messages=MESSAGES,
            temperature=1.0,
            extra_body={"temperature": 0.0, "brand_new": {"x": 1}},
        )
    assert server.requests[0]["body"]["temperature"] == 0.0
    assert server.requests[0]["body"]["brand_new"] == {"x": 1}


async def test_unknown_parameters_are_a_type_error(server: LocalServer) -> None:
    """A misspelt parameter raises TypeError naming it, before anything is sent."""
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        with pytest.raises(TypeError, match="temprature"):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES, temprature=1)  # type: ignore[call-overload]
        await client.chat.completions.create(
            model="grok-4",
            messages=(m for m in MESSAGES),
            tools=({"type": "function", "function": {"name": "f"}} for _ in range(2)),
        )
    assert len(server.requests) == 1
    assert server.requests[0]["body"]["messages"] == MESSAGES
    assert len(server.requests[0]["body"]["tools"]) == 2


def test_messages_must_be_a_list() -> None:
    """Passing a single string or dict as messages is a TypeError, caught before sending."""
    client = AsyncGrok(FAKE_KEY, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(TypeError, match="list of messages"):
        asyncio.run(client.chat.completions.create(model="grok-4", messages="Hi"))


async def test_unicode_round_trips(server: LocalServer) -> None:
    """Non-ASCII text survives the request and the response unchanged."""
    text = "Grüße, 世界 🌍 — naïve café"

    async def echo(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        return web.json_response(completion_body(body["messages"][0]["content"]))

    server.handler = echo
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        reply = await client.chat.completions.create(
            model="grok-4", messages=[{"role": "user", "content": text}]
        )
    assert reply.choices[0].message.content == text


async def test_with_options_shares_the_pool_and_overrides(server: LocalServer) -> None:
    """A copy from with_options uses the same pool, its own settings, and closing it is a no-op."""
    client = AsyncGrok(FAKE_KEY, base_url=server.base_url, max_retries=2)
    fast = client.with_options(timeout=5, max_retries=0, default_headers={"X-Copy": "1"})
    assert fast.max_retries == 0 and client.max_retries == 2
    assert fast.timeout == 5
    await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    await fast.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert fast._transport is client._transport
    assert server.peers[0] == server.peers[1]  # the same pooled connection
    assert "X-Copy" in server.requests[1]["headers"]
    assert "X-Copy" not in server.requests[0]["headers"]
    await fast.close()
    assert not client.is_closed
    await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    await client.close()
    assert client.is_closed


async def test_closed_client_raises_a_clear_error(server: LocalServer) -> None:
    """Using a client after close() raises GrokError at once, without retrying."""
    client = AsyncGrok(FAKE_KEY, base_url=server.base_url)
    await client.close()
    await client.close()  # idempotent
    with pytest.raises(GrokError, match="closed"):
        await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert server.requests == []


async def test_own_session_is_used_and_never_closed(server: LocalServer) -> None:
    """A session passed in carries the requests and stays open after client.close()."""
    async with aiohttp.ClientSession() as session:
        client = AsyncGrok(FAKE_KEY, base_url=server.base_url, session=session)
        await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        await client.close()
        assert not session.closed
        assert len(server.requests) == 1


def _serve_in_thread() -> tuple[LocalServer, asyncio.AbstractEventLoop, threading.Thread]:
    srv = LocalServer()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(srv.start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(srv.stop())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    return srv, loop, thread


def test_one_client_across_two_asyncio_runs() -> None:
    """A client built outside any loop works in two successive asyncio.run() calls, warning-free."""
    srv, loop, thread = _serve_in_thread()
    try:
        client = AsyncGrok(FAKE_KEY, base_url=srv.base_url)

        async def call() -> str | None:
            reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
            return reply.choices[0].message.content

        assert asyncio.run(call()) == "Hello!"
        assert asyncio.run(call()) == "Hello!"  # new loop: a new pool, the old one was closed
        assert len(srv.requests) == 2
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def test_timeout_object_and_float() -> None:
    """Timeout keeps its three limits; a float means total for calls and read for streams."""
    from grok_async._timeout import as_timeout

    t = Timeout(connect=1, read=2, total=3)
    assert as_timeout(t, stream=False) is t
    assert as_timeout(10, stream=False) == Timeout(connect=5.0, read=None, total=10.0)
    assert as_timeout(10, stream=True) == Timeout(connect=5.0, read=10.0, total=None)
    assert as_timeout(None, stream=False) == Timeout(None, None, None)
    assert Timeout() == Timeout(connect=5.0, read=900.0, total=None)
    with pytest.raises(TypeError, match="timeout"):
        as_timeout("5", stream=False)  # type: ignore[arg-type]


async def test_key_never_in_debug_logs(
    server: LocalServer, caplog: pytest.LogCaptureFixture, no_backoff: list[float]
) -> None:
    """DEBUG and INFO lines across attempts and retries never contain the key."""
    calls = 0

    async def flaky(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.json_response({"code": "x", "error": "busy"}, status=503)
        return web.json_response(completion_body())

    server.handler = flaky
    caplog.set_level(logging.DEBUG)
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert re.search(r"retrying", text)
    assert FAKE_KEY not in text
    assert "Bearer" not in text


@pytest.mark.parametrize(
    ("url", "warning"),
    [
        pytest.param("http://api.example.test/v1", "not HTTPS", id="plain-http-remote"),
        pytest.param("https://user:pw@api.example.test/v1", "credentials", id="userinfo"),
    ],
)
def test_risky_base_urls_warn(url: str, warning: str) -> None:
    """A base_url that would expose the key (cleartext remote, embedded credentials) warns."""
    with pytest.warns(UserWarning, match=warning):
        AsyncGrok(FAKE_KEY, base_url=url)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/v1", "http://localhost/v1", "http://[::1]:9/v1", "https://api.x.ai/v1"],
)
def test_safe_base_urls_do_not_warn(url: str) -> None:
    """Loopback over http and anything over https are quiet (warnings are errors here)."""
    AsyncGrok(FAKE_KEY, base_url=url)


def test_a_base_url_without_host_is_refused() -> None:
    """A malformed base_url fails at construction with a clear error."""
    with pytest.raises(GrokError, match="base_url"):
        AsyncGrok(FAKE_KEY, base_url="api.x.ai/v1")


def test_headers_in_traceback_locals_hide_the_key() -> None:
    """The header mapping every request frame holds prints without the key."""
    client = AsyncGrok(FAKE_KEY, default_headers={"X-Team": "a"})
    headers = client._call_headers({"X-Trace": "t"})
    for text in (repr(client._headers), repr(headers), str(headers)):
        assert FAKE_KEY not in text
        assert "<redacted>" in text
    assert headers["Authorization"] == f"Bearer {FAKE_KEY}"  # the value itself is intact
    assert "'X-Trace': 't'" in repr(headers)


async def test_unusual_but_reasonable_inputs_are_encoded(server: LocalServer) -> None:
    """Message objects inside dicts, int keys in logit_bias and a dict view of tools all
    reach the wire as JSON instead of failing in the encoder (the tool given the empty
    parameters schema the API requires)."""
    tools = {"lookup": {"type": "function", "function": {"name": "lookup"}}}
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        await client.chat.completions.create(
            model="grok-4",
            messages=[{"role": "user", "content": [grok_async.TextPart("hi")]}],
            logit_bias={50256: -100},  # type: ignore[dict-item]  # int keys on purpose
            tools=tools.values(),
        )
    body = server.requests[0]["body"]
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert body["logit_bias"] == {"50256": -100}
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
        }
    ]


async def test_unencodable_input_is_a_clear_type_error(server: LocalServer) -> None:
    """Something that cannot be JSON (bytes) fails before sending, naming the type."""
    async with AsyncGrok(FAKE_KEY, base_url=server.base_url) as client:
        with pytest.raises(TypeError, match="bytes"):
            await client.chat.completions.create(
                model="grok-4", messages=[{"role": "user", "content": b"raw"}]
            )
    assert server.requests == []


def test_settings_are_read_only_and_with_options_changes_them() -> None:
    """Assigning a setting would silently do nothing (requests use values derived once), so
    it raises; with_options() returns a changed copy instead."""
    client = AsyncGrok(FAKE_KEY, base_url="https://api.example.test/v1", timeout=5)
    for name, value in (("timeout", 1), ("base_url", "https://x.test"), ("default_headers", {})):
        with pytest.raises(AttributeError):
            setattr(client, name, value)
    copy = client.with_options(timeout=1, base_url="https://x.test/v1")
    assert (copy.timeout, copy.base_url) == (1, "https://x.test/v1")
    assert (client.timeout, client.base_url) == (5, "https://api.example.test/v1")


def test_max_connections_is_read_only() -> None:
    """The pool size is fixed when the client is made: setting it raises instead of
    silently doing nothing."""
    client = AsyncGrok(FAKE_KEY, max_connections=7)
    assert client.max_connections == 7
    with pytest.raises(AttributeError):
        client.max_connections = 3  # type: ignore[misc]
    assert client.max_connections == 7
