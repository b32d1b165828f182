"""A griffe extension for the API reference: defaults shown as values, not constant names.

The library keeps its defaults in ``grok_async._constants`` (one line each, with the
reason), so signatures read ``concurrency: int = DEFAULT_CONCURRENCY``; a reader of the
reference wants ``concurrency: int = 64``. Every parameter default (overloads included)
and class attribute value that names an upper-case constant of the package, or builds
one of its attrs classes with no arguments (``Timeout()``), is replaced by the value the
installed package holds, written out in full. Sentinels such as ``NOT_GIVEN`` keep their
name: it is their meaning. Only the rendered signatures change; the library is untouched.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import attrs
import griffe

_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Names whose meaning is the name itself ("not given"), not a value to show.
_KEEP = {"NOT_GIVEN"}


def _value_of(path: str) -> str | None:
    """``repr`` of the object at a dotted ``module.NAME`` path, if it reads as a value."""
    module_name, _, name = path.rpartition(".")
    try:
        value = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return None
    return _show(value)


def _show(value: object) -> str | None:
    """How a default reads in a signature: Python source for the value, or None."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:_}"  # 268_435_456 reads; 268435456 does not
    if attrs.has(type(value)):
        # An attrs repr may leave out fields at their defaults; every field is the point.
        fields = ", ".join(
            f"{field.name}={_show(getattr(value, field.name))}"
            for field in attrs.fields(type(value))
        )
        return f"{type(value).__name__}({fields})"
    text = repr(value)
    return None if text.startswith("<") else text


class RealDefaults(griffe.Extension):
    """Replace constant-name defaults by their values once the package tree is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._walk(pkg, set())

    def _walk(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if isinstance(obj, griffe.Function):
            for function in (obj, *(obj.overloads or ())):
                self._replace(function)
        elif isinstance(obj, griffe.Attribute):
            # Class fields such as Timeout.read = DEFAULT_READ_TIMEOUT.
            shown = self._shown(obj.value)
            if shown is not None:
                obj.value = shown
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)  # type: ignore[arg-type]

    def _replace(self, function: griffe.Function) -> None:
        for parameter in function.parameters:
            shown = self._shown(parameter.default)
            if shown is not None:
                parameter.default = shown

    @staticmethod
    def _shown(expression: object) -> str | None:
        """The value to show for a default naming a constant of the package (or calling
        one of its attrs classes without arguments, as ``Timeout()``), else None."""
        if (
            isinstance(expression, griffe.ExprCall)
            and not expression.arguments
            and isinstance(expression.function, griffe.ExprName)
            and expression.function.canonical_path.startswith("grok_async.")
        ):
            module_name, _, name = expression.function.canonical_path.rpartition(".")
            try:
                cls = getattr(importlib.import_module(module_name), name)
            except (ImportError, AttributeError):
                return None
            return _show(cls()) if attrs.has(cls) else None
        if not isinstance(expression, griffe.ExprName) or not _CONSTANT.match(expression.name):
            return None
        if expression.name in _KEEP:
            return None
        path = expression.canonical_path
        if not path.startswith("grok_async."):
            return None
        return _value_of(path)
