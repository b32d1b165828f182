"""Exports loaded on first use, so ``import grok_async`` pays only for what chat needs.

The Responses API, structured outputs, tools, the model catalogues and the shared rate
limiter together cost as much import time as the rest of the package; most programs use
one or two of them. A package lists them as ``{module: (names...)}`` and delegates its
module-level ``__getattr__`` here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["LazyExports", "rehome"]


class LazyExports:
    """The lazily loaded names of one package, and how to load them."""

    def __init__(
        self,
        package: str,
        namespace: dict[str, Any],
        modules: Mapping[str, tuple[str, ...]],
        *,
        rehome: str | None = None,
    ) -> None:
        self._package = package
        self._namespace = namespace
        self._modules = modules
        self._where = {name: module for module, names in modules.items() for name in names}
        self._rehome = rehome

    def __contains__(self, name: str) -> bool:
        return name in self._where

    def load(self, name: str) -> Any:
        """The value of ``name``, importing its module (and all its exports) on first use."""
        module_name = self._where.get(name)
        if module_name is None:
            raise AttributeError(f"module {self._package!r} has no attribute {name!r}")
        module = importlib.import_module(module_name, self._package)
        values = {export: getattr(module, export) for export in self._modules[module_name]}
        if self._rehome is not None:
            rehome(values.values(), self._rehome)
        self._namespace.update(values)
        return values[name]


def rehome(values: Any, package: str) -> None:
    """Present classes as ``package.Name`` in tracebacks and reprs (``grok_async.RateLimitError``
    rather than ``grok_async._errors.RateLimitError``).

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
