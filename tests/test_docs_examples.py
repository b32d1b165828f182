"""Every ```python block of the README and docs/*.md runs against FakeGrok, so an example
cannot rot: a block that raises fails its test, named ``page:line``.

Each block runs in a fresh namespace holding what the prose around the examples takes as
given: ``client`` (an ``AsyncGrok`` pointed at a FakeGrok), ``fake`` (that FakeGrok),
``messages``/``msgs`` (one user message) and ``prompts`` (a few strings). The environment
has ``XAI_API_KEY`` and ``XAI_BASE_URL`` set to the FakeGrok, so ``AsyncGrok()`` works as
written. A block with top-level ``await`` runs in an event loop of its own; a block that
calls ``asyncio.run()`` itself runs as a script would. Markers (``<!-- docs-test: skip
(reason) -->``, ``<!-- docs-test: continue -->``) are described in tests/docs_blocks.py.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import logging
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from grok_async import AsyncGrok
from grok_async.testing import FakeGrok

from .docs_blocks import ROOT, Example, examples

EXAMPLES = examples()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeGrok]:
    """A fresh emulator in a thread (blocks make their own event loops), with the
    environment pointing at it; the working directory is a temporary one."""
    with FakeGrok() as emulator:
        monkeypatch.setenv("XAI_API_KEY", "xai-docs-test")
        monkeypatch.setenv("XAI_BASE_URL", emulator.base_url)
        # Examples may write files (speech to a file, batch outputs): not into the repo.
        monkeypatch.chdir(tmp_path)
        # The batch examples read a prompts.jsonl in the OpenAI/xAI batch format.
        (tmp_path / "prompts.jsonl").write_bytes(
            b"".join(
                orjson.dumps(
                    {
                        "custom_id": f"q-{i}",
                        "method": "POST",
                        "url": "/v1/chat/completions",
                        "body": {
                            "model": "grok-4",
                            "messages": [{"role": "user", "content": f"Question {i}"}],
                        },
                    }
                )
                + b"\n"
                for i in range(3)
            )
        )
        yield emulator


def _given(fake: FakeGrok) -> dict[str, Any]:
    """What the examples take as given (the prose around them says what each name is)."""
    question = [{"role": "user", "content": "What is the capital of France?"}]
    prompts = ["Name a river.", "Name a mountain.", "Name a lake."]
    client = AsyncGrok()

    async def made_upfront() -> tuple[Any, str]:
        reply = await client.chat.completions.create(model="grok-4", messages=question)
        handle = await client.chat.completions.create(
            model="grok-4", messages=question, deferred=True
        )
        return reply, handle.request_id

    reply, request_id = asyncio.run(made_upfront())
    collection_id = "collection_80100614-300c-4609-959b-a138fa90f542"
    fake.add_document(
        collection_id, "Revenue last quarter was 12 million.", fields={"year": "2025"}
    )
    return {
        "client": client,
        "fake": fake,
        "messages": list(question),
        "msgs": list(question),
        "prompts": prompts,
        "requests": [
            {"model": "grok-4", "messages": [{"role": "user", "content": p}]} for p in prompts
        ],
        "reply": reply,
        "request_id": request_id,
        "collection_id": collection_id,
        "logger": logging.getLogger("docs_example"),
    }


def _run(source: str, namespace: dict[str, Any], filename: str) -> None:
    """Run one block: top-level ``await`` in a fresh event loop, anything else as a script."""
    code = compile(source, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


async def _close(client: Any) -> None:
    if isinstance(client, AsyncGrok):
        await client.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("example", [pytest.param(e, id=e.id) for e in EXAMPLES])
def test_example_runs(example: Example, fake: FakeGrok) -> None:
    """The block (with the fragments that continue it) runs to the end without raising."""
    if example.skip is not None:
        pytest.skip(f"docs-test: {example.skip}")
    # A real module, as a script is: attrs classes defined in the block are then resolvable
    # by name (structured outputs build their JSON schema from the annotations).
    module = types.ModuleType(f"docs_example_{abs(hash(example.id))}")
    module.__dict__.update(_given(fake))
    sys.modules[module.__name__] = module
    try:
        for block in example.blocks:
            _run(block.source, module.__dict__, f"{block.page}:{block.line}")
    finally:
        del sys.modules[module.__name__]
        asyncio.run(_close(module.__dict__.get("client")))


def test_every_page_is_collected() -> None:
    """The README and all of docs/ are read, and each has its blocks found."""
    pages = {e.blocks[0].page for e in EXAMPLES}
    assert "README.md" in pages
    assert {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")} - pages <= {
        # Pages with no Python block at all.
        f"docs/{p.name}"
        for p in (ROOT / "docs").glob("*.md")
        if "```python" not in p.read_text(encoding="utf-8")
    }
    assert os.path.isdir(ROOT / "docs")


def test_markers_skip_and_continue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A skip marker carries its reason; a continue marker joins a block to the group before."""
    from . import docs_blocks

    page = tmp_path / "README.md"
    page.write_text(
        "```python\nx = 1\n```\n\n<!-- docs-test: continue -->\n\n```python\ny = x\n```\n"
        "<!-- docs-test: skip (needs Redis) -->\n```python\nimport redis\n```\n"
        "```bash\nnot python\n```\n",
        encoding="utf-8",
    )
    (tmp_path / "docs").mkdir()
    monkeypatch.setattr(docs_blocks, "ROOT", tmp_path)
    found = docs_blocks.examples()
    assert [e.id for e in found] == ["README.md:1", "README.md:11"]
    assert [b.source for b in found[0].blocks] == ["x = 1\n", "y = x\n"]
    assert found[0].skip is None
    assert found[1].skip == "needs Redis"
