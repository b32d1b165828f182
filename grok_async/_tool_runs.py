"""The tool loop: :func:`run_tools` talks with the model, running the tools it calls.

Call the model, run every tool call of its reply concurrently, send the results back as
``tool`` messages, and repeat until the model answers without calling a tool. The tools
themselves (:class:`~._tools.FunctionTool`) are built in :mod:`grok_async._tools`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from ._errors import APIResponseValidationError, MaxToolRoundsError
from ._serialization import encode_json
from ._tools import DEFAULT_MAX_ROUNDS, FunctionTool, ToolArgumentsError, as_tool
from .types.chat import ChatCompletion, ChatCompletionMessage, ToolCall
from .types.messages import AssistantMessage, ToolMessage
from .types.tool_runs import ToolCallResult, ToolRunResult

__all__ = ["ChatClient", "run_tools", "run_tools_with"]

R = TypeVar("R")


class ChatClient(Protocol):
    """What :func:`run_tools` uses of a client (an :class:`~grok_async.AsyncGrok`):
    ``client.chat.completions.create``."""

    @property
    def chat(self) -> Any: ...


async def run_tools(
    client: ChatClient,
    *,
    model: str,
    messages: Iterable[Any],
    tools: Iterable[FunctionTool[Any] | Callable[..., Any]],
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    tool_timeout: float | None = None,
    **params: Any,
) -> ToolRunResult:
    """Talk with the model, running the tools it calls, until it answers.

    Each round sends the conversation with the tools' definitions, runs every function
    call of the reply concurrently (sync functions in worker threads), appends the
    assistant turn and one ``tool`` message per call (matched by ``tool_call_id``), and asks
    again. A tool that raises, arguments that do not fit, or a tool name the model made up
    becomes an error text sent back to the model, so it can recover; the exception is kept
    in :attr:`ToolCallResult.error`. So is a call still running after ``tool_timeout``
    seconds: it is cancelled and the model is told it timed out. Cancelling the loop
    cancels the tools still running and waits for them to unwind (sync tools' threads
    cannot be stopped: they finish on their own). A tool raising what is not an
    ``Exception`` (``CancelledError``, ``KeyboardInterrupt``) gets the same treatment: the
    round's other tools are cancelled and awaited, then it propagates.

    Args:
        client: the :class:`~grok_async.AsyncGrok` to call.
        model: the model.
        messages: the conversation so far (dicts or message objects); not modified.
        tools: functions, attrs classes or :class:`FunctionTool` objects.
        max_rounds: the most rounds of tool calls to run; a reply that still calls tools
            after that raises :class:`MaxToolRoundsError`.
        tool_timeout: the seconds each tool call may take (default: no limit); a call
            still running then is cancelled and becomes an error result
            (:attr:`ToolCallResult.error` a ``TimeoutError``).
        **params: any other argument of :meth:`~grok_async.resources.chat.Completions.create`
            (``tool_choice``, ``temperature``, ``timeout``...), sent in every round.

    Returns:
        A :class:`ToolRunResult`: ``.completion`` (the final reply), ``.messages`` (the
        whole conversation), ``.tool_calls``.

    Raises:
        MaxToolRoundsError: the model still called tools after ``max_rounds`` rounds.
        TypeError: an argument that cannot work here (``stream``, ``deferred``, a tool that
            is not a function), or two tools with the same name.

    Example::

        result = await run_tools(
            client, model="grok-4", messages=[{"role": "user", "content": "Weather in Oslo?"}],
            tools=[get_weather],
        )
        print(result.content)
    """
    return await run_tools_with(
        client.chat.completions.create,
        model=model,
        messages=messages,
        tools=tools,
        max_rounds=max_rounds,
        tool_timeout=tool_timeout,
        **params,
    )


async def run_tools_with(
    create: Callable[..., Awaitable[ChatCompletion]],
    *,
    model: str,
    messages: Iterable[Any],
    tools: Iterable[FunctionTool[Any] | Callable[..., Any]],
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    tool_timeout: float | None = None,
    **params: Any,
) -> ToolRunResult:
    """:func:`run_tools` with the function that sends each round (a chat completions
    ``create``), so the chat resource can run tools without a client of its own type."""
    for name in ("stream", "deferred"):
        if params.get(name):
            raise TypeError(f"run_tools() does not support {name}=True")
    if params.get("n") not in (None, 1):
        raise TypeError("run_tools() continues one conversation: n must be 1")
    if max_rounds < 0:
        raise ValueError("max_rounds must be 0 or more")
    if tool_timeout is not None and not tool_timeout > 0:
        raise ValueError("tool_timeout must be a positive number of seconds (or None)")
    toolset = _toolset(tools)
    definitions = [tool.definition for tool in toolset.values()]
    transcript = list(messages)
    history: list[ToolCallResult] = []
    rounds = 0
    while True:
        completion = await create(model=model, messages=transcript, tools=definitions, **params)
        if not completion.choices:
            raise APIResponseValidationError(
                "The completion has no choices to continue the conversation with.",
                request_id=completion.request_id,
            )
        message = completion.choices[0].message
        calls = [call for call in message.tool_calls or () if call.type == "function"]
        if not calls:
            transcript.append(AssistantMessage(content=message.content))
            return ToolRunResult(completion, transcript, history, rounds)
        if rounds >= max_rounds:
            raise MaxToolRoundsError(
                f"The model still called tools after {rounds} rounds (max_rounds="
                f"{max_rounds}); the last reply's calls were not run.",
                completion=completion,
                messages=transcript,
                tool_calls=history,
            )
        rounds += 1
        transcript.append(_assistant_turn(message, calls))
        results = await _run_together(
            [_run_call(toolset, call, rounds, tool_timeout) for call in calls]
        )
        for result in results:
            transcript.append(ToolMessage(content=result.content, tool_call_id=result.id))
        history.extend(results)


def _toolset(tools: Iterable[Any]) -> dict[str, FunctionTool[Any]]:
    if isinstance(tools, (str, bytes, Mapping)):
        raise TypeError("tools must be a list of functions or FunctionTool objects")
    toolset: dict[str, FunctionTool[Any]] = {}
    for tool in map(as_tool, tools):
        if tool.name in toolset:
            raise TypeError(f"two tools are named {tool.name!r}; pass name= to tell them apart")
        toolset[tool.name] = tool
    return toolset


def _assistant_turn(message: ChatCompletionMessage, calls: Sequence[ToolCall]) -> AssistantMessage:
    """The reply as it is sent back: its content and the calls that were run, in wire form.

    Server-side tool calls (web search and the like) were run by the server; echoed, they
    would be calls without the ``tool`` message answering each one.
    """
    return AssistantMessage(
        content=message.content,
        tool_calls=[
            {
                "id": call.id,
                "type": call.type,
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
            for call in calls
        ],
    )


async def _run_together(calls: list[Coroutine[Any, Any, R]]) -> list[R]:
    """Run ``calls`` concurrently; if one raises (or the caller is cancelled), cancel the
    others and wait for them before raising, so no tool outlives the loop."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


# What _call_within returns for a call that outran its timeout.
_TIMED_OUT = object()


async def _call_within(tool: FunctionTool[Any], arguments: str, timeout: float | None) -> Any:
    """``tool.call(arguments)``, or ``_TIMED_OUT`` (the call cancelled) after ``timeout``."""
    if timeout is None:
        return await tool.call(arguments)
    # Not wait_for: its TimeoutError could not be told apart from one the tool raises.
    task = asyncio.ensure_future(tool.call(arguments))
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    finally:
        if not task.done():  # timed out, or the caller was cancelled
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    return task.result() if done else _TIMED_OUT


async def _run_call(
    toolset: Mapping[str, FunctionTool[Any]],
    call: ToolCall,
    round_: int,
    timeout: float | None = None,
) -> ToolCallResult:
    name = call.function.name
    arguments = call.function.arguments
    tool = toolset.get(name)

    def failed(error: Exception, content: str) -> ToolCallResult:
        return ToolCallResult(call.id, name, arguments, content, error=error, round=round_)

    if tool is None:
        available = ", ".join(sorted(toolset))
        content = f"Error: there is no tool named {name!r}. Available tools: {available}."
        return failed(LookupError(content), content)
    try:
        output = await _call_within(tool, arguments, timeout)
    except ToolArgumentsError as exc:
        return failed(exc, f"Error: {exc}")
    except Exception as exc:
        return failed(exc, f"Error: {name} raised {type(exc).__name__}: {exc}")
    if output is _TIMED_OUT:
        content = f"Error: {name} did not finish within {timeout:g} seconds and was cancelled."
        return failed(TimeoutError(content), content)
    try:
        content = output if isinstance(output, str) else encode_json(output).decode()
    except TypeError as exc:
        return failed(exc, f"Error: {name} returned a value that cannot be sent as JSON.")
    return ToolCallResult(call.id, name, arguments, content, output=output, round=round_)
