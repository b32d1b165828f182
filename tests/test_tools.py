"""Tools: definitions built from typed functions and attrs classes, validated arguments, and
the run_tools() loop against the emulator (concurrent calls, ids, errors, max_rounds)."""

from __future__ import annotations

import asyncio
import enum
import functools
import threading
from typing import Annotated, Any, Literal

import attrs
import orjson
import pytest

from grok_async import (
    AsyncGrok,
    FunctionTool,
    MaxToolRoundsError,
    Tool,
    ToolArgumentsError,
    ToolMessage,
    function_tool,
    run_tools,
)
from grok_async.testing import FakeGrok, Fault, Reply

from .conftest import FAKE_KEY

NULL = {"type": "null"}


@attrs.define
class Location:
    city: str
    country: str | None = None


@attrs.define
class Booking:
    """Book a table at a restaurant.

    Attributes:
        restaurant: Where to book.
        seats: How many people.
    """

    restaurant: str
    seats: int = 2


async def get_weather(
    location: Location, unit: Literal["C", "F"] = "C", days: list[int] | None = None
) -> dict[str, Any]:
    """The weather forecast for a place.

    Args:
        location: Where.
        unit: The temperature unit.
        days: Which days ahead (0 is today).
    """
    return {"city": location.city, "unit": unit, "days": days or [0]}


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.define
class Stop:
    place: str
    minutes: int = 10


async def plan(
    level: Level,
    color: Color | None = None,
    first: Stop | None = None,
    stops: list[Stop] | None = None,
    tags: list[str] | None = None,
    rating: Literal[1, 2] | None = None,
) -> str:
    """Plan a trip (every kind of parameter the strictness rules cover)."""
    return "planned"


def client_for(fake: FakeGrok) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url)


def call(name: str, call_id: str, **arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "name": name, "arguments": arguments}


# -- definitions -------------------------------------------------------------------------------


def test_a_function_becomes_a_tool_definition() -> None:
    """Name, docstring summary, Args: descriptions, types and defaults make the definition."""
    tool = function_tool(get_weather)
    assert isinstance(tool, FunctionTool)
    definition = tool.definition
    assert isinstance(definition, Tool)
    assert definition.function.name == "get_weather"
    assert definition.function.description == "The weather forecast for a place."
    assert definition.function.strict is None
    assert definition.function.parameters == {
        "type": "object",
        "properties": {
            "location": {
                "description": "Where.",
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "country": {"anyOf": [{"type": "string"}, NULL], "default": None},
                },
                "required": ["city"],
                "additionalProperties": False,
            },
            "unit": {
                "description": "The temperature unit.",
                "type": "string",
                "enum": ["C", "F"],
                "default": "C",
            },
            "days": {
                "description": "Which days ahead (0 is today).",
                "anyOf": [{"type": "array", "items": {"type": "integer"}}, NULL],
                "default": None,
            },
        },
        "required": ["location"],
        "additionalProperties": False,
    }


def test_strict_tools_require_every_parameter() -> None:
    """strict=True: every parameter required, defaults nullable, "strict": true sent."""
    tool = function_tool(add, strict=True, name="adder", description="Sums.")
    function = tool.definition.function
    assert (function.name, function.description, function.strict) == ("adder", "Sums.", True)
    strict_weather = function_tool(get_weather, strict=True).parameters
    assert strict_weather["required"] == ["location", "unit", "days"]
    assert strict_weather["properties"]["unit"]["anyOf"][1] == NULL


def test_function_tool_is_also_a_decorator() -> None:
    """@function_tool and @function_tool(name=...) both give a FunctionTool."""

    @function_tool
    def plain(x: int) -> int:
        return x

    @function_tool(name="renamed")
    async def other(x: Annotated[int, "A number."]) -> int:
        return x

    assert plain.name == "plain"
    assert other.name == "renamed"
    assert other.parameters["properties"]["x"] == {"description": "A number.", "type": "integer"}


def test_an_attrs_class_becomes_a_tool() -> None:
    """An attrs class is a tool whose parameters are its fields."""
    tool = function_tool(Booking)
    assert tool.name == "Booking"
    assert tool.description == "Book a table at a restaurant."
    assert tool.parameters["properties"]["seats"] == {
        "description": "How many people.",
        "type": "integer",
        "default": 2,
    }
    assert tool.parameters["required"] == ["restaurant"]


def _no_annotation(x):  # type: ignore[no-untyped-def]
    return x


def _star_args(*values: int) -> int:
    return sum(values)


def _star_kwargs(**values: int) -> int:
    return sum(values.values())


def _object_parameter(value: object) -> None:
    pass


def _free_map(scores: dict[str, int]) -> None:
    pass


@pytest.mark.parametrize(
    ("function", "options", "error", "message"),
    [
        pytest.param(_no_annotation, {}, TypeError, r"_no_annotation\(x\)", id="no-annotation"),
        pytest.param(_star_args, {}, TypeError, r"\*args", id="star-args"),
        pytest.param(_star_kwargs, {}, TypeError, r"\*\*kwargs", id="star-kwargs"),
        pytest.param(_object_parameter, {}, TypeError, r"_object_parameter\.value", id="no-schema"),
        pytest.param(lambda x: x, {}, ValueError, "<lambda>", id="lambda-name"),
        pytest.param(add, {"name": "has space"}, ValueError, "has space", id="bad-name"),
        pytest.param(_free_map, {"strict": True}, TypeError, "strict", id="strict-map"),
    ],
)
def test_what_cannot_be_described_is_rejected_clearly(
    function: Any, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    """Untyped, variadic or schema-less parameters and bad names fail when the tool is built."""
    with pytest.raises(error, match=message):
        function_tool(function, **options)


# -- arguments ---------------------------------------------------------------------------------


async def test_arguments_are_structured_into_the_annotated_types() -> None:
    """JSON arguments become the annotated types; omitted and null ones take the default."""
    tool = function_tool(get_weather)
    arguments = tool.parse_arguments('{"location": {"city": "Oslo"}, "unit": null}')
    assert arguments == {"location": Location("Oslo"), "unit": "C", "days": None}
    result = await tool.call('{"location": {"city": "Oslo"}, "days": [1, 2]}')
    assert result == {"city": "Oslo", "unit": "C", "days": [1, 2]}


async def test_an_attrs_class_tool_builds_an_instance() -> None:
    """Calling an attrs-class tool returns the validated instance."""
    assert await function_tool(Booking).call({"restaurant": "Maaemo"}) == Booking("Maaemo", 2)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param('{"location": ', "not valid JSON", id="not-json"),
        pytest.param("[1, 2]", "expected a JSON object", id="not-an-object"),
        pytest.param('{"location": {"city": "Oslo"}, "when": 1}', "when", id="unknown"),
        pytest.param("{}", "location", id="missing"),
        pytest.param('{"location": {"city": 5}}', r"\$\.location\.city", id="wrong-type"),
        pytest.param('{"location": {"city": "Oslo"}, "unit": "K"}', r"\$\.unit", id="literal"),
        # Anchored: "1" read as ["1"] would fail too, but at $.days[0].
        pytest.param(
            '{"location": {"city": "Oslo"}, "days": "1"}', r"\$\.days$", id="str-for-list"
        ),
        pytest.param(
            '{"location": {"city": "Oslo", "zip": "0150"}}', r"zip", id="unknown-nested-key"
        ),
    ],
)
async def test_bad_arguments_raise_without_calling_the_function(
    arguments: str, message: str
) -> None:
    """Arguments that do not fit raise ToolArgumentsError naming the problem; no call."""
    calls: list[Location] = []

    async def forecast(
        location: Location, unit: Literal["C", "F"] = "C", days: list[int] | None = None
    ) -> str:
        calls.append(location)
        return "sunny"

    tool = function_tool(forecast)
    with pytest.raises(ToolArgumentsError, match=message) as caught:
        await tool.call(arguments)
    assert caught.value.tool_name == "forecast"
    assert caught.value.arguments == arguments
    assert isinstance(caught.value, ValueError)
    assert calls == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"level": 1, "tags": "abc"}, r"\$\.tags$", id="str-for-optional-list"),
        pytest.param(
            {"level": 1, "first": {"place": "x", "x": 1}},
            r"extra fields found \(x\) @ \$\.first",
            id="optional-class-key",
        ),
        pytest.param({"level": 1, "stops": [{"place": 1}]}, r"\$\.stops\[0\]\.place", id="item"),
        pytest.param({"level": 5}, r"expected Level \(1 or 2\), got int: 5", id="int-enum"),
        pytest.param({"level": True}, r"got bool: True @ \$\.level", id="bool-for-int-enum"),
        pytest.param({"level": 1, "color": "green"}, r"'red' or 'blue'", id="str-enum"),
        pytest.param({"level": 1, "rating": True}, r"expected 1 or 2, got bool", id="literal"),
        pytest.param({"level": 1, "rating": 1.0}, r"got float: 1\.0", id="float-literal"),
    ],
)
async def test_optional_parameters_enums_and_literals_are_strict(
    arguments: dict[str, Any], message: str
) -> None:
    """X | None parameters are as strict as X; enums and literals take only their values."""
    with pytest.raises(ToolArgumentsError, match=message):
        await function_tool(plan).call(arguments)


def test_enum_and_optional_arguments_are_structured() -> None:
    """IntEnum and str-based enum arguments become members; null means the default inside
    Optional classes and lists."""
    arguments = function_tool(plan).parse_arguments(
        {
            "level": 2,
            "color": "red",
            "first": {"place": "Bergen", "minutes": None},
            "stops": [{"place": "Voss", "minutes": None}, {"place": "Flåm", "minutes": 30}],
            "tags": ["rail"],
            "rating": 2,
        }
    )
    assert arguments == {
        "level": Level.HIGH,
        "color": Color.RED,
        "first": Stop("Bergen", 10),
        "stops": [Stop("Voss", 10), Stop("Flåm", 30)],
        "tags": ["rail"],
        "rating": 2,
    }
    assert type(arguments["level"]) is Level
    assert type(arguments["color"]) is Color


async def test_a_partial_is_described_by_the_function_it_wraps() -> None:
    """functools.partial: the wrapped function's name and docs; bound arguments are neither
    described nor settable by the model."""

    def search(query: str, limit: int, api_key: str) -> str:
        """Search the catalogue.

        Args:
            query: What to look for.
            limit: How many results.
            api_key: The secret.
        """
        return f"{query}:{limit}:{api_key}"

    tool = function_tool(functools.partial(search, api_key="sk-secret"))
    assert tool.name == "search"
    assert tool.description == "Search the catalogue."
    assert list(tool.parameters["properties"]) == ["query", "limit"]
    assert "sk-secret" not in orjson.dumps(tool.parameters).decode()
    assert await tool.call({"query": "maps", "limit": 3}) == "maps:3:sk-secret"
    with pytest.raises(ToolArgumentsError, match="api_key"):
        await tool.call({"query": "maps", "limit": 3, "api_key": "other"})
    positional = function_tool(functools.partial(search, "maps"), name="maps")
    assert list(positional.parameters["properties"]) == ["limit", "api_key"]
    assert await positional.call({"limit": 1, "api_key": "k"}) == "maps:1:k"


async def test_sync_functions_run_in_a_worker_thread() -> None:
    """A sync tool runs off the event loop's thread; positional-only parameters work."""
    loop_thread = threading.get_ident()

    def where(tag: str, /, suffix: str = "!") -> tuple[int, str]:
        return threading.get_ident(), tag + suffix

    thread, text = await function_tool(where).call('{"tag": "x"}')
    assert thread != loop_thread
    assert text == "x!"


# -- run_tools ---------------------------------------------------------------------------------


async def test_run_tools_runs_the_call_and_returns_the_answer(fake_grok: FakeGrok) -> None:
    """The emulator calls the mentioned tool; its result goes back with the call's id."""
    messages = [{"role": "user", "content": "Use add please."}]
    async with client_for(fake_grok) as client:
        result = await run_tools(client, model="grok-4", messages=messages, tools=[add])
    assert messages == [{"role": "user", "content": "Use add please."}]  # not modified
    assert result.rounds == 1
    [ran] = result.tool_calls
    assert (ran.name, ran.output, ran.error, ran.content) == ("add", 2, None, "2")
    first, second = (request.json for request in fake_grok.requests)
    assert first["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "add",
                "description": "Add two numbers.",
                "parameters": {
                    "type": "object",
                    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                    "required": ["a", "b"],
                    "additionalProperties": False,
                },
            },
        }
    ]
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "tool"]
    assistant, tool_message = second["messages"][1:]
    assert assistant["tool_calls"][0]["id"] == ran.id
    assert tool_message == {"role": "tool", "content": "2", "tool_call_id": ran.id}
    answer = result.completion.choices[0].message
    assert answer.tool_calls is None
    assert result.content == answer.content
    assert [type(m).__name__ for m in result.messages[1:]] == [
        "AssistantMessage",
        "ToolMessage",
        "AssistantMessage",
    ]
    assert result.messages[-1].content == answer.content


async def test_one_rounds_calls_run_concurrently(fake_grok: FakeGrok) -> None:
    """Two async tools that each wait for the other can only finish if run together."""
    ping_seen, pong_seen = asyncio.Event(), asyncio.Event()

    async def ping() -> str:
        ping_seen.set()
        await asyncio.wait_for(pong_seen.wait(), 2)
        return "ping done"

    async def pong() -> str:
        pong_seen.set()
        await asyncio.wait_for(ping_seen.wait(), 2)
        return "pong done"

    fake_grok.enqueue(Reply(tool_calls=[call("ping", "call_1"), call("pong", "call_2")]))
    async with client_for(fake_grok) as client:
        result = await run_tools(
            client, model="grok-4", messages=[{"role": "user", "content": "go"}], tools=[ping, pong]
        )
    assert [(c.id, c.name, c.content, c.error) for c in result.tool_calls] == [
        ("call_1", "ping", "ping done", None),
        ("call_2", "pong", "pong done", None),
    ]
    tool_messages = [m for m in result.messages if isinstance(m, ToolMessage)]
    assert [(m.tool_call_id, m.content) for m in tool_messages] == [
        ("call_1", "ping done"),
        ("call_2", "pong done"),
    ]


async def test_sync_tools_of_one_round_run_in_parallel_threads(fake_grok: FakeGrok) -> None:
    """Two sync tools meeting at a barrier prove they ran in threads at the same time."""
    barrier = threading.Barrier(2, timeout=2)

    def left() -> str:
        barrier.wait()
        return "left"

    def right() -> str:
        barrier.wait()
        return "right"

    fake_grok.enqueue(Reply(tool_calls=[call("left", "a"), call("right", "b")]))
    async with client_for(fake_grok) as client:
        result = await run_tools(
            client,
            model="grok-4",
            messages=[{"role": "user", "content": "go"}],
            tools=[left, right],
        )
    assert [(c.content, c.error) for c in result.tool_calls] == [("left", None), ("right", None)]


async def test_a_failing_tool_reports_the_error_to_the_model_and_the_caller(
    fake_grok: FakeGrok,
) -> None:
    """A tool's exception is sent back as text (the loop goes on) and kept on the result."""

    async def explode(reason: str) -> str:
        raise ValueError(reason)

    fake_grok.enqueue(Reply(tool_calls=[call("explode", "call_x", reason="boom")]))
    async with client_for(fake_grok) as client:
        result = await run_tools(
            client, model="grok-4", messages=[{"role": "user", "content": "go"}], tools=[explode]
        )
    [failed] = result.tool_calls
    assert isinstance(failed.error, ValueError)
    assert str(failed.error) == "boom"
    assert failed.content == "Error: explode raised ValueError: boom"
    sent = fake_grok.last_request.json["messages"][-1]
    assert sent == {"role": "tool", "content": failed.content, "tool_call_id": "call_x"}
    assert result.completion.choices[0].message.content


async def test_an_unknown_tool_is_an_error_result_not_a_crash(fake_grok: FakeGrok) -> None:
    """A tool name the model made up gets an error text listing the real tools."""
    fake_grok.enqueue(Reply(tool_calls=[call("teleport", "call_t", to="Mars")]))
    async with client_for(fake_grok) as client:
        result = await run_tools(
            client, model="grok-4", messages=[{"role": "user", "content": "go"}], tools=[add]
        )
    [unknown] = result.tool_calls
    assert isinstance(unknown.error, LookupError)
    assert "no tool named 'teleport'" in unknown.content
    assert "Available tools: add" in unknown.content
    assert fake_grok.last_request.json["messages"][-1]["tool_call_id"] == "call_t"


async def test_bad_arguments_from_the_model_are_sent_back(fake_grok: FakeGrok) -> None:
    """Arguments that do not fit are reported to the model; the function is not called."""
    fake_grok.enqueue(Reply(tool_calls=[call("add", "call_b", a="one", b=2)]))
    async with client_for(fake_grok) as client:
        result = await run_tools(
            client, model="grok-4", messages=[{"role": "user", "content": "go"}], tools=[add]
        )
    [bad] = result.tool_calls
    assert isinstance(bad.error, ToolArgumentsError)
    assert bad.output is None
    assert bad.content.startswith("Error: Invalid arguments for add")
    assert "$.a" in bad.content


async def test_results_are_sent_as_json_unless_text(fake_grok: FakeGrok) -> None:
    """Non-str results are JSON-encoded (attrs instances too); unencodable ones are errors."""

    async def booking() -> Booking:
        return Booking("Maaemo", 4)

    async def opaque() -> object:
        return object()

    fake_grok.enqueue(Reply(tool_calls=[call("booking", "c1"), call("opaque", "c2")]))
    async with client_for(fake_grok) as client:
        result = await run_tools(
            client,
            model="grok-4",
            messages=[{"role": "user", "content": "go"}],
            tools=[booking, opaque],
        )
    first, second = result.tool_calls
    assert orjson.loads(first.content) == {"restaurant": "Maaemo", "seats": 4}
    assert first.output == Booking("Maaemo", 4)
    assert isinstance(second.error, TypeError)
    assert "cannot be sent as JSON" in second.content


async def test_several_rounds_carry_the_whole_conversation(fake_grok: FakeGrok) -> None:
    """Each round sends everything before it; the loop ends when the model answers."""
    fake_grok.enqueue(
        Reply(tool_calls=[call("add", "r1", a=1, b=2)]),
        Reply(tool_calls=[call("add", "r2", a=3, b=4)]),
        Reply("The total is 10."),
    )
    async with client_for(fake_grok) as client:
        result = await client.chat.completions.run_tools(
            model="grok-4", messages=[{"role": "user", "content": "sum"}], tools=[add]
        )
    assert result.rounds == 2
    assert [(c.id, c.output, c.round) for c in result.tool_calls] == [("r1", 3, 1), ("r2", 7, 2)]
    assert result.content == "The total is 10."
    third = fake_grok.last_request.json["messages"]
    assert [m["role"] for m in third] == ["user", "assistant", "tool", "assistant", "tool"]
    assert [m.get("tool_call_id") for m in third if m["role"] == "tool"] == ["r1", "r2"]


async def test_max_rounds_stops_a_model_that_keeps_calling_tools(fake_grok: FakeGrok) -> None:
    """After max_rounds rounds a reply with more calls raises, keeping what was done."""
    fake_grok.enqueue(*(Reply(tool_calls=[call("add", f"c{i}", a=i, b=i)]) for i in range(5)))
    async with client_for(fake_grok) as client:
        with pytest.raises(MaxToolRoundsError, match="max_rounds=2") as caught:
            await run_tools(
                client,
                model="grok-4",
                messages=[{"role": "user", "content": "loop"}],
                tools=[add],
                max_rounds=2,
            )
    error = caught.value
    assert fake_grok.stats.requests == 3
    assert [c.id for c in error.tool_calls] == ["c0", "c1"]
    unrun = error.completion.choices[0].message.tool_calls
    assert unrun is not None and unrun[0].id == "c2"
    assert len(error.messages) == 5  # user + two (assistant, tool) pairs


async def test_max_rounds_zero_runs_no_tool(fake_grok: FakeGrok) -> None:
    """max_rounds=0 only asks once: a tool call then is an error, and nothing runs."""
    ran: list[int] = []

    def record(x: int) -> int:
        ran.append(x)
        return x

    fake_grok.enqueue(Reply(tool_calls=[call("record", "c", x=1)]))
    async with client_for(fake_grok) as client:
        with pytest.raises(MaxToolRoundsError):
            await run_tools(
                client,
                model="grok-4",
                messages=[{"role": "user", "content": "x"}],
                tools=[record],
                max_rounds=0,
            )
    assert ran == []


@pytest.mark.parametrize(
    ("options", "error"),
    [
        pytest.param({"stream": True}, "stream", id="stream"),
        pytest.param({"deferred": True}, "deferred", id="deferred"),
        pytest.param({"tool_timeout": 0}, "tool_timeout", id="tool-timeout"),
        pytest.param({"n": 2}, "n must be 1", id="n"),
        pytest.param({"tools": [add, function_tool(add)]}, "two tools", id="duplicate"),
        pytest.param({"tools": [42]}, "not int", id="not-a-tool"),
    ],
)
async def test_run_tools_rejects_what_it_cannot_run_before_sending(
    fake_grok: FakeGrok, options: dict[str, Any], error: str
) -> None:
    """Unsupported arguments raise TypeError (ValueError for a bad number) and nothing is
    sent."""
    arguments: dict[str, Any] = {"tools": [add], **options}
    async with client_for(fake_grok) as client:
        with pytest.raises((TypeError, ValueError), match=error):
            await run_tools(
                client, model="grok-4", messages=[{"role": "user", "content": "x"}], **arguments
            )
    assert fake_grok.stats.requests == 0


async def test_a_tool_that_outruns_tool_timeout_is_cancelled_and_reported(
    fake_grok: FakeGrok,
) -> None:
    """tool_timeout: a hanging call is cancelled and becomes an error result the model
    sees; the other calls of the round are unaffected."""
    cancelled = asyncio.Event()

    async def hang() -> str:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    fake_grok.enqueue(Reply(tool_calls=[call("hang", "c1"), call("add", "c2", a=1, b=1)]))
    async with client_for(fake_grok) as client:
        result = await asyncio.wait_for(
            client.chat.completions.run_tools(
                model="grok-4",
                messages=[{"role": "user", "content": "go"}],
                tools=[hang, add],
                tool_timeout=0.2,
            ),
            10,
        )
    hung, added = result.tool_calls
    assert isinstance(hung.error, TimeoutError)
    assert hung.output is None
    assert hung.content == "Error: hang did not finish within 0.2 seconds and was cancelled."
    assert cancelled.is_set()
    assert (added.output, added.error) == (2, None)
    sent = [m for m in fake_grok.last_request.json["messages"] if m["role"] == "tool"]
    assert sent[0] == {"role": "tool", "content": hung.content, "tool_call_id": "c1"}


async def test_a_tool_raising_timeout_error_itself_is_not_a_timeout(fake_grok: FakeGrok) -> None:
    """Within tool_timeout, a tool's own TimeoutError is reported as the tool's error."""

    async def slow_backend() -> str:
        raise TimeoutError("backend too slow")

    fake_grok.enqueue(Reply(tool_calls=[call("slow_backend", "c1")]))
    async with client_for(fake_grok) as client:
        result = await run_tools(
            client,
            model="grok-4",
            messages=[{"role": "user", "content": "go"}],
            tools=[slow_backend],
            tool_timeout=5,
        )
    [ran] = result.tool_calls
    assert ran.content == "Error: slow_backend raised TimeoutError: backend too slow"


@pytest.mark.parametrize("tool_timeout", [None, 30.0])
async def test_cancelling_run_tools_cancels_the_running_tools(
    fake_grok: FakeGrok, tool_timeout: float | None
) -> None:
    """A cancelled run_tools() returns only after its tools were cancelled and unwound."""
    started = asyncio.Event()
    unwound: list[str] = []

    async def wait_forever() -> str:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            unwound.append("wait_forever")
        return "never"

    fake_grok.enqueue(Reply(tool_calls=[call("wait_forever", "c1")]))
    async with client_for(fake_grok) as client:
        task = asyncio.ensure_future(
            run_tools(
                client,
                model="grok-4",
                messages=[{"role": "user", "content": "go"}],
                tools=[wait_forever],
                tool_timeout=tool_timeout,
            )
        )
        await asyncio.wait_for(started.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert unwound == ["wait_forever"]
    assert fake_grok.stats.requests == 1


class Abort(BaseException):
    """Not an Exception: run_tools() does not turn it into an error result."""


async def test_a_tool_raising_a_base_exception_cancels_its_siblings(fake_grok: FakeGrok) -> None:
    """A BaseException from one tool propagates, after the round's other tools were
    cancelled and awaited (none is left running)."""
    sibling_started = asyncio.Event()
    unwound: list[str] = []

    async def sibling() -> str:
        sibling_started.set()
        try:
            await asyncio.sleep(60)
        finally:
            unwound.append("sibling")
        return "never"

    async def abort() -> str:
        await sibling_started.wait()
        raise Abort

    fake_grok.enqueue(Reply(tool_calls=[call("sibling", "c1"), call("abort", "c2")]))
    async with client_for(fake_grok) as client:
        with pytest.raises(Abort):
            await asyncio.wait_for(
                run_tools(
                    client,
                    model="grok-4",
                    messages=[{"role": "user", "content": "go"}],
                    tools=[sibling, abort],
                ),
                10,
            )
        assert unwound == ["sibling"]


async def test_server_side_tool_calls_are_not_echoed(fake_grok: FakeGrok) -> None:
    """Only the function calls that were run go back in the assistant turn, each answered
    by one tool message; server-side calls (run by xAI) are left out."""
    reply = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "grok-4",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "ws_1",
                            "type": "web_search_call",
                            "function": {"name": "web_search", "arguments": "{}"},
                        },
                        {
                            "id": "fn_1",
                            "type": "function",
                            "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'},
                        },
                    ],
                },
            }
        ],
    }
    fake_grok.enqueue(Fault.status(200, body=reply), Reply("Five."))
    async with client_for(fake_grok) as client:
        result = await run_tools(
            client, model="grok-4", messages=[{"role": "user", "content": "go"}], tools=[add]
        )
    assert [(c.id, c.output) for c in result.tool_calls] == [("fn_1", 5)]
    assistant, tool_message = fake_grok.last_request.json["messages"][1:]
    assert [c["id"] for c in assistant["tool_calls"]] == ["fn_1"]
    assert tool_message["tool_call_id"] == "fn_1"
    assert result.content == "Five."


async def test_create_takes_function_tools_as_their_definitions(fake_grok: FakeGrok) -> None:
    """tools=[function_tool(...)] in create() sends each tool's definition (next to a dict
    tool, which gets the empty parameters schema the API requires)."""
    tool = function_tool(add)
    async with client_for(fake_grok) as client:
        await client.chat.completions.create(
            model="grok-4",
            messages=[{"role": "user", "content": "x"}],
            tools=[tool, {"type": "function", "function": {"name": "other"}}],
        )
    sent = fake_grok.last_request.json["tools"]
    assert sent == [
        {
            "type": "function",
            "function": {
                "name": "add",
                "description": "Add two numbers.",
                "parameters": tool.parameters,
            },
        },
        {
            "type": "function",
            "function": {"name": "other", "parameters": {"type": "object", "properties": {}}},
        },
    ]
