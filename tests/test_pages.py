"""Paged lists read liberally: the list under any of the keys a server may use, null as
empty, and a clear error naming the keys when the page has none."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aioresponses import aioresponses

from grok_async import APIResponseValidationError, AsyncGrok

from .conftest import FAKE_KEY

BATCHES = re.compile(r"^https://api\.x\.ai/v1/batches\?.*$")


def batch(name: str) -> dict[str, Any]:
    return {"batch_id": f"b-{name}", "name": name, "state": {"num_requests": 0}}


@pytest.mark.parametrize("key", ["batches", "data"])
async def test_the_batch_list_is_read_under_xais_or_openais_key(
    mock_api: aioresponses, key: str
) -> None:
    """GET /v1/batches is documented but unrecorded (SPEC §11): whichever of the two keys
    the page uses, every batch of every page is read."""
    mock_api.get(BATCHES, payload={key: [batch("a"), batch("b")], "pagination_token": "next"})
    mock_api.get(BATCHES, payload={key: [batch("c")], "pagination_token": None})
    async with AsyncGrok(FAKE_KEY, max_retries=0) as client:
        names = [b.name async for b in client.batches.list(limit=2)]
    assert names == ["a", "b", "c"]


async def test_a_null_list_is_an_empty_page(mock_api: aioresponses) -> None:
    mock_api.get(BATCHES, payload={"batches": None, "pagination_token": None})
    async with AsyncGrok(FAKE_KEY, max_retries=0) as client:
        assert [b async for b in client.batches.list()] == []


async def test_a_page_without_the_list_names_the_keys_it_looked_for(
    mock_api: aioresponses,
) -> None:
    mock_api.get(BATCHES, payload={"items": []}, headers={"x-request-id": "req-7"})
    async with AsyncGrok(FAKE_KEY, max_retries=0) as client:
        with pytest.raises(APIResponseValidationError) as info:
            [b async for b in client.batches.list()]
    assert "'batches' or 'data'" in str(info.value)
    assert info.value.request_id == "req-7"
