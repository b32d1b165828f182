"""``client.responses`` against the emulator and a scripted local server: create, input
forms, chaining, storage, tools, errors, retries and tolerance of unknown fields."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from aiohttp import web

import grok_async
from grok_async import (
    APIResponseValidationError,
    AsyncGrok,
    AuthenticationError,
    BadRequestError,
    HookEvent,
    Hooks,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    Response,
    ResponseDeleted,
    ResponseFunctionToolCall,
    ResponseOutputItem,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
    ResponseWebSearchCall,
    UnprocessableEntityError,
    UserMessage,
)
from grok_async.testing import FakeGrok, Fault, Reply, default_reply

from .conftest import FAKE_KEY, LocalServer

MODEL = "grok-3"
REASONING_MODEL = "grok-3-mini"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}


def client_for(fake: FakeGrok | LocalServer, **options: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)


def expected_text(*messages: dict[str, Any], model: str = MODEL) -> str:
    """What the emulator's default replier answers to these chat messages."""
    return default_reply({"model": model, "messages": list(messages)})[0].content


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


# -- create -----------------------------------------------------------------------------------


async def test_create_returns_a_typed_response_with_the_answer(fake_grok: FakeGrok) -> None:
    """A string input gets a completed Response whose output_text is the emulator's answer."""
    async with client_for(fake_grok) as client:
        # Annotated: mypy checks that the non-streaming overload returns a Response.
        response: Response = await client.responses.create(
            model=MODEL, input="Tell me about rivers"
        )
    assert isinstance(response, Response)
    assert response.object == "response"
    assert response.status == "completed"
    assert response.model == MODEL
    assert response.output_text == expected_text(user("Tell me about rivers"))
    (message,) = response.output
    assert isinstance(message, ResponseOutputMessage)
    assert isinstance(message.content[0], ResponseOutputText)
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert response.usage.output_tokens > 0
    assert response.usage.total_tokens >= response.usage.input_tokens
    assert response.request_id is not None  # the emulator's x-request-id
    assert fake_grok.last_request.path == "/v1/responses"


async def test_the_answer_matches_the_chat_answer_to_the_same_question(
    fake_grok: FakeGrok,
) -> None:
    """The Responses text is what chat completions say to the same user message."""
    async with client_for(fake_grok) as client:
        response = await client.responses.create(model=MODEL, input="Same question")
        chat = await client.chat.completions.create(model=MODEL, messages=[user("Same question")])
    assert response.output_text == chat.choices[0].message.content


async def test_unset_parameters_are_not_sent(fake_grok: FakeGrok) -> None:
    """Only model and input go on the wire when nothing else is set; None means unset."""
    async with client_for(fake_grok) as client:
        await client.responses.create(model=MODEL, input="Hi", temperature=None, store=None)
        assert fake_grok.last_request.json == {"model": MODEL, "input": "Hi"}
        await client.responses.create(
            model=MODEL,
            input="Hi",
            temperature=0.5,
            store=False,
            max_output_tokens=50,
            reasoning={"effort": "low"},
            include=["reasoning.encrypted_content"],
            extra_body={"prompt_cache_key": "k1"},
        )
    assert fake_grok.last_request.json == {
        "model": MODEL,
        "input": "Hi",
        "temperature": 0.5,
        "store": False,
        "max_output_tokens": 50,
        "reasoning": {"effort": "low"},
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "k1",
    }


def _generated_items() -> Iterator[dict[str, Any]]:
    yield user("Tell me about rivers")


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("Tell me about rivers", id="string"),
        pytest.param([user("Tell me about rivers")], id="list-of-dicts"),
        pytest.param([UserMessage(content="Tell me about rivers")], id="attrs-message"),
        pytest.param(
            [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Tell me about rivers"}],
                }
            ],
            id="typed-item-with-parts",
        ),
        pytest.param(_generated_items(), id="generator"),
    ],
)
async def test_every_input_form_asks_the_same_question(fake_grok: FakeGrok, given: Any) -> None:
    """A string, dicts, attrs messages, content parts and iterables are all valid input."""
    async with client_for(fake_grok) as client:
        response = await client.responses.create(model=MODEL, input=given)
    assert response.output_text == expected_text(user("Tell me about rivers"))
    sent = fake_grok.last_request.json["input"]
    assert isinstance(sent, (str, list))


@pytest.mark.parametrize(
    "given",
    [
        pytest.param({"role": "user", "content": "Hi"}, id="a-bare-dict"),
        pytest.param(b"Hi", id="bytes"),
        pytest.param(42, id="a-number"),
    ],
)
async def test_input_of_the_wrong_type_is_refused_before_sending(
    fake_grok: FakeGrok, given: Any
) -> None:
    """A bare dict, bytes or a number is a TypeError naming input; nothing is sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(TypeError, match="input must be"):
            await client.responses.create(model=MODEL, input=given)
    assert fake_grok.requests == []


async def test_unknown_keyword_arguments_point_to_extra_body(fake_grok: FakeGrok) -> None:
    """A misspelled parameter raises TypeError naming it and extra_body; nothing is sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(TypeError, match=r"max_tokens.*extra_body"):
            await client.responses.create(model=MODEL, input="Hi", max_tokens=5)  # type: ignore[call-overload]
    assert fake_grok.requests == []


async def test_instructions_are_a_system_prompt(fake_grok: FakeGrok) -> None:
    """instructions are sent, echoed, and count as input the model read."""
    async with client_for(fake_grok) as client:
        plain = await client.responses.create(model=MODEL, input="Hi")
        instructed = await client.responses.create(
            model=MODEL, input="Hi", instructions="You are a terse assistant who likes rivers."
        )
    assert fake_grok.last_request.json["instructions"].startswith("You are a terse")
    assert instructed.instructions == "You are a terse assistant who likes rivers."
    assert plain.usage is not None and instructed.usage is not None
    assert instructed.usage.input_tokens > plain.usage.input_tokens


async def test_max_output_tokens_cuts_the_answer_short(fake_grok: FakeGrok) -> None:
    """A small max_output_tokens gives an incomplete response with the reason."""
    async with client_for(fake_grok) as client:
        response = await client.responses.create(model=MODEL, input="Hi", max_output_tokens=2)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    cut = default_reply({"model": MODEL, "messages": [user("Hi")], "max_completion_tokens": 2})
    assert response.output_text == cut[0].content
    full = expected_text(user("Hi"))
    assert full.startswith(response.output_text) and response.output_text != full


async def test_a_reasoning_model_returns_its_reasoning_item(fake_grok: FakeGrok) -> None:
    """Reasoning models add a reasoning item (summary, and encrypted content on request)."""
    async with client_for(fake_grok) as client:
        response = await client.responses.create(
            model=REASONING_MODEL, input="Hi", include=["reasoning.encrypted_content"]
        )
    reasoning, message = response.output
    assert isinstance(reasoning, ResponseReasoningItem)
    assert reasoning.summary[0].text.startswith("Let me think.")
    assert reasoning.encrypted_content
    assert isinstance(message, ResponseOutputMessage)
    assert response.usage is not None and response.usage.output_tokens_details is not None
    assert (response.usage.output_tokens_details.reasoning_tokens or 0) > 0


# -- conversations and storage -----------------------------------------------------------------


async def test_previous_response_id_continues_the_conversation(fake_grok: FakeGrok) -> None:
    """The second turn carries the first turn's conversation: more input tokens, linked id."""
    async with client_for(fake_grok) as client:
        first = await client.responses.create(model=MODEL, input="Name a river")
        second = await client.responses.create(
            model=MODEL, input="Another one", previous_response_id=first.id
        )
        fresh = await client.responses.create(model=MODEL, input="Another one")
    assert second.previous_response_id == first.id
    assert fake_grok.requests[1].json["previous_response_id"] == first.id
    assert second.usage is not None and fresh.usage is not None
    assert second.usage.input_tokens > fresh.usage.input_tokens
    # The answer follows the latest user message, as chat does.
    assert second.output_text == expected_text(user("Another one"))


async def test_an_unknown_previous_response_is_not_found(fake_grok: FakeGrok) -> None:
    """previous_response_id naming nothing stored raises NotFoundError with the id."""
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError, match="resp-missing") as info:
            await client.responses.create(
                model=MODEL, input="Hi", previous_response_id="resp-missing"
            )
    assert info.value.status_code == 404


async def test_retrieve_returns_the_stored_response(fake_grok: FakeGrok) -> None:
    """A created response can be fetched again by id, with the same content."""
    async with client_for(fake_grok) as client:
        created = await client.responses.create(model=MODEL, input="Keep this")
        fetched = await client.responses.retrieve(created.id)
    assert fetched.id == created.id
    assert fetched.output_text == created.output_text
    assert fetched.usage == created.usage
    assert fake_grok.last_request.method == "GET"
    assert fake_grok.last_request.path == f"/v1/responses/{created.id}"


async def test_store_false_is_not_kept(fake_grok: FakeGrok) -> None:
    """With store=False retrieving, or chaining from, the response is a 404."""
    async with client_for(fake_grok) as client:
        created = await client.responses.create(model=MODEL, input="Forget this", store=False)
        assert created.store is False
        with pytest.raises(NotFoundError):
            await client.responses.retrieve(created.id)
        with pytest.raises(NotFoundError):
            await client.responses.create(model=MODEL, input="Hi", previous_response_id=created.id)


async def test_delete_removes_the_response(fake_grok: FakeGrok) -> None:
    """delete() returns a typed deletion result; afterwards the id is unknown."""
    async with client_for(fake_grok) as client:
        created = await client.responses.create(model=MODEL, input="Hi")
        deleted = await client.responses.delete(created.id)
        assert isinstance(deleted, ResponseDeleted)
        assert deleted.id == created.id
        assert deleted.deleted is True
        assert deleted.request_id is not None
        assert fake_grok.last_request.method == "DELETE"
        with pytest.raises(NotFoundError):
            await client.responses.retrieve(created.id)
        with pytest.raises(NotFoundError):
            await client.responses.delete(created.id)


@pytest.mark.parametrize("bad", ["", ".", ".."])
async def test_a_response_id_that_cannot_be_one_path_segment_is_refused(
    fake_grok: FakeGrok, bad: str
) -> None:
    """An id that cannot be a path segment (empty, or one URL normalisation removes)
    raises ValueError naming response_id; nothing is sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(ValueError, match=r"^response_id "):
            await client.responses.retrieve(bad)
        with pytest.raises(ValueError, match=r"^response_id "):
            await client.responses.delete(bad)
    assert fake_grok.requests == []


@pytest.mark.parametrize("odd", ["../chat/completions", "a/b", "x?y=1", "a#b", "100%"])
async def test_a_response_id_with_url_syntax_stays_one_path_segment(
    fake_grok: FakeGrok, odd: str
) -> None:
    """URL syntax in an id is escaped, as for every other resource: the id is looked up
    as it is (and not found), it never reaches another endpoint or adds a query."""
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError):
            await client.responses.retrieve(odd)
        with pytest.raises(NotFoundError):
            await client.responses.delete(odd)
    assert [(r.method, r.path, r.query) for r in fake_grok.requests] == [
        ("GET", "/v1/responses/" + odd, {}),
        ("DELETE", "/v1/responses/" + odd, {}),
    ]


# -- tools ------------------------------------------------------------------------------------


async def test_a_mentioned_function_tool_is_called(fake_grok: FakeGrok) -> None:
    """Input naming a function tool gets a function_call item with schema-shaped arguments."""
    async with client_for(fake_grok) as client:
        response = await client.responses.create(
            model=MODEL, input="Use get_weather for Paris", tools=[WEATHER_TOOL]
        )
    (call,) = response.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.name == "get_weather"
    assert call.call_id.startswith("call_")
    assert orjson.loads(call.arguments) == {"city": "example"}
    assert response.output_text == ""
    assert fake_grok.last_request.json["tools"] == [WEATHER_TOOL]


async def test_tools_in_chat_shape_are_sent_in_the_responses_shape(fake_grok: FakeGrok) -> None:
    """A FunctionTool, a chat-completions tool dict or a Tool object goes out flat."""

    def get_weather(city: str, unit: str = "celsius") -> str:
        """The weather in a city."""
        return "sunny"

    chat_shape = {
        "type": "function",
        "function": {k: v for k, v in WEATHER_TOOL.items() if k != "type"},
    }
    async with client_for(fake_grok) as client:
        response = await client.responses.create(
            model=MODEL,
            input="Use get_weather for Paris",
            tools=[grok_async.function_tool(get_weather), chat_shape, {"type": "web_search"}],
        )
    sent = fake_grok.last_request.json["tools"]
    assert [tool["type"] for tool in sent] == ["function", "function", "web_search"]
    assert sent[0]["name"] == "get_weather" and "function" not in sent[0]
    assert sent[0]["parameters"]["required"] == ["city"]
    assert sent[1] == WEATHER_TOOL
    search, *calls = response.output  # the server-side search runs first
    assert isinstance(search, ResponseWebSearchCall)
    assert calls
    for call in calls:  # the emulator understood the flat tools it was sent
        assert isinstance(call, ResponseFunctionToolCall) and call.name == "get_weather"


async def test_a_function_result_gets_a_text_answer(fake_grok: FakeGrok) -> None:
    """Sending the call and its output back ends the tool round: the model answers in text."""
    async with client_for(fake_grok) as client:
        first = await client.responses.create(
            model=MODEL, input="Use get_weather for Paris", tools=[WEATHER_TOOL]
        )
        (call,) = first.output
        assert isinstance(call, ResponseFunctionToolCall)
        second = await client.responses.create(
            model=MODEL,
            previous_response_id=first.id,
            input=[{"type": "function_call_output", "call_id": call.call_id, "output": '"sunny"'}],
            tools=[WEATHER_TOOL],
        )
    assert [type(item) for item in second.output] == [ResponseOutputMessage]
    assert second.output_text


async def test_tool_choice_none_never_calls(fake_grok: FakeGrok) -> None:
    """tool_choice="none" gets text even when the input names the tool."""
    async with client_for(fake_grok) as client:
        response = await client.responses.create(
            model=MODEL, input="Use get_weather", tools=[WEATHER_TOOL], tool_choice="none"
        )
    assert response.output_text
    assert not any(isinstance(item, ResponseFunctionToolCall) for item in response.output)


# -- errors and retries -----------------------------------------------------------------------


async def test_an_unknown_model_is_not_found(fake_grok: FakeGrok) -> None:
    """An unknown model raises NotFoundError carrying the server's message."""
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError, match="grok-nonexistent") as info:
            await client.responses.create(model="grok-nonexistent", input="Hi")
    assert info.value.status_code == 404


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        pytest.param({"input": []}, BadRequestError, id="empty-input"),
        pytest.param({"input": [{"role": "robot", "content": "x"}]}, BadRequestError, id="role"),
        pytest.param({"input": [1]}, UnprocessableEntityError, id="item-not-object"),
        pytest.param({"temperature": 3}, BadRequestError, id="temperature"),
        pytest.param({"max_output_tokens": 0}, BadRequestError, id="max-output-tokens"),
    ],
)
async def test_invalid_requests_map_to_their_errors(
    fake_grok: FakeGrok, extra: dict[str, Any], error: type[Exception]
) -> None:
    """Requests the server refuses raise the matching APIStatusError subclass, not retried."""
    async with client_for(fake_grok) as client:
        with pytest.raises(error):
            await client.responses.create(model=MODEL, input="Hi", extra_body=extra)
    assert len(fake_grok.requests) == 1


async def test_instructions_with_previous_response_id_are_refused(fake_grok: FakeGrok) -> None:
    """xAI takes the system prompt from the previous response: both together are a 400."""
    async with client_for(fake_grok) as client:
        first = await client.responses.create(model=MODEL, input="Hi")
        with pytest.raises(BadRequestError, match="instructions"):
            await client.responses.create(
                model=MODEL, input="Hi", instructions="x", previous_response_id=first.id
            )


@pytest.mark.fake_grok(api_key="the-right-key")
async def test_a_wrong_key_is_an_authentication_error(fake_grok: FakeGrok) -> None:
    """xAI's 400 "Incorrect API key" raises AuthenticationError; the key is not shown."""
    async with client_for(fake_grok) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.responses.create(model=MODEL, input="Hi")
        with pytest.raises(AuthenticationError):
            await client.responses.retrieve("some-id")
    assert FAKE_KEY not in str(info.value)


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param([Fault.status(429, retry_after=0)], id="429"),
        pytest.param([Fault.status(500), Fault.status(503)], id="500-503"),
        pytest.param([Fault.reset()], id="reset"),
    ],
)
async def test_transient_failures_are_retried(
    fake_grok: FakeGrok, no_backoff: list[float], faults: list[Fault]
) -> None:
    """429, 5xx and resets before the answer are retried; the answer then arrives."""
    fake_grok.enqueue(*faults)
    async with client_for(fake_grok) as client:
        response = await client.responses.create(model=MODEL, input="Hi")
    assert response.output_text == expected_text(user("Hi"))
    assert fake_grok.stats.requests == len(faults) + 1


async def test_retries_spent_raise_the_last_error(
    fake_grok: FakeGrok, no_backoff: list[float]
) -> None:
    """With retries spent, the last 429 is raised as RateLimitError."""
    fake_grok.enqueue(*[Fault.status(429, retry_after=0)] * 3)
    async with client_for(fake_grok, max_retries=2) as client:
        with pytest.raises(RateLimitError):
            await client.responses.create(model=MODEL, input="Hi")
    assert fake_grok.stats.requests == 3


async def test_max_retries_zero_raises_at_once(fake_grok: FakeGrok) -> None:
    """max_retries=0 per call: the first 500 is raised."""
    fake_grok.enqueue(Fault.status(500))
    async with client_for(fake_grok) as client:
        with pytest.raises(InternalServerError):
            await client.responses.create(model=MODEL, input="Hi", max_retries=0)
    assert fake_grok.stats.requests == 1


@pytest.mark.fake_grok(requests_per_second=1, burst=1, retry_after=0.01)
async def test_the_emulators_rate_limit_applies(
    fake_grok: FakeGrok, no_backoff: list[float]
) -> None:
    """The emulator's request budget covers /v1/responses: the second call gets a 429."""
    async with client_for(fake_grok, max_retries=0) as client:
        await client.responses.create(model=MODEL, input="Hi")
        with pytest.raises(RateLimitError):
            await client.responses.create(model=MODEL, input="Hi")


# -- tolerance --------------------------------------------------------------------------------


async def test_unknown_fields_are_kept(fake_grok: FakeGrok) -> None:
    """Top-level fields the library does not know survive in raw and to_dict()."""
    fake_grok.enqueue(Reply("Hello", extra={"service_tier": "default", "new_thing": {"a": [1]}}))
    async with client_for(fake_grok) as client:
        response = await client.responses.create(model=MODEL, input="Hi")
    assert response.output_text == "Hello"
    assert response.raw["new_thing"] == {"a": [1]}
    assert response.to_dict()["service_tier"] == "default"


SERVER_SIDE_BODY = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1754475266,
    "model": "grok-4",
    "status": "completed",
    "output": [
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "completed",
            "action": {"type": "search", "query": "rivers"},
        },
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [
                {
                    "type": "output_text",
                    "text": "The Nile.",
                    "annotations": [{"type": "url_citation", "url": "https://x.test/nile"}],
                },
                {"type": "hologram", "data": "?"},
            ],
        },
        {"type": "x_search_call", "id": "xs_1"},
    ],
    "usage": {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 4},
        "output_tokens": 3,
        "output_tokens_details": {"reasoning_tokens": 7},
        "total_tokens": 20,
        "num_sources_used": 2,
        "num_server_side_tools_used": 1,
        "cost_in_usd_ticks": 12345,
        "brand_new_counter": 1,
    },
    "a_field_from_the_future": True,
}


async def test_unknown_item_and_part_types_decode_generically(server: LocalServer) -> None:
    """A server-side tool call of a modelled type is typed (``web_search_call``); an item or
    part of an unknown type becomes its family's generic class with its raw data."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(SERVER_SIDE_BODY, headers={"x-request-id": "req-1"})

    server.handler = handler
    async with client_for(server) as client:
        response = await client.responses.create(model="grok-4", input="Rivers?")
    search, message, x_search = response.output
    assert isinstance(search, ResponseWebSearchCall)
    assert search.action is not None and search.action.query == "rivers"
    assert search.raw["action"]["query"] == "rivers"
    assert type(x_search) is ResponseOutputItem
    assert x_search.type == "x_search_call"
    assert isinstance(message, ResponseOutputMessage)
    text, hologram = message.content
    assert isinstance(text, ResponseOutputText)
    assert text.annotations[0].url == "https://x.test/nile"
    assert hologram.type == "hologram" and hologram.raw["data"] == "?"
    assert response.output_text == "The Nile."
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens_details is not None and usage.input_tokens_details.cached_tokens == 4
    assert usage.output_tokens_details is not None
    assert usage.output_tokens_details.reasoning_tokens == 7
    assert (usage.num_sources_used, usage.num_server_side_tools_used) == (2, 1)
    assert usage.cost_in_usd_ticks == 12345
    assert usage.raw["brand_new_counter"] == 1
    assert response.raw["a_field_from_the_future"] is True
    assert response.request_id == "req-1"


async def test_earlier_output_items_sent_back_as_input_keep_their_content(
    fake_grok: FakeGrok,
) -> None:
    """A decoded output message (its parts typed as subclasses of ResponseContentPart)
    goes back on the wire whole: role, content parts with their text."""
    async with client_for(fake_grok) as client:
        first = await client.responses.create(model=MODEL, input="Name a river.")
        await client.responses.create(
            model=MODEL, input=[user("Name a river."), *first.output, user("Another?")]
        )
    sent = fake_grok.last_request.json["input"]
    assert sent[1]["type"] == "message"
    assert sent[1]["role"] == "assistant"
    assert sent[1]["content"][0]["type"] == "output_text"
    assert sent[1]["content"][0]["text"] == first.output_text != ""


def test_responses_typed_items_need_only_the_types_module() -> None:
    """Importing grok_async.types.responses is enough for typed output items: nothing else
    (the stream module, the resource) has to be imported first."""
    code = (
        "import sys\n"
        "from grok_async.types.responses import Response, ResponseOutputMessage\n"
        "from grok_async._serialization import converter\n"
        "payload = {'id': 'r', 'output': [{'type': 'message', 'content': ["
        "{'type': 'output_text', 'text': 'hi'}]}]}\n"
        "item = converter.structure(payload, Response).output[0]\n"
        "print(type(item).__name__, type(item.content[0]).__name__, item.content[0].text)\n"
        "print('grok_async._responses_stream' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ResponseOutputMessage", "ResponseOutputText", "hi", "False"]


async def test_a_delete_answer_that_does_not_decode_fails_the_call_for_hooks(
    server: LocalServer,
) -> None:
    """delete() decodes inside the call: a body that is not JSON is the call's failure,
    seen by on_error; a good answer without x-request-id takes the id as request_id."""
    errors: list[HookEvent] = []
    answers = iter([web.Response(body=b"not json"), web.json_response(DELETED)])

    async def handler(request: web.Request) -> web.StreamResponse:
        return next(answers)

    server.handler = handler
    async with client_for(server, hooks=Hooks(on_error=errors.append), max_retries=0) as client:
        with pytest.raises(APIResponseValidationError, match="invalid JSON"):
            await client.responses.delete("resp_1")
        deleted = await client.responses.delete("resp_1")
    assert [(e.method, e.path, e.exception_type) for e in errors] == [
        ("DELETE", "/responses/resp_1", APIResponseValidationError)
    ]
    assert deleted.deleted is True
    assert deleted.request_id == "resp_1"


DELETED = {"id": "resp_1", "object": "response", "deleted": True}


async def test_a_body_that_is_not_a_response_is_a_validation_error(server: LocalServer) -> None:
    """A 200 body without an id raises APIResponseValidationError naming Response."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"object": "response", "output": []})

    server.handler = handler
    async with client_for(server) as client:
        with pytest.raises(APIResponseValidationError, match="Response"):
            await client.responses.create(model=MODEL, input="Hi")
