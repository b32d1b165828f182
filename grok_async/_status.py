"""How a non-2xx response becomes its exception: ``status_error()``, the one place a status
code and body are read into a class of the tree in ``_errors`` (xAI's 400 for a wrong key,
its 429 texts for spent credits and for one request larger than a minute's tokens).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from ._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestTooLargeError,
    UnprocessableEntityError,
)
from ._ratelimits import read_rate_limits

__all__ = ["decode_error_body", "is_quota_message", "status_error"]


# "... Tokens per Minute (actual/limit): 65605/16000" (SPEC §9).
_TOKENS_ACTUAL_LIMIT = re.compile(r"tokens per minute \(actual/limit\):\s*(\d+)\s*/\s*(\d+)", re.I)


def _tokens_needed(message: str, headers: Mapping[str, str]) -> tuple[int, int] | None:
    """For a "too many tokens" 429 that one request alone overflows: (its tokens, limit).

    The text's ``actual`` is what the team used plus this request; the response's own
    budget headers say what was used (limit - remaining), so the difference is the request.
    """
    found = _TOKENS_ACTUAL_LIMIT.search(message)
    if found is None:
        return None
    actual, limit = int(found[1]), int(found[2])
    state = read_rate_limits(headers)
    if state is None or state.tokens_remaining is None:
        return None  # without the headers one request cannot be told from a full budget
    needed = actual - max(0, limit - state.tokens_remaining)
    return (needed, limit) if needed > limit else None


# xAI answers an exhausted balance or spending limit with 429 too; only its text tells.
_QUOTA_WORDS = ("out of credits", "insufficient credits", "spending limit", "available credits")


def is_quota_message(message: str) -> bool:
    """Whether a 429's text says the team's credits or spending limit are used up."""
    lowered = message.lower()
    return any(words in lowered for words in _QUOTA_WORDS)


_CLASS_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _error_class(status: int, message: str) -> type[APIStatusError]:
    # xAI answers a *wrong* key with 400, not 401; users catch AuthenticationError for both.
    if status == 400 and "api key" in message.lower():
        return AuthenticationError
    if status >= 500:
        return InternalServerError
    if status == 429 and is_quota_message(message):
        return QuotaExceededError
    return _CLASS_BY_STATUS.get(status, APIStatusError)


def _message_from_body(body: Any) -> tuple[str | None, str | int | None]:
    """Find the human message (and code) in xAI's flat or OpenAI's nested error body."""
    if not isinstance(body, dict):
        return (body.strip() or None, None) if isinstance(body, str) else (None, None)
    error = body.get("error")
    code = body.get("code")
    if isinstance(error, str):
        return error, code if isinstance(code, (str, int)) else None
    if isinstance(error, dict):
        nested = error.get("message")
        nested_code = error.get("code", error.get("type"))
        return (
            nested if isinstance(nested, str) else None,
            nested_code if isinstance(nested_code, (str, int)) else None,
        )
    message = body.get("message")
    return (message if isinstance(message, str) else None), None


def decode_error_body(raw: bytes) -> Any:
    """The error body as JSON when it is JSON, else as (truncated) text; never raises."""
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")


def status_error(
    status: int,
    reason: str | None,
    raw_body: bytes,
    headers: Mapping[str, str],
    request_id: str | None,
) -> APIStatusError:
    """Build the exception for a non-2xx response."""
    body = decode_error_body(raw_body)
    text, code = _message_from_body(body)
    status_line = f"{status} {reason}" if reason else str(status)
    # An HTML error page (a proxy's 502) is noise in a message; the status line says it all.
    if text is None or text.lstrip().startswith("<"):
        message = f"HTTP {status_line}"
    else:
        message = f"HTTP {status_line}: {text}"
    if request_id:
        message += f" (request id {request_id})"
    cls = _error_class(status, text or "")
    too_large = _tokens_needed(text or "", headers) if cls is RateLimitError else None
    if too_large is not None:
        cls = RequestTooLargeError
        message += (
            f". This request needs about {too_large[0]:,} tokens but the team's limit is "
            f"{too_large[1]:,} tokens per minute, so it can never be served: shorten the "
            "prompt, lower max_tokens, or raise the limit."
        )
    error = cls(
        message, status_code=status, body=body, headers=headers, request_id=request_id, code=code
    )
    if isinstance(error, RequestTooLargeError) and too_large is not None:
        error.needed, error.limit = too_large
    return error
