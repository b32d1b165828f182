"""A griffe extension for the API reference: reStructuredText habits → Markdown.

The library's docstrings are Google style with a few Sphinx-isms that Markdown would
print literally:

- cross-reference roles (``:class:`Timeout```, ``:meth:`aclose```, ``:data:`NOT_GIVEN```)
  become links to the object when a reference page documents it, else inline code;
- a paragraph ending in ``::`` followed by an indented block (an RST literal block)
  becomes a fenced Python code block.

Only the rendered text changes; the library is untouched. The objects the reference pages
document are read from the ``::: identifier`` lines of docs/reference/*.md, so a link is
only ever made to an anchor that exists (``mkdocs build --strict`` fails on a dangling one).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|attr|data|exc|obj|mod|const):`(~?)([^`<>]+)`")
_DIRECTIVE = re.compile(r"^:::\s+(\S+)\s*$", re.MULTILINE)
_REFERENCE_PAGES = Path(__file__).resolve().parent.parent / "reference"


def _documented() -> dict[str, str]:
    """Short name → documented identifier, for every ``::: identifier`` of the reference
    pages (one per area, in docs/reference/)."""
    found: dict[str, str] = {}
    for page in sorted(_REFERENCE_PAGES.glob("*.md")):
        for identifier in _DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            found.setdefault(identifier.rsplit(".", 1)[-1], identifier)
    return found


def _literal_blocks(text: str) -> str:
    """RST ``para::`` + indented block → ``para:`` + a fenced python block."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.rstrip()
        if not stripped.endswith("::") or i + 1 >= len(lines) or lines[i + 1].strip():
            out.append(line)
            i += 1
            continue
        indent = len(line) - len(line.lstrip())
        # Find the indented block after the blank line(s).
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j >= len(lines) or len(lines[j]) - len(lines[j].lstrip()) <= indent:
            out.append(line)
            i += 1
            continue
        block_indent = len(lines[j]) - len(lines[j].lstrip())
        end = j
        while end < len(lines) and (
            not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) >= block_indent
        ):
            end += 1
        while end > j and not lines[end - 1].strip():
            end -= 1
        head = stripped[:-2].rstrip()
        pad = " " * indent
        if head.strip():
            out.append(head + ":")
        out.append("")
        out.append(pad + "```python")
        out.extend(pad + ln[block_indent:] if ln.strip() else "" for ln in lines[j:end])
        out.append(pad + "```")
        i = end
    return "\n".join(out)


class RstMarkup(griffe.Extension):
    """Rewrite the docstrings of the loaded package once its tree is complete."""

    def __init__(self) -> None:
        super().__init__()
        self._documented = _documented()

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._walk(pkg, set())

    def _walk(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = self._convert(obj.docstring.value, obj)
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)  # type: ignore[arg-type]

    def _public_path(self, cls: griffe.Object | None) -> str | None:
        if cls is None:
            return None
        return self._documented.get(cls.name)

    def _convert(self, text: str, obj: griffe.Object) -> str:
        owner = obj if obj.is_class else obj.parent if obj.parent and obj.parent.is_class else None

        def role(match: re.Match[str]) -> str:
            target = match.group(2).strip()
            name = target.rsplit(".", 1)[-1]
            label = f"`{name}`" if match.group(1) or "." in target else f"`{target}`"
            identifier = self._documented.get(name)
            if identifier is None and owner is not None and name in owner.members:
                member = owner.members[name]
                owner_path = self._public_path(owner)
                if owner_path is not None and not member.is_alias and member.docstring:
                    identifier = f"{owner_path}.{name}"
            return f"[{label}][{identifier}]" if identifier else label

        return _ROLE.sub(role, _literal_blocks(text))
