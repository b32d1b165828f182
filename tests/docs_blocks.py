"""The fenced ```python blocks of the README and docs/*.md, grouped the way they run.

A page marks how a block is tested with an HTML comment on the line(s) just before its
fence (blank lines between are allowed); Markdown renderers do not show it:

``<!-- docs-test: skip (reason) -->``
    Not run (it needs a real key, Redis, Ray, a server of its own...); reported as
    skipped with the reason.
``<!-- docs-test: continue -->``
    A fragment that goes on from the block before it (and so from the blocks that one
    continues): they run in order, in one namespace, as one test.

Every other block runs on its own, in a fresh namespace (see tests/test_docs_examples.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent

_FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^`\n]*)$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<verb>skip|continue)\s*(?P<rest>.*?)\s*-->\s*$")


@attrs.frozen
class Block:
    """One fenced Python block: where it is, its source, and how it is marked."""

    page: str  #: path relative to the repository root
    line: int  #: line number of the opening fence (1-based)
    source: str
    skip: str | None = None  #: the reason, when marked skip
    continues: bool = False


@attrs.frozen
class Example:
    """Blocks that run together as one test: a block and the fragments that continue it."""

    blocks: tuple[Block, ...]

    @property
    def id(self) -> str:
        first = self.blocks[0]
        return f"{first.page}:{first.line}"

    @property
    def skip(self) -> str | None:
        """The reason of the first skipped block; a group with one skipped part cannot run."""
        return next((b.skip for b in self.blocks if b.skip is not None), None)


def pages() -> list[Path]:
    """The README and every page of docs/ (sub-folders included), whatever pages exist now."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _marker_before(lines: list[str], index: int) -> re.Match[str] | None:
    """The docs-test marker just above line ``index`` (skipping blank lines), if any."""
    j = index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    return _MARKER.match(lines[j]) if j >= 0 else None


def blocks_of(path: Path) -> list[Block]:
    """The ```python blocks of one Markdown file, with their markers."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = path.relative_to(ROOT).as_posix()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent = opening["indent"]
        language = opening["info"].strip().split(" ")[0] if opening["info"].strip() else ""
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if language in {"python", "py"}:
            body = [
                line[len(indent) :] if line.startswith(indent) else line
                for line in lines[i + 1 : end]
            ]
            marker = _marker_before(lines, i)
            skip = continues = None
            if marker is not None and marker["verb"] == "skip":
                skip = marker["rest"].strip().strip("()").strip() or "marked skip"
            elif marker is not None:
                continues = True
            found.append(
                Block(page, i + 1, "\n".join(body) + "\n", skip=skip, continues=bool(continues))
            )
        i = end + 1
    return found


def examples() -> list[Example]:
    """Every runnable unit of every page, fragments joined to the block they continue."""
    grouped: list[Example] = []
    for path in pages():
        for block in blocks_of(path):
            # A fragment continues the group before it (which may already be several blocks).
            if block.continues and grouped and grouped[-1].blocks[0].page == block.page:
                grouped[-1] = Example((*grouped[-1].blocks, block))
            else:
                grouped.append(Example((block,)))
    return grouped
