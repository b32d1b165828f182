"""Tools: typed Python functions the model can call (the loop that runs them is
:mod:`grok_async._tool_runs`).

:func:`function_tool` turns a function (sync or async) or an attrs class into a
:class:`FunctionTool`: the ``tools=`` definition, built from the annotations, defaults and
docstring, plus a :meth:`FunctionTool.call` that validates the model's JSON arguments into the
annotated types (the rules of :mod:`grok_async._parsing`) before calling the function.

"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar, overload

import attrs

from ._constants import DEFAULT_MAX_TOOL_ROUNDS
from ._errors import ToolArgumentsError
from ._parsing import structure_value
from ._schema import NO_VALUE, FieldSpec, SchemaBuilder, attrs_field_specs, docstring_parts
from ._serialization import converter, decode_json, describe_structure_error
from .types.messages import FunctionDefinition, Tool

__all__ = [
    "DEFAULT_MAX_ROUNDS",
    "FunctionTool",
    "ToolArgumentsError",
    "as_tool",
    "function_tool",
]

R = TypeVar("R")

#: Rounds of tool calls run_tools() runs before giving up: enough for real multi-step work,
#: few enough that a model stuck calling tools stops within a bounded bill.
DEFAULT_MAX_ROUNDS = DEFAULT_MAX_TOOL_ROUNDS

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


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


def as_tool(tool: Any) -> FunctionTool[Any]:
    if isinstance(tool, FunctionTool):
        return tool
    if callable(tool):
        built: FunctionTool[Any] = function_tool(tool)
        return built
    raise TypeError(
        f"a tool must be a function, an attrs class or a FunctionTool, not {type(tool).__name__}"
    )
