"""What the emulator remembers: each request it received and running counters."""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

__all__ = ["RecordedRequest", "Stats"]


@attrs.frozen
class RecordedRequest:
    """One HTTP request as the emulator received it.

    ``headers`` has lower-cased names; the ``authorization`` value is masked
    (``Bearer xa***yz``) so recordings can be printed or logged without leaking a key.
    ``json`` is the parsed body (None when there was no body or it was not JSON) and
    ``body`` the raw bytes. ``time`` is ``time.monotonic()`` at arrival.
    """

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    time: float
    query: dict[str, str] = attrs.field(factory=dict)
    body: bytes = b""


@attrs.define
class Stats:
    """Counters of everything the emulator did since it started (or since ``reset()``).

    ``responses_by_status`` counts responses whose headers were sent (a ``Fault.reset()``
    sends none). ``faults`` counts injected faults by name ("reset", "429", "stall",
    ...), and also requests refused by ``requests_per_second`` ("rate_limited"),
    ``max_in_flight`` ("over_max_in_flight"), ``requests_per_minute``
    ("requests_limited"), ``tokens_per_minute`` ("tokens_limited") or an exhausted quota
    ("quota_exceeded", also ``Fault.quota_exceeded()``).
    """

    requests: int = 0
    responses_by_status: Counter[int] = attrs.field(factory=Counter)
    faults: Counter[str] = attrs.field(factory=Counter)
    in_flight: int = 0
    max_in_flight_seen: int = 0
    connections_opened: int = 0

    def clear(self) -> None:
        """Zero every counter except ``in_flight``, which tracks requests still running."""
        self.requests = 0
        self.responses_by_status.clear()
        self.faults.clear()
        self.max_in_flight_seen = self.in_flight
        self.connections_opened = 0
