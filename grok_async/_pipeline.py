"""The one request pipeline every call goes through: ``request()`` and ``open_stream()``.

A call's attempt function is composed once per call: the HTTP attempt itself (the
transport, a status check, the body read), the model's pacing gate around it (the server's
budgets, and a configured one), and, inside a fan-out's worker, the fan-out's limiter
around that. A failed first attempt builds the retry machinery (``_retry``); the success
path never does. Hooks and tracing see each step through the call's ``Call`` record, which
exists only when the client has them.

:class:`Pipeline` is a base of :class:`~grok_async.AsyncGrok`, which derives the values
declared below once, when it is made (``_configure``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from time import perf_counter
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._constants import FANOUT_RATE_LIMIT_RETRIES, MAX_ERROR_BODY
from ._errors import APIStatusError, GrokError
from ._events import Call, Timings
from ._pacing import Gate, Pacing
from ._ratecontrol import AdaptiveLimiter, current_limiter
from ._ratelimits import server_metrics
from ._response import HTTPResponse
from ._retry import is_rate_limit, is_retryable, retry_after_failure
from ._sentinels import NOT_GIVEN, NotGiven
from ._settings import RedactedHeaders, check_headers
from ._status import status_error
from ._timeout import TimeoutTypes, as_timeout
from ._transport import Limits, RequestBody, Transport, client_timeout

if TYPE_CHECKING:
    from ._observe import Observer
    from ._ratelimit import RateLimiter

__all__ = ["Pipeline", "limits_of"]

logger = logging.getLogger("grok_async")

T = TypeVar("T")

# One attempt: (timings, call, method, url, headers, body, timeout) -> the response. The call
# record exists only when hooks or tracing observe the client.
_Attempt = Callable[
    [Timings, "Call | None", str, str, Mapping[str, str], RequestBody, Limits],
    Awaitable[HTTPResponse],
]


def limits_of(value: TimeoutTypes, *, stream: bool) -> Limits:
    """The transport's limits for a timeout setting (a call's or the client's)."""
    t = as_timeout(value, stream=stream)
    return client_timeout(t.connect, t.read, t.total)


class Pipeline:
    """Sending a call: its attempts, pacing, retries and observation (a base of AsyncGrok)."""

    # Derived by AsyncGrok when it is made (and by with_options for a copy).
    _base_url: str
    _urls: dict[str, str]
    _headers: Mapping[str, str]
    _timeouts: tuple[Limits, Limits]
    _observer: Observer | None
    _pacing: Pacing
    _budget: RateLimiter | None
    _transport: Transport
    max_retries: int
    max_budget_wait: float | None
    max_response_size: int

    def _note_headers(
        self, headers: Mapping[str, str], timings: Timings | None, model: str | None
    ) -> None:
        """Keep what a response says of the budgets (a call naming a model: its gate did
        already), and the server's own timings."""
        if model is None:
            self._pacing.note(self._base_url, model, headers)
        if timings is not None and "x-metrics-e2e-ms" in headers:
            timings.server_ttft, timings.server_itl, timings.server_e2e = server_metrics(headers)

    def _compose(
        self, once: _Attempt, model: str | None, tokens: int
    ) -> tuple[_Attempt, Gate | None, bool]:
        """A call's attempt function: ``once`` inside the model's pacing gate (if the call
        names a model) inside a fan-out's limiter (in a fan-out's worker); the gate, and
        whether the call is part of a fan-out."""
        send = once
        # Inside a fan-out's worker: its limiter (slots) and its own budget, if it has one.
        limiter = current_limiter.get()
        gate = None
        if model is not None:
            # Innermost, so an attempt's start is when it is sent (after any fan-out slot).
            gate = self._gate(model, tokens, limiter)
            send = gate.wrap(send)
        if limiter is not None:
            send = limiter.wrap(send)
        return send, gate, limiter is not None

    def _gate(self, model: str, tokens: int, limiter: AdaptiveLimiter | None) -> Gate:
        """The pacing gate of one call of ``model``: the server's budgets, and the budget
        configured (a fan-out's own ``rate_limit=``, else the client's) if any. A fan-out
        waits for its budget however long (it is there to use all of it); a single call
        at most ``max_budget_wait``."""
        if limiter is not None:
            budget = limiter.rate_limit or self._budget
            return self._pacing.gate(self._base_url, model, tokens, budget)
        return self._pacing.gate(self._base_url, model, tokens, self._budget, self.max_budget_wait)

    def _url(self, path: str) -> str:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = self._base_url + path
        return url

    def _call_headers(self, extra_headers: Mapping[str, str] | None) -> Mapping[str, str]:
        if not extra_headers:
            return self._headers
        headers = RedactedHeaders(self._headers)
        headers.update(check_headers(extra_headers))
        return headers

    def _call_timeout(self, timeout: TimeoutTypes | NotGiven, *, stream: bool) -> Limits:
        if isinstance(timeout, NotGiven):
            return self._timeouts[stream]
        return limits_of(timeout, stream=stream)

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        body: RequestBody = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutTypes | NotGiven = ...,
        max_retries: int | None = ...,
        model: str | None = ...,
        tokens: int = ...,
        decode: None = ...,
    ) -> HTTPResponse: ...

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        body: RequestBody = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutTypes | NotGiven = ...,
        max_retries: int | None = ...,
        model: str | None = ...,
        tokens: int = ...,
        decode: Callable[[HTTPResponse], T],
    ) -> T: ...

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: RequestBody = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        model: str | None = None,
        tokens: int = 0,
        decode: Callable[[HTTPResponse], Any] | None = None,
    ) -> Any:
        """Send a request with retries and return the 2xx response, its ``body`` read.

        With ``decode``, return ``decode(response)`` instead: a decoding failure then
        counts as the call's failure for hooks and tracing. ``response.timings`` is set
        before ``decode`` runs (its ``total`` is final once ``decode`` returned). ``model``
        names the call's model for hooks and spans, and paces the call from that model's
        budgets (``tokens``: its estimated tokens; corrected from a decoded ``usage``).

        Raises the :class:`APIStatusError` subclass of a 4xx/5xx status, or
        :class:`APIConnectionError` / :class:`APITimeoutError`.
        """
        started = perf_counter()
        timings = Timings(attempts=0)
        # Each takes the usual case in place and calls its helper only for the rest.
        url = self._urls.get(path) or self._url(path)
        headers = self._headers if not extra_headers else self._call_headers(extra_headers)
        client_timeout = (
            self._timeouts[0] if timeout is NOT_GIVEN else self._call_timeout(timeout, stream=False)
        )
        send, gate, fan_out = self._compose(self._read_once, model, tokens)
        # No call record (nor a call to make one) unless hooks or tracing observe the client.
        observer = self._observer
        call = None if observer is None else _begin(observer, method, path, model, timings, started)
        try:
            response = await self._attempts(
                send, timings, call, method, path, url, headers, body, client_timeout,
                max_retries, fan_out,
            )  # fmt: skip
            timings.time_to_headers = response.time_to_headers
            self._note_headers(response.headers, timings, model)
            response.timings = timings
            result = response if decode is None else decode(response)
            timings.total = perf_counter() - started
            if gate is not None:
                gate.settle(getattr(getattr(result, "usage", None), "total_tokens", None))
        except BaseException as exc:
            await self._failed(call, exc, model)
            raise
        if call is not None:
            call.observer.succeeded(call, result)
        return result

    async def open_stream(
        self,
        method: str,
        path: str,
        *,
        body: RequestBody = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        model: str | None = None,
        tokens: int = 0,
    ) -> HTTPResponse:
        """Like :meth:`request`, but return once the headers of a 2xx response arrived.

        Retries happen only here, before the first byte of the body was handed out. The
        response's ``call`` goes to the stream, which reports its end to hooks and spans.
        """
        started = perf_counter()
        timings = Timings(attempts=0)
        url = self._url(path)
        headers = self._call_headers(extra_headers)
        client_timeout = self._call_timeout(timeout, stream=True)
        # A stream holds its fan-out slot until its headers arrive, not for its whole body.
        send, gate, fan_out = self._compose(self._open_once, model, tokens)
        # No call record (nor a call to make one) unless hooks or tracing observe the client.
        observer = self._observer
        call = None if observer is None else _begin(observer, method, path, model, timings, started)
        try:
            response = await self._attempts(
                send, timings, call, method, path, url, headers, body, client_timeout,
                max_retries, fan_out,
            )  # fmt: skip
        except BaseException as exc:
            await self._failed(call, exc, model)
            raise
        timings.time_to_headers = response.time_to_headers
        self._note_headers(response.headers, timings, model)
        timings.total = perf_counter() - started
        response.timings = timings
        if gate is not None:
            response.settle = gate.settle
        response.started = started
        response.call = call
        return response

    async def _attempts(
        self,
        send: _Attempt,
        timings: Timings,
        call: Call | None,
        method: str,
        path: str,
        url: str,
        headers: Mapping[str, str],
        body: RequestBody,
        timeout: Limits,
        max_retries: int | None,
        fan_out: bool,
    ) -> HTTPResponse:
        """The first attempt, then the retries its failure allows: the 2xx response."""
        try:
            return await send(timings, call, method, url, headers, body, timeout)
        except GrokError as exc:
            # Only a failure builds the retry machinery: the success path stays one call.
            return await self._retry(
                timings,
                call,
                exc,
                lambda: send(timings, call, method, url, headers, body, timeout),
                max_retries,
                f"{method} {path}",
                fan_out,
            )

    async def _failed(self, call: Call | None, exc: BaseException, model: str | None) -> None:
        """A call failed (or was cancelled): keep what a status error says of the budgets,
        and tell the hooks and the span."""
        if isinstance(exc, APIStatusError):
            self._note_headers(exc.headers, None, model)
        if call is not None:
            await call.observer.failed(call, exc)

    async def _retry(
        self,
        timings: Timings,
        call: Call | None,
        error: GrokError,
        attempt: Callable[[], Awaitable[T]],
        max_retries: int | None,
        label: str,
        fan_out: bool,
    ) -> T:
        """After a failed first attempt: re-raise ``error``, or retry if it is retryable."""
        if not is_retryable(error):
            raise error
        if self._transport.closed:
            # The client was closed while this call was in flight: a retry could only fail.
            raise error
        retries = self.max_retries if max_retries is None else max_retries
        # A spent budget (the pacer waits it out), or a rate limit under fan-out, means "not
        # yet", not "failed": retried whatever max_retries says (see _retry._stop).
        rate_limit_retries = FANOUT_RATE_LIMIT_RETRIES if fan_out else 0
        if (
            retries <= 0
            and not (rate_limit_retries and is_rate_limit(error))
            and not (isinstance(error, APIStatusError) and error.budget_spent)
        ):
            raise error
        return await retry_after_failure(
            attempt,
            error,
            max_retries=retries,
            label=label,
            rate_limit_retries=rate_limit_retries,
            on_retry=(
                None if call is None else lambda exc, wait: call.observer.retry(call, exc, wait)
            ),
        )

    def _send(
        self,
        timings: Timings,
        call: Call | None,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: RequestBody,
        timeout: Limits,
    ) -> Awaitable[HTTPResponse]:
        """Start one attempt: the transport's send, or, for an observed call, the send
        wrapped in its hooks. (It returns the awaitable rather than awaiting it, so an
        unobserved attempt adds no frame of its own; see benchmarks/README.md.)"""
        timings.attempts += 1
        if call is None:
            return self._transport.send(
                method, url, headers=headers, body=body, timeout=timeout, timings=timings
            )
        return self._observed_send(call, method, url, headers, body, timeout)

    async def _headers_arrived(
        self, response: HTTPResponse, timings: Timings, method: str, url: str
    ) -> None:
        """Log the attempt (DEBUG) and raise the error of a 4xx/5xx status."""
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.3f s (attempt %d, request id %s)",
                method,
                url[len(self._base_url) :],
                response.status,
                response.time_to_headers,
                timings.attempts,
                response.request_id,
            )
        if response.status >= 400:
            raw = await response.read(self.max_response_size)
            raise status_error(
                response.status,
                response.reason,
                raw[:MAX_ERROR_BODY],
                response.headers,
                response.request_id,
            )

    async def _open_once(
        self,
        timings: Timings,
        call: Call | None,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: RequestBody,
        timeout: Limits,
    ) -> HTTPResponse:
        """One attempt of a stream: its response once the headers are here."""
        response = await self._send(timings, call, method, url, headers, body, timeout)
        if response.status >= 400 or logger.isEnabledFor(logging.DEBUG):
            await self._headers_arrived(response, timings, method, url)
        return response

    async def _observed_send(
        self,
        call: Call,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: RequestBody,
        timeout: Limits,
    ) -> HTTPResponse:
        """One attempt with ``on_request`` before it and ``on_response`` after it (also when
        it failed without a response: then with the exception's type and no status)."""
        observer = call.observer
        timings = call.timings
        await observer.attempt(call)
        waited = timings.pool_wait
        try:
            response = await self._transport.send(
                method, url, headers=headers, body=body, timeout=timeout, timings=timings
            )
        except GrokError as exc:
            await observer.no_response(call, exc, timings.pool_wait - waited)
            raise
        try:
            await observer.response(call, response, timings.pool_wait - waited)
        except BaseException:
            response.close()  # cancelled inside a hook: the connection must not leak
            raise
        return response

    async def _read_once(
        self,
        timings: Timings,
        call: Call | None,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: RequestBody,
        timeout: Limits,
    ) -> HTTPResponse:
        """One attempt of a call: its response with the whole body read."""
        response = await self._open_once(timings, call, method, url, headers, body, timeout)
        response.body = await response.read(self.max_response_size)
        return response


def _begin(
    observer: Observer, method: str, path: str, model: str | None, timings: Timings, started: float
) -> Call:
    """The record of an observed call, its span started."""
    call = Call(method, path, model, observer, timings, started)
    observer.begin(call)
    return call
