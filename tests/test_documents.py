"""Documents search: the client against FakeGrok's collections."""

from __future__ import annotations

from typing import Any

import pytest

from grok_async import (
    AsyncGrok,
    BadRequestError,
    DocumentSearchMatch,
    DocumentSearchResponse,
    NotFoundError,
)
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY

REPORT = (
    "Revenue grew ten percent in the last quarter.\n\n"
    "Costs fell slightly over the same quarter.\f"
    "The board met on Tuesday to discuss the cat."
)


def client_for(fake: FakeGrok, **options: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)


@pytest.fixture
def library(fake_grok: FakeGrok) -> FakeGrok:
    fake_grok.add_document("reports", REPORT, file_id="file_report", fields={"year": "2025"})
    fake_grok.add_document(
        "reports", "Revenue fell in 2019.", file_id="file_old", fields={"year": "2019"}
    )
    fake_grok.add_document("pets", "The cat sleeps all day.", file_id="file_cat")
    return fake_grok


async def test_search_returns_the_best_chunks_first(library: FakeGrok) -> None:
    """Matches are typed chunks, best first, with the request sent as the API takes it."""
    async with client_for(library) as client:
        found = await client.documents.search(
            query="revenue last quarter", collection_ids=["reports"], limit=2
        )
    assert isinstance(found, DocumentSearchResponse)
    assert len(found) == 2
    best = found.matches[0]
    assert isinstance(best, DocumentSearchMatch)
    assert best.chunk_content == "Revenue grew ten percent in the last quarter."
    assert (best.file_id, best.collection_ids, best.fields) == (
        "file_report",
        ["reports"],
        {"year": "2025"},
    )
    assert best.page_number == 0
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    assert library.last_request.json == {
        "query": "revenue last quarter",
        "source": {"collection_ids": ["reports"]},
        "limit": 2,
    }


async def test_filter_and_modes_narrow_the_search(library: FakeGrok) -> None:
    """``filter`` tests metadata; ``retrieval_mode`` as a name goes as ``{"type": name}``."""
    async with client_for(library) as client:
        recent = await client.documents.search(
            query="revenue", collection_ids=["reports"], filter='year = "2019"'
        )
        keyword = await client.documents.search(
            query="board", collection_ids=["reports", "pets"], retrieval_mode="keyword"
        )
        semantic = await client.documents.search(
            query="cat", collection_ids=("reports", "pets"), retrieval_mode={"type": "semantic"}
        )
    assert [m.file_id for m in recent] == ["file_old"]
    assert [m.chunk_content for m in keyword] == ["The board met on Tuesday to discuss the cat."]
    assert keyword.matches[0].page_number == 1  # after the form feed
    assert {m.file_id for m in semantic} == {"file_report", "file_cat"}
    sent = [r.json.get("retrieval_mode") for r in library.requests]
    assert sent == [None, {"type": "keyword"}, {"type": "semantic"}]


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        pytest.param({"collection_ids": "reports"}, TypeError, "list of collection ids", id="str"),
        pytest.param({"collection_ids": []}, ValueError, "non-empty", id="empty"),
        pytest.param({"collection_ids": [""]}, ValueError, "non-empty", id="empty-id"),
        pytest.param({"query": None}, TypeError, "query must be a str", id="query"),
        pytest.param({"retrieval_mode": 3}, TypeError, "retrieval_mode", id="mode"),
    ],
)
async def test_bad_arguments_are_refused_before_sending(
    library: FakeGrok, params: dict[str, Any], error: type[Exception], match: str
) -> None:
    async with client_for(library) as client:
        with pytest.raises(error, match=match):
            await client.documents.search(**{"query": "q", "collection_ids": ["reports"], **params})
    assert library.requests == []


async def test_the_server_refusals_raise_their_errors(library: FakeGrok) -> None:
    """An unknown collection is 404; a filter the emulator cannot read is 400 saying so."""
    async with client_for(library, max_retries=0) as client:
        with pytest.raises(NotFoundError, match="nope"):
            await client.documents.search(query="q", collection_ids=["reports", "nope"])
        with pytest.raises(BadRequestError, match="Unsupported filter"):
            await client.documents.search(query="q", collection_ids=["reports"], filter="year>1")
