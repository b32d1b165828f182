"""The only module that touches tenacity: what is retried, and how long to wait.

Policy: connection errors, timeouts, 408, 409, 429 and 5xx are retried; other 4xx,
cancellation and anything raised after a stream delivered data are not. The wait honours
``retry-after-ms`` and ``Retry-After`` (seconds or an HTTP date) up to ``MAX_RETRY_AFTER``;
otherwise it is exponential backoff from ``INITIAL_RETRY_DELAY`` to ``MAX_RETRY_DELAY``
with "equal" jitter (between half the ceiling and the ceiling): many clients retrying
together spread out instead of stampeding, and none comes back at once (full jitter's
zero-length waits would hit a struggling server again immediately).

The success path never enters tenacity (it is not even imported until a first attempt
fails): :func:`retry_after_failure` is called only then, which keeps the common case as
cheap as a bare request.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import tenacity as _t

from ._backoff import jittered, step
from ._constants import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    SPENT_BUDGET_RETRIES,
)
from ._errors import (
    APIConnectionError,
    APIStatusError,
    BudgetWaitError,
    GrokError,
    QuotaExceededError,
    RequestTooLargeError,
)
from ._status import is_quota_message

__all__ = [
    "backoff_delay",
    "is_rate_limit",
    "is_retryable",
    "retry_after_failure",
    "retry_after_header",
]

T = TypeVar("T")

logger = logging.getLogger("grok_async")

_RETRYABLE_STATUS = frozenset({408, 409, 429})


def _never_heals(exc: APIStatusError) -> bool:
    # Waiting heals neither an exhausted balance nor a request larger than the whole budget:
    # not retried, and a fan-out does not pace on them (a 429 built elsewhere than
    # status_error, e.g. from a stream's error event, is checked by its text).
    never = (QuotaExceededError, RequestTooLargeError, BudgetWaitError)
    return isinstance(exc, never) or is_quota_message(exc.message)


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed attempt may be repeated."""
    if isinstance(exc, APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, APIStatusError):
        if exc.status_code == 429:
            return not _never_heals(exc)
        return exc.status_code in _RETRYABLE_STATUS or exc.status_code >= 500
    return False


def is_rate_limit(exc: BaseException | None) -> bool:
    """A 429, or a 503 that says when to come back: the server is pacing us, not failing."""
    if not isinstance(exc, APIStatusError):
        return False
    if exc.status_code == 429:
        return not _never_heals(exc)
    return exc.status_code == 503 and retry_after_header(exc.headers) is not None


def retry_after_header(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, capped at ``MAX_RETRY_AFTER``; None if unsaid."""
    wait: float | None = None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            wait = float(millis) / 1000.0
        except ValueError:
            wait = None
    if wait is None:
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            wait = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            wait = when.timestamp() - (time.time() if now is None else now)
    if wait != wait or wait < 0:  # NaN or in the past: retry now
        return 0.0
    return min(wait, MAX_RETRY_AFTER)


def backoff_delay(retry_number: int) -> float:
    """Exponential backoff with equal jitter for the n-th retry (1-based): steps doubling
    from ``INITIAL_RETRY_DELAY`` up to ``MAX_RETRY_DELAY`` (see ``_backoff``)."""
    return jittered(step(INITIAL_RETRY_DELAY, 2.0, MAX_RETRY_DELAY, retry_number))


#: While tests switch waits off (``grok_async.testing.instant_retries``): the list each
#: wait that would have been taken is appended to; ``None`` otherwise.
instant: list[float] | None = None


def wait_for(exc: BaseException | None, retry_number: int) -> float:
    """How long to wait before the n-th retry after ``exc`` (0 while waits are off)."""
    wait = _wait_for(exc, retry_number)
    if instant is not None:
        instant.append(wait)
        return 0.0
    return wait


def _wait_for(exc: BaseException | None, retry_number: int) -> float:
    if isinstance(exc, APIStatusError):
        asked = retry_after_header(exc.headers)
        if asked is not None:
            return asked
        if exc.budget_spent:
            return 0.0  # the pacer holds the retry back until the budget refills
    return backoff_delay(retry_number)


def _wait(state: _t.RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome is not None else None
    return wait_for(exc, state.attempt_number)


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, APIStatusError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__ if exc is not None else "an error"


def _log_retry(
    label: str, on_retry: Callable[[BaseException, float], Awaitable[None]] | None
) -> Callable[[_t.RetryCallState], Awaitable[None]]:
    async def log(state: _t.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        # Never the key or message contents: the status, the numbers and the request id.
        logger.info(
            "%s failed with %s (attempt %d, request id %s); retrying in %.2f s",
            label,
            _describe(exc),
            state.attempt_number,
            getattr(exc, "request_id", None),
            wait,
        )
        if on_retry is not None and exc is not None:
            await on_retry(exc, wait)

    return log


def _stop(max_retries: int, rate_limit_retries: int) -> Callable[[_t.RetryCallState], bool]:
    """Stop after ``max_retries`` failures, not counting up to ``rate_limit_retries`` rate
    limits: under fan-out a 429 means "wait your turn", and the shared limiter makes turns
    come; spending a request's retry budget on them would give up too early."""
    failures = 0
    paced = 0
    spent = 0

    def stop(state: _t.RetryCallState) -> bool:
        nonlocal failures, paced, spent
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, APIStatusError) and exc.budget_spent and spent < SPENT_BUDGET_RETRIES:
            # The client's pacer holds the request until the budget refills; only a server
            # that never refills (a limit of zero) runs this out.
            spent += 1
            return False
        if paced < rate_limit_retries and is_rate_limit(exc):
            paced += 1
            return False
        failures += 1
        return failures > max_retries

    return stop


async def retry_after_failure(
    attempt: Callable[[], Awaitable[T]],
    first_error: GrokError,
    *,
    max_retries: int,
    label: str,
    rate_limit_retries: int = 0,
    on_retry: Callable[[BaseException, float], Awaitable[None]] | None = None,
) -> T:
    """Retry ``attempt`` after its first call failed with ``first_error``.

    Up to ``max_retries`` more attempts are made (plus up to ``rate_limit_retries`` that
    answered a rate limit); the last error is re-raised as it is (never a
    ``tenacity.RetryError``). ``on_retry(error, wait)`` is awaited before each wait.
    """
    # Imported on the first failure only: most processes never retry, and tenacity is a
    # tenth of the import time.
    import tenacity as _t

    pending: list[GrokError] = [first_error]

    async def replay_then_attempt() -> T:
        # Tenacity's first "attempt" re-raises the failure we already had, so every wait,
        # log line and attempt number below comes from one place.
        if pending:
            raise pending.pop()
        return await attempt()

    retrying = _t.AsyncRetrying(
        stop=_stop(max_retries, rate_limit_retries),
        wait=_wait,
        retry=_t.retry_if_exception(is_retryable),
        before_sleep=_log_retry(label, on_retry),
        reraise=True,
    )
    return await retrying(replay_then_attempt)
