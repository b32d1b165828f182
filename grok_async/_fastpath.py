"""Fast structuring of response models, with cattrs as the authority on anything unusual.

cattrs' generated functions are general: every field goes through a hook call, a result
dict and ``cls(**res)``, with error collection around each. That is a third of a
non-streamed call's client CPU and most of a streamed chunk's. Responses are almost always
exactly the JSON types the models declare, so for each model this module generates a
function that checks those types inline (``value.__class__ is str``) and builds the object
with one positional call.

Anything unexpected (a missing required key, a wrong type, ``null`` where a value is
required, a shape this generator does not handle) is handed to the cattrs function, which
converts it the way cattrs always does or raises its detailed validation error. So results
and errors are exactly cattrs', only the common case is faster.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

import attrs

from .types._base import WireModel

__all__ = ["make_fast_structure", "unwrap_optional"]

Hook = Callable[[Any, Any], Any]

_MISSING = object()
_EXACT = (str, int, bool)


def unwrap_optional(t: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``, else ``(t, False)``."""
    args = typing.get_args(t)
    if typing.get_origin(t) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0], True
    return t, False


def _check(t: Any, index: int, hook_for: Callable[[Any], Hook], ns: dict[str, Any]) -> list[str]:
    """Lines that validate/convert ``v`` (already known not to be None) for type ``t``.

    Raises ``LookupError`` for a type this generator does not handle.
    """
    if t is Any:
        return []
    if t in _EXACT:
        ns[f"t{index}"] = t
        return [f"if v.__class__ is not t{index}: return slow(o, cls)"]
    if t is float:
        return [
            "if v.__class__ is int: v = float(v)",
            "elif v.__class__ is not float: return slow(o, cls)",
        ]
    if isinstance(t, type) and issubclass(t, WireModel):
        ns[f"h{index}"] = hook_for(t)
        return [f"v = h{index}(v, None)"]
    if typing.get_origin(t) is list:
        (item,) = typing.get_args(t) or (Any,)
        lines = ["if v.__class__ is not list: return slow(o, cls)"]
        if item is Any:
            return [*lines, "v = list(v)"]
        if item is str:
            return [
                *lines,
                "for x in v:",
                "    if x.__class__ is not str: return slow(o, cls)",
                "v = list(v)",  # a copy, as cattrs makes: the model must not alias raw
            ]
        if isinstance(item, type) and issubclass(item, WireModel):
            ns[f"h{index}"] = hook_for(item)
            return [
                *lines,
                # Lists of models (choices) hold one item nearly always: no comprehension
                # (a function call of its own before Python 3.12) for that.
                f"if len(v) == 1: v = [h{index}(v[0], None)]",
                f"else: v = [h{index}(x, None) for x in v]",
            ]
    raise LookupError(t)


def make_fast_structure(
    cls: type[Any],
    slow: Hook,
    hook_for: Callable[[Any], Hook],
    *,
    skip: frozenset[str],
    finish: Callable[[Any], None] | None = None,
) -> Hook:
    """The fast structuring function of ``cls``; ``slow`` is its cattrs function.

    ``hook_for`` gives the structuring function of a nested model, ``skip`` names fields the
    wire never sets, ``finish`` post-processes each object (as ``slow`` does). Returns
    ``slow`` itself when a field has a type this generator does not handle.
    """
    attrs.resolve_types(cls)
    ns: dict[str, Any] = {"slow": slow, "cls": cls, "MISSING": _MISSING, "finish": finish}
    body: list[str] = []
    names: list[str] = []
    for index, field in enumerate(attrs.fields(cls)):
        if field.name in skip:
            continue
        if len(names) != index:  # positional construction needs the skipped fields last
            return slow
        inner, optional = unwrap_optional(field.type)
        try:
            check = _check(inner, index, hook_for, ns)
        except LookupError:
            return slow
        # Missing takes the default; so does a null where the type has no None (the
        # server omitting and nulling fields alike), as the cattrs path does (see
        # _serialization.nulls_as_missing). A required field missing or null: cattrs decides.
        if optional and field.default is None:
            # Missing and null both mean None: one test, no sentinel (most fields).
            body.append(f"v = o.get({field.name!r})")
            if check:
                body.append("if v is not None:")
                body.extend("    " + line for line in check)
            body.append(f"a{index} = v")
            names.append(f"a{index}")
            continue
        if optional:
            body.append(f"v = o.get({field.name!r}, MISSING)")
            absent = "v is MISSING"
        else:
            body.append(f"v = o.get({field.name!r})")
            absent = "v is None"
        if field.default is attrs.NOTHING:
            body.append(f"if {absent}: return slow(o, cls)")
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            ns[f"d{index}"] = field.default.factory
            body.append(f"if {absent}: v = d{index}()")
        else:
            ns[f"d{index}"] = field.default
            body.append(f"if {absent}: v = d{index}")
        if optional:
            body.append("elif v is None: pass")
        if check:
            body.append("else:")
            body.extend("    " + line for line in check)
        body.append(f"a{index} = v")
        names.append(f"a{index}")
    source = "\n".join(
        [
            "def structure(o, _=None):",
            "    if o.__class__ is not dict: return slow(o, cls)",
            # A nested model that cattrs rejects is re-run from here, so the error names
            # the whole path.
            "    try:",
            *("        " + line for line in body),
            "    except Exception:",
            "        return slow(o, cls)",
            f"    obj = cls({', '.join(names)})",
            "    obj._raw = o",
            *(["    finish(obj)"] if finish is not None else []),
            "    return obj",
        ]
    )
    exec(compile(source, f"<grok_async fast structure {cls.__name__}>", "exec"), ns)
    fast: Hook = ns["structure"]
    return fast
