"""The public surface: every exported name resolves, reads as ``grok_async.X``, is written
once (as a ``Name as Name`` import, from which the table of ``__all__`` and the lazy names is
generated), the feature modules load only when first used, and they load from bytecode or a
zip archive as well as from source."""

from __future__ import annotations

import ast
import compileall
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import attrs
import pytest

import grok_async
import grok_async.types
from grok_async._lazy import Exports, read_exports, render_table

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


def test_import_loads_no_lazy_name_until_used() -> None:
    """``import grok_async`` leaves every lazy name (and its module) unloaded and has not
    built ``__all__`` yet; each lazy name then resolves to its module's object."""
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


REPO = Path(__file__).resolve().parent.parent
REGENERATE = "python tools/exports_table.py"


@pytest.mark.parametrize("package", PACKAGES)
def test_the_generated_table_matches_the_init_imports(package: ModuleType) -> None:
    """The table ``LazyExports`` reads at run time is what the ``__init__`` imports declare
    now: adding, moving or removing an export without regenerating fails here."""
    assert package.__file__ is not None
    table = Path(package.__file__).with_name("_exports_table.py")
    expected = render_table(package.__name__, _exports_of(package))
    current = table.read_text(encoding="utf-8") if table.is_file() else ""
    assert current == expected, (
        f"{table.relative_to(REPO)} does not match the imports of {package.__name__}'s "
        f"__init__.py: regenerate it with `{REGENERATE}`"
    )


def test_the_regenerate_command_finds_every_table_current() -> None:
    """The command the failure above names reads the same sources and agrees with the
    committed tables (``--check`` writes nothing)."""
    result = subprocess.run(
        [sys.executable, *REGENERATE.split()[1:], "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def _bytecode_only(package_dir: Path, site: Path) -> Path:
    """A copy of *package_dir* under *site* as a bytecode-only build ships it: a legacy
    ``.pyc`` where each ``.py`` was, and no source."""
    copy = shutil.copytree(package_dir, site / package_dir.name, ignore=_no_caches)
    assert compileall.compile_dir(copy, legacy=True, quiet=1)
    for source in copy.rglob("*.py"):
        source.unlink()
    return site


def _no_caches(directory: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__pycache__"]


def _zipped(tree: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(tree.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zipped.write(path, path.relative_to(tree).as_posix())
    return archive


def _describe(value: object) -> str:
    return f"{getattr(value, '__module__', '')}:{getattr(value, '__qualname__', repr(value))}"


_INSTALLED_CHECK = """
import json, sys
sys.path.insert(0, ENTRY)
from grok_async import Response, run_tools
import grok_async, grok_async.types
from grok_async.types.responses import Response as defined_response
assert Response is defined_response
assert run_tools is sys.modules["grok_async._tool_runs"].run_tools
def describe(value):
    return f"{getattr(value, '__module__', '')}:{getattr(value, '__qualname__', repr(value))}"
packages = (grok_async, grok_async.types)
print(json.dumps({
    "file": grok_async.__file__,
    "loader": type(grok_async.__loader__).__name__,
    "has_source": grok_async.__loader__.get_source("grok_async") is not None,
    "exports": {p.__name__: [[n, describe(getattr(p, n))] for n in p.__all__] for p in packages},
    "dir": {p.__name__: dir(p) for p in packages},
}))
"""


@pytest.mark.parametrize(
    ("layout", "loader", "has_source"),
    [
        pytest.param("bytecode", "SourcelessFileLoader", False, id="bytecode-only-directory"),
        pytest.param("zip-sources", "zipimporter", True, id="zip-of-sources"),
        pytest.param("zip-bytecode", "zipimporter", False, id="zip-of-bytecode"),
    ],
)
def test_lazy_names_load_however_the_package_is_installed(
    tmp_path: Path, layout: str, loader: str, has_source: bool
) -> None:
    """Without the ``.py`` files (a freezer's bytecode-only build) or inside a zip archive,
    ``from grok_async import Response``, ``__all__`` and ``dir()`` work and name the same
    objects as in a source install: the lazy table is code, not a reading of the source."""
    package_dir = Path(grok_async.__file__).parent
    if layout == "bytecode":
        entry = _bytecode_only(package_dir, tmp_path / "site")
    elif layout == "zip-sources":
        copy = shutil.copytree(package_dir, tmp_path / "src" / "grok_async", ignore=_no_caches)
        entry = _zipped(copy.parent, tmp_path / "sources.zip")
    else:
        entry = _zipped(_bytecode_only(package_dir, tmp_path / "site"), tmp_path / "pyc.zip")
    code = _INSTALLED_CHECK.replace("ENTRY", repr(str(entry)))
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["file"].startswith(str(entry)), seen["file"]
    assert (seen["loader"], seen["has_source"]) == (loader, has_source)
    packages = (grok_async, grok_async.types)
    assert seen["exports"] == {
        p.__name__: [[n, _describe(getattr(p, n))] for n in p.__all__] for p in packages
    }
    assert seen["dir"] == {p.__name__: dir(p) for p in packages}
    assert len(seen["exports"]["grok_async"]) > 100
