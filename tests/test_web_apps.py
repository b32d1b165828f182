"""Web apps: models returned from FastAPI endpoints are the API's JSON, the sync TestClient
works with the fake_grok fixture, and the SSE example of docs/web-apps.md streams tokens
under a real uvicorn to a real HTTP client."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import types
from collections.abc import Iterator
from typing import Any

import aiohttp
import orjson
import pytest
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from grok_async import ChatCompletion, ChatCompletionMessage, Usage
from grok_async._serialization import decode_model
from grok_async.testing import FakeGrok, Reply

from .conftest import completion_body
from .docs_blocks import ROOT, blocks_of

WEB_APPS = ROOT / "docs" / "web-apps.md"

# What the server sent, with a field this library does not know: it must survive.
WIRE = completion_body("Paris.", a_field_added_later={"nested": [1, 2]})


def reply() -> ChatCompletion:
    """A ChatCompletion decoded from WIRE, as the client decodes a response."""
    return decode_model(orjson.loads(orjson.dumps(WIRE)), ChatCompletion)


def serving_app() -> FastAPI:
    """Endpoints that return models in every way a FastAPI user would."""
    app = FastAPI()

    @app.get("/alone")
    async def alone():  # type: ignore[no-untyped-def]  # no annotation: jsonable_encoder
        return reply()

    @app.get("/annotated")
    async def annotated() -> ChatCompletion:
        return reply()

    @app.get("/list")
    async def in_a_list() -> list[ChatCompletion]:
        return [reply(), reply()]

    @app.get("/dict")
    async def in_a_dict():  # type: ignore[no-untyped-def]
        return {"question": "q", "replies": [reply()]}

    @app.get("/dict-any")
    async def in_a_dict_of_any() -> dict[str, Any]:
        return {"question": "q", "replies": [reply()]}

    return app


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/alone", WIRE, id="alone-unannotated"),
        pytest.param("/annotated", WIRE, id="annotated"),
        pytest.param("/list", [WIRE, WIRE], id="list"),
        pytest.param("/dict", {"question": "q", "replies": [WIRE]}, id="dict-unannotated"),
        pytest.param("/dict-any", {"question": "q", "replies": [WIRE]}, id="dict-of-any"),
    ],
)
def test_a_returned_model_is_the_apis_json(path: str, expected: Any) -> None:
    """Alone, in a list or in a dict, annotated or not: the JSON the API sent, unknown
    fields included."""
    with TestClient(serving_app()) as http:
        response = http.get(path)
    assert response.status_code == 200, response.text
    assert response.json() == expected


def test_the_openapi_document_still_builds() -> None:
    """A model as a return annotation has a JSON schema, so /openapi.json does not fail."""
    with TestClient(serving_app()) as http:
        response = http.get("/openapi.json")
    assert response.status_code == 200
    assert "ChatCompletion" in response.text


def test_a_model_built_by_hand_serialises_its_fields() -> None:
    """Without a received JSON, the fields are what is serialised (unset ones left out)."""
    usage = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)
    message = ChatCompletionMessage(role="assistant", content="Hi")
    assert jsonable_encoder(usage) == usage.to_dict()
    assert usage.to_dict()["total_tokens"] == 5
    assert TypeAdapter(Any).dump_python({"m": message}, mode="json") == {"m": message.to_dict()}


def test_models_stay_not_iterable() -> None:
    """dict(model) works, but iterating a (non-list) model is still a TypeError."""
    model = reply()
    assert dict(model) == WIRE
    with pytest.raises(TypeError, match="not iterable"):
        iter(model)


def _docs_module(marker: str, name: str) -> types.ModuleType:
    """Run the docs/web-apps.md block containing ``marker`` as a module and return it, so
    the test exercises the very code the page shows."""
    [block] = [b for b in blocks_of(WEB_APPS) if marker in b.source]
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(block.source, f"{block.page}:{block.line}", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


@pytest.mark.timeout(20)  # it used to hang: fail fast if it ever does again
def test_sync_testclient_with_the_fake_grok_fixture(
    fake_grok: FakeGrok, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The docs' test of the FastAPI app: a plain def test, TestClient, fake_grok; it
    answers instead of hanging (the fixture serves from a thread for sync tests)."""
    monkeypatch.setenv("XAI_API_KEY", "test")
    monkeypatch.setenv("XAI_BASE_URL", fake_grok.base_url)
    app = _docs_module('@app.get("/ask")\nasync def ask(q: str, client: Grok)', "myapp").app
    fake_grok.enqueue(Reply("Paris."))
    with TestClient(app) as http:
        response = http.get("/ask", params={"q": "Capital of France?"})
    assert response.json()["answer"] == "Paris."
    assert fake_grok.last_request is not None
    assert fake_grok.last_request.json is not None
    assert fake_grok.last_request.json["messages"][0]["content"] == "Capital of France?"


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    """A socket on a free port of 127.0.0.1 for uvicorn (no race for a port number)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    with sock:
        yield sock


def _parse_sse(body: str) -> list[tuple[str, Any]]:
    """(event name, decoded JSON data) of each event of a text/event-stream body."""
    events = []
    for raw in body.split("\n\n"):
        if not raw.strip():
            continue
        fields = dict(line.split(": ", 1) for line in raw.split("\n"))
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


@pytest.mark.timeout(30)
async def test_sse_example_streams_tokens_under_uvicorn(
    fake_grok: FakeGrok, monkeypatch: pytest.MonkeyPatch, listening_socket: socket.socket
) -> None:
    """The page's SSE endpoint under uvicorn, read with aiohttp: one event per token, the
    tokens add up to the answer, and a last ``done`` event carries the usage."""
    import uvicorn

    monkeypatch.setenv("XAI_API_KEY", "test")
    monkeypatch.setenv("XAI_BASE_URL", fake_grok.base_url)
    example = _docs_module('@app.get("/chat/sse")', "sse_example")
    answer = "The Seine runs through Paris, and then to the sea."
    fake_grok.enqueue(Reply(answer))

    server = uvicorn.Server(uvicorn.Config(example.app, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[listening_socket]))
    try:
        while not server.started:
            assert not serving.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.01)
        host, port = listening_socket.getsockname()
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://{host}:{port}/chat/sse", params={"q": "A river?"}) as response,
        ):
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            body = (await response.read()).decode()
    finally:
        server.should_exit = True
        await serving
        await example.client.close()

    events = _parse_sse(body)
    tokens = [data["text"] for name, data in events if name == "message"]
    assert len(tokens) > 1  # streamed piece by piece, not sent whole
    assert "".join(tokens) == answer
    assert events[-1][0] == "done"
    assert events[-1][1]["usage"]["total_tokens"] > 0
