"""The one cattrs converter, and the JSON codec around it.

Rules (``make_converter`` applies all of them):

* Response models (:class:`~grok_async.types._base.WireModel`) are structured by cattrs'
  generated functions behind a faster generated path for well-typed input (see
  ``_fastpath``), then keep the JSON object they came from in ``_raw``, so unknown fields
  are never lost. Unknown keys never raise.
* Scalars must have their JSON type (a float field also takes an int): nothing is coerced
  with ``str()`` or ``int()``.
* A ``null`` in a field whose type has no ``None`` but which has a default is read as
  "not given" (the default): xAI omits and nulls fields alike.
* ``""`` as a ``finish_reason`` next to tool calls becomes ``"tool_calls"`` (xAI sends the
  empty string there on non-streamed tool calls).
* Models unstructure to dicts that leave out every optional field left at ``None``: unset
  fields are never sent as ``null``. Fields with other defaults (the ``role`` and ``type``
  tags among them) are always sent.
* ``X | None`` fields get a hook bound to ``X``'s hook once, instead of cattrs' generic
  optional handling that dispatches on every value (a third of the decoding time). ``X``'s
  hook comes from the converter asking, so copies with stricter hooks keep them inside
  optional fields.
* An ``Enum`` takes only one of its values, of the value's JSON type (``true`` is not ``1``),
  and becomes the member; the error names the allowed values.
* Client-side fields (``request_id``, ``timings``) are neither read from nor written to the wire.
* Structuring failures surface as :class:`~grok_async.APIResponseValidationError` (see
  :func:`decode_model`), never as a raw cattrs, ``KeyError`` or JSON error.
"""

from __future__ import annotations

import enum
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import attrs
import orjson
from cattrs import Converter
from cattrs.errors import BaseValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.v import format_exception, transform_error

from ._errors import APIResponseValidationError
from ._fastpath import make_fast_structure, unwrap_optional
from .types._base import WireModel, use_unstructure
from .types.chat import Choice

__all__ = [
    "NotAllowedValueError",
    "converter",
    "decode_json",
    "decode_model",
    "describe_choices",
    "describe_structure_error",
    "encode_json",
    "make_converter",
]

T = TypeVar("T")

# Fields set by the client, not by the server.
_LOCAL_FIELDS = frozenset({"request_id", "timings"})


def _normalise_finish_reason(choice: Choice) -> None:
    if choice.finish_reason == "" and choice.message.tool_calls:
        choice.finish_reason = "tool_calls"


def _structure_factory(
    conv: Converter, *, fast: bool = True
) -> Callable[[type[Any]], Callable[[Any, Any], Any]]:
    def factory(cls: type[Any]) -> Callable[[Any, Any], Any]:
        local = {f.name: override(omit=True) for f in attrs.fields(cls) if f.name in _LOCAL_FIELDS}
        generated = make_dict_structure_fn(cls, conv, **local)  # type: ignore[arg-type]
        finish = _normalise_finish_reason if cls is Choice else None
        attrs.resolve_types(cls)
        nulls_as_missing = frozenset(
            f.name
            for f in attrs.fields(cls)
            if f.default is not attrs.NOTHING and not unwrap_optional(f.type)[1]
        )

        def structure(data: Any, _: Any) -> Any:
            if not isinstance(data, dict):
                raise TypeError(
                    f"expected a JSON object for {cls.__name__}, got {type(data).__name__}"
                )
            source = data
            if any(data.get(name, 0) is None for name in nulls_as_missing):
                # xAI omits fields as often as it nulls them: a null where the type has no
                # None means "not given", so the field takes its default.
                source = {
                    k: v for k, v in data.items() if v is not None or k not in nulls_as_missing
                }
            obj = generated(source, cls)
            obj._raw = data
            if finish is not None:
                finish(obj)
            return obj

        if not fast:
            return structure
        return make_fast_structure(
            cls, structure, conv.get_structure_hook, skip=_LOCAL_FIELDS, finish=finish
        )

    return factory


def _unstructure_factory(conv: Converter) -> Callable[[type[Any]], Callable[[Any], Any]]:
    def factory(cls: type[Any]) -> Callable[[Any], Any]:
        overrides = {}
        for f in attrs.fields(cls):
            if f.name in _LOCAL_FIELDS:
                overrides[f.name] = override(omit=True)
            else:
                # Only None-defaulted fields are optional on the wire; a tag such as
                # role="user" equals its default and must still be sent.
                overrides[f.name] = override(omit_if_default=f.default is None)
        return make_dict_unstructure_fn(cls, conv, **overrides)  # type: ignore[arg-type]

    return factory


def _is_optional(t: Any) -> bool:
    return unwrap_optional(t)[1]


def _optional_factory(t: Any, conv: Converter) -> Callable[[Any, Any], Any]:
    # cattrs passes the converter that dispatches (an "extended" factory): a copy of this
    # converter with stricter hooks then gets its own hook for X, not this one's.
    inner = unwrap_optional(t)[0]
    hook = conv.get_structure_hook(inner)

    def structure(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, inner)

    return structure


class NotAllowedValueError(ValueError):
    """A value outside an ``Enum``'s or ``Literal``'s choices; its text names them."""


def describe_choices(choices: Iterable[Any]) -> str:
    """``'a', 'b' or 'c'``: the allowed values of an enum or literal, for error messages."""
    shown = [repr(c) for c in choices]
    if len(shown) > 10:
        shown = [*shown[:10], "..."]
    if len(shown) < 2:
        return shown[0] if shown else "no value"
    return f"{', '.join(shown[:-1])} or {shown[-1]}"


# One hook per enum class; weak keys, so enums made on the fly are not kept alive.
_ENUM_HOOKS: weakref.WeakKeyDictionary[type[Any], Callable[[Any, Any], Any]] = (
    weakref.WeakKeyDictionary()
)


def _is_enum(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, enum.Enum)


def _enum_hook(cls: type[enum.Enum]) -> Callable[[Any, Any], Any]:
    """The strict hook of an enum: a JSON value of a member's value type, then ``cls(value)``."""
    hook = _ENUM_HOOKS.get(cls)
    if hook is not None:
        return hook
    values = [member.value for member in cls]
    kinds = {type(value) for value in values}
    if float in kinds:
        kinds.add(int)  # as for float fields, a JSON integer is a number too
    choices = describe_choices(values)

    def structure(value: Any, _: Any) -> Any:
        # The class check first: True == 1 and 1.0 == 1, but neither is an IntEnum's 1.
        if value.__class__ in kinds:
            try:
                return cls(value)
            except ValueError:
                pass
        raise NotAllowedValueError(
            f"expected {cls.__name__} ({choices}), got {type(value).__name__}: {value!r:.40}"
        )

    _ENUM_HOOKS[cls] = structure
    return structure


def _strict(kind: type[Any], accepts: tuple[type[Any], ...]) -> Callable[[Any, Any], Any]:
    """A hook that takes only JSON values of the right type (never ``str({...})``)."""

    def structure(value: Any, cl: Any) -> Any:
        if cl is not kind and _is_enum(cl):
            # cattrs finds this hook by singledispatch, which also matches subclasses:
            # IntEnum and str-based enums land here, and must become members.
            return _enum_hook(cl)(value, cl)
        if value.__class__ in accepts:
            return kind(value) if value.__class__ is not kind else value
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}: {value!r:.40}")

    return structure


def make_converter(*, fast: bool = True) -> Converter:
    """Build the converter with every rule in this module's docstring.

    ``fast=False`` leaves out the fast path (the tests compare the two).
    """
    conv = Converter()
    # cattrs would coerce: str({"a": 1}), int(True), int("3"). A body of the wrong types is
    # not the JSON we expect, so it fails validation instead (ints stay welcome as floats).
    conv.register_structure_hook(str, _strict(str, (str,)))
    conv.register_structure_hook(int, _strict(int, (int,)))
    conv.register_structure_hook(float, _strict(float, (float, int)))
    conv.register_structure_hook(bool, _strict(bool, (bool,)))
    conv.register_structure_hook_factory(_is_optional, _optional_factory)
    # Plain enums (not int or str ones: the scalar hooks above catch those) would be
    # cattrs' ``cls(value)``, where True is 1.
    conv.register_structure_hook_factory(_is_enum, _enum_hook)
    conv.register_structure_hook_factory(
        lambda t: isinstance(t, type) and issubclass(t, WireModel),
        _structure_factory(conv, fast=fast),
    )
    conv.register_unstructure_hook_factory(attrs.has, _unstructure_factory(conv))
    return conv


converter = make_converter()
# Models built by hand unstructure through it in to_dict().
use_unstructure(converter.unstructure)


def _wire_default(obj: Any) -> Any:
    """What orjson cannot encode itself: attrs objects nested in dicts, other iterables."""
    if attrs.has(type(obj)):
        return converter.unstructure(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, Iterable) and not isinstance(obj, (bytes, bytearray, memoryview)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} cannot be sent as JSON")


def encode_json(obj: Any) -> bytes:
    """Serialize a request body to JSON bytes: the one place request values are converted.

    Plain JSON types take orjson's fastest path; only a body it refuses (message objects
    anywhere in it, a generator of tools, a dict with int keys such as ``logit_bias``) is
    encoded again with the conversions.
    """
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError:
        return orjson.dumps(obj, default=_wire_default, option=orjson.OPT_NON_STR_KEYS)


def decode_json(raw: bytes | str) -> Any:
    """Parse JSON; raises ``orjson.JSONDecodeError`` (a ``ValueError``)."""
    return orjson.loads(raw)


def describe_structure_error(exc: Exception) -> str:
    """A readable one-line description of a cattrs/type failure."""
    if isinstance(exc, BaseValidationError):
        return "; ".join(transform_error(exc, format_exception=_format_exception))
    if isinstance(exc, NotAllowedValueError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _format_exception(exc: BaseException, tp: type | None) -> str:
    # cattrs' text ("invalid value for type, expected Color") does not say what is allowed.
    if isinstance(exc, NotAllowedValueError):
        return str(exc)
    return format_exception(exc, tp)


def decode_model(
    data: Any,
    cls: type[T],
    *,
    status_code: int | None = None,
    request_id: str | None = None,
    raw: bytes | str | None = None,
    using: Converter | None = None,
) -> T:
    """Structure parsed JSON into ``cls`` (with ``using``, default the module's converter)
    or raise :class:`APIResponseValidationError`."""
    try:
        return (using or converter).structure(data, cls)
    except (BaseValidationError, TypeError, ValueError, AttributeError, KeyError) as exc:
        raw = raw[:2048] if raw is not None else None
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        raise APIResponseValidationError(
            f"The response did not match {cls.__name__}: {describe_structure_error(exc)}",
            status_code=status_code,
            body=text[:2048] if text is not None else None,
            request_id=request_id,
        ) from None
