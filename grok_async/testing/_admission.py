"""Admission: who gets in, and what each model request is told about its team's budgets.

``Gate.refusal`` runs on every request before its handler: the API key, the quota, the
``requests_per_second`` bucket, ``max_in_flight``, then xAI's per-minute budgets of the
model (``requests_per_minute``, ``tokens_per_minute``; see ``_budgets.py``).

A *model request* is one whose JSON body names a ``model`` (chat, Responses, images,
tokenize-text), or an image request, whose model defaults to the default image model:
only those spend budgets and carry the ``X-Ratelimit-*`` headers. Its
``Ticket`` (``_tickets.py``) rides on the request: handlers note the answer they give,
``Gate.release`` charges the answer's tokens once known, and ``Gate.stamp`` (the
response-prepare hook) writes the headers.
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from ._budgets import DEFAULT_REQUESTS_PER_MINUTE, DEFAULT_TOKENS_PER_MINUTE, Budgets, TokenBucket
from ._catalog import Catalog
from ._errors import error_response, mask_key, over_budget_message, quota_message
from ._images import DEFAULT_IMAGE_MODEL, IMAGE_ENDPOINTS, IMAGE_PATH
from ._options import Options
from ._records import Stats
from ._replies import message_text
from ._tickets import TICKET, Ticket
from ._tokens import count_tokens
from ._videos import VIDEO_PATH

__all__ = ["Gate", "bearer_token", "prompt_tokens"]

# A client refused by max_in_flight should come back soon: slots free up in milliseconds.
_IN_FLIGHT_RETRY_MS = 20
# Benchmarks send the same body over and over: remember what the last bodies asked for,
# up to this many, each no larger than this.
_CACHE_SIZE = 1024
_CACHEABLE_BYTES = 64 * 1024
# Not JSON, or not an object: no model, and no prompt either (-1 marks it apart).
_NOT_A_MODEL_REQUEST = ("", -1)


def bearer_token(request: web.BaseRequest) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def prompt_tokens(body: Mapping[str, Any]) -> int:
    """A rough count of a request's prompt: the text of its chat ``messages``, or of its
    Responses ``input`` and ``instructions``, or an image ``prompt``."""
    total = 0
    messages = body.get("messages")
    if isinstance(messages, list):
        total += sum(count_tokens(message_text(message)) for message in messages)
    items = body.get("input")
    if isinstance(items, str):
        total += count_tokens(items)
    elif isinstance(items, list):
        for item in items:
            total += count_tokens(message_text(item))
            output = item.get("output") if isinstance(item, Mapping) else None
            if isinstance(output, str):
                total += count_tokens(output)
    for key in ("instructions", "prompt"):
        text = body.get(key)
        if isinstance(text, str):
            total += count_tokens(text)
    return total


class Gate:
    """The admission rules of one emulator, and the budgets they spend."""

    def __init__(self, options: Options, catalog: Catalog, stats: Stats) -> None:
        self.quota_exhausted = options.quota_exhausted
        self.minute = 60.0 * options.time_scale
        self._options = options
        self._catalog = catalog
        self._stats = stats
        self._bucket = (
            TokenBucket(
                options.requests_per_second,
                options.burst or max(1.0, options.requests_per_second),
                time.monotonic(),
            )
            if options.requests_per_second
            else None
        )
        # The team's limits now (set_limits changes them on a running emulator).
        self.requests_per_minute = options.requests_per_minute
        self.tokens_per_minute = options.tokens_per_minute
        self._limits = _header_limits(self.requests_per_minute, self.tokens_per_minute)
        self._bodies: dict[bytes, tuple[str, int]] = {}
        default = catalog.resolve(DEFAULT_IMAGE_MODEL)
        self._default_image_model = default.id if default is not None else DEFAULT_IMAGE_MODEL
        self._budgets = self._fresh_budgets(time.monotonic())

    def start(self, now: float) -> None:
        """Begin the budgets afresh, their minutes counted from *now*."""
        self._budgets = self._fresh_budgets(now)

    def set_limits(
        self, requests_per_minute: float | None, tokens_per_minute: float | None
    ) -> None:
        """The team's per-minute limits from now on (each model keeps what it has left,
        up to the new limit)."""
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self._limits = _header_limits(requests_per_minute, tokens_per_minute)
        self._budgets.set_limits(requests_per_minute, tokens_per_minute, time.monotonic())

    def _fresh_budgets(self, now: float) -> Budgets:
        options = self._options
        return Budgets(
            requests_per_minute=self.requests_per_minute,
            tokens_per_minute=self.tokens_per_minute,
            refill=options.refill,
            minute=self.minute,
            origin=now,
        )

    # -- before the handler ------------------------------------------------------------

    def refusal(self, request: web.Request, raw: bytes) -> web.Response | None:
        """The response refusing *request* (*raw* is its body), or None to let it in (a
        model request then spends its budgets)."""
        error = self._auth_error(request)
        if error is not None:
            return error
        ticket = self._ticket(request, raw)
        if ticket is not None and self.quota_exhausted:
            self._stats.faults["quota_exceeded"] += 1
            return error_response(429, quota_message())
        error = self._limit_error()
        if error is None and ticket is not None:
            error = self._spend(ticket)
        return error

    def _auth_error(self, request: web.Request) -> web.Response | None:
        expected = self._options.api_key
        # Image and video URLs work without the key, as real ones do.
        if expected is None or request.path.startswith((IMAGE_PATH, VIDEO_PATH)):
            return None
        token = bearer_token(request)
        if token is None:
            return error_response(401)
        if not hmac.compare_digest(token.encode(), expected.encode()):
            # xAI answers a wrong key with 400, not 401 (SPEC.md §4a).
            return error_response(
                400,
                f"Incorrect API key provided: {mask_key(token)}. "
                "You can obtain an API key from https://console.x.ai.",
            )
        return None

    def _ticket(self, request: web.Request, raw: bytes) -> Ticket | None:
        # A path nobody serves (404/405) spends nothing, whatever its body says.
        if not raw or request.match_info.http_exception is not None:
            return None
        known = self._bodies.get(raw)
        if known is None:
            known = self._read(raw)
            if len(raw) <= _CACHEABLE_BYTES:
                if len(self._bodies) >= _CACHE_SIZE:
                    del self._bodies[next(iter(self._bodies))]
                self._bodies[raw] = known
        model, prompt = known
        if not model:
            if known == _NOT_A_MODEL_REQUEST or not request.path.startswith(IMAGE_ENDPOINTS):
                return None
            # An image request need not name its model: it spends the default model's.
            model = self._default_image_model
        ticket = Ticket(model, prompt, time.monotonic())
        request[TICKET] = ticket
        return ticket

    def _read(self, raw: bytes) -> tuple[str, int]:
        """(model id, prompt tokens) of a JSON object body (the id ``""`` when it names no
        model), else ``_NOT_A_MODEL_REQUEST``."""
        if not raw.startswith(b"{"):
            return _NOT_A_MODEL_REQUEST
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _NOT_A_MODEL_REQUEST
        name = body.get("model")
        if not isinstance(name, str) or not name:
            return "", prompt_tokens(body)
        # Aliases share their model's budgets, which xAI names by the model's id.
        model = self._catalog.resolve(name)
        return (model.id if model is not None else name), prompt_tokens(body)

    def _limit_error(self) -> web.Response | None:
        if self._bucket is not None:
            wait = self._bucket.take(time.monotonic())
            if wait > 0:
                self._stats.faults["rate_limited"] += 1
                return error_response(
                    429,
                    "Too many requests: your team has exceeded its requests-per-second limit "
                    f"of {self._bucket.rate:g}.",
                    {
                        "retry-after": str(max(1, math.ceil(wait))),
                        "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
                    },
                )
        limit = self._options.max_in_flight
        if limit is not None and self._stats.in_flight >= limit:
            self._stats.faults["over_max_in_flight"] += 1
            return error_response(
                429,
                f"Too many concurrent requests: at most {limit} may be in flight.",
                {"retry-after-ms": str(_IN_FLIGHT_RETRY_MS)},
            )
        return None

    def _spend(self, ticket: Ticket) -> web.Response | None:
        outcome = self._budgets.admit(ticket.model, ticket.prompt, ticket.arrival)
        if isinstance(outcome, tuple):
            ticket.remaining = outcome
            return None
        self._stats.faults[f"{outcome.budget}_limited"] += 1
        # xAI sends no Retry-After with these: a client has to work out the wait itself.
        return error_response(
            429, over_budget_message(ticket.model, outcome.budget, outcome.actual, outcome.limit)
        )

    # -- after the handler -------------------------------------------------------------

    def release(self, request: web.Request) -> None:
        """Charge what *request*'s answer generated. Runs when the handler returns: before
        a plain response's headers go out, after a stream's last event."""
        ticket = request.get(TICKET)
        if ticket is not None and ticket.owed and ticket.remaining is not None:
            tokens = self._budgets.charge(ticket.model, ticket.owed, time.monotonic())
            ticket.remaining = (ticket.remaining[0], tokens)
            ticket.owed = 0

    def stamp(self, request: web.Request, response: web.StreamResponse) -> None:
        """Write the budget headers, and an answer's timing headers, on a model request's
        response."""
        ticket = request.get(TICKET)
        if ticket is None:
            return
        now = time.monotonic()
        requests, tokens = ticket.remaining or self._budgets.remaining(ticket.model, now)
        headers = response.headers
        headers["X-Ratelimit-Limit-Requests"] = self._limits[0]
        headers["X-Ratelimit-Remaining-Requests"] = str(requests)
        headers["X-Ratelimit-Limit-Tokens"] = self._limits[1]
        headers["X-Ratelimit-Remaining-Tokens"] = str(tokens)
        if not ticket.answered:
            return
        elapsed = (now - ticket.arrival) * 1000.0
        if ticket.stream is not None:
            # The headers precede the stream: predict its timing from the pacing.
            interval, events = ticket.stream
            first, gap = elapsed, interval * 1000.0
            total = first + gap * max(0, events - 1)
        else:
            first = total = elapsed
            gap = total / ticket.completion if ticket.completion else 0.0
        headers["X-Metrics-Ttft-Ms"] = f"{first:.1f}"
        headers["X-Metrics-Mean-Itl-Ms"] = f"{gap:.1f}"
        headers["X-Metrics-E2e-Ms"] = f"{total:.1f}"


def _header_limits(requests: float | None, tokens: float | None) -> tuple[str, str]:
    """The X-Ratelimit-Limit-* values: the limits, or the never-binding defaults."""
    return (
        str(int(requests or DEFAULT_REQUESTS_PER_MINUTE)),
        str(int(tokens or DEFAULT_TOKENS_PER_MINUTE)),
    )
