"""What the server says about its budgets and its own timings, read from response headers.

Every api.x.ai response carries the team's per-minute budgets for the model
(``X-Ratelimit-Limit/Remaining-Requests/Tokens``), and model responses carry the server's
timings (``X-Metrics-Ttft-Ms``, ``-Mean-Itl-Ms``, ``-E2e-Ms``; SPEC §9). This module only
reads them; it holds no state and imports nothing of the client, so the transport side and
the observers can both use it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import attrs

__all__ = ["RateLimits", "read_rate_limits", "server_metrics"]

_LIMIT_REQUESTS = "x-ratelimit-limit-requests"
_REMAINING_REQUESTS = "x-ratelimit-remaining-requests"
_LIMIT_TOKENS = "x-ratelimit-limit-tokens"
_REMAINING_TOKENS = "x-ratelimit-remaining-tokens"


@attrs.frozen
class RateLimits:
    """The team's per-minute budgets for a model, as the last response reported them.

    ``client.rate_limits()`` returns the latest one (``None`` before any response carried
    the headers). A budget the server did not report is ``None``.
    """

    #: Requests per minute the team may send to the model.
    requests_limit: int | None = None
    #: Requests left in the budget when the response was sent.
    requests_remaining: int | None = None
    #: Tokens per minute (prompt, completion and reasoning together).
    tokens_limit: int | None = None
    #: Tokens left in the budget when the response was sent.
    tokens_remaining: int | None = None
    #: ``time.monotonic()`` when the response carrying these numbers arrived.
    updated: float = 0.0
    #: The model the response was for, when the call named one.
    model: str | None = None


def _number(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        # Liberal: a float ("599.0") or a negative value from a proxy is still a reading.
        return max(0, int(float(value)))
    except (ValueError, OverflowError):
        return None


def read_rate_limits(headers: Mapping[str, str], model: str | None = None) -> RateLimits | None:
    """The budgets a response reports, or ``None`` when it carries none of the headers."""
    if _REMAINING_REQUESTS not in headers and _REMAINING_TOKENS not in headers:
        return None
    return RateLimits(
        requests_limit=_number(headers, _LIMIT_REQUESTS),
        requests_remaining=_number(headers, _REMAINING_REQUESTS),
        tokens_limit=_number(headers, _LIMIT_TOKENS),
        tokens_remaining=_number(headers, _REMAINING_TOKENS),
        updated=time.monotonic(),
        model=model,
    )


def _seconds(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        millis = float(value)
    except ValueError:
        return None
    # NaN, infinities and negative values are not timings.
    return millis / 1000.0 if 0.0 <= millis < float("inf") else None


def server_metrics(headers: Mapping[str, str]) -> tuple[float | None, float | None, float | None]:
    """The server's time to first token, mean inter-token latency and end-to-end time, in
    seconds (``None`` where a header is missing or not a number)."""
    return (
        _seconds(headers, "x-metrics-ttft-ms"),
        _seconds(headers, "x-metrics-mean-itl-ms"),
        _seconds(headers, "x-metrics-e2e-ms"),
    )
