"""Faults: the ways a real API call goes wrong, scripted or drawn at random.

A ``Fault`` only describes what to do; ``_delivery.py`` carries it out, because only the
response being sent knows where each fault belongs.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import attrs
import orjson

from ._errors import error_body, quota_message

__all__ = ["RANDOM_FAULT_KINDS", "Fault", "FaultDice"]


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen
class Fault:
    """A failure to inject into one chat completion request (streamed or not).

    Build one with a constructor (``Fault.status(503)``, ``Fault.reset()``, ...) and hand it
    to ``FakeGrok.enqueue()`` or return it from a ``replies`` callable. Faults that send part
    of an answer send the default replier's answer.
    """

    kind: str
    status_code: int = 200
    body: bytes | None = None
    content_type: str = "application/json"
    retry_after: float | None = None
    retry_after_ms: float | None = None
    retry_after_date: bool = False
    after_chunks: int = attrs.field(default=0, validator=_non_negative)
    seconds: float = attrs.field(default=0.0, validator=_non_negative)
    message: str = ""
    code: str | int | None = None
    label: str | None = None

    @property
    def name(self) -> str:
        """The key this fault is counted under in ``stats.faults``: its ``label`` if it
        has one, else "503", "reset", ..."""
        if self.label is not None:
            return self.label
        return str(self.status_code) if self.kind == "status" else self.kind

    @classmethod
    def status(
        cls,
        code: int,
        *,
        body: Mapping[str, Any] | str | bytes | None = None,
        retry_after: float | None = None,
        retry_after_ms: float | None = None,
        retry_after_date: bool = False,
        content_type: str = "application/json",
    ) -> Fault:
        """Answer with HTTP *code* before any body is streamed.

        *body* defaults to xAI's flat error body with a message fitting *code*; a mapping is
        sent as JSON, str/bytes as they are (with *content_type*). *retry_after* (seconds)
        becomes a ``Retry-After`` header — as an HTTP date if *retry_after_date* — and
        *retry_after_ms* a ``retry-after-ms`` header.
        """
        if not 100 <= code <= 599:
            raise ValueError(f"HTTP status must be in 100..599, got {code}")
        if retry_after_date and retry_after is None:
            raise ValueError("retry_after_date=True needs retry_after (seconds from now)")
        raw: bytes | None
        if body is None or isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = orjson.dumps(dict(body))
        return cls(
            "status",
            status_code=code,
            body=raw,
            content_type=content_type,
            retry_after=retry_after,
            retry_after_ms=retry_after_ms,
            retry_after_date=retry_after_date,
        )

    @classmethod
    def quota_exceeded(cls) -> Fault:
        """Answer 429 as xAI does once the team's credits or monthly spending limit are used
        up ("Your team ... has either used all available credits ..."), with no
        ``Retry-After``: waiting cannot help. Counted as "quota_exceeded"."""
        return cls(
            "status",
            status_code=429,
            body=error_body(429, quota_message()),
            label="quota_exceeded",
        )

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        """Answer with an HTML error page, as a load balancer in front of the API does."""
        return cls("html", status_code=status, content_type="text/html")

    @classmethod
    def reset(cls) -> Fault:
        """Abort the TCP connection before sending anything (the client sees a reset)."""
        return cls("reset")

    @classmethod
    def reset_mid_stream(cls, after_chunks: int = 2) -> Fault:
        """Abort the connection part-way through the answer.

        Streamed: after *after_chunks* SSE events. Not streamed: after the headers and half
        the body (the client sees a truncated payload).
        """
        return cls("reset_mid_stream", after_chunks=after_chunks)

    @classmethod
    def stall(cls, seconds: float) -> Fault:
        """Wait *seconds* before sending the headers, then answer normally."""
        return cls("stall", seconds=seconds)

    @classmethod
    def stall_mid_stream(cls, after_chunks: int, seconds: float) -> Fault:
        """Go silent for *seconds* part-way through the answer, then finish it.

        Streamed: after *after_chunks* SSE events. Not streamed: after the headers and half
        the body.
        """
        return cls("stall_mid_stream", after_chunks=after_chunks, seconds=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        """Send broken JSON: a truncated 200 body, or (streamed) one ``data:`` event that
        is not valid JSON, after the first chunk."""
        return cls("malformed", after_chunks=1)

    @classmethod
    def error_event(
        cls,
        message: str = "The model server failed while generating the response.",
        after_chunks: int = 1,
        *,
        code: str | int | None = "internal_error",
    ) -> Fault:
        """Fail after the stream started: *after_chunks* chunks, then the event
        ``data: {"error": {"message": ..., "type": "server_error", "code": ...}}`` and the
        end of the body (no ``[DONE]``). Not streamed: a 500 with that nested error body.
        """
        return cls("error_event", after_chunks=after_chunks, message=message, code=code)

    @classmethod
    def no_done(cls) -> Fault:
        """End the stream without ``data: [DONE]`` (a non-streamed answer is unaffected)."""
        return cls("no_done")


# Random fault kinds accepted in ``fault_rates``.
RANDOM_FAULT_KINDS = (
    "reset",
    "reset_mid_stream",
    "429",
    "500",
    "502",
    "503",
    "504",
    "html",
    "stall",
    "malformed",
    "error_event",
    "no_done",
)


class FaultDice:
    """Draw at most one random fault per request, reproducibly (a seeded RNG).

    ``rates`` maps a kind of ``RANDOM_FAULT_KINDS`` to its probability; the probabilities
    must add up to at most 1.
    """

    def __init__(
        self,
        rates: Mapping[str, float],
        *,
        seed: int = 0,
        stall_seconds: float = 2.0,
        retry_after: float = 0.05,
    ) -> None:
        unknown = sorted(set(rates) - set(RANDOM_FAULT_KINDS))
        if unknown:
            raise ValueError(
                f"unknown fault kinds {unknown}; expected some of {list(RANDOM_FAULT_KINDS)}"
            )
        if any(rate < 0 for rate in rates.values()) or sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError("fault rates must be >= 0 and add up to at most 1")
        self._rng = random.Random(seed)
        self._table: list[tuple[float, Fault]] = []
        cumulative = 0.0
        for kind, rate in rates.items():
            if rate > 0:
                cumulative += rate
                self._table.append((cumulative, _random_fault(kind, stall_seconds, retry_after)))

    def roll(self) -> Fault | None:
        """The fault for the next request, or None (most of the time)."""
        draw = self._rng.random()
        for threshold, fault in self._table:
            if draw < threshold:
                return fault
        return None


def _random_fault(kind: str, stall_seconds: float, retry_after: float) -> Fault:
    if kind in ("429", "503"):
        # Both headers: a client that reads only Retry-After still sees a valid value,
        # one that prefers retry-after-ms (as OpenAI's does) retries quickly.
        return Fault.status(
            int(kind), retry_after=max(1, round(retry_after)), retry_after_ms=retry_after * 1000
        )
    if kind.isdigit():
        return Fault.status(int(kind))
    makers = {
        "reset": Fault.reset,
        "reset_mid_stream": Fault.reset_mid_stream,
        "html": Fault.html,
        "malformed": Fault.malformed,
        "error_event": Fault.error_event,
        "no_done": Fault.no_done,
    }
    if kind == "stall":
        return Fault.stall(stall_seconds)
    return makers[kind]()
