"""The one chat completion call: ``create()`` with its typed overloads, its argument
checks and request, and the decoding of its answer.

:class:`BaseCompletions` is the root of ``client.chat.completions``
(:class:`~grok_async.resources.chat.Completions`): the fan-out methods
(``_chat_fanout``) and ``stream()``, ``parse()``, ``run_tools()`` (``chat``) are built on
its ``create()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

import orjson

from .._budget import estimate_tokens
from .._chat_stream import AsyncStream
from .._request_body import CHAT_BODY
from .._sentinels import NOT_GIVEN, NotGiven
from .._serialization import converter, decode_model
from .._timeout import TimeoutTypes
from ..types.chat import ChatCompletion, ChatCompletionChunk
from ._decode import parse_json

if TYPE_CHECKING:
    from .._requester import Requester
    from .._response import HTTPResponse
    from .deferred import Deferred, DeferredCompletion

__all__ = ["BaseCompletions", "parse_completion"]

_PATH = "/chat/completions"

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


class BaseCompletions:
    """Chat completions (``POST /v1/chat/completions``): :meth:`create`."""

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
            # Imported when first used, like everything beyond plain chat (see chat.py).
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
