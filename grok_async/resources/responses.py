"""``client.responses``: create, stream, retrieve, delete (``/v1/responses``, xAI's current API)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from .._request_body import RESPONSES_BODY
from .._responses_stream import ResponseStream, ResponseStreamManager
from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutTypes
from ..types.responses import Response, ResponseDeleted
from ._decode import decode_object, path_segment

if TYPE_CHECKING:
    from .._requester import Requester
    from .._response import HTTPResponse

__all__ = ["Responses"]

_PATH = "/responses"

M = TypeVar("M", Response, ResponseDeleted)


def _input(value: Any) -> Any:
    """``input`` as it goes on the wire: a string, or a list of items (dicts or attrs)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(
            "input must be a string or a list of input items, "
            "e.g. [{'role': 'user', 'content': 'Hi'}]"
        )
    return value if isinstance(value, list) else list(value)


def _response_path(response_id: str) -> str:
    return f"{_PATH}/{path_segment(response_id, 'response_id')}"


def _decode(reply: HTTPResponse, cls: type[M]) -> M:
    """The body as ``cls``; without an ``x-request-id`` the response id stands in for it."""
    model = decode_object(reply, cls)
    model.request_id = reply.request_id or model.id
    return model


def _decode_response(reply: HTTPResponse) -> Response:
    response = _decode(reply, Response)
    response.timings = reply.timings
    return response


def _decode_deleted(reply: HTTPResponse) -> ResponseDeleted:
    return _decode(reply, ResponseDeleted)


class Responses:
    """The Responses API (``/v1/responses``): stateful conversations (``store``,
    ``previous_response_id``), reasoning, client and server-side tools."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    @overload
    async def create(
        self,
        *,
        model: str,
        input: str | Iterable[Any],
        stream: Literal[False] | None = None,
        instructions: str | None = None,
        previous_response_id: str | None = None,
        tools: Iterable[Any] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        reasoning: Mapping[str, Any] | None = None,
        include: Iterable[str] | None = None,
        store: bool | None = None,
        max_output_tokens: int | None = None,
        max_turns: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        text: Mapping[str, Any] | None = None,
        search_parameters: Mapping[str, Any] | Any | None = None,
        prompt_cache_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> Response: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        input: str | Iterable[Any],
        stream: Literal[True],
        instructions: str | None = None,
        previous_response_id: str | None = None,
        tools: Iterable[Any] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        reasoning: Mapping[str, Any] | None = None,
        include: Iterable[str] | None = None,
        store: bool | None = None,
        max_output_tokens: int | None = None,
        max_turns: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        text: Mapping[str, Any] | None = None,
        search_parameters: Mapping[str, Any] | Any | None = None,
        prompt_cache_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> ResponseStream: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        input: str | Iterable[Any],
        stream: bool | None = None,
        instructions: str | None = None,
        previous_response_id: str | None = None,
        tools: Iterable[Any] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        reasoning: Mapping[str, Any] | None = None,
        include: Iterable[str] | None = None,
        store: bool | None = None,
        max_output_tokens: int | None = None,
        max_turns: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        text: Mapping[str, Any] | None = None,
        search_parameters: Mapping[str, Any] | Any | None = None,
        prompt_cache_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> Response | ResponseStream: ...

    async def create(
        self,
        *,
        model: str,
        input: str | Iterable[Any],
        stream: bool | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Any,
    ) -> Response | ResponseStream:
        """Create a response, or with ``stream=True`` a :class:`ResponseStream` of events.

        ``input`` is a string or a list of input items (dicts or attrs objects): messages
        ``{"role": ..., "content": ...}``, earlier output items, and
        ``{"type": "function_call_output", "call_id": ..., "output": ...}`` results. Every
        other parameter of the xAI API is keyword-only and optional; ``None`` means "not
        sent" (the server's default applies: ``store`` is true there, so responses are
        kept 30 days and can be chained with ``previous_response_id``). Per-call
        transport options: ``extra_headers``, ``extra_body`` (merged into the JSON body
        last), ``timeout`` and ``max_retries``.

        Example::

            first = await client.responses.create(model="grok-4", input="Name a colour.")
            print(first.output_text)
            second = await client.responses.create(
                model="grok-4", input="And another?", previous_response_id=first.id
            )

        Raises:
            APIStatusError: a 4xx/5xx answer (before any event, for streams), e.g.
                :class:`NotFoundError` for an unknown model or ``previous_response_id``.
            APIConnectionError, APITimeoutError: after the retries are spent.
            APIResponseValidationError: a body that is not a response.
        """
        body = RESPONSES_BODY.build(
            {"model": model, "input": _input(input)}, stream, params, extra_body
        )
        client = self._client
        if stream:
            response = await client.open_stream(
                "POST",
                _PATH,
                body=body,
                extra_headers=extra_headers,
                timeout=timeout,
                max_retries=max_retries,
                model=model,
            )
            return ResponseStream(response, max_event_size=client.max_event_size)
        return await client.request(
            "POST",
            _PATH,
            body=body,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            model=model,
            decode=_decode_response,
        )

    def stream(
        self, *, model: str, input: str | Iterable[Any], **kwargs: Any
    ) -> ResponseStreamManager:
        """``async with client.responses.stream(...) as stream:`` — a streamed response whose
        connection is closed when the block ends. Takes the arguments of :meth:`create`::

            async with client.responses.stream(model="grok-4", input="Hi") as stream:
                async for text in stream.text():
                    print(text, end="")
                final = await stream.get_final_response()
        """
        kwargs.pop("stream", None)
        return ResponseStreamManager(
            lambda: self.create(model=model, input=input, stream=True, **kwargs)
        )

    async def retrieve(
        self,
        response_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> Response:
        """Fetch a stored response (``GET /v1/responses/{id}``).

        The id is sent as one escaped path segment: an id with ``/`` or ``?`` in it is
        looked up as it is (and not found), it never reaches another endpoint.

        Raises:
            NotFoundError: no stored response has this id (never stored, deleted, expired).
            ValueError: ``response_id`` is empty, ``"."`` or ``".."``; nothing is sent.
        """
        return await self._client.request(
            "GET",
            _response_path(response_id),
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=_decode_response,
        )

    async def delete(
        self,
        response_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> ResponseDeleted:
        """Delete a stored response (``DELETE /v1/responses/{id}``).

        Raises:
            NotFoundError: no stored response has this id.
            ValueError: ``response_id`` is empty, ``"."`` or ``".."``; nothing is sent.
            APIResponseValidationError: the answer is not a deletion result.
        """
        return await self._client.request(
            "DELETE",
            _response_path(response_id),
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=_decode_deleted,
        )
