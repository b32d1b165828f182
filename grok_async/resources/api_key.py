"""``client.api_key_info()``: ``GET /v1/api-key``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutTypes
from ..types.api_key import APIKeyInfo
from ._decode import decode_object

if TYPE_CHECKING:
    from .._requester import Requester

__all__ = ["api_key_info"]


async def api_key_info(
    client: Requester,
    *,
    extra_headers: Mapping[str, str] | None = None,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    max_retries: int | None = None,
) -> APIKeyInfo:
    """Describe the key the client uses (see :meth:`AsyncGrok.api_key_info`)."""
    return await client.request(
        "GET",
        "/api-key",
        extra_headers=extra_headers,
        timeout=timeout,
        max_retries=max_retries,
        decode=lambda reply: decode_object(reply, APIKeyInfo),
    )
