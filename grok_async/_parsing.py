"""Structured outputs: the ``response_format`` of a class, and the reply parsed back into it.

The JSON schema comes from :mod:`grok_async._schema`; the reply is structured by
:data:`value_converter`, the project's converter extended for user classes. Rules:

* Scalars must have their JSON type, as everywhere in this library (no ``str()`` or
  ``int()`` coercion); a JSON array is required where the class has a list, tuple or set
  (a string is not a list of characters), a JSON object where it has a class or a dict.
* A key the class does not have is an error (the schema says ``additionalProperties:
  false``), and so is a missing key without a default.
* ``null`` in a field whose type has no ``None`` but which has a default means "the
  default" (strict schemas make such fields nullable, see :mod:`grok_async._schema`).
* An ``Enum`` or ``Literal`` takes only one of its values, of the same JSON type (``true``
  is not ``1``, ``1.0`` is not ``1``); an enum field holds the member.
* Unions try their members in order; the first that fits wins.
* A reply that is not JSON, or does not fit, raises :class:`StructuredOutputError` with the
  raw text attached; so does a reply cut off by the token limit (``finish_reason
  "length"``). A reply without content (a refusal, or tool calls instead of an answer)
  parses to ``None``; an empty ``refusal`` is no refusal.
"""

from __future__ import annotations

import enum
import functools
import re
import types
import typing
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
from cattrs import Converter
from cattrs.cols import mapping_structure_factory
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn

from ._chat_stream import AsyncStream, ChatCompletionStreamManager
from ._errors import StructuredOutputError
from ._schema import ARRAYS, MAPPINGS, SchemaBuilder
from ._serialization import (
    NotAllowedValueError,
    converter,
    decode_json,
    describe_choices,
    describe_structure_error,
)
from .types._base import WireModel
from .types.chat import ChatCompletion, ChatCompletionChunk
from .types.parsed import ParsedChatCompletion, ParsedChatCompletionMessage, ParsedChoice

__all__ = [
    "ParsedChatCompletionStreamManager",
    "StructuredOutputError",
    "parse_chat_completion",
    "response_format_for",
    "structure_value",
    "value_converter",
]

T = TypeVar("T")

_NONE = type(None)


# -- the converter -----------------------------------------------------------------------------


def _admits_none(tp: Any) -> bool:
    if tp is None or tp is _NONE or tp is Any:
        return True
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _admits_none(args[0])
    if origin is typing.Literal:
        return None in args
    if origin in (typing.Union, types.UnionType):
        return any(_admits_none(a) for a in args)
    return False


def _is_user_class(tp: Any) -> bool:
    return isinstance(tp, type) and attrs.has(tp) and not issubclass(tp, WireModel)


def _class_hook(conv: Converter, cls: type[Any]) -> Callable[[Any, Any], Any]:
    try:
        attrs.resolve_types(cls)
    except NameError as exc:
        raise TypeError(f"cannot resolve the annotations of {cls.__qualname__} ({exc})") from None
    generated = make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=True)
    null_means_default = frozenset(
        f.name
        for f in attrs.fields(cls)
        if f.init and f.default is not attrs.NOTHING and not _admits_none(f.type)
    )

    def structure(data: Any, _: Any) -> Any:
        if data.__class__ is not dict:
            raise TypeError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")
        if null_means_default and any(data.get(n, 0) is None for n in null_means_default):
            data = {k: v for k, v in data.items() if v is not None or k not in null_means_default}
        return generated(data, cls)

    return structure


def _is_array(tp: Any) -> bool:
    return typing.get_origin(tp) in ARRAYS


def _array_hook(conv: Converter, tp: Any) -> Callable[[Any, Any], Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    build = ARRAYS[origin]
    fixed = origin is tuple and not (len(args) == 2 and args[1] is Ellipsis)
    item_types = list(args) if fixed else [args[0] if args else Any]
    hooks = [conv.get_structure_hook(t) for t in item_types]

    def structure(value: Any, _: Any) -> Any:
        if value.__class__ is not list:
            raise TypeError(f"expected a JSON array, got {type(value).__name__}: {value!r:.40}")
        if fixed and len(value) != len(item_types):
            raise TypeError(f"expected an array of {len(item_types)} items, got {len(value)}")
        items = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            slot = index if fixed else 0
            try:
                items.append(hooks[slot](item, item_types[slot]))
            except Exception as exc:
                # The note gives cattrs' error text its path: "... @ $.tags[2]".
                note = IterableValidationNote(
                    f"Structuring {tp} @ index {index}", index, item_types[slot]
                )
                notes = getattr(exc, "__notes__", [])
                exc.__dict__["__notes__"] = [*notes, note]  # add_note() is Python 3.11+
                errors.append(exc)
        if errors:
            raise IterableValidationError(f"While structuring {tp!r}", errors, tp)
        return build(items)

    return structure


def _is_map(tp: Any) -> bool:
    return typing.get_origin(tp) in MAPPINGS


def _map_hook(conv: Converter, tp: Any) -> Callable[[Any, Any], Any]:
    generated = mapping_structure_factory(tp, conv)

    def structure(value: Any, _: Any) -> Any:
        if value.__class__ is not dict:
            raise TypeError(f"expected a JSON object, got {type(value).__name__}: {value!r:.40}")
        return generated(value, tp)

    return structure


def _is_union(tp: Any) -> bool:
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return False
    members = [a for a in typing.get_args(tp) if a is not _NONE]
    return len(members) > 1  # X | None alone is the base converter's optional rule


def _union_hook(conv: Converter, tp: Any) -> Callable[[Any, Any], Any]:
    args = typing.get_args(tp)
    nullable = _NONE in args
    members = [(a, conv.get_structure_hook(a)) for a in args if a is not _NONE]
    names = " | ".join(getattr(a, "__name__", repr(a)) for a in args)

    def structure(value: Any, _: Any) -> Any:
        if value is None and nullable:
            return None
        for member, hook in members:
            try:
                return hook(value, member)
            except Exception:  # the next member may fit; only all failing is an error
                continue
        raise TypeError(f"expected {names}, got {type(value).__name__}: {value!r:.40}")

    return structure


def _is_literal(tp: Any) -> bool:
    return typing.get_origin(tp) is typing.Literal


def _literal_hook(tp: Any) -> Callable[[Any, Any], Any]:
    # cattrs compares with ==, so True passes for 1 and 1.0 stays a float: compare the JSON
    # type too. An enum member in a Literal matches its value and is returned as the member.
    choices = [
        (arg, arg.value if isinstance(arg, enum.Enum) else arg) for arg in typing.get_args(tp)
    ]
    allowed = describe_choices(value for _, value in choices)

    def structure(value: Any, _: Any) -> Any:
        for arg, expected in choices:
            if value.__class__ is expected.__class__ and value == expected:
                return arg
        raise NotAllowedValueError(f"expected {allowed}, got {type(value).__name__}: {value!r:.40}")

    return structure


def _make_value_converter() -> Converter:
    conv = converter.copy()
    # Registered last, so these take precedence over cattrs' lenient defaults.
    conv.register_structure_hook_factory(_is_array, functools.partial(_array_hook, conv))
    conv.register_structure_hook_factory(_is_map, functools.partial(_map_hook, conv))
    conv.register_structure_hook_factory(_is_union, functools.partial(_union_hook, conv))
    conv.register_structure_hook_factory(_is_literal, _literal_hook)
    conv.register_structure_hook_factory(_is_user_class, functools.partial(_class_hook, conv))
    return conv


#: Structures decoded JSON into user classes and annotated types (see the module docstring).
value_converter = _make_value_converter()


def structure_value(data: Any, tp: Any) -> Any:
    """``data`` (decoded JSON) structured into ``tp``; raises cattrs errors or ``TypeError``."""
    return value_converter.structure(data, tp)


# -- response_format and parsing ---------------------------------------------------------------

_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def response_format_for(cls: type[Any]) -> dict[str, Any]:
    """The ``response_format`` asking for JSON that fits ``cls`` (an attrs class).

    ``strict`` is true unless the schema uses something strict mode cannot express (a
    ``dict[str, X]`` field, a fixed-length tuple). The result is cached: do not modify it.

    Raises:
        TypeError: ``cls`` is not an attrs class or has a field without a JSON schema.
    """
    if not (isinstance(cls, type) and attrs.has(cls)):
        raise TypeError(
            f"response_format must be an attrs class to parse into, got {cls!r} "
            "(pass a dict to create() to send a format without parsing)"
        )
    cached = _FORMATS.get(cls)
    if cached is None:
        cached = _FORMATS[cls] = _response_format(cls)
    return cached


# Built once per class (fan-outs parse thousands of replies into one); weak keys, so
# classes made on the fly are not kept alive.
_FORMATS: weakref.WeakKeyDictionary[type[Any], dict[str, Any]] = weakref.WeakKeyDictionary()


def _response_format(cls: type[Any]) -> dict[str, Any]:
    builder = SchemaBuilder(strict=True)
    schema = builder.finish(builder.root_class(cls))
    return {
        "type": "json_schema",
        "json_schema": {
            "name": _NAME_CHARS.sub("_", cls.__name__)[:64],
            "schema": schema,
            "strict": builder.strict_compatible,
        },
    }


def parse_content(content: str, cls: type[T], completion: ChatCompletion | None = None) -> T:
    """The JSON text ``content`` structured into ``cls``, or :class:`StructuredOutputError`."""
    try:
        data = decode_json(content)
    except ValueError as exc:
        raise StructuredOutputError(
            f"The reply is not valid JSON for {cls.__name__} ({exc}).",
            content=content,
            response_format=cls,
            completion=completion,
        ) from None
    try:
        return structure_value(data, cls)  # type: ignore[no-any-return]
    except Exception as exc:
        raise StructuredOutputError(
            f"The reply does not fit {cls.__name__}: {describe_structure_error(exc)}",
            content=content,
            response_format=cls,
            completion=completion,
        ) from None


def parse_chat_completion(completion: ChatCompletion, cls: type[T]) -> ParsedChatCompletion[T]:
    """``completion`` with every choice's content parsed into ``cls``.

    Raises:
        StructuredOutputError: a choice's content is not JSON that fits ``cls``, or was cut
            off at the token limit.
    """
    choices = []
    for choice in completion.choices:
        message = choice.message
        if choice.finish_reason == "length":
            raise StructuredOutputError(
                f"The reply was cut off at the token limit (finish_reason 'length') before "
                f"its JSON for {cls.__name__} was complete; raise max_completion_tokens.",
                content=message.content,
                response_format=cls,
                completion=completion,
            )
        parsed = None
        if message.content is not None and not message.refusal:
            parsed = parse_content(message.content, cls, completion)
        new_message = _rebuild(ParsedChatCompletionMessage, message, parsed=parsed)
        choices.append(_rebuild(ParsedChoice, choice, message=new_message))
    return _rebuild(ParsedChatCompletion, completion, choices=choices)


def _rebuild(cls: type[T], obj: Any, **changes: Any) -> T:
    """An instance of the subclass ``cls`` with ``obj``'s fields (and ``.raw``) and changes."""
    values = {f.name: getattr(obj, f.name) for f in attrs.fields(type(obj)) if f.init}
    values.update(changes)
    new = cls(**values)
    if obj.raw:
        new._raw = obj.raw  # type: ignore[attr-defined]
    return new


# -- streaming ---------------------------------------------------------------------------------

if TYPE_CHECKING:

    class ParsedAsyncStream(AsyncStream[ChatCompletionChunk], Generic[T]):
        """The stream of a ``stream(..., response_format=cls)`` call, seen by a type checker:
        at run time an :class:`AsyncStream` whose final completion is parsed."""

        async def get_final_completion(self) -> ParsedChatCompletion[T]: ...


class ParsedChatCompletionStreamManager(ChatCompletionStreamManager, Generic[T]):
    """What ``client.chat.completions.stream(..., response_format=cls)`` returns.

    The chunks stream as usual (their content is the JSON text as it is written);
    ``get_final_completion()`` returns a :class:`~grok_async.ParsedChatCompletion` whose
    ``choices[0].message.parsed`` is an instance of ``cls``.
    """

    def __init__(
        self,
        open_stream: Callable[[], Awaitable[AsyncStream[ChatCompletionChunk]]],
        response_format: type[T],
    ) -> None:
        super().__init__(open_stream)
        self._response_format = response_format

    async def __aenter__(self) -> ParsedAsyncStream[T]:
        stream = await super().__aenter__()
        stream._finalize = functools.partial(parse_chat_completion, cls=self._response_format)
        return typing.cast("ParsedAsyncStream[T]", stream)
