"""The public surface: every exported name resolves, reads as ``grok_async.X``, is written
once (as a ``Name as Name`` import, from which ``__all__`` and the lazy table are read), and
the feature modules load only when first used."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import attrs
import pytest

import grok_async
import grok_async.types
from grok_async._lazy import Exports, LazyExports, read_exports

# Modules `import grok_async` must not load: each feature pays its import time on first use.
LAZY_MODULES = [
    "grok_async._parsing",
    "grok_async._ratelimit",
    "grok_async._redis_limiter",
    "grok_async._responses_stream",
    "grok_async._schema",
    "grok_async._tools",
    "grok_async._tool_runs",
    "grok_async._body_stream",
    "grok_async._multipart",
    "grok_async.resources.audio",
    "grok_async.resources.deferred",
    "grok_async.resources.documents",
    "grok_async.resources.embeddings",
    "grok_async.resources.images",
    "grok_async.resources.models",
    "grok_async.resources.responses",
    "grok_async.resources.videos",
    "grok_async.types.api_key",
    "grok_async.types.audio",
    "grok_async.types.documents",
    "grok_async.types.embeddings",
    "grok_async.types.images",
    "grok_async.types.messages",
    "grok_async.types.models",
    "grok_async.types.parsed",
    "grok_async.types.responses",
    "grok_async.types.tokenizer",
    "grok_async.types.videos",
    "opentelemetry",
    "redis",
    "ray",
]


def test_all_is_sorted_and_every_name_resolves() -> None:
    def group(name: str) -> tuple[int, str]:  # constants, classes, functions (ruff's order)
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert grok_async.__all__ == sorted(grok_async.__all__, key=group)
    for name in grok_async.__all__:
        value = getattr(grok_async, name)
        if isinstance(value, type):
            if attrs.has(value):
                # Models keep their module: their annotations are looked up there.
                assert value.__module__.startswith("grok_async."), name
            else:
                assert value.__module__ == "grok_async", name
    assert set(dir(grok_async)) >= set(grok_async.__all__)


def test_types_package_exports_the_same_objects() -> None:
    for name in grok_async.types.__all__:
        assert getattr(grok_async.types, name) is getattr(grok_async, name), name


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = grok_async.Nope


def test_import_loads_no_feature_module_until_used() -> None:
    code = (
        "import sys, grok_async\n"
        "client = grok_async.AsyncGrok('k')\n"
        f"lazy = {LAZY_MODULES!r}\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
        "client.responses, grok_async.Response, grok_async.run_tools\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.strip().splitlines()[-2:]
    assert before == "[]"
    assert "'grok_async._responses_stream'" in after
    assert "'grok_async._tools'" in after


PACKAGES = [pytest.param(grok_async, id="grok_async"), pytest.param(grok_async.types, id="types")]


def _exports_of(package: ModuleType) -> Exports:
    assert package.__file__ is not None
    return read_exports(Path(package.__file__).read_text(encoding="utf-8"))


@pytest.mark.parametrize("package", PACKAGES)
def test_each_public_name_is_written_once_as_a_redundant_alias(package: ModuleType) -> None:
    """Every name the package's ``__init__`` imports from the package is imported as
    ``Name as Name``, once, so it is public to type checkers and listed in ``__all__``."""
    assert package.__file__ is not None
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level and node.module is not None:
            for alias in node.names:
                assert alias.asname == alias.name, f"{alias.name} is imported without `as`"
                imported.append(alias.name)
    assert sorted(imported) == sorted(set(imported)), "a name is imported twice"
    assert sorted(imported) == sorted(package.__all__)
    assert list(_exports_of(package).names) == package.__all__


def test_from_package_import_star_brings_every_public_name() -> None:
    code = "from grok_async import *\nprint(sorted(k for k in dir() if not k.startswith('_')))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    public = sorted(name for name in grok_async.__all__ if not name.startswith("_"))
    assert result.stdout.strip() == repr(public)


def test_import_neither_loads_a_lazy_name_nor_reads_the_source() -> None:
    """``import grok_async`` leaves every lazy name (and its module) unloaded and has not
    read the package source yet; each lazy name then resolves to its module's object."""
    tables = {
        package.__name__: dict(_exports_of(package).module_of)
        for package in (grok_async, grok_async.types)
    }
    code = (
        "import importlib, sys, grok_async, grok_async.types\n"
        f"tables = {tables!r}\n"
        "for package_name, where in tables.items():\n"
        "    package = sys.modules[package_name]\n"
        "    assert '__all__' not in vars(package), package_name\n"
        "    for name, module in where.items():\n"
        "        full = importlib.util.resolve_name(module, package_name)\n"
        "        assert name not in vars(package), name\n"
        "        assert full not in sys.modules, full\n"
        "for package_name, where in tables.items():\n"
        "    package = sys.modules[package_name]\n"
        "    for name, module in where.items():\n"
        "        defining = importlib.import_module(module, package_name)\n"
        "        assert getattr(package, name) is getattr(defining, name), name\n"
        "print('ok', sum(map(len, tables.values())))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", str(sum(map(len, tables.values())))]
    assert len(tables["grok_async"]) > 100  # the table is really read, not empty


def test_read_exports_takes_redundant_aliases_only() -> None:
    source = (
        "import typing\n"
        "from typing import TYPE_CHECKING, Any\n"
        "from . import _lazy\n"
        "from ._a import Alpha as Alpha\n"
        "from ._a import helper\n"
        "from ._a import beta as beta\n"
        "if TYPE_CHECKING:\n"
        "    from .b import Gamma as Gamma\n"
        "    from .b import Hidden\n"
        "    from ..c import DELTA as DELTA\n"
        "if typing.TYPE_CHECKING:\n"
        "    from .b import Epsilon as Epsilon\n"
        "if not TYPE_CHECKING:\n"
        "    from .d import Zeta as Zeta\n"
    )
    exports = read_exports(source)
    assert exports.names == ("DELTA", "Alpha", "Epsilon", "Gamma", "beta")
    assert exports.lazy == {".b": ("Gamma", "Epsilon"), "..c": ("DELTA",)}
    assert exports.module_of == {"Gamma": ".b", "Epsilon": ".b", "DELTA": "..c"}


def test_a_package_without_source_says_why_its_lazy_names_are_missing() -> None:
    """Where the source is not installed (bytecode only), a lazy name is an AttributeError
    that says why, so ``hasattr`` and ``getattr(..., default)`` still work."""
    frozen = ModuleType("frozen_pkg")  # no __file__, no loader: a frozen package
    exports = LazyExports("frozen_pkg", vars(frozen))
    with pytest.raises(AttributeError, match="read from its source, which this installation"):
        exports.load("Response")


def test_a_package_in_a_zip_archive_loads_its_lazy_names(tmp_path: Path) -> None:
    """Without a file on disk, the lazy table is read through the package's loader."""
    archive = tmp_path / "packages.zip"
    init = (
        "from typing import TYPE_CHECKING, Any\n"
        "from grok_async import _lazy\n"
        "if TYPE_CHECKING:\n"
        "    from json import JSONDecoder as JSONDecoder\n"
        "_exports = _lazy.LazyExports(__name__, globals())\n"
        "def __getattr__(name: str) -> Any:\n"
        "    return _exports.load(name)\n"
    )
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped_pkg/__init__.py", init)
    code = (
        f"import sys; sys.path.insert(0, {str(archive)!r})\n"
        "import json, zipped_pkg\n"
        "assert zipped_pkg.JSONDecoder is json.JSONDecoder\n"
        "print(zipped_pkg.__all__, zipped_pkg.__loader__.__class__.__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['JSONDecoder']", "zipimporter"]
