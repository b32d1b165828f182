"""``client.chat.completions``: create, stream, create_many, iter_many."""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sized,
)
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import orjson

from .._budget import estimate_tokens
from .._constants import DEFAULT_CONCURRENCY, DEFAULT_MAX_TOOL_ROUNDS
from .._fanout import FanOutStats, iter_many, run_many
from .._progress import Progress
from .._ratecontrol import AdaptiveLimiter
from .._request_body import CHAT_BODY
from .._sentinels import NOT_GIVEN, NotGiven
from .._serialization import converter, decode_model
from .._streaming import AsyncStream, ChatCompletionStreamManager
from .._timeout import TimeoutTypes
from ..types.chat import ChatCompletion, ChatCompletionChunk
from ._decode import parse_json

if TYPE_CHECKING:
    from .._parsing import ParsedChatCompletionStreamManager
    from .._ratelimit import RateLimiter, SharedPauses
    from .._requester import Requester
    from .._response import HTTPResponse
    from .._tools import FunctionTool
    from ..types.parsed import ParsedChatCompletion
    from ..types.tool_runs import ToolRunResult
    from .deferred import Deferred, DeferredCompletion

# Structured outputs, tools and deferred completions are imported when first used:
# ``import grok_async`` stays as cheap as the chat-only client (see bench_startup.py).

__all__ = ["Chat", "Completions"]

_PATH = "/chat/completions"

T = TypeVar("T")


_structure_completion: Callable[[Any, Any], ChatCompletion] | None = None


def parse_completion(raw: bytes, *, status: int, request_id: str | None) -> ChatCompletion:
    """Decode a ``/chat/completions`` body; anything but a completion is a validation error.

    The common case goes straight to the converter's structure hook; anything it does not
    accept goes through ``parse_json`` and ``decode_model`` (the same hook, wrapped in the
    error handling), which raise the detailed validation error.
    """
    global _structure_completion
    structure = _structure_completion
    if structure is None:
        structure = _structure_completion = converter.get_structure_hook(ChatCompletion)
    try:
        completion = structure(orjson.loads(raw), ChatCompletion)
    except Exception:
        data = parse_json(raw, status=status, request_id=request_id)
        completion = decode_model(
            data, ChatCompletion, status_code=status, request_id=request_id, raw=raw
        )
    completion.request_id = request_id or completion.id
    return completion


def _decode_completion(reply: HTTPResponse) -> ChatCompletion:
    completion = parse_completion(reply.body, status=reply.status, request_id=reply.request_id)
    completion.timings = reply.timings
    return completion


class Completions:
    """Chat completions (``POST /v1/chat/completions``)."""

    def __init__(self, client: Requester, deferred: Callable[[], Deferred] | None = None) -> None:
        self._client = client
        # The client's chat.deferred, which the handles of deferred calls collect through.
        self._deferred = deferred

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[Any],
        stream: Literal[False] | None = None,
        deferred: Literal[False] | None = None,
        stream_options: Mapping[str, Any] | Any | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        logit_bias: Mapping[str, float] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        seed: int | None = None,
        response_format: Mapping[str, Any] | Any | None = None,
        tools: Iterable[Any] | None = None,
        tool_choice: str | Mapping[str, Any] | Any | None = None,
        parallel_tool_calls: bool | None = None,
        reasoning_effort: str | None = None,
        search_parameters: Mapping[str, Any] | Any | None = None,
        web_search_options: Mapping[str, Any] | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[Any],
        stream: Literal[True],
        deferred: Literal[False] | None = None,
        stream_options: Mapping[str, Any] | Any | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        logit_bias: Mapping[str, float] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        seed: int | None = None,
        response_format: Mapping[str, Any] | Any | None = None,
        tools: Iterable[Any] | None = None,
        tool_choice: str | Mapping[str, Any] | Any | None = None,
        parallel_tool_calls: bool | None = None,
        reasoning_effort: str | None = None,
        search_parameters: Mapping[str, Any] | Any | None = None,
        web_search_options: Mapping[str, Any] | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> AsyncStream[ChatCompletionChunk]: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[Any],
        stream: Literal[False] | None = None,
        deferred: Literal[True],
        stream_options: Mapping[str, Any] | Any | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        logit_bias: Mapping[str, float] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        seed: int | None = None,
        response_format: Mapping[str, Any] | Any | None = None,
        tools: Iterable[Any] | None = None,
        tool_choice: str | Mapping[str, Any] | Any | None = None,
        parallel_tool_calls: bool | None = None,
        reasoning_effort: str | None = None,
        search_parameters: Mapping[str, Any] | Any | None = None,
        web_search_options: Mapping[str, Any] | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> DeferredCompletion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        messages: Iterable[Any],
        stream: bool | None = None,
        deferred: bool | None = None,
        stream_options: Mapping[str, Any] | Any | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | list[str] | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        logit_bias: Mapping[str, float] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        seed: int | None = None,
        response_format: Mapping[str, Any] | Any | None = None,
        tools: Iterable[Any] | None = None,
        tool_choice: str | Mapping[str, Any] | Any | None = None,
        parallel_tool_calls: bool | None = None,
        reasoning_effort: str | None = None,
        search_parameters: Mapping[str, Any] | Any | None = None,
        web_search_options: Mapping[str, Any] | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk] | DeferredCompletion: ...

    async def create(
        self,
        *,
        model: str,
        messages: Iterable[Any],
        stream: bool | None = None,
        deferred: bool | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Any,
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk] | DeferredCompletion:
        """Create a chat completion, or with ``stream=True`` an :class:`AsyncStream` of chunks.

        With ``deferred=True`` the server answers at once with a
        :class:`~grok_async.DeferredCompletion` handle to collect the completion later
        (``await handle.wait()``, or ``client.chat.deferred``); it cannot be streamed.

        Every parameter of the xAI API is keyword-only and optional except ``model`` and
        ``messages`` (dicts or message objects); ``None`` means "not sent". Per-call
        transport options: ``extra_headers``, ``extra_body`` (merged into the JSON body
        last, for parameters this library does not know yet), ``timeout`` (``None``
        disables it) and ``max_retries``.

        Raises:
            APIStatusError: a 4xx/5xx answer (before any chunk, for streams).
            APIConnectionError, APITimeoutError: after the retries are spent.
            APIResponseValidationError: a body that is not a completion.
        """
        # A list is the common case; the isinstance against an ABC costs more than the check.
        if messages.__class__ is not list and isinstance(messages, (str, bytes, Mapping)):
            raise TypeError("messages must be a list of messages, e.g. [{'role': 'user', ...}]")
        if "response_format" in params and isinstance(params["response_format"], type):
            raise TypeError(
                "create() sends response_format as given: to get the reply parsed into "
                f"{params['response_format'].__name__}, use parse() or "
                "stream(response_format=...); to send a format yourself, pass a dict"
            )
        required: dict[str, Any] = {
            "model": model,
            "messages": messages if isinstance(messages, list) else list(messages),
        }
        if deferred:
            if stream:
                raise ValueError("deferred=True cannot be combined with stream=True")
            required["deferred"] = True
        body = CHAT_BODY.build(required, stream, params, extra_body)
        client = self._client
        # What the call may cost the token budgets: paces it, corrected from usage later.
        estimate = estimate_tokens(
            body, params.get("max_completion_tokens") or params.get("max_tokens")
        )
        if deferred:
            from .deferred import start_deferred

            # No usage until the result is fetched: the budgets keep the estimate.
            return await start_deferred(
                client,
                _PATH,
                body,
                extra_headers=extra_headers,
                timeout=timeout,
                max_retries=max_retries,
                model=model,
                tokens=estimate,
                deferred=None if self._deferred is None else self._deferred(),
            )
        if stream:
            response = await client.open_stream(
                "POST",
                _PATH,
                body=body,
                extra_headers=extra_headers,
                timeout=timeout,
                max_retries=max_retries,
                model=model,
                tokens=estimate,
            )
            return AsyncStream(response, ChatCompletionChunk, max_event_size=client.max_event_size)
        return await client.request(
            "POST",
            _PATH,
            body=body,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            model=model,
            tokens=estimate,
            decode=_decode_completion,
        )

    @overload
    def stream(
        self, *, model: str, messages: Iterable[Any], response_format: type[T], **kwargs: Any
    ) -> ParsedChatCompletionStreamManager[T]: ...

    @overload
    def stream(
        self, *, model: str, messages: Iterable[Any], **kwargs: Any
    ) -> ChatCompletionStreamManager: ...

    def stream(
        self, *, model: str, messages: Iterable[Any], **kwargs: Any
    ) -> ChatCompletionStreamManager:
        """``async with client.chat.completions.stream(...) as stream:`` — a streamed call
        whose response is closed when the block ends. Takes the arguments of :meth:`create`.

        With ``response_format=`` an attrs class (as for :meth:`parse`), the stream's
        ``get_final_completion()`` returns a :class:`~grok_async.ParsedChatCompletion`.

        Unless ``stream_options`` is given, it asks for ``{"include_usage": true}``, so the
        final completion's ``usage`` (and cost) is there; ``stream_options={"include_usage":
        False}`` turns that off.
        """
        kwargs.pop("stream", None)
        if kwargs.get("stream_options") is None:
            # The server sends usage in a stream only when asked; a final completion without
            # it would be the one place where usage and cost silently go missing.
            kwargs["stream_options"] = {"include_usage": True}
        response_format = kwargs.get("response_format")
        if isinstance(response_format, type):
            from .._parsing import ParsedChatCompletionStreamManager, response_format_for

            kwargs["response_format"] = response_format_for(response_format)
            return ParsedChatCompletionStreamManager(
                lambda: self.create(model=model, messages=messages, stream=True, **kwargs),
                response_format,
            )
        return ChatCompletionStreamManager(
            lambda: self.create(model=model, messages=messages, stream=True, **kwargs)
        )

    async def parse(
        self, *, model: str, messages: Iterable[Any], response_format: type[T], **kwargs: Any
    ) -> ParsedChatCompletion[T]:
        """A completion whose reply is JSON parsed into ``response_format``, an attrs class.

        Sends ``response_format={"type": "json_schema", ...}`` with the class's JSON schema
        (see :func:`~grok_async.json_schema`; ``"strict": true`` unless the class has a
        free-form ``dict`` field) and returns a :class:`~grok_async.ParsedChatCompletion`:
        ``completion.choices[0].message.parsed`` is an instance of the class, or ``None``
        when the model refused (``message.refusal``) or called tools instead of answering.
        Takes every other argument of :meth:`create` except ``stream`` and ``deferred``
        (use :meth:`stream` with ``response_format=`` to stream).

        Raises:
            StructuredOutputError: the reply is not JSON that fits the class, or was cut off
                by the token limit; the raw text is on ``.content``.
            TypeError: ``response_format`` is not an attrs class, or a field's type has no
                JSON schema.
            APIStatusError, APIConnectionError: as for :meth:`create`.

        Example::

            @attrs.define
            class City:
                name: str
                population: int

            completion = await client.chat.completions.parse(
                model="grok-4", messages=[...], response_format=City
            )
            city = completion.choices[0].message.parsed
        """
        from .._parsing import parse_chat_completion, response_format_for

        for name in ("stream", "deferred"):
            if kwargs.pop(name, None):
                raise TypeError(f"parse() does not take {name}=True")
        completion = await self.create(
            model=model,
            messages=messages,
            response_format=response_format_for(response_format),
            **kwargs,
        )
        return parse_chat_completion(completion, response_format)

    async def run_tools(
        self,
        *,
        model: str,
        messages: Iterable[Any],
        tools: Iterable[FunctionTool[Any] | Callable[..., Any]],
        max_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        tool_timeout: float | None = None,
        **kwargs: Any,
    ) -> ToolRunResult:
        """Talk with the model, running the Python tools it calls, until it answers.

        The same as :func:`grok_async.run_tools` with this client; see there.
        """
        from .._tool_runs import run_tools_with

        return await run_tools_with(
            self.create,
            model=model,
            messages=messages,
            tools=tools,
            max_rounds=max_rounds,
            tool_timeout=tool_timeout,
            **kwargs,
        )

    async def iter_many(
        self,
        requests: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = False,
        progress: bool | Progress = False,
        stats: FanOutStats | None = None,
        on_result: Callable[[int, ChatCompletion | Exception], Any] | None = None,
        rate_limit: RateLimiter | None = None,
    ) -> AsyncGenerator[tuple[int, ChatCompletion | Exception], None]:
        """Run many ``create()`` calls; yield ``(index, result)`` as each finishes.

        ``requests`` (dicts of :meth:`create` keyword arguments, sync or async iterable) is
        consumed lazily, so memory stays flat for millions of requests. At most
        ``concurrency`` are in flight; on a rate-limit signal the whole fan-out halves its
        in-flight limit and waits out the server's Retry-After together, then grows back by
        one per window of successes. The client's ``requests_per_minute`` /
        ``tokens_per_minute`` budgets, if set, apply to every request; ``rate_limit`` (a
        :class:`RedisRateLimiter` shared by many processes, or any :class:`RateLimiter`)
        replaces them for this fan-out and is told of every server pause.

        With ``return_exceptions=False`` the first failure (after its retries) is raised
        and everything in flight is cancelled; with ``True`` exceptions are yielded in
        their request's place. Pass a :class:`FanOutStats` as ``stats`` to read live counters
        and the final summary; ``progress=True`` shows the progress on stderr (live on a
        terminal, a line every few seconds elsewhere; or pass a ``grok_async.Progress``). Use
        ``contextlib.aclosing`` if you may stop iterating early, so in-flight calls are
        cancelled at once.
        """
        setup = _FanOutSetup(self._client, requests, concurrency, progress, stats, rate_limit)
        try:
            async with aclosing(
                iter_many(
                    setup.call,
                    requests,
                    concurrency=concurrency,
                    limiter=setup.limiter,
                    stats=setup.stats,
                    return_exceptions=return_exceptions,
                    on_result=on_result,
                )
            ) as results:
                async for item in results:
                    yield item
        finally:
            await setup.finish()

    @overload
    async def create_many(
        self,
        requests: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: Literal[False] = False,
        progress: bool | Progress = False,
        stats: FanOutStats | None = None,
        on_result: Callable[[int, ChatCompletion | Exception], Any] | None = None,
        rate_limit: RateLimiter | None = None,
    ) -> list[ChatCompletion]: ...

    @overload
    async def create_many(
        self,
        requests: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool,
        progress: bool | Progress = False,
        stats: FanOutStats | None = None,
        on_result: Callable[[int, ChatCompletion | Exception], Any] | None = None,
        rate_limit: RateLimiter | None = None,
    ) -> list[ChatCompletion | Exception]: ...

    async def create_many(
        self,
        requests: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = False,
        progress: bool | Progress = False,
        stats: FanOutStats | None = None,
        on_result: Callable[[int, ChatCompletion | Exception], Any] | None = None,
        rate_limit: RateLimiter | None = None,
    ) -> list[ChatCompletion] | list[ChatCompletion | Exception]:
        """Run many ``create()`` calls and return their results in request order.

        Takes the arguments of :meth:`iter_many`. With ``return_exceptions=True`` a failed
        request's exception takes its place in the list; otherwise the first failure is
        raised and the rest cancelled.
        """
        setup = _FanOutSetup(self._client, requests, concurrency, progress, stats, rate_limit)
        try:
            return await run_many(
                setup.call,
                requests,
                concurrency=concurrency,
                limiter=setup.limiter,
                stats=setup.stats,
                return_exceptions=return_exceptions,
                on_result=on_result,
            )
        finally:
            await setup.finish()


class _FanOutSetup:
    """What both fan-out methods need: stats, the shared limiter, paced calls, the bar."""

    def __init__(
        self,
        client: Requester,
        requests: object,
        concurrency: int,
        progress: bool | Progress,
        stats: FanOutStats | None,
        rate_limit: RateLimiter | None = None,
    ) -> None:
        if stats is None:
            # A Progress of the caller's counts what it shows.
            stats = progress.stats if isinstance(progress, Progress) else FanOutStats()
        self.stats = stats
        if self.stats.total is None and isinstance(requests, Sized):
            self.stats.total = len(requests)
        # Every attempt of this fan-out goes through its one limiter: the workers make it
        # their calls' limiter (see _ratecontrol.current_limiter).
        self.limiter = AdaptiveLimiter(concurrency)
        self._pauses: SharedPauses | None = None
        if rate_limit is not None:
            from .._ratelimit import SharedPauses  # only fan-outs given a rate_limit need it

            self._pauses = SharedPauses(rate_limit)
            # Every request draws from the given budget instead of the client's, and a
            # server pause seen here holds back every sharer of that budget too.
            self.limiter.rate_limit = self._pauses.rate_limit
            self.limiter.on_pause = self._pauses.share
        self._completions = Completions(client)
        self._bar = (
            progress
            if isinstance(progress, Progress)
            else Progress(self.stats)
            if progress
            else None
        )
        if self._bar is not None:
            self._bar.follow(self.limiter, client.rate_limits)
            self._bar.start()

    def call(self, request: Mapping[str, Any]) -> Awaitable[ChatCompletion]:
        return self._completions.create(**request, stream=False)

    async def finish(self) -> None:
        if self._pauses is not None:
            await self._pauses.drain()
        if self._bar is not None:
            await self._bar.stop()


class Chat:
    """``client.chat``"""

    def __init__(self, client: Requester) -> None:
        self._client = client
        self.completions = Completions(client, lambda: self.deferred)
        self._deferred: Deferred | None = None

    @property
    def deferred(self) -> Deferred:
        """Collect deferred completions by request id."""
        if self._deferred is None:
            from .deferred import Deferred

            self._deferred = Deferred(self._client)
        return self._deferred
