"""The exception tree. Every error a call can raise is one of these::

    GrokError
    ├── ConfigurationError           a client setting that cannot work (a ValueError, TypeError)
    ├── APIConnectionError           network failure, reset, refused, DNS
    │   └── APITimeoutError          (also a builtin TimeoutError)
    ├── APIResponseValidationError   body not the JSON we expect
    │   └── StructuredOutputError    parse(): the reply does not fit the class
    ├── ResponseFailedError          a streamed Responses-API response failed
    ├── VideoGenerationError         a video job failed or expired
    ├── ToolArgumentsError           run_tools(): the model's arguments do not fit (a ValueError)
    ├── MaxToolRoundsError           run_tools(): still calling tools after max_rounds
    ├── RateLimiterError             a shared (Redis) rate limiter is down (a ConnectionError)
    ├── BatchInputError              batch run: the input file has bad lines (a ValueError)
    └── APIStatusError               .status_code .message .body .headers .request_id
        ├── BadRequestError            400
        ├── AuthenticationError        401, and 400 "Incorrect API key"
        ├── PermissionDeniedError      403
        ├── NotFoundError              404
        ├── ConflictError              409
        ├── UnprocessableEntityError   422
        ├── RateLimitError             429
        │   ├── QuotaExceededError       429: out of credits or over the monthly spending limit
        │   └── RequestTooLargeError     429: one request needs more tokens than a minute holds
        └── InternalServerError        >= 500

Mistakes in what a program passes are told apart by kind, one type each:

* a setting of the client (``AsyncGrok(...)``, ``with_options()``, the ``XAI_*``
  environment variables): :class:`ConfigurationError`, raised when the client is made,
  never at its first request;
* an argument of one call: the builtin ``TypeError`` (wrong type, unknown, missing or
  conflicting arguments) or ``ValueError`` (a value out of range), as Python raises for
  any call.

``status_error()`` is the one place a status code and body become an exception. Every
exception is defined here but ``ResponseFailedError``, which lives with the Responses
stream (``_responses_stream``): it carries a typed ``Response``, whose module imports the
converter, which raises the errors of this module, so naming it here would close a loop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from ._ratelimits import read_rate_limits

if TYPE_CHECKING:
    from .types.chat import ChatCompletion
    from .types.tool_runs import ToolCallResult
    from .types.videos import VideoResult

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "GrokError",
    "InternalServerError",
    "MaxToolRoundsError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RateLimiterError",
    "RequestTooLargeError",
    "StructuredOutputError",
    "ToolArgumentsError",
    "UnprocessableEntityError",
    "VideoGenerationError",
    "status_error",
]


class GrokError(Exception):
    """Base class of every error grok_async raises."""

    #: The ``x-request-id`` of the response involved, when there was one.
    request_id: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        #: A sentence a person can act on (the server's own text for status errors).
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(GrokError, ValueError, TypeError):
    """A setting of the client that cannot work: no API key, a base URL without a host, a
    header HTTP cannot carry, a number out of range, a value of the wrong type.

    Raised when the client (or a :meth:`~grok_async.AsyncGrok.with_options` copy) is made,
    so a mistake shows at start-up rather than at the first request. It is also a
    ``ValueError`` and a ``TypeError``, the types such checks raised before it existed.
    The message names the setting, never its value when that may be the key.
    """


class APIConnectionError(GrokError):
    """The request did not get an HTTP response: refused, reset, DNS failure, TLS error."""

    def __init__(self, message: str = "Connection error.", *, request_id: str | None = None):
        super().__init__(message)
        self.request_id = request_id


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request timed out (connect, read silence or total); also a builtin ``TimeoutError``."""

    def __init__(self, message: str = "Request timed out.", *, request_id: str | None = None):
        super().__init__(message, request_id=request_id)


class APIResponseValidationError(GrokError):
    """The server answered, but not with the JSON this library expects.

    ``body`` holds (the start of) the raw text so the problem can be diagnosed.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.request_id = request_id


class APIStatusError(GrokError):
    """The server answered with a 4xx or 5xx status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
        code: str | int | None = None,
    ) -> None:
        super().__init__(message)
        #: The HTTP status of the response.
        self.status_code = status_code
        #: The decoded error body: JSON when it was JSON, else text (or None if empty).
        self.body = body
        #: The response headers (``retry-after`` and friends).
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        #: A 429 the server's budget headers explain (nothing left): the client's pacer holds
        #: every call of the model back until the budget refills, so a retry needs no wait
        #: of its own.
        self.budget_spent = False
        #: The ``x-request-id`` response header, to quote to xAI support.
        self.request_id = request_id
        #: xAI's ``code`` (a gRPC status sentence) or OpenAI's ``error.code``, when sent.
        self.code = code


class BadRequestError(APIStatusError):
    """400: an invalid argument in the request."""


class AuthenticationError(APIStatusError):
    """401, or xAI's 400 "Incorrect API key provided": the key is missing or wrong."""


class PermissionDeniedError(APIStatusError):
    """403: the key or team may not do this, or is blocked."""


class NotFoundError(APIStatusError):
    """404: unknown model, endpoint, deferred request or response id."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state (retried)."""


class UnprocessableEntityError(APIStatusError):
    """422: a field has an invalid format or a required one is missing."""


class RateLimitError(APIStatusError):
    """429: the team's rate limit is exhausted (retried with backoff; see QuotaExceededError)."""


class QuotaExceededError(RateLimitError):
    """A 429 that says the team is out of credits or over its monthly spending limit.

    Waiting does not heal it, so it is never retried: a batch job should stop here. The
    server's own text is the message.
    """


class RequestTooLargeError(RateLimitError):
    """A 429 for a request that needs more tokens than the team's whole per-minute budget.

    It could never be served, so it is never retried; the message names both numbers.
    ``needed`` and ``limit`` carry them.
    """

    needed: int = 0
    limit: int = 0


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


class InternalServerError(APIStatusError):
    """5xx: the server failed (retried with backoff)."""


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


# -- errors of particular features -----------------------------------------------------------


class StructuredOutputError(APIResponseValidationError):
    """The reply's content is not JSON that fits the requested class.

    Also raised when the reply was cut off by the token limit (``finish_reason "length"``).
    ``content`` holds the whole raw text (``body`` its first 2 KiB, as for every validation
    error), ``completion`` the completion it came in, ``response_format`` the class.
    """

    def __init__(
        self,
        message: str,
        *,
        content: str | None,
        response_format: type[Any],
        completion: ChatCompletion | None = None,
    ) -> None:
        request_id = completion.request_id if completion is not None else None
        super().__init__(
            message,
            body=content[:2048] if content is not None else None,
            request_id=request_id,
        )
        #: The reply's full text, as the model wrote it.
        self.content = content
        #: The completion the reply came in (usage, other choices, ``raw``).
        self.completion = completion
        #: The class the reply was to be parsed into.
        self.response_format = response_format


class ToolArgumentsError(GrokError, ValueError):
    """The model's arguments for a tool are not JSON that fits the tool's parameters.

    ``tool_name`` names the tool, ``arguments`` holds the arguments as the model sent them.
    """

    def __init__(self, message: str, *, tool_name: str, arguments: str | Mapping[str, Any]):
        super().__init__(message)
        self.tool_name = tool_name
        self.arguments = arguments


class MaxToolRoundsError(GrokError):
    """The model still called tools after ``max_rounds`` rounds of :func:`run_tools`.

    ``completion`` is the last reply (with the calls that were not run), ``messages`` the
    conversation so far and ``tool_calls`` every call that was run, so nothing is lost.
    """

    def __init__(
        self,
        message: str,
        *,
        completion: ChatCompletion,
        messages: list[Any],
        tool_calls: list[ToolCallResult],
    ) -> None:
        super().__init__(message)
        self.completion = completion
        self.messages = messages
        self.tool_calls = tool_calls
        self.request_id = completion.request_id


class RateLimiterError(GrokError, ConnectionError):
    """The shared rate limiter cannot be used (its Redis is unreachable or refuses).

    Raised in place of the request that needed the budget: nothing was sent.
    """


class VideoGenerationError(GrokError):
    """A video job ended without a video: it ``failed`` or ``expired``.

    ``job_id`` is the job's id, ``result`` its final state, ``code`` its error's code
    (``invalid_argument``, ``internal_error``, ...) when the server gave one; the message
    has the server's text.
    """

    def __init__(self, job_id: str, result: VideoResult) -> None:
        error = result.error
        detail = f": {error.message} ({error.code})" if error is not None else ""
        super().__init__(f"Video job {job_id!r} {result.status}{detail}.")
        self.job_id = job_id
        self.result = result
        self.code: str | None = error.code if error is not None else None
        self.request_id = result.request_id
