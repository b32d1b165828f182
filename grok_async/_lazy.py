"""A package's public names, written once: as the imports of its ``__init__``.

Each public name is imported with a redundant alias, ``from .x import Name as Name``,
which is how type checkers (mypy's ``--no-implicit-reexport``, pyright) know it is
re-exported. Names imported at the top level load with the package; names imported in
its ``if TYPE_CHECKING:`` block load on first use, so ``import grok_async`` pays only for
what chat needs (the Responses API, structured outputs, tools, the model catalogues and
the shared rate limiter together cost as much import time as the rest of the package).

At run time a ``TYPE_CHECKING`` import does not run, so ``LazyExports`` needs those lines in
another form: the package's ``_exports_table.py``, which ``python tools/exports_table.py``
generates from them (``read_exports`` and ``render_table``) and a test keeps current. The
table is code, not a reading of the source, so an installation that ships only bytecode
(a freezer's archive, a zip of ``.pyc`` files) loads the lazy names like any other. The
package imports its table with a plain ``from . import _exports_table``, which freezers
that follow imports see and bundle.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

import attrs

__all__ = ["Exports", "LazyExports", "read_exports", "rehome", "render_table"]


def _by_module(exports: Exports) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for name, module in exports.module_of.items():
        grouped.setdefault(module, []).append(name)
    return {module: tuple(names) for module, names in grouped.items()}


@attrs.frozen
class Exports:
    """What one package's ``__init__`` exports."""

    #: Every public name, in ``__all__``'s order.
    names: tuple[str, ...]
    #: The module of each lazily loaded name, relative to the package, in source order.
    module_of: Mapping[str, str]
    #: The lazily loaded names grouped by module: ``{module: (names...)}``.
    lazy: Mapping[str, tuple[str, ...]] = attrs.field(
        init=False, default=attrs.Factory(_by_module, takes_self=True)
    )


def read_exports(source: str) -> Exports:
    """The exports that a package's ``__init__`` *source* declares: every ``from M import X
    as X`` at its top level (loaded with the package) or in its ``if TYPE_CHECKING:`` block
    (loaded on first use). Other imports (``from typing import Any``, ``from . import
    _lazy``) are the module's own business."""
    names: list[str] = []
    module_of: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom):
            names.extend(_reexported(node))
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for inner in node.body:
                if isinstance(inner, ast.ImportFrom):
                    module = "." * inner.level + (inner.module or "")
                    for name in _reexported(inner):
                        module_of[name] = module
                        names.append(name)
    return Exports(names=tuple(sorted(names, key=_all_order)), module_of=module_of)


def _reexported(node: ast.ImportFrom) -> list[str]:
    return [alias.name for alias in node.names if alias.asname == alias.name]


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Attribute):  # typing.TYPE_CHECKING
        return test.attr == "TYPE_CHECKING"
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _all_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then the rest, each alphabetical (ruff's ``__all__`` order)."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def render_table(package: str, exports: Exports) -> str:
    """The text of *package*'s ``_exports_table.py``, holding *exports* (formatted as ruff
    formats it, so the generated file passes ``ruff format --check``)."""
    lines = [
        f'"""The exports of ``{package}``, generated from the imports in its ``__init__.py`` by',
        "``python tools/exports_table.py``: do not edit. tests/test_exports.py fails when this",
        "table and those imports disagree; ``_lazy.LazyExports`` reads it at run time.",
        '"""',
        "",
        "#: ``__all__``: every public name.",
        "ALL: tuple[str, ...] = (",
        *(f'    "{name}",' for name in exports.names),
        ")",
        "",
        "#: The module (relative to the package) of each name loaded on first use.",
    ]
    if exports.module_of:
        lines.append("LAZY: dict[str, str] = {")
        lines.extend(f'    "{name}": "{module}",' for name, module in exports.module_of.items())
        lines.append("}")
    else:
        lines.append("LAZY: dict[str, str] = {}")
    return "\n".join(lines) + "\n"


class LazyExports:
    """The exports of one package, for its module-level ``__getattr__`` and ``__dir__``.

    Usage, at the end of the package's ``__init__`` (which imports its generated
    ``_exports_table``)::

        _exports = LazyExports(__name__, globals(), _exports_table)

        def __getattr__(name: str) -> Any:
            return _exports.load(name)

        def __dir__() -> list[str]:
            return _exports.dir()
    """

    def __init__(
        self,
        package: str,
        namespace: dict[str, Any],
        table: ModuleType,
        *,
        rehome: str | None = None,
    ) -> None:
        self._package = package
        self._namespace = namespace
        self._table = table
        self._rehome = rehome
        self._exports: Exports | None = None

    @property
    def exports(self) -> Exports:
        """The package's exports, as its generated table holds them."""
        if self._exports is None:
            self._exports = Exports(names=self._table.ALL, module_of=self._table.LAZY)
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
