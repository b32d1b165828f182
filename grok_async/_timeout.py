"""``Timeout``: connect, read-silence and total limits of one request."""

from __future__ import annotations

import math

from attrs import frozen

from ._constants import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT

__all__ = ["Timeout", "TimeoutTypes", "as_timeout", "positive_seconds"]


@frozen
class Timeout:
    """Limits of one request, in seconds (``None`` = no limit).

    * ``connect``: establishing the TCP/TLS connection.
    * ``read``: the longest silence: from sending the request to its response headers
      (connecting and sending the body included), and between two reads of the body. A
      stalled stream fails after ``read`` seconds however long the stream runs; the
      default is long because reasoning models can think for minutes before a
      non-streamed reply. Checked every ``read / 8`` seconds: it fires up to ``read / 4``
      late, never early.
    * ``total``: the whole request, body included (per attempt).

    A plain float given where a timeout is expected means ``total`` for non-streamed calls
    and ``read`` for streams.
    """

    connect: float | None = DEFAULT_CONNECT_TIMEOUT
    read: float | None = DEFAULT_READ_TIMEOUT
    total: float | None = None


TimeoutTypes = float | int | Timeout | None


def positive_seconds(value: object) -> bool:
    """Whether ``value`` is a finite number of seconds > 0 (a bool is not a number here)."""
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and value > 0
    )


def as_timeout(value: TimeoutTypes, *, stream: bool) -> Timeout:
    """Normalise a user-given timeout (see :class:`Timeout` for what a float means)."""
    if value is None:
        return Timeout(connect=None, read=None, total=None)
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"timeout must be a number, a grok_async.Timeout or None, not {value!r}")
    seconds = float(value)
    if stream:
        return Timeout(connect=min(seconds, DEFAULT_CONNECT_TIMEOUT), read=seconds, total=None)
    return Timeout(connect=min(seconds, DEFAULT_CONNECT_TIMEOUT), read=None, total=seconds)
