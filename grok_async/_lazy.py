"""A package's public names, written once: as the imports of its ``__init__``.

Each public name is imported with a redundant alias, ``from .x import Name as Name``,
which is how type checkers (mypy's ``--no-implicit-reexport``, pyright) know it is
re-exported. Names imported at the top level load with the package; names imported in
its ``if TYPE_CHECKING:`` block load on first use, so ``import grok_async`` pays only for
what chat needs (the Responses API, structured outputs, tools, the model catalogues and
the shared rate limiter together cost as much import time as the rest of the package).

At run time a ``TYPE_CHECKING`` import does not run, so ``LazyExports`` reads the same
lines from the package's source, on the first lookup that needs them (never during
``import``): they give ``__all__``, ``dir()`` and which module each lazy name comes from.
There is no second list to keep in step. An installation without the package's ``.py``
source (some freezers ship only bytecode) cannot load the lazy names; it gets an
``AttributeError`` that says so.
"""

from __future__ import annotations

import ast
import importlib
import os
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["Exports", "LazyExports", "read_exports", "rehome"]


@attrs.frozen
class Exports:
    """What one package's ``__init__`` exports."""

    #: Every public name, in ``__all__``'s order.
    names: tuple[str, ...]
    #: The lazily loaded ones: ``{module, relative to the package: (names...)}``.
    lazy: Mapping[str, tuple[str, ...]]
    #: The module of each lazily loaded name.
    module_of: Mapping[str, str]


def read_exports(source: str) -> Exports:
    """The exports that a package's ``__init__`` *source* declares: every ``from M import X
    as X`` at its top level (loaded with the package) or in its ``if TYPE_CHECKING:`` block
    (loaded on first use). Other imports (``from typing import Any``, ``from . import
    _lazy``) are the module's own business."""
    names: list[str] = []
    lazy: dict[str, list[str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom):
            names.extend(_reexported(node))
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for inner in node.body:
                if not isinstance(inner, ast.ImportFrom):
                    continue
                found = _reexported(inner)
                if found:
                    module = "." * inner.level + (inner.module or "")
                    lazy.setdefault(module, []).extend(found)
                    names.extend(found)
    return Exports(
        names=tuple(sorted(names, key=_all_order)),
        lazy={module: tuple(found) for module, found in lazy.items()},
        module_of={name: module for module, found in lazy.items() for name in found},
    )


def _reexported(node: ast.ImportFrom) -> list[str]:
    return [alias.name for alias in node.names if alias.asname == alias.name]


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Attribute):  # typing.TYPE_CHECKING
        return test.attr == "TYPE_CHECKING"
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _all_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then the rest, each alphabetical (ruff's ``__all__`` order)."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


class LazyExports:
    """The exports of one package, for its module-level ``__getattr__`` and ``__dir__``.

    Usage, at the end of the package's ``__init__``::

        _exports = LazyExports(__name__, globals())

        def __getattr__(name: str) -> Any:
            return _exports.load(name)

        def __dir__() -> list[str]:
            return _exports.dir()
    """

    def __init__(
        self, package: str, namespace: dict[str, Any], *, rehome: str | None = None
    ) -> None:
        self._package = package
        self._namespace = namespace
        self._rehome = rehome
        self._exports: Exports | None = None

    @property
    def exports(self) -> Exports:
        """The package's exports, read from its source the first time they are asked for."""
        if self._exports is None:
            self._exports = read_exports(self._source())
        return self._exports

    def load(self, name: str) -> Any:
        """The value of ``name``: ``__all__``, or a lazy export, importing its module (and all
        that module's exports) on first use; ``AttributeError`` for anything else."""
        if name == "__all__":
            value = self._namespace["__all__"] = list(self.exports.names)
            return value
        module_name = self.exports.module_of.get(name)
        if module_name is None:
            raise AttributeError(f"module {self._package!r} has no attribute {name!r}")
        module = importlib.import_module(module_name, self._package)
        values = {export: getattr(module, export) for export in self.exports.lazy[module_name]}
        if self._rehome is not None:
            rehome(values.values(), self._rehome)
        self._namespace.update(values)
        return values[name]

    def dir(self) -> list[str]:
        """The package's public names, sorted: its ``dir()``."""
        return sorted(self.exports.names)

    def _source(self) -> str:
        # From the namespace, never getattr() on the module: that would come back here.
        path = self._namespace.get("__file__")
        if isinstance(path, str) and path.endswith(".py") and os.path.isfile(path):
            with open(path, encoding="utf-8") as file:
                return file.read()
        # A package in a zip archive has no file, but its loader has the source.
        get_source = getattr(self._namespace.get("__loader__"), "get_source", None)
        source = get_source(self._package) if get_source is not None else None
        if not isinstance(source, str):
            raise AttributeError(
                f"{self._package}'s lazily loaded names are read from its source, which this "
                "installation lacks: include the package's .py files"
            )
        return source


def rehome(values: Iterable[Any], package: str) -> None:
    """Present classes as ``package.Name`` in tracebacks and reprs (``grok_async.RateLimitError``
    rather than ``grok_async._errors.RateLimitError``). Anything else is left alone.

    attrs models keep their defining module: their string annotations (and those of their
    subclasses) are resolved by looking names up in ``__module__``'s namespace, which must
    stay the module that wrote them.
    """
    prefix = package + "."
    for value in values:
        if isinstance(value, type) and value.__module__.startswith(prefix):
            if attrs.has(value):
                continue
            try:
                value.__module__ = package
            except (AttributeError, TypeError):  # pragma: no cover - builtin-like types
                pass
