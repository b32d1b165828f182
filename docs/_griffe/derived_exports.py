"""A griffe extension for the API reference: a package's ``__all__`` as the package derives it.

grok_async writes each public name once, as an import with a redundant alias (``from .x
import Name as Name``) in its package's ``__init__``; ``__all__`` comes, when first asked
for, from a table generated from those lines (``grok_async/_lazy.py``), so a static reader
finds none and would take every import for a private one. This extension hands griffe the
same list, read from the source by the function that generates the table, so the reference
resolves and cross-references those names as it would a written ``__all__``. Only the
documentation's view changes.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import griffe

from grok_async._lazy import read_exports


class DerivedExports(griffe.Extension):
    """Give a package ``__init__`` without a written ``__all__`` its derived one."""

    def on_module_members(
        self, *, node: ast.AST | griffe.ObjectNode, mod: griffe.Module, **kwargs: Any
    ) -> None:
        path = mod.filepath
        if mod.exports is not None or not isinstance(path, Path) or path.name != "__init__.py":
            return
        names = read_exports(path.read_text(encoding="utf-8")).names
        if names:
            mod.exports = list(names)
