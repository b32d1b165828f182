"""Response models of ``POST /v1/documents/search`` (search in collections)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from attrs import define, field

from ._base import WireModel

__all__ = ["DocumentSearchMatch", "DocumentSearchResponse"]


@define
class DocumentSearchMatch(WireModel):
    """One chunk of a document that matches the query, best first."""

    #: The document (an uploaded file) the chunk is from.
    file_id: str = ""
    chunk_id: str = ""
    #: The chunk's text.
    chunk_content: str = ""
    #: Relevance: higher is better (its scale depends on the retrieval mode).
    score: float = 0.0
    #: The collections the document is in.
    collection_ids: list[str] = field(factory=list)
    #: The document's metadata fields (what ``filter`` can test).
    fields: dict[str, Any] = field(factory=dict)
    #: The page the chunk is mostly on (0 for single-page documents), when known.
    page_number: int | None = None


@define
class DocumentSearchResponse(WireModel):
    """The matches of one search, best first (iterating gives ``matches``)."""

    matches: list[DocumentSearchMatch] = field(factory=list)
    #: The ``x-request-id`` of the response; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)

    def __len__(self) -> int:
        return len(self.matches)

    def __iter__(self) -> Iterator[DocumentSearchMatch]:
        return iter(self.matches)
