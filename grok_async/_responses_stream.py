"""Streamed Responses: typed events, the stream that yields them, and the accumulator that
rebuilds the final :class:`~grok_async.types.responses.Response`.

A ``/v1/responses`` stream is SSE whose events are named (``event: response.output_text.delta``)
and whose JSON payloads repeat the name as ``"type"``. Decoding goes by the payload's
``type`` (by the event name when the payload has none); an unknown type becomes a plain
:class:`ResponseStreamEvent` holding the raw data, never an error.

How a stream ends:

* a terminal event (``response.completed``, ``response.failed``, ``response.incomplete``)
  and then the end of the body, or ``data: [DONE]``: a clean end;
* an ``error`` event (``event: error``, or a payload of type ``error``): an
  :class:`~grok_async.APIStatusError` with the server's status and message, raised after
  the events before it were delivered;
* the body ending before a terminal event: :class:`~grok_async.APIConnectionError`, as a
  chat stream ending before ``[DONE]``.

``response.failed`` is yielded like any event (the server did answer);
:meth:`ResponseStream.get_final_response` then raises :class:`ResponseFailedError`.

Events are structured by the converter's hook for
:class:`~grok_async.types.responses.ResponseStreamEvent`, which dispatches on ``"type"``
(registered where the types are defined, ``grok_async.types.responses``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from attrs import evolve

from ._constants import DEFAULT_MAX_EVENT_SIZE
from ._errors import GrokError
from ._response import HTTPResponse
from ._serialization import describe_structure_error
from ._sse import RawEvent
from ._streaming import EventStream, StreamManager, _error_event
from .types._base import WireModel
from .types.responses import (
    TERMINAL_EVENT_TYPES,
    ReasoningSummaryText,
    ReasoningText,
    Response,
    ResponseCompletedEvent,
    ResponseFailedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionToolCall,
    ResponseIncompleteEvent,
    ResponseLifecycleEvent,
    ResponseOutputItem,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningTextDeltaEvent,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
)

__all__ = ["ResponseAccumulator", "ResponseFailedError", "ResponseStream", "ResponseStreamManager"]


def _is_error(name: str, payload: Any) -> bool:
    if name == "error":
        return True
    if not isinstance(payload, dict):
        return False
    kind = payload.get("type")
    # A typed payload is an error only when it says so; an untyped one carrying "error"
    # is the chat-style error event some gateways send.
    return kind == "error" if kind is not None else "error" in payload


class ResponseFailedError(GrokError):
    """The streamed response ended with ``response.failed``.

    Raised by :meth:`ResponseStream.get_final_response`; ``response`` is the failed
    :class:`~grok_async.types.responses.Response` (its ``error`` says why), ``code`` the
    server's error code when it sent one.
    """

    def __init__(self, response: Response, *, request_id: str | None = None) -> None:
        error = response.error
        code = error.get("code") if isinstance(error, dict) else None
        text = error.get("message") if isinstance(error, dict) else error
        detail = f": {text}" if isinstance(text, str) and text else ""
        label = f" ({code})" if isinstance(code, (str, int)) else ""
        super().__init__(f"The response {response.id or '(no id)'} failed{label}{detail}")
        self.response = response
        self.code: str | int | None = code if isinstance(code, (str, int)) else None
        self.request_id = request_id


class ResponseStream(EventStream[ResponseStreamEvent]):
    """An async iterator of :class:`ResponseStreamEvent` objects (typed by ``event.type``);
    also an async context manager.

    As with chat streams, leaving the ``async with`` block, :meth:`aclose` or garbage
    collection frees the connection at once; ``request_id`` is known before the first
    event.
    """

    _end_marker = "its final event (response.completed, .failed or .incomplete)"

    def __init__(
        self, response: HTTPResponse, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
    ) -> None:
        super().__init__(response, ResponseStreamEvent, max_event_size=max_event_size)
        self._assembled = ResponseAccumulator()
        # Whether the server ended the stream (a terminal event, or [DONE]), as opposed
        # to the client closing it early.
        self._ended_by_server = False

    def _decode_event(self, event: RawEvent) -> ResponseStreamEvent:
        kind, data = event[0] or "message", event[1]
        payload = self._load(data)
        if _is_error(kind, payload):
            body = payload if isinstance(payload, dict) else {"error": payload}
            raise self._fail(_error_event(body, data, self.request_id))
        if isinstance(payload, dict) and "type" not in payload and kind != "message":
            # Named events whose payload leaves the name out: the name is the type.
            payload = {**payload, "type": kind}
        try:
            # The converter's hook for the base class dispatches on "type".
            decoded = self._structure(payload, ResponseStreamEvent)
        except Exception as exc:
            raise self._bad_event(
                data, f"did not match its type: {describe_structure_error(exc)}"
            ) from None
        self._assembled.add(decoded)
        if decoded.type in TERMINAL_EVENT_TYPES:
            self._complete = True
        if self.request_id is None and isinstance(decoded, ResponseLifecycleEvent):
            # No x-request-id header: the response id identifies the request instead.
            self.request_id = decoded.response.id if decoded.response is not None else None
        return decoded

    async def text(self) -> AsyncIterator[str]:
        """Just the output text deltas, as they arrive."""
        async for event in self:
            if isinstance(event, ResponseTextDeltaEvent) and event.delta:
                yield event.delta

    async def get_final_response(self) -> Response:
        """Read the rest of the stream and return the final :class:`Response`.

        Raises:
            ResponseFailedError: the stream ended with ``response.failed``.
            GrokError: the stream was closed (:meth:`aclose`, a ``break`` out of the
                ``async with`` block) before its final event: there is no final response,
                only part of one.
            APIStatusError, APIConnectionError: the stream itself failed.
        """
        async for _ in self:
            pass
        if not (self._complete or self._ended_by_server):
            error = GrokError(
                f"The stream was closed before {self._end_marker}: there is no final "
                "response. Call get_final_response() before closing the stream, or use "
                "the events already received."
            )
            error.request_id = self.request_id
            raise error
        response = self._assembled.response()
        response.request_id = self.request_id or response.id
        if response.status == "failed":
            raise ResponseFailedError(response, request_id=self.request_id)
        return response

    async def _finish(self) -> None:
        self._ended_by_server = True  # [DONE], or the body's end after the terminal event
        await super()._finish()

    def _final(self) -> object:
        # For the tracing span's usage and status when the stream ends.
        try:
            return self._assembled.response()
        except Exception:  # nothing usable arrived
            return None

    def _usage_tokens(self) -> int | None:
        final = self._assembled.final
        usage = None if final is None else final.usage
        return None if usage is None else usage.total_tokens


class ResponseStreamManager(StreamManager[ResponseStream]):
    """What ``client.responses.stream(...)`` returns: ``async with`` it.

    The request is sent on entering the block, not before.
    """


class _ItemState:
    """One output index while it streams: the item as last announced, and its pieces."""

    __slots__ = ("arguments", "done", "item", "reasoning", "summaries", "texts")

    def __init__(self) -> None:
        self.item: ResponseOutputItem | None = None
        self.done = False
        self.texts: dict[int, list[str]] = {}
        self.summaries: dict[int, list[str]] = {}
        self.reasoning: dict[int, list[str]] = {}
        self.arguments: list[str] = []


class ResponseAccumulator:
    """Assembles :class:`ResponseStreamEvent` objects into the final :class:`Response`.

    Works on any event source::

        acc = ResponseAccumulator()
        async for event in stream:
            acc.add(event)
        response = acc.response()

    The ``response`` carried by the terminal event (``response.completed``, ``.failed``,
    ``.incomplete``) is preferred. Its ``output`` is taken as sent unless it is empty while
    items were streamed; then, and when no terminal event came, the output is rebuilt: each
    item from its ``response.output_item.done`` event, or else from the text, reasoning and
    argument deltas seen for it.
    """

    def __init__(self) -> None:
        self._snapshot: Response | None = None
        self._final: Response | None = None
        self._final_type: str | None = None
        self._items: dict[int, _ItemState] = {}

    @property
    def final(self) -> Response | None:
        """The response a lifecycle event carried last (``None`` before one came)."""
        return self._final

    def _state(self, output_index: int) -> _ItemState:
        state = self._items.get(output_index)
        if state is None:
            state = self._items[output_index] = _ItemState()
        return state

    def add(self, event: ResponseStreamEvent) -> None:
        """Fold one event in (events of unknown type are ignored)."""
        if isinstance(event, ResponseLifecycleEvent):
            if event.response is not None:
                self._snapshot = event.response
            if isinstance(
                event, (ResponseCompletedEvent, ResponseFailedEvent, ResponseIncompleteEvent)
            ):
                self._final = event.response
                self._final_type = event.type
        elif isinstance(event, ResponseTextDeltaEvent):
            texts = self._state(event.output_index).texts
            texts.setdefault(event.content_index, []).append(event.delta)
        elif isinstance(event, ResponseFunctionCallArgumentsDeltaEvent):
            self._state(event.output_index).arguments.append(event.delta)
        elif isinstance(event, ResponseReasoningSummaryTextDeltaEvent):
            summaries = self._state(event.output_index).summaries
            summaries.setdefault(event.summary_index, []).append(event.delta)
        elif isinstance(event, ResponseReasoningTextDeltaEvent):
            reasoning = self._state(event.output_index).reasoning
            reasoning.setdefault(event.content_index, []).append(event.delta)
        elif isinstance(event, (ResponseOutputItemAddedEvent, ResponseOutputItemDoneEvent)):
            state = self._state(event.output_index)
            if event.item is not None:
                state.item = event.item
            if isinstance(event, ResponseOutputItemDoneEvent):
                state.done = True

    def response(self) -> Response:
        """The response assembled so far."""
        final = self._final
        if final is not None and (final.output or not self._items):
            return final
        base = final or self._snapshot
        output = [self._item(state) for _, state in sorted(self._items.items())]
        status = base.status if base is not None else None
        if final is None or status in (None, "in_progress"):
            status = _STATUS_BY_TERMINAL.get(self._final_type or "", status)
        if base is None:
            return Response(id="", output=output, status=status)
        # Every other field of the base is kept, those this library does not know too:
        # they live in raw, which evolve() (an __init__ call) would leave behind.
        response = evolve(base, output=output, status=status)
        if base.raw:
            wire: WireModel = response
            wire._raw = {
                **base.raw,
                "output": [item.to_dict() for item in output],
                "status": status,
            }
        return response

    @staticmethod
    def _item(state: _ItemState) -> ResponseOutputItem:
        item = state.item
        if state.done and item is not None:
            return item
        if isinstance(item, ResponseOutputMessage) or (item is None and state.texts):
            parts = [
                ResponseOutputText(text="".join(pieces))
                for _, pieces in sorted(state.texts.items())
            ]
            return ResponseOutputMessage(
                id=item.id if item is not None else None,
                status="completed",
                role=item.role if item is not None else "assistant",
                content=list(parts),
            )
        if isinstance(item, ResponseReasoningItem):
            return ResponseReasoningItem(
                id=item.id,
                status="completed",
                summary=[
                    ReasoningSummaryText(text="".join(pieces))
                    for _, pieces in sorted(state.summaries.items())
                ]
                or item.summary,
                content=[
                    ReasoningText(text="".join(pieces))
                    for _, pieces in sorted(state.reasoning.items())
                ]
                or item.content,
                encrypted_content=item.encrypted_content,
            )
        if isinstance(item, ResponseFunctionToolCall) and state.arguments:
            return evolve(item, arguments="".join(state.arguments), status="completed")
        return item if item is not None else ResponseOutputItem()


_STATUS_BY_TERMINAL = {
    "response.completed": "completed",
    "response.failed": "failed",
    "response.incomplete": "incomplete",
}
