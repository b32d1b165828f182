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
    ├── BatchOutputError             batch run: OUTPUT cannot be resumed (a ValueError)
    └── APIStatusError               .status_code .message .body .headers .request_id
        ├── BadRequestError            400
        ├── AuthenticationError        401, and 400 "Incorrect API key"
        ├── PermissionDeniedError      403
        ├── NotFoundError              404
        ├── ConflictError              409
        ├── UnprocessableEntityError   422
        ├── RateLimitError             429
        │   ├── QuotaExceededError       429: out of credits or over the monthly spending limit
        │   ├── BudgetWaitError          the budget would refill later than max_budget_wait
        │   └── RequestTooLargeError     429: one request needs more tokens than a minute holds
        └── InternalServerError        >= 500

Mistakes in what a program passes are told apart by kind, one type each:

* a setting of the client (``AsyncGrok(...)``, ``with_options()``, the ``XAI_*``
  environment variables): :class:`ConfigurationError`, raised when the client is made,
  never at its first request;
* an argument of one call: the builtin ``TypeError`` (wrong type, unknown, missing or
  conflicting arguments) or ``ValueError`` (a value out of range), as Python raises for
  any call.

``status_error()`` (``_status``) is the one place a status code and body become one of
them. Every
exception is defined here but ``ResponseFailedError``, which lives with the Responses
stream (``_responses_stream``): it carries a typed ``Response``, whose module imports the
converter, which raises the errors of this module, so naming it here would close a loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

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
    "BatchInputError",
    "BatchOutputError",
    "BudgetWaitError",
    "ConfigurationError",
    "ConflictError",
    "GrokError",
    "InternalServerError",
    "LineProblem",
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


class BudgetWaitError(RateLimitError):
    """The team's rate-limit budget is spent and would refill later than the client's
    ``max_budget_wait`` allows: the call failed at once, before this attempt was sent,
    instead of waiting. Never retried (a retry would only wait again). Its
    ``status_code`` is 429, the answer the server would have given."""


class RequestTooLargeError(RateLimitError):
    """A 429 for a request that needs more tokens than the team's whole per-minute budget.

    It could never be served, so it is never retried; the message names both numbers.
    ``needed`` and ``limit`` carry them.
    """

    needed: int = 0
    limit: int = 0


class InternalServerError(APIStatusError):
    """5xx: the server failed (retried with backoff)."""


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


@attrs.frozen
class LineProblem:
    """A bad line of a batch input file: its number (from 1) and why it cannot be sent."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class BatchInputError(GrokError, ValueError):
    """The input file has bad lines; nothing was sent. ``problems`` lists the first of
    them, ``count`` says how many there are."""

    def __init__(self, path: str, problems: list[LineProblem], count: int) -> None:
        self.path = path
        self.problems = problems
        self.count = count
        more = f" (and {count - len(problems)} more)" if count > len(problems) else ""
        first = "; ".join(str(problem) for problem in problems[:3])
        super().__init__(f"{path} has {count} bad line(s), nothing was sent: {first}{more}")


class BatchOutputError(GrokError, ValueError):
    """OUTPUT is not a batch output file the runner can resume (a complete line that is not
    an output line); nothing was sent."""
