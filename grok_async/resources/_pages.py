"""Lists the server hands out a page at a time (files, batches, batch results), read as one
async iterator: the next page is asked for only when the caller has taken the last one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from .._errors import APIResponseValidationError
from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutTypes
from ._decode import json_of

if TYPE_CHECKING:
    from .._requester import Requester
    from .._response import HTTPResponse

__all__ = ["check_limit", "iterate_pages"]

T = TypeVar("T")


def check_limit(limit: object) -> int:
    """``limit`` if it is an int >= 1; ValueError naming it otherwise."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be an int >= 1, got {limit!r}")
    return limit


def _page(reply: HTTPResponse, keys: tuple[str, ...]) -> tuple[list[Any], str | None]:
    data = json_of(reply)
    items: Any = None
    if isinstance(data, Mapping):
        key = next((key for key in keys if key in data), None)
        if key is not None:
            items = data[key]
            if items is None:
                items = []  # an empty list sent as null
    if not isinstance(items, list):
        names = " or ".join(repr(key) for key in keys)
        raise APIResponseValidationError(
            f"The page has no {names} list.",
            status_code=reply.status,
            body=reply.body[:2048].decode("utf-8", "replace"),
            request_id=reply.request_id,
        )
    token = data.get("pagination_token")
    return items, token if isinstance(token, str) and token else None


async def iterate_pages(
    client: Requester,
    path: str,
    query: Mapping[str, Any],
    *,
    key: str | tuple[str, ...],
    convert: Callable[[Any], T],
    limit: int,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
) -> AsyncIterator[T]:
    """Each item under ``key`` of every page of ``GET path``, converted (given several
    keys, the page's list is under the first it has).

    The list ends with a page shorter than ``limit`` or one without a
    ``pagination_token`` (SPEC.md §10/§11 state both ends).
    """
    keys = (key,) if isinstance(key, str) else key
    token: str | None = None
    while True:
        params = {**query, "limit": limit}
        if token:
            params["pagination_token"] = token
        items, token = await client.request(
            "GET",
            f"{path}?{urlencode(params)}",
            timeout=timeout,
            decode=lambda reply: _page(reply, keys),
        )
        for item in items:
            yield convert(item)
        if len(items) < limit or not token:
            return
