"""``AsyncStream``: the stream of a chat completion (``create(stream=True)``, ``stream()``).

An :class:`~grok_async._streaming.EventStream` of :class:`ChatCompletionChunk` objects that
also assembles them (``ChatCompletionAccumulator``) into the final completion, whose
``usage`` settles the call's token budget and whose text and finish reasons go to the
tracing span when the stream ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from ._accumulator import ChatCompletionAccumulator
from ._constants import DEFAULT_MAX_EVENT_SIZE
from ._response import HTTPResponse
from ._streaming import EventStream, StreamManager
from .types.chat import ChatCompletion, ChatCompletionChunk

__all__ = ["AsyncStream", "ChatCompletionAccumulator", "ChatCompletionStreamManager"]

T = TypeVar("T")


class AsyncStream(EventStream[T]):
    """An async iterator of :class:`ChatCompletionChunk` objects; also an async context
    manager. :meth:`get_final_completion` returns the completion they make up.

    ``request_id`` is known before the first chunk. Leave the ``async with`` block, call
    :meth:`aclose`, or let the stream be garbage-collected to free the connection at once.
    """

    # Applied to what get_final_completion() assembles: a stream(..., response_format=cls)
    # call parses the reply into cls here (``_parsing.ParsedChatCompletionStreamManager``).
    _finalize: Callable[[ChatCompletion], ChatCompletion] | None = None

    def __init__(
        self,
        response: HTTPResponse,
        cls: type[T],
        *,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        super().__init__(response, cls, max_event_size=max_event_size)
        self._accumulator = ChatCompletionAccumulator()
        self._collect = self._accumulator.add  # type: ignore[assignment]

    def __aiter__(self) -> AsyncStream[T]:
        return self

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    def _is_error(self, payload: dict[str, Any]) -> bool:
        # A chunk may carry an "error" field of its own; only a payload without choices is
        # the server's error.
        return "choices" not in payload

    def _usage_tokens(self) -> int | None:
        usage = self._accumulator.usage
        return None if usage is None else usage.total_tokens

    def _final(self) -> object:
        try:
            return self._accumulator.completion()
        except Exception:  # nothing usable arrived
            return None

    async def text(self) -> AsyncIterator[str]:
        """Just the content deltas of the first choice, as they arrive."""
        async for chunk in self:
            for choice in chunk.choices:  # type: ignore[attr-defined]
                # Only choice 0: with n > 1 the choices' deltas interleave.
                if choice.index == 0 and choice.delta.content:
                    yield choice.delta.content

    async def get_final_completion(self) -> ChatCompletion:
        """Read the rest of the stream and return the assembled :class:`ChatCompletion`."""
        async for _ in self:
            pass
        completion = self._accumulator.completion()
        completion.request_id = self.request_id or completion.id
        if self._finalize is not None:
            completion = self._finalize(completion)
        return completion


class ChatCompletionStreamManager(StreamManager[AsyncStream[ChatCompletionChunk]]):
    """What ``client.chat.completions.stream(...)`` returns: ``async with`` it.

    The request is sent on entering the block, not before, so a manager that is never
    entered costs nothing.
    """
