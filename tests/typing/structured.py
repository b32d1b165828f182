"""Never executed: checked by ``mypy --strict`` to pin the types of structured outputs and tools."""

from __future__ import annotations

import functools

import attrs
from typing_extensions import assert_type

from grok_async import (
    AsyncGrok,
    ChatCompletion,
    FunctionTool,
    ParsedChatCompletion,
    ToolRunResult,
    function_tool,
    run_tools,
)


@attrs.define
class City:
    name: str


async def lookup(city: str) -> int:
    return len(city)


def count(text: str) -> int:
    return len(text)


async def typed_structured_calls(client: AsyncGrok) -> None:
    completion = await client.chat.completions.parse(
        model="grok-4", messages=[], response_format=City
    )
    assert_type(completion, ParsedChatCompletion[City])
    assert_type(completion.choices[0].message.parsed, City | None)
    plain: ChatCompletion = completion  # a parsed completion is a completion

    async with client.chat.completions.stream(
        model="grok-4", messages=[], response_format=City
    ) as stream:
        final = await stream.get_final_completion()
    assert_type(final.choices[0].message.parsed, City | None)

    async with client.chat.completions.stream(model="grok-4", messages=[]) as plain_stream:
        assert_type(await plain_stream.get_final_completion(), ChatCompletion)

    assert_type(function_tool(lookup), FunctionTool[int])
    assert_type(function_tool(count), FunctionTool[int])
    assert_type(await function_tool(lookup).call("{}"), int)
    result = await run_tools(client, model="grok-4", messages=[], tools=[lookup, count])
    assert_type(result, ToolRunResult)
    assert_type(
        await client.chat.completions.run_tools(model="grok-4", messages=[], tools=[lookup]),
        ToolRunResult,
    )
    assert_type(
        await run_tools(client, model="grok-4", messages=[], tools=[lookup], tool_timeout=5.0),
        ToolRunResult,
    )
    assert_type(
        await client.chat.completions.run_tools(
            model="grok-4", messages=[], tools=[lookup], tool_timeout=None
        ),
        ToolRunResult,
    )
    assert_type(function_tool(functools.partial(lookup)), FunctionTool[int])
    del plain
