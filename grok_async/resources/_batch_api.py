"""The wire side of xAI's Batch API: requests in the shape ``add`` sends, chunked within
the API's limits, and results decoded from theirs (SPEC.md §11)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from .._batch_input import BatchInputError, LineProblem, check_body
from .._request_shapes import reshape_chat_body
from .._serialization import decode_model
from ..types.batches import BatchRequestError, BatchResult
from ..types.chat import ChatCompletion

__all__ = ["AddWindow", "MAX_ADD_BYTES", "add_chunks", "decode_result"]

#: At most this many bytes per ``add`` call (xAI: 25 MB; a margin for the envelope).
MAX_ADD_BYTES = 24 * 1024 * 1024
#: At most this many ``add`` calls ...
ADD_CALLS = 100
#: ... in this many seconds (xAI's limit, per team).
ADD_WINDOW = 30.0

_CHAT = "/v1/chat/completions"


def _wire_request(item: Mapping[str, Any], index: int) -> bytes:
    """One request as ``add`` sends it; ValueError naming the item when it is not valid."""
    custom_id = item.get("custom_id") if isinstance(item, Mapping) else None
    if not isinstance(custom_id, str) or not custom_id:
        raise ValueError(f"request {index}: custom_id must be a non-empty string")
    url = item.get("url", _CHAT)
    if url != _CHAT:
        raise ValueError(
            f"request {index} ({custom_id}): xAI's Batch API takes chat completions "
            f"({_CHAT}) only, not {url!r}"
        )
    reason = check_body(_CHAT, item.get("body"))
    if reason is not None:
        raise BatchInputError("requests", [LineProblem(index, reason)], 1)
    body = dict(item["body"])
    reshape_chat_body(body)  # as create() would send it (a stop string as a list, ...)
    return orjson.dumps(
        {"batch_request_id": custom_id, "batch_request": {"chat_get_completion": body}}
    )


def add_chunks(
    requests: Iterable[Mapping[str, Any]], max_bytes: int = MAX_ADD_BYTES
) -> Iterator[bytes]:
    """The bodies of the ``add`` calls for ``requests``: each at most ``max_bytes``, the
    requests read lazily (one chunk in memory at a time).

    Raises:
        ValueError: an item that is not a chat request with a custom_id, or one request
            larger than ``max_bytes`` on its own.
    """
    head, tail = b'{"batch_requests":[', b"]}"
    parts: list[bytes] = []
    size = len(head) + len(tail)
    for index, item in enumerate(requests, 1):
        encoded = _wire_request(item, index)
        if len(head) + len(encoded) + len(tail) > max_bytes:
            raise ValueError(f"request {index} alone is over the {max_bytes:,}-byte add limit")
        if parts and size + len(encoded) + 1 > max_bytes:
            yield head + b",".join(parts) + tail
            parts, size = [], len(head) + len(tail)
        parts.append(encoded)
        size += len(encoded) + 1
    if parts:
        yield head + b",".join(parts) + tail


class AddWindow:
    """Holds calls back to at most ``calls`` per ``window`` seconds (by default ``add``'s
    limit: :data:`ADD_CALLS` per :data:`ADD_WINDOW` seconds)."""

    def __init__(self, calls: int = ADD_CALLS, window: float = ADD_WINDOW) -> None:
        self._calls = calls
        self._window = window
        self._sent: deque[float] = deque()

    async def wait(self) -> None:
        """Wait until one more call fits the window, and count it."""
        now = time.monotonic()
        while self._sent and now - self._sent[0] >= self._window:
            self._sent.popleft()
        if len(self._sent) >= self._calls:
            await asyncio.sleep(self._window - (now - self._sent[0]))
            self._sent.popleft()
        self._sent.append(time.monotonic())


def decode_result(item: Any) -> BatchResult:
    """One item of ``GET /batches/{id}/results`` as a :class:`BatchResult`."""
    if not isinstance(item, Mapping):
        item = {}
    custom_id = str(item.get("batch_request_id", ""))
    outcome = item.get("batch_result")
    outcome = outcome if isinstance(outcome, Mapping) else {}
    error = outcome.get("error", item.get("error"))
    if isinstance(error, Mapping):
        return BatchResult(custom_id, error=decode_model(error, BatchRequestError))
    response = outcome.get("response")
    completion = response.get("chat_get_completion") if isinstance(response, Mapping) else None
    if not isinstance(completion, Mapping):
        message = "the result has neither a chat completion nor an error"
        return BatchResult(custom_id, error=BatchRequestError("invalid_result", message))
    return BatchResult(custom_id, response=decode_model(completion, ChatCompletion))
