"""``AsyncGrok``: configuration, lifecycle, and ``request()``, the path every call takes.

``request`` → one attempt (``_read_once``: transport, status check, body) → on a retryable
failure, ``_retry.retry_after_failure`` for the remaining attempts.
"""

from __future__ import annotations

import importlib
import logging
import os
import weakref
from collections.abc import Awaitable, Callable, Mapping
from time import perf_counter
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._budget import RateBudget
from ._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_EVENT_SIZE,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_MAX_RETRIES,
    FANOUT_RATE_LIMIT_RETRIES,
    MAX_ERROR_BODY,
)
from ._errors import APIStatusError, GrokError, status_error
from ._observe import Call, Hooks, Observer, PoolStats, Timings, make_observer
from ._pacing import Gate, Pacing
from ._ratecontrol import AdaptiveLimiter, current_limiter
from ._ratelimits import RateLimits, server_metrics
from ._retry import is_rate_limit, is_retryable, retry_after_failure
from ._sentinels import NOT_GIVEN, NotGiven
from ._settings import RedactedHeaders, check_header, check_headers, check_key, checked_base_url
from ._timeout import Timeout, TimeoutTypes, as_timeout
from ._transport import HTTPResponse, Limits, Transport, client_timeout, user_agent

if TYPE_CHECKING:
    import aiohttp

    from ._ratelimit import RateLimiter
    from .resources.audio import Audio
    from .resources.chat import Chat
    from .resources.documents import Documents
    from .resources.embeddings import Embeddings
    from .resources.images import Images
    from .resources.models import (
        EmbeddingModels,
        ImageGenerationModels,
        LanguageModels,
        Models,
        VideoGenerationModels,
    )
    from .resources.responses import Responses
    from .resources.videos import Videos
    from .types.api_key import APIKeyInfo
    from .types.tokenizer import TokenizeResult

__all__ = ["AsyncGrok"]

logger = logging.getLogger("grok_async")

T = TypeVar("T")
# One attempt: (timings, call, method, url, headers, body, timeout) -> the response. The call
# record exists only when hooks or tracing observe the client.
_Attempt = Callable[
    [Timings, "Call | None", str, str, Mapping[str, str], bytes | None, Limits],
    Awaitable[HTTPResponse],
]

# Resources made on first use: attribute -> (module, class).
_RESOURCES = {
    "responses": (".resources.responses", "Responses"),
    "models": (".resources.models", "Models"),
    "language_models": (".resources.models", "LanguageModels"),
    "image_generation_models": (".resources.models", "ImageGenerationModels"),
    "images": (".resources.images", "Images"),
    "embeddings": (".resources.embeddings", "Embeddings"),
    "embedding_models": (".resources.models", "EmbeddingModels"),
    "documents": (".resources.documents", "Documents"),
    "videos": (".resources.videos", "Videos"),
    "video_generation_models": (".resources.models", "VideoGenerationModels"),
    "audio": (".resources.audio", "Audio"),
}

# Past this many live clients in one process, creating another one logs a warning: each
# has its own pools, so a client per request (a common mistake in web apps) throws away
# keep-alive connections and can exhaust sockets.
MANY_CLIENTS = 32


class AsyncGrok:
    """The asyncio client for the xAI API.

    One client per process is the intended use: it keeps one connection pool per running
    event loop, created lazily, so it may be built at import time and used from any loop::

        client = AsyncGrok()  # XAI_API_KEY from the environment
        reply = await client.chat.completions.create(
            model="grok-4", messages=[{"role": "user", "content": "Hi"}]
        )
        print(reply.choices[0].message.content)

    Args:
        api_key: defaults to the ``XAI_API_KEY`` environment variable.
        base_url: defaults to ``XAI_BASE_URL``, else ``https://api.x.ai/v1``.
        timeout: a :class:`Timeout`, or seconds (``total`` for calls, ``read`` for streams).
        max_retries: retries after the first attempt (429, 5xx, connection errors).
        max_connections: size of the connection pool of each event loop.
        default_headers: sent with every request.
        session: your own ``aiohttp.ClientSession``; the client then never closes it.
        max_response_size: larger non-streamed bodies are refused.
        max_event_size: a larger single SSE event in a stream is refused (default 16 MiB).
        requests_per_minute: a client-side budget shared by every chat completion of this
            client and its copies, to stay under a team's limit without 429s.
        tokens_per_minute: likewise for tokens (estimated from the request, corrected from
            ``usage``).
        rate_limit_period: seconds over which the server's per-minute budgets refill
            (60 for xAI); only an emulator with a shorter minute needs another value.
        hooks: a :class:`Hooks` of callbacks run per attempt, retry, error and stream end.
        tracing: ``True`` for an OpenTelemetry span per call from the global tracer provider,
            or a ``TracerProvider`` to use (needs the ``otel`` extra).

    Raises:
        GrokError: no API key, or a header value with CR/LF.
    """

    chat: Chat

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes = Timeout(),  # noqa: B008 - Timeout is frozen
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        default_headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        hooks: Hooks | None = None,
        tracing: bool | object = False,
        rate_limit_period: float = 60.0,
    ) -> None:
        from_environment = api_key is None
        if api_key is None:
            api_key = os.environ.get(API_KEY_ENV)
        if not api_key:
            raise GrokError(
                f"No API key: pass api_key= to AsyncGrok or set the {API_KEY_ENV} "
                "environment variable."
            )
        check_key(api_key, from_environment)
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        self._api_key = api_key
        self._base_url = checked_base_url(
            base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        )
        self._timeout = timeout
        self.max_retries = max_retries
        self.max_connections = max_connections
        self._default_headers = check_headers(default_headers or {})
        self.max_response_size = max_response_size
        self.max_event_size = max_event_size
        self._transport = Transport(max_connections=max_connections, session=session)
        self._owns_transport = True
        # Shared with every with_options() copy: one budget per client family.
        self._budget: RateLimiter | None = (
            RateBudget(requests_per_minute=requests_per_minute, tokens_per_minute=tokens_per_minute)
            if requests_per_minute or tokens_per_minute
            else None
        )
        # The budgets the server last reported, per (base URL, model) and per base URL
        # (model None); one dict for the client and its with_options copies.
        # and one pacer per (base URL, model): a Pacing shared with with_options copies.
        self._pacing = Pacing(rate_limit_period)
        self._tracing = tracing
        # None unless hooks or tracing were asked for: then each attempt checks one field.
        self._observer = make_observer(hooks, tracing)
        _count_client(self)
        self._configure()

    def _configure(self) -> None:
        """Derive everything a request needs once, so no call rebuilds it."""
        from .resources.chat import Chat

        self._headers = RedactedHeaders(
            {
                "Authorization": f"Bearer {self._api_key}",
                "Content-Type": "application/json",
                "User-Agent": user_agent(),
            }
        )
        self._headers.update(self._default_headers)
        self._timeouts = (
            self._client_timeout(self._timeout, stream=False),
            self._client_timeout(self._timeout, stream=True),
        )
        self._urls: dict[str, str] = {}
        self.chat = Chat(self)
        # The other resources are made on first use (see _resource): importing them all
        # up front would double `import grok_async` for programs that only chat.
        self._resources: dict[str, Any] = {}

    def _resource(self, name: str) -> Any:
        resource = self._resources.get(name)
        if resource is None:
            module, cls = _RESOURCES[name]
            resource = self._resources[name] = getattr(
                importlib.import_module(module, __package__), cls
            )(self)
        return resource

    @property
    def responses(self) -> Responses:
        """The Responses API (``/v1/responses``): create, stream, retrieve, delete."""
        return self._resource("responses")  # type: ignore[no-any-return]

    @property
    def models(self) -> Models:
        """Every model the key may use, in OpenAI's shape (``/v1/models``)."""
        return self._resource("models")  # type: ignore[no-any-return]

    @property
    def language_models(self) -> LanguageModels:
        """Language models with prices, modalities and aliases (``/v1/language-models``)."""
        return self._resource("language_models")  # type: ignore[no-any-return]

    @property
    def image_generation_models(self) -> ImageGenerationModels:
        """Image generation models (``/v1/image-generation-models``)."""
        return self._resource("image_generation_models")  # type: ignore[no-any-return]

    @property
    def images(self) -> Images:
        """Image generation and editing (``/v1/images/...``)."""
        return self._resource("images")  # type: ignore[no-any-return]

    @property
    def embeddings(self) -> Embeddings:
        """Embedding vectors of texts (``/v1/embeddings``)."""
        return self._resource("embeddings")  # type: ignore[no-any-return]

    @property
    def embedding_models(self) -> EmbeddingModels:
        """Embedding models with their prices (``/v1/embedding-models``)."""
        return self._resource("embedding_models")  # type: ignore[no-any-return]

    @property
    def documents(self) -> Documents:
        """Search in collections of documents (``/v1/documents/search``)."""
        return self._resource("documents")  # type: ignore[no-any-return]

    @property
    def videos(self) -> Videos:
        """Video generation, editing and extension, and waiting for it (``/v1/videos/...``)."""
        return self._resource("videos")  # type: ignore[no-any-return]

    @property
    def video_generation_models(self) -> VideoGenerationModels:
        """Video generation models (``/v1/video-generation-models``)."""
        return self._resource("video_generation_models")  # type: ignore[no-any-return]

    @property
    def audio(self) -> Audio:
        """Text to speech (``audio.speech``) and speech to text (``audio.transcriptions``)."""
        return self._resource("audio")  # type: ignore[no-any-return]

    @staticmethod
    def _client_timeout(value: TimeoutTypes, *, stream: bool) -> Limits:
        t = as_timeout(value, stream=stream)
        return client_timeout(t.connect, t.read, t.total)

    # -- configuration ------------------------------------------------------------------------

    # Read-only: every request is built from values derived once in _configure, so an
    # assignment would silently do nothing. with_options() makes a changed copy.

    @property
    def base_url(self) -> str:
        """The API root, without a trailing slash."""
        return self._base_url

    @property
    def timeout(self) -> TimeoutTypes:
        """The default timeout of calls (a :class:`Timeout`, seconds, or None)."""
        return self._timeout

    @property
    def default_headers(self) -> Mapping[str, str]:
        """Headers sent with every request, besides the client's own."""
        return self._default_headers

    @property
    def api_key(self) -> str:
        """The API key in use (never shown by ``repr``, errors or logs)."""
        return self._api_key

    def rate_limits(self, model: str | None = None) -> RateLimits | None:
        """The team's budgets as the last response reported them (``X-Ratelimit-*``).

        For ``model``, the last response for that model; otherwise the last response of any
        model at this client's base URL. ``None`` before a response carried the headers.
        Shared with :meth:`with_options` copies that keep the base URL.
        """
        return self._pacing.reading(self._base_url, model)

    def _note_headers(
        self, headers: Mapping[str, str], timings: Timings | None, model: str | None
    ) -> None:
        """Keep what a response says of the budgets (a call naming a model: its gate did
        already), and the server's own timings."""
        if model is None:
            self._pacing.note(self._base_url, model, headers)
        if timings is not None and "x-metrics-e2e-ms" in headers:
            timings.server_ttft, timings.server_itl, timings.server_e2e = server_metrics(headers)

    def _gate(self, model: str, tokens: int, limiter: AdaptiveLimiter | None) -> Gate:
        """The pacing gate of one call of ``model``: the server's budgets, and the budget
        configured (a fan-out's own ``rate_limit=``, else the client's) if any."""
        budget = limiter.rate_limit if limiter is not None else None
        return self._pacing.gate(self._base_url, model, tokens, budget or self._budget)

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        max_response_size: int | None = None,
        hooks: Hooks | None = None,
    ) -> AsyncGrok:
        """A copy with some settings changed that shares this client's connection pools.

        Closing the copy does nothing; the pools close with the original client. ``hooks``
        replaces the hooks (tracing stays as it is).
        """
        copy = object.__new__(AsyncGrok)
        copy.__dict__.update(self.__dict__)
        if api_key is not None:
            check_header("Authorization", api_key)
            copy._api_key = api_key
        if base_url is not None:
            copy._base_url = checked_base_url(base_url)
        if not isinstance(timeout, NotGiven):
            copy._timeout = timeout
        if max_retries is not None:
            copy.max_retries = max_retries
        if default_headers is not None:
            copy._default_headers = {**self._default_headers, **check_headers(default_headers)}
        if max_response_size is not None:
            copy.max_response_size = max_response_size
        if hooks is not None:
            copy._observer = make_observer(hooks, self._tracing)
        copy._owns_transport = False
        copy._configure()
        return copy

    def __repr__(self) -> str:
        # The key is never shown, not even in part.
        return f"AsyncGrok(base_url={self.base_url!r}, api_key='<redacted>')"

    # -- lifecycle -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connection pools (not a ``session`` you passed in). Idempotent.

        Closing does not wait for calls in flight: they end at once with a
        :class:`GrokError` (the client is closed) or :class:`APIConnectionError`, and are not
        retried. To drain first, await your tasks, then close. A closed client refuses new
        calls with a clear :class:`GrokError`.
        """
        if self._owns_transport:
            await self._transport.close()

    async def __aenter__(self) -> AsyncGrok:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def is_closed(self) -> bool:
        """Whether ``close()`` was called; a closed client refuses new requests."""
        return self._transport.closed

    def pool_stats(self) -> PoolStats:
        """The connection pool of the running event loop: in use, idle, limit, waiting.

        With your own ``session=``, the numbers are that session's connector's (which
        other code may share). Call it from inside the loop whose pool you want.
        """
        return self._transport.pool_stats()

    # -- small endpoints (the logic lives in resources/) ---------------------------------------

    async def tokenize(
        self,
        *,
        text: str,
        model: str,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> TokenizeResult:
        """Split ``text`` into ``model``'s tokens (``POST /v1/tokenize-text``).

        ``result.ids`` are the token ids, ``result.strings`` their text, ``len(result)``
        the count. Raises :class:`NotFoundError` for an unknown model.
        """
        from .resources.tokenizer import tokenize

        return await tokenize(
            self,
            text=text,
            model=model,
            user=user,
            extra_headers=extra_headers,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def api_key_info(
        self,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> APIKeyInfo:
        """Describe the API key in use: name, team, ACLs, blocked flags (``GET /v1/api-key``).

        The answer carries only a redacted form of the key, never the secret.
        """
        from .resources.api_key import api_key_info

        return await api_key_info(
            self, extra_headers=extra_headers, timeout=timeout, max_retries=max_retries
        )

    # -- requests ------------------------------------------------------------------------------

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
        return self._client_timeout(timeout, stream=stream)

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = ...,
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
        body: bytes | None = ...,
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
        body: bytes | None = None,
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
        # The common case of each of these inline: this runs on every request.
        url = self._urls.get(path) or self._url(path)
        headers = self._headers if not extra_headers else self._call_headers(extra_headers)
        client_timeout = (
            self._timeouts[0] if timeout is NOT_GIVEN else self._call_timeout(timeout, stream=False)
        )
        send: _Attempt = self._read_once
        # Inside a fan-out's worker: its limiter (slots) and its own budget, if it has one.
        limiter = current_limiter.get()
        gate = None
        if model is not None:
            # Innermost, so an attempt's start is when it is sent (after any fan-out slot).
            gate = self._gate(model, tokens, limiter)
            send = gate.wrap(send)
        if limiter is not None:
            send = limiter.wrap(send)
        # No call record (nor a call to make one) unless hooks or tracing observe the client.
        observer = self._observer
        call = None if observer is None else _begin(observer, method, path, model, timings, started)
        try:
            try:
                response = await send(timings, call, method, url, headers, body, client_timeout)
            except GrokError as exc:
                # Only a failure builds the retry machinery: the success path stays one call.
                response = await self._retry(
                    timings,
                    call,
                    exc,
                    lambda: send(timings, call, method, url, headers, body, client_timeout),
                    max_retries,
                    f"{method} {path}",
                    limiter is not None,
                )
            timings.time_to_headers = response.time_to_headers
            self._note_headers(response.headers, timings, model)
            response.timings = timings
            result = response if decode is None else decode(response)
            timings.total = perf_counter() - started
            if gate is not None:
                gate.settle(getattr(getattr(result, "usage", None), "total_tokens", None))
        except BaseException as exc:
            if isinstance(exc, APIStatusError):
                self._note_headers(exc.headers, None, model)
            if call is not None:
                await call.observer.failed(call, exc)
            raise
        if call is not None:
            call.observer.succeeded(call, result)
        return result

    async def open_stream(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
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
        send: _Attempt = self._open_once
        limiter = current_limiter.get()
        gate = None
        if model is not None:
            gate = self._gate(model, tokens, limiter)
            send = gate.wrap(send)
        if limiter is not None:
            send = limiter.wrap(send)
        # No call record (nor a call to make one) unless hooks or tracing observe the client.
        observer = self._observer
        call = None if observer is None else _begin(observer, method, path, model, timings, started)
        try:
            try:
                response = await send(timings, call, method, url, headers, body, client_timeout)
            except GrokError as exc:
                response = await self._retry(
                    timings,
                    call,
                    exc,
                    lambda: send(timings, call, method, url, headers, body, client_timeout),
                    max_retries,
                    f"{method} {path}",
                    limiter is not None,
                )
        except BaseException as exc:
            if isinstance(exc, APIStatusError):
                self._note_headers(exc.headers, None, model)
            if call is not None:
                await call.observer.failed(call, exc)
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
        body: bytes | None,
        timeout: Limits,
    ) -> Awaitable[HTTPResponse]:
        """Start one attempt. A plain function, not a coroutine: no frame of its own on
        every request (the success path is a few calls deep, each one costs)."""
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
        body: bytes | None,
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
        body: bytes | None,
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
        body: bytes | None,
        timeout: Limits,
    ) -> HTTPResponse:
        """One attempt of a call: its response with the whole body read."""
        response = await self._send(timings, call, method, url, headers, body, timeout)
        if response.status >= 400 or logger.isEnabledFor(logging.DEBUG):
            await self._headers_arrived(response, timings, method, url)
        response.body = await response.read(self.max_response_size)
        return response


_live_clients = 0


def _count_client(client: AsyncGrok) -> None:
    """Count live clients; warn (once per crossing) when there are many."""
    global _live_clients
    _live_clients += 1
    weakref.finalize(client, _forget_client)
    if _live_clients == MANY_CLIENTS:
        logger.warning(
            "%d AsyncGrok clients are alive in this process. Each has its own connection "
            "pool: create one client per process and share it (with_options() makes "
            "variants that share the pool).",
            _live_clients,
        )


def _forget_client() -> None:
    global _live_clients
    _live_clients -= 1


def _begin(
    observer: Observer, method: str, path: str, model: str | None, timings: Timings, started: float
) -> Call:
    """The record of an observed call, its span started."""
    call = Call(method, path, model, observer, timings, started)
    observer.begin(call)
    return call
