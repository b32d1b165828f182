"""The emulator's collections of documents, and ``POST /v1/documents/search`` over them.

A test fills collections with ``FakeGrok.add_document()``; each document is cut into
chunks at blank lines (pages at form feeds). A search scores every chunk of the named
collections: ``keyword`` by the share of the query's words the chunk contains, ``semantic``
by the cosine of the emulator's embedding vectors (``_embeddings.text_vector``), ``hybrid``
(the default) by their mean. ``filter`` understands ``field = "value"`` and
``field != "value"`` tests joined by ``AND``; anything else is refused (400), saying so.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import attrs
import orjson
from aiohttp import web

from ._catalog import hash_text
from ._embeddings import cosine, text_vector
from ._errors import error_response
from ._validation import InvalidRequest, parse_json_body, type_error

__all__ = ["DocumentStore"]

_DEFAULT_LIMIT = 10
_MODES = ("hybrid", "semantic", "keyword")
_TEST = re.compile(r'^\s*([A-Za-z_][\w.]*)\s*(=|!=)\s*"([^"]*)"\s*$')


@attrs.frozen(eq=False)  # identity: a chunk found through two collections is one match
class _Chunk:
    file_id: str
    chunk_id: str
    content: str
    page_number: int
    fields: Mapping[str, str]
    vector: tuple[float, ...]


def _chunk_id(file_id: str, index: int) -> str:
    """A UUID-shaped id, the same for the same chunk of the same document."""
    seed = f"{file_id}\0{index}"
    return str(uuid.UUID(int=hash_text(seed) << 64 | hash_text(seed[::-1])))


def _words(text: str) -> set[str]:
    return set("".join(c.lower() if c.isalnum() else " " for c in text).split())


def _chunks(text: str) -> list[tuple[int, str]]:
    """(page number, text) of each non-empty paragraph."""
    found = []
    for page, page_text in enumerate(text.split("\f")):
        for paragraph in re.split(r"\n\s*\n", page_text):
            if paragraph.strip():
                found.append((page, paragraph.strip()))
    return found


def _filter(expression: Any) -> list[tuple[str, str, str]]:
    """The (field, operator, value) tests of a ``filter``."""
    if expression is None or expression == "":
        return []
    if not isinstance(expression, str):
        raise type_error("filter", "a string")
    tests = []
    for part in re.split(r"\s+AND\s+", expression):
        match = _TEST.match(part)
        if match is None:
            raise InvalidRequest(
                400,
                f"Unsupported filter {expression!r}: FakeGrok understands only "
                '`field = "value"` and `field != "value"` joined by AND.',
            )
        tests.append((match[1], match[2], match[3]))
    return tests


def _passes(fields: Mapping[str, str], tests: list[tuple[str, str, str]]) -> bool:
    return all((fields.get(name) == value) == (op == "=") for name, op, value in tests)


class DocumentStore:
    """Collections of chunked documents, searchable like xAI's (thread-safe to fill)."""

    def __init__(self) -> None:
        self._collections: dict[str, list[_Chunk]] = {}
        self._lock = threading.Lock()

    def add(
        self,
        collection_id: str,
        text: str,
        *,
        file_id: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> str:
        """Add a document to a collection (created on first use); return its file id."""
        if not isinstance(collection_id, str) or not collection_id:
            raise ValueError("collection_id must be a non-empty string")
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        file_id = file_id or f"file_{uuid.uuid4()}"
        chunks = [
            _Chunk(
                file_id=file_id,
                chunk_id=_chunk_id(file_id, index),
                content=content,
                page_number=page,
                fields=dict(fields or {}),
                vector=tuple(text_vector(content)),
            )
            for index, (page, content) in enumerate(_chunks(text))
        ]
        with self._lock:
            self._collections.setdefault(collection_id, []).extend(chunks)
        return file_id

    async def search(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/documents/search``"""
        try:
            body = parse_json_body(request.content_type, await request.read())
            matches = self.search_body(body)
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        return web.Response(
            body=orjson.dumps({"matches": matches}), content_type="application/json"
        )

    def check_collections(self, ids: list[str]) -> None:
        """``InvalidRequest`` (404) unless every collection of ``ids`` exists."""
        with self._lock:
            for collection_id in ids:
                if collection_id not in self._collections:
                    raise InvalidRequest(404, f"Collection {collection_id} was not found.")

    def search_body(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The matches a search request's JSON ``body`` finds; ``InvalidRequest`` if the
        request is refused."""
        query = body.get("query")
        if query is None:
            raise InvalidRequest(
                422,
                "Failed to deserialize the JSON body into the target type: missing field `query`",
            )
        if not isinstance(query, str):
            raise type_error("query", "a string")
        if not query.strip():
            raise InvalidRequest(400, "The query must not be empty.")
        source = body.get("source")
        ids = source.get("collection_ids") if isinstance(source, Mapping) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise type_error("source.collection_ids", "a sequence of strings")
        if not ids:
            raise InvalidRequest(400, "At least one collection id is required.")
        limit = body.get("limit", _DEFAULT_LIMIT)
        if limit is None:
            limit = _DEFAULT_LIMIT
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise InvalidRequest(400, f"limit must be a positive integer, got {limit!r}.")
        mode = body.get("retrieval_mode") or {"type": "hybrid"}
        kind = mode.get("type") if isinstance(mode, Mapping) else None
        if kind not in _MODES:
            raise InvalidRequest(
                400, f"retrieval_mode.type must be one of {', '.join(_MODES)}, got {kind!r}."
            )
        tests = _filter(body.get("filter"))
        chunks: dict[_Chunk, list[str]] = {}
        with self._lock:
            for collection_id in dict.fromkeys(ids):
                if collection_id not in self._collections:
                    raise InvalidRequest(404, f"Collection {collection_id} was not found.")
                for chunk in self._collections[collection_id]:
                    chunks.setdefault(chunk, []).append(collection_id)
        words = _words(query)
        vector = text_vector(query)
        scored = []
        for chunk, collections in chunks.items():
            if not _passes(chunk.fields, tests):
                continue
            keyword = len(words & _words(chunk.content)) / len(words) if words else 0.0
            semantic = cosine(vector, chunk.vector)
            score = {"keyword": keyword, "semantic": semantic}.get(kind, (keyword + semantic) / 2)
            if score > 0:
                scored.append((score, chunk, collections))
        scored.sort(key=lambda found: -found[0])
        return [
            {
                "file_id": chunk.file_id,
                "chunk_id": chunk.chunk_id,
                "chunk_content": chunk.content,
                "score": round(score, 6),
                "collection_ids": collections,
                "fields": dict(chunk.fields),
                "page_number": chunk.page_number,
            }
            for score, chunk, collections in scored[:limit]
        ]
