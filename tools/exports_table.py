"""Regenerate each package's ``_exports_table.py`` from the imports in its ``__init__.py``.

    python tools/exports_table.py          # rewrite the tables of this checkout
    python tools/exports_table.py --check  # exit 1, writing nothing, if one is out of date

See ``grok_async/_lazy.py`` for why the tables exist.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
#: The packages whose ``__init__`` loads names lazily through ``_lazy.LazyExports``.
PACKAGES = ("grok_async", "grok_async.types")


def _load_lazy() -> ModuleType:
    """This checkout's ``grok_async/_lazy.py``, loaded on its own: importing the package
    would import the tables, which may be stale, missing or mid-merge."""
    spec = importlib.util.spec_from_file_location("_lazy", ROOT / "grok_async" / "_lazy.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description="Regenerate grok_async's _exports_table.py.")
    parser.add_argument("--check", action="store_true", help="report stale tables, write none")
    check = parser.parse_args().check
    lazy = _load_lazy()
    stale = []
    for package in PACKAGES:
        directory = ROOT.joinpath(*package.split("."))
        source = (directory / "__init__.py").read_text(encoding="utf-8")
        table = directory / "_exports_table.py"
        text = lazy.render_table(package, lazy.read_exports(source))
        if table.is_file() and table.read_text(encoding="utf-8") == text:
            continue
        stale.append(table.relative_to(ROOT))
        if not check:
            table.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{path} {'is out of date' if check else 'written'}")
    if check and stale:
        print("regenerate with: python tools/exports_table.py")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
