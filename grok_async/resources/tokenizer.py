"""``client.tokenize()``: ``POST /v1/tokenize-text``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._sentinels import NOT_GIVEN, NotGiven
from .._serialization import encode_json
from .._timeout import TimeoutTypes
from ..types.tokenizer import TokenizeResult
from ._decode import decode_object

if TYPE_CHECKING:
    from .._requester import Requester

__all__ = ["tokenize"]


async def tokenize(
    client: Requester,
    *,
    text: str,
    model: str,
    user: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    extra_body: Mapping[str, Any] | None = None,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    max_retries: int | None = None,
) -> TokenizeResult:
    """Split ``text`` into ``model``'s tokens (see :meth:`AsyncGrok.tokenize`)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    body: dict[str, Any] = {"text": text, "model": model}
    if user is not None:
        body["user"] = user
    if extra_body:
        body.update(extra_body)
    return await client.request(
        "POST",
        "/tokenize-text",
        body=encode_json(body),
        extra_headers=extra_headers,
        timeout=timeout,
        max_retries=max_retries,
        decode=lambda reply: decode_object(reply, TokenizeResult),
    )
