"""Tools: typed Python functions the model can call, and the loop that runs them.

:func:`function_tool` turns a function (sync or async) or an attrs class into a
:class:`FunctionTool`: the ``tools=`` definition, built from the annotations, defaults and
docstring, plus a :meth:`FunctionTool.call` that validates the model's JSON arguments into the
annotated types (the rules of :mod:`grok_async._parsing`) before calling the function.

:func:`run_tools` is the conversation loop: call the model, run every tool call of its reply
concurrently, send the results back as ``tool`` messages, and repeat until the model answers
without calling a tool.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar, overload

import attrs

from ._constants import DEFAULT_MAX_TOOL_ROUNDS
from ._errors import APIResponseValidationError, GrokError
from ._parsing import structure_value
from ._schema import NO_VALUE, FieldSpec, SchemaBuilder, attrs_field_specs, docstring_parts
from ._serialization import converter, decode_json, describe_structure_error, encode_json
from .types.chat import ChatCompletion, ChatCompletionMessage, ToolCall
from .types.messages import AssistantMessage, FunctionDefinition, Tool, ToolMessage

__all__ = [
    "ChatClient",
    "DEFAULT_MAX_ROUNDS",
    "FunctionTool",
    "MaxToolRoundsError",
    "ToolArgumentsError",
    "ToolCallResult",
    "ToolRunResult",
    "function_tool",
    "run_tools",
]

R = TypeVar("R")

#: Rounds of tool calls run_tools() runs before giving up: enough for real multi-step work,
#: few enough that a model stuck calling tools stops within a bounded bill.
DEFAULT_MAX_ROUNDS = DEFAULT_MAX_TOOL_ROUNDS

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class ToolArgumentsError(GrokError, ValueError):
    """The model's arguments for a tool are not JSON that fits the tool's parameters.

    ``tool_name`` names the tool, ``arguments`` holds the arguments as the model sent them.
    """

    def __init__(self, message: str, *, tool_name: str, arguments: str | Mapping[str, Any]):
        super().__init__(message)
        self.tool_name = tool_name
        self.arguments = arguments


class MaxToolRoundsError(GrokError):
    """The model still called tools after ``max_rounds`` rounds of :func:`run_tools`.

    ``completion`` is the last reply (with the calls that were not run), ``messages`` the
    conversation so far and ``tool_calls`` every call that was run, so nothing is lost.
    """

    def __init__(
        self,
        message: str,
        *,
        completion: ChatCompletion,
        messages: list[Any],
        tool_calls: list[ToolCallResult],
    ) -> None:
        super().__init__(message)
        self.completion = completion
        self.messages = messages
        self.tool_calls = tool_calls
        self.request_id = completion.request_id


# -- FunctionTool ------------------------------------------------------------------------------


@attrs.frozen
class FunctionTool(Generic[R]):
    """A function the model may call: its definition and a validated way to invoke it.

    Build one with :func:`function_tool`. Pass :attr:`definition` (or the tool itself to
    :func:`run_tools`) as ``tools=``.
    """

    #: The function, async function or attrs class that is called.
    function: Callable[..., Awaitable[R]] | Callable[..., R]
    name: str
    description: str | None
    #: The JSON schema of the arguments.
    parameters: dict[str, Any]
    strict: bool
    _arguments_class: type[Any] = attrs.field(repr=False)
    _positional: tuple[str, ...] = attrs.field(repr=False)

    @property
    def definition(self) -> Tool:
        """The :class:`~grok_async.Tool` to send as one of ``tools=``."""
        return Tool(
            function=FunctionDefinition(
                name=self.name,
                description=self.description,
                parameters=self.parameters,
                strict=True if self.strict else None,
            )
        )

    def parse_arguments(self, arguments: str | Mapping[str, Any]) -> dict[str, Any]:
        """The model's arguments (a JSON string or a decoded object) validated and
        structured into the annotated types, by parameter name.

        Raises:
            ToolArgumentsError: not JSON, not an object, an unknown or missing parameter,
                or a value of the wrong type (the message says which and where).
        """
        data: Any = arguments
        if isinstance(arguments, str):
            try:
                data = decode_json(arguments) if arguments.strip() else {}
            except ValueError as exc:
                raise ToolArgumentsError(
                    f"The arguments for {self.name} are not valid JSON ({exc}).",
                    tool_name=self.name,
                    arguments=arguments,
                ) from None
        if isinstance(data, Mapping):
            data = dict(data)
        try:
            values = structure_value(data, self._arguments_class)
        except Exception as exc:
            raise ToolArgumentsError(
                f"Invalid arguments for {self.name}: {describe_structure_error(exc)}",
                tool_name=self.name,
                arguments=arguments,
            ) from None
        return {
            field.alias: getattr(values, field.name)
            for field in attrs.fields(self._arguments_class)
            if field.init
        }

    async def call(self, arguments: str | Mapping[str, Any]) -> R:
        """Validate ``arguments`` and call the function with them.

        Async functions are awaited; sync functions run in a worker thread
        (``asyncio.to_thread``) so a slow one does not stall the event loop.

        Raises:
            ToolArgumentsError: the arguments do not fit the parameters (the function is
                not called).
        """
        kwargs = self.parse_arguments(arguments)
        args = [kwargs.pop(name) for name in self._positional]
        if inspect.iscoroutinefunction(self.function):  # partials of async functions too
            return await self.function(*args, **kwargs)  # type: ignore[no-any-return]
        result = await asyncio.to_thread(self.function, *args, **kwargs)
        if inspect.isawaitable(result):  # e.g. a callable object with an async __call__
            return await result  # type: ignore[no-any-return]
        return typing.cast(R, result)


# tools=[a_function_tool] in create(): request bodies unstructure attrs objects with the
# converter, so a FunctionTool is sent as its definition (not as its fields, a function
# among them). Registered here because a FunctionTool cannot exist before this import.
converter.register_unstructure_hook(
    FunctionTool, lambda tool: converter.unstructure(tool.definition)
)


@overload
def function_tool(
    function: Callable[..., Awaitable[R]],
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> FunctionTool[R]: ...


@overload
def function_tool(
    function: Callable[..., R],
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> FunctionTool[R]: ...


@overload
def function_tool(
    function: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> Callable[[Callable[..., Any]], FunctionTool[Any]]: ...


def function_tool(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> FunctionTool[Any] | Callable[[Callable[..., Any]], FunctionTool[Any]]:
    """A :class:`FunctionTool` from a typed function or an attrs class; also a decorator.

    The parameters' annotations give the JSON schema (the types of
    :func:`~grok_async.json_schema`; ``Annotated[X, "text"]`` adds a description), a
    default makes a parameter optional, and the Google-style docstring gives the tool's
    description (the text before the first section) and the parameters' descriptions
    (its ``Args:`` section). An attrs class works the same way with its fields, and calling
    the tool builds an instance. A :func:`functools.partial` is described by the function
    it wraps, without the arguments it binds (the model neither sees nor sets them).

    Args:
        function: the function (sync or async) or attrs class; leave it out to use
            ``@function_tool(name=...)`` as a decorator.
        name: the tool's name (default: the function's ``__name__``); letters, digits,
            ``_`` and ``-``, at most 64.
        description: what the tool does (default: from the docstring).
        strict: send ``"strict": true``, so the model must fill every parameter (a
            parameter with a default is then nullable, ``null`` meaning the default).

    Raises:
        TypeError: a parameter without an annotation, ``*args`` / ``**kwargs``, or an
            annotation that has no JSON schema (the message names the parameter).
        ValueError: an invalid name.

    Example::

        @function_tool
        async def get_weather(city: str, unit: Literal["C", "F"] = "C") -> dict[str, Any]:
            '''The current weather in a city.

            Args:
                city: The city name, e.g. "Paris".
                unit: The temperature unit.
            '''
    """
    if function is None:
        return lambda fn: function_tool(fn, name=name, description=description, strict=strict)
    # A partial has no name, docstring or annotations of its own: the function it wraps does.
    wrapped = function
    while isinstance(wrapped, functools.partial):
        wrapped = wrapped.func
    tool_name: str = name or str(getattr(wrapped, "__name__", ""))
    if not _NAME.match(tool_name):
        raise ValueError(
            f"{tool_name!r} is not a valid tool name (letters, digits, _ and -, at most 64 "
            "characters); pass name="
        )
    summary, documented = docstring_parts(inspect.getdoc(wrapped))
    if isinstance(function, type) and attrs.has(function):
        specs = attrs_field_specs(function, documented)
        arguments_class: type[Any] = function
        positional: tuple[str, ...] = ()
    else:
        specs, positional = _parameter_specs(function, tool_name, documented)
        arguments_class = _arguments_class(tool_name, specs)
    builder = SchemaBuilder(strict=strict)
    parameters = builder.finish(builder.object_schema(specs, where=tool_name))
    if strict and not builder.strict_compatible:
        raise TypeError(
            f"{tool_name}: strict tools cannot take free-form maps or fixed-length tuples; "
            "use strict=False or attrs classes"
        )
    return FunctionTool(
        function=function,
        name=tool_name,
        description=description or summary,
        parameters=parameters,
        strict=strict,
        arguments_class=arguments_class,
        positional=positional,
    )


def _parameter_specs(
    function: Callable[..., Any], name: str, documented: Mapping[str, str]
) -> tuple[list[FieldSpec], tuple[str, ...]]:
    # The signature of a partial leaves out the positional arguments it binds; the keywords
    # it binds are left out here (they may be secrets, and are not the model's to set).
    bound: set[str] = set()
    wrapped = function
    while isinstance(wrapped, functools.partial):
        bound.update(wrapped.keywords)
        wrapped = wrapped.func
    # A callable object is described by its __call__ (its class's annotations are fields).
    annotated = wrapped if inspect.isroutine(wrapped) else type(wrapped).__call__
    try:
        signature = inspect.signature(function)
        hints = typing.get_type_hints(annotated, include_extras=True)
    except (NameError, TypeError, ValueError) as exc:
        raise TypeError(f"cannot read the parameters of {name}: {exc}") from None
    specs = []
    positional = []
    for parameter in signature.parameters.values():
        if parameter.name in bound:
            continue
        where = f"{name}({parameter.name})"
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"{where}: *args and **kwargs cannot be described to the model")
        if parameter.name not in hints:
            raise TypeError(f"{where} has no annotation: the model needs its type")
        if parameter.kind is parameter.POSITIONAL_ONLY:
            positional.append(parameter.name)
        has_default = parameter.default is not parameter.empty
        specs.append(
            FieldSpec(
                name=parameter.name,
                type=hints[parameter.name],
                has_default=has_default,
                default=parameter.default if has_default else NO_VALUE,
                description=documented.get(parameter.name),
            )
        )
    return specs, tuple(positional)


def _arguments_class(name: str, specs: Sequence[FieldSpec]) -> type[Any]:
    """An attrs class with one field per parameter: the converter validates into it."""
    fields = {
        spec.name: attrs.field(
            type=spec.type,
            default=spec.default if spec.has_default else attrs.NOTHING,
            kw_only=True,
            alias=spec.name,
        )
        for spec in specs
    }
    return attrs.make_class(f"{name}_arguments", fields, frozen=True)


def _as_tool(tool: Any) -> FunctionTool[Any]:
    if isinstance(tool, FunctionTool):
        return tool
    if callable(tool):
        built: FunctionTool[Any] = function_tool(tool)
        return built
    raise TypeError(
        f"a tool must be a function, an attrs class or a FunctionTool, not {type(tool).__name__}"
    )


# -- run_tools ---------------------------------------------------------------------------------


@attrs.frozen
class ToolCallResult:
    """One tool call the model made and what came of it."""

    #: The call's ``id``, echoed as the tool message's ``tool_call_id``.
    id: str
    name: str
    #: The arguments as the model sent them (a JSON string).
    arguments: str
    #: The text sent back to the model: the result (JSON unless a str) or an error text.
    content: str
    #: What the function returned (``None`` if it failed).
    output: Any = None
    #: The exception: the tool's own, a :class:`ToolArgumentsError`, a ``LookupError`` for
    #: a tool name the model made up, or a ``TimeoutError`` for a tool that outran
    #: ``tool_timeout``. ``None`` on success.
    error: Exception | None = None
    #: The round (1 for the first reply's calls).
    round: int = 1


@attrs.frozen
class ToolRunResult:
    """What :func:`run_tools` returns: the final reply and the conversation that led to it."""

    #: The model's final reply (no tool calls).
    completion: ChatCompletion
    #: The conversation: the messages passed in, each assistant turn with its tool calls,
    #: one :class:`~grok_async.ToolMessage` per call, and the final assistant message; pass
    #: it as ``messages=`` to continue the conversation.
    messages: list[Any]
    #: Every tool call that was run, in order.
    tool_calls: list[ToolCallResult]
    #: How many rounds of tool calls were run.
    rounds: int

    @property
    def content(self) -> str | None:
        """The text of the final reply."""
        return self.completion.choices[0].message.content if self.completion.choices else None


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
    for tool in map(_as_tool, tools):
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
