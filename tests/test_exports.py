"""The public surface: every exported name resolves, reads as ``grok_async.X``, and the
feature modules load only when first used."""

from __future__ import annotations

import subprocess
import sys

import attrs
import pytest

import grok_async
import grok_async.types

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
