"""``client.documents``: search the documents of collections (``POST /v1/documents/search``).

Collections are made and filled in xAI's console or its management API; this searches
them, as the Responses API's ``file_search`` tool does for a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .._sentinels import NOT_GIVEN, NotGiven
from .._serialization import encode_json
from .._timeout import TimeoutTypes
from ..types.documents import DocumentSearchResponse
from ._decode import decode_object

if TYPE_CHECKING:
    from .._requester import Requester

__all__ = ["Documents"]

#: How to match: ``hybrid`` (keywords and meaning, the server's default), ``semantic``
#: (meaning: dense embeddings) or ``keyword`` (sparse embeddings).
RetrievalMode = Literal["hybrid", "semantic", "keyword"]


def _collection_ids(value: object) -> list[str]:
    # One id given as a string would otherwise go out as a list of its characters.
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(
            f"collection_ids takes a list of collection ids, not {type(value).__name__}"
        )
    ids = list(value)
    if not ids or not all(isinstance(item, str) and item for item in ids):
        raise ValueError(f"collection_ids must be a non-empty list of ids, got {ids!r}")
    return ids


def _retrieval_mode(value: RetrievalMode | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(value, str):
        return {"type": value}
    if isinstance(value, Mapping) and isinstance(value.get("type"), str):
        return value
    raise TypeError(
        "retrieval_mode is 'hybrid', 'semantic' or 'keyword', or a mapping with a 'type' "
        f"(and its options, e.g. a 'reranker'), not {value!r:.60}"
    )


class Documents:
    """``client.documents``"""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def search(
        self,
        *,
        query: str,
        collection_ids: Iterable[str],
        limit: int | None = None,
        filter: str | None = None,
        instructions: str | None = None,
        retrieval_mode: RetrievalMode | Mapping[str, Any] | None = None,
        group_by: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> DocumentSearchResponse:
        """The chunks of the collections' documents that best match ``query``, best first.

        ``limit`` caps the matches (the server's default is 10). ``filter`` tests the
        documents' metadata fields in AIP-160 syntax, e.g. ``'year > 2020 AND
        category = "finance"'``. ``retrieval_mode`` is ``"hybrid"`` (the default),
        ``"semantic"`` or ``"keyword"``, or the API's object with options
        (``{"type": "hybrid", "reranker": {...}}``). ``group_by`` keeps the best matches
        per metadata value (``{"keys": ["author"]}``). ``None`` means "not sent".

        Example::

            found = await client.documents.search(
                query="revenue last quarter", collection_ids=["collection_..."], limit=5
            )
            for match in found.matches:
                print(match.score, match.chunk_content[:80])

        Raises:
            TypeError, ValueError: ``query`` is not a string, or ``collection_ids`` is not
                a non-empty list of ids (a single id goes in a list); nothing is sent.
            NotFoundError: an unknown collection.
            BadRequestError: the server refused a parameter (a malformed ``filter``).
            APIStatusError, APIConnectionError, APITimeoutError: as for any call.
        """
        if not isinstance(query, str):
            raise TypeError(f"query must be a str, not {type(query).__name__}")
        optional = {
            "limit": limit,
            "filter": filter,
            "instructions": instructions,
            "retrieval_mode": None if retrieval_mode is None else _retrieval_mode(retrieval_mode),
            "group_by": group_by,
        }
        body: dict[str, Any] = {
            "query": query,
            "source": {"collection_ids": _collection_ids(collection_ids)},
            **{key: value for key, value in optional.items() if value is not None},
        }
        if extra_body:
            body.update(extra_body)
        return await self._client.request(
            "POST",
            "/documents/search",
            body=encode_json(body),
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=lambda reply: decode_object(reply, DocumentSearchResponse),
        )
