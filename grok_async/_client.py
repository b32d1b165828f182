"""``AsyncGrok``: configuration, lifecycle, and ``request()``, the path every call takes.

``request`` → one attempt (``_read_once``: transport, status check, body) → on a retryable
failure, ``_retry.retry_after_failure`` for the remaining attempts.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._budget import RateBudget
from ._census import count_client
from ._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_EVENT_SIZE,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_MAX_RETRIES,
)
from ._errors import ConfigurationError
from ._observe import Hooks, PoolStats, make_observer
from ._pacing import Pacing
from ._pipeline import Pipeline, limits_of
from ._ratelimits import RateLimits
from ._sentinels import NOT_GIVEN, NotGiven
from ._settings import (
    RedactedHeaders,
    check_count,
    check_headers,
    check_key,
    check_seconds,
    check_session,
    checked_base_url,
    checked_rate,
    checked_timeout,
    checked_wait,
)
from ._timeout import Timeout, TimeoutTypes
from ._transport import Transport, user_agent
from .resources import LAZY_RESOURCES

if TYPE_CHECKING:
    import aiohttp

    from ._ratelimit import RateLimiter
    from .resources.audio import Audio
    from .resources.batches import Batches
    from .resources.chat import Chat
    from .resources.documents import Documents
    from .resources.embeddings import Embeddings
    from .resources.files import Files
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


class AsyncGrok(Pipeline):
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
        max_budget_wait: the longest a call waits for a spent rate-limit budget before
            an attempt; past it, :class:`BudgetWaitError` at once (a web request should not
            wait a minute). ``None``: wait as long as needed. Fan-outs always wait.
        hooks: a :class:`Hooks` of callbacks run per attempt, retry, error and stream end.
        tracing: ``True`` for an OpenTelemetry span per call from the global tracer provider,
            or a ``TracerProvider`` to use (needs the ``otel`` extra).

    Raises:
        ConfigurationError: a setting that cannot work: no API key, a header value with
            CR/LF, a number out of range, a value of the wrong type.
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
        max_budget_wait: float | None = None,
    ) -> None:
        from_environment = api_key is None
        if api_key is None:
            api_key = os.environ.get(API_KEY_ENV)
        if not api_key:
            raise ConfigurationError(
                f"No API key: pass api_key= to AsyncGrok or set the {API_KEY_ENV} "
                "environment variable."
            )
        # Every setting is checked here, so a mistake shows when the client is made.
        check_key(api_key, from_environment)
        check_session(session)
        requests_per_minute = checked_rate("requests_per_minute", requests_per_minute)
        tokens_per_minute = checked_rate("tokens_per_minute", tokens_per_minute)
        self._api_key = api_key
        self._base_url = checked_base_url(
            base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        )
        self._timeout = checked_timeout(timeout)
        self.max_retries = check_count("max_retries", max_retries, 0)
        self.max_budget_wait = checked_wait(max_budget_wait)
        self._default_headers = check_headers(default_headers or {})
        self.max_response_size = check_count("max_response_size", max_response_size, 1)
        self.max_event_size = check_count("max_event_size", max_event_size, 1)
        self._transport = Transport(
            max_connections=check_count("max_connections", max_connections, 1), session=session
        )
        self._owns_transport = True
        # Shared with every with_options() copy: one budget per client family.
        self._budget: RateLimiter | None = (
            RateBudget(requests_per_minute=requests_per_minute, tokens_per_minute=tokens_per_minute)
            if requests_per_minute or tokens_per_minute
            else None
        )
        # The budgets the server last reported and one pacer per (base URL, model), shared
        # with with_options copies.
        self._pacing = Pacing(check_seconds("rate_limit_period", rate_limit_period))
        self._tracing = tracing
        # None unless hooks or tracing were asked for: then each attempt checks one field.
        self._observer = make_observer(hooks, tracing)
        count_client(self)
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
            limits_of(self._timeout, stream=False),
            limits_of(self._timeout, stream=True),
        )
        self._urls: dict[str, str] = {}
        self.chat = Chat(self)
        # The other resources are made on first use (see _resource): importing them all
        # up front would double `import grok_async` for programs that only chat.
        self._resources: dict[str, Any] = {}

    def _resource(self, name: str) -> Any:
        resource = self._resources.get(name)
        if resource is None:
            module, cls = LAZY_RESOURCES[name]
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

    @property
    def files(self) -> Files:
        """Upload, list, download and delete files (``/v1/files``)."""
        return self._resource("files")  # type: ignore[no-any-return]

    @property
    def batches(self) -> Batches:
        """xAI's Batch API (``/v1/batches``) and the local, resumable batch runner
        (``run_file``)."""
        return self._resource("batches")  # type: ignore[no-any-return]

    # -- configuration ------------------------------------------------------------------------

    # Read-only: every request is built from values derived once in _configure, so an
    # assignment would silently do nothing. with_options() makes a changed copy.

    @property
    def max_connections(self) -> int:
        """The size of each event loop's connection pool (fixed when the client is made:
        for another size, make another client)."""
        return self._transport.max_connections

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
        max_budget_wait: float | NotGiven | None = NOT_GIVEN,
    ) -> AsyncGrok:
        """A copy with some settings changed that shares this client's connection pools.

        Closing the copy does nothing; the pools close with the original client. ``hooks``
        replaces the hooks (tracing stays as it is).
        """
        copy = object.__new__(AsyncGrok)
        copy.__dict__.update(self.__dict__)
        if api_key is not None:
            check_key(api_key, from_environment=False)
            copy._api_key = api_key
        if base_url is not None:
            copy._base_url = checked_base_url(base_url)
        if not isinstance(timeout, NotGiven):
            copy._timeout = checked_timeout(timeout)
        if max_retries is not None:
            copy.max_retries = check_count("max_retries", max_retries, 0)
        if default_headers is not None:
            copy._default_headers = {**self._default_headers, **check_headers(default_headers)}
        if max_response_size is not None:
            copy.max_response_size = check_count("max_response_size", max_response_size, 1)
        if hooks is not None:
            copy._observer = make_observer(hooks, self._tracing)
        if not isinstance(max_budget_wait, NotGiven):
            copy.max_budget_wait = checked_wait(max_budget_wait)
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
