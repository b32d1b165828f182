"""Tickets: what the gate (``_admission.py``) and the handlers tell each other about one
model request, carried on the request itself.

The gate issues the ticket at admission; a handler notes the answer it gives
(``note_answer``) and, when it streams, the pacing (``note_stream``); the gate then charges
the answer's tokens and writes the response's headers from the ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

__all__ = ["TICKET", "Ticket", "completion_tokens", "note_answer", "note_stream"]


class Ticket:
    """What the gate knows about one model request while it is answered."""

    __slots__ = (
        "answered",
        "arrival",
        "completion",
        "model",
        "owed",
        "prompt",
        "remaining",
        "stream",
    )

    def __init__(self, model: str, prompt: int, arrival: float) -> None:
        self.model = model
        self.prompt = prompt
        #: ``time.monotonic()`` at admission.
        self.arrival = arrival
        #: (requests, tokens) left after this request's spending; None: nothing spent.
        self.remaining: tuple[int, int] | None = None
        #: A handler produced an answer (the timing headers describe it).
        self.answered = False
        self.completion = 0
        #: Completion tokens still to charge.
        self.owed = 0
        #: (seconds between events, number of events) of a streamed answer.
        self.stream: tuple[float, int] | None = None


TICKET = web.RequestKey("grok_async.testing.ticket", Ticket)


def completion_tokens(usage: Mapping[str, Any] | None) -> int:
    """The tokens an answer generated, reasoning included, from its chat ``usage``."""
    if not isinstance(usage, dict):
        return 0
    total = usage.get("completion_tokens")
    if not isinstance(total, int):
        total = 0
    details = usage.get("completion_tokens_details")
    if isinstance(details, dict):
        reasoning = details.get("reasoning_tokens")
        if isinstance(reasoning, int):
            total += reasoning
    return total


def note_answer(request: web.Request, usage: Mapping[str, Any] | None, *, charged: bool) -> None:
    """Tell the gate that *request* is answered with this ``usage``; *charged*: its
    completion tokens count (a fault's partial answer costs only what admission took)."""
    ticket = request.get(TICKET)
    if ticket is not None:
        ticket.answered = True
        ticket.completion = completion_tokens(usage)
        ticket.owed = ticket.completion if charged else 0


def note_stream(request: web.Request, interval: float, events: int) -> None:
    """Tell the gate that *request*'s answer is *events* SSE events, *interval* apart."""
    ticket = request.get(TICKET)
    if ticket is not None:
        ticket.stream = (interval, events)
