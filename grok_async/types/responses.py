"""Response models of ``/v1/responses`` (xAI's current API): responses, output items, usage,
and the typed events of a streamed response.

Output items, content parts and stream events are each a family keyed by their ``"type"``:
the known types decode into their own class (the server-side tool calls
``web_search_call``, ``file_search_call``, ``code_interpreter_call``, ``mcp_call`` and
``custom_tool_call`` included), anything else into the family's base class
(:class:`ResponseOutputItem`, :class:`ResponseContentPart`, :class:`ResponseStreamEvent`),
which keeps every field in ``.raw``. So an item or event type this library does not know
yet never raises; check ``.type`` or use ``isinstance``.

Importing this module teaches the converter these families (see :func:`_register_tagged`
at the end), so ``converter.structure(data, Response)`` gives typed items whatever else
was imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from attrs import define, field

from .._events import Timings
from .._serialization import converter
from ._base import WireModel
from ._cost import CostInTicks, ticks_to_usd
from ._round_trip import keep_unknown_fields

__all__ = [
    "CONTENT_PART_TYPES",
    "EVENT_TYPES",
    "OUTPUT_ITEM_TYPES",
    "TERMINAL_EVENT_TYPES",
    "CodeInterpreterOutput",
    "FileSearchResult",
    "InputTokensDetails",
    "OutputTokensDetails",
    "ReasoningSummaryText",
    "ReasoningText",
    "Response",
    "ResponseAnnotation",
    "ResponseCodeInterpreterCall",
    "ResponseCompletedEvent",
    "ResponseContentPart",
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseCreatedEvent",
    "ResponseCustomToolCall",
    "ResponseDeleted",
    "ResponseFailedEvent",
    "ResponseFileSearchCall",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseFunctionToolCall",
    "ResponseInProgressEvent",
    "ResponseIncompleteDetails",
    "ResponseIncompleteEvent",
    "ResponseLifecycleEvent",
    "ResponseMcpCall",
    "ResponseOutputItem",
    "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseOutputMessage",
    "ResponseOutputRefusal",
    "ResponseOutputText",
    "ResponseReasoningItem",
    "ResponseReasoningSummaryTextDeltaEvent",
    "ResponseReasoningSummaryTextDoneEvent",
    "ResponseReasoningTextDeltaEvent",
    "ResponseReasoningTextDoneEvent",
    "ResponseStreamEvent",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "ResponseUsage",
    "ResponseWebSearchCall",
    "ServerSideToolUsage",
    "WebSearchAction",
    "WebSearchSource",
]


# -- usage ------------------------------------------------------------------------------------


@define
class InputTokensDetails(WireModel):
    """How the input tokens divide: ``cached_tokens`` were reused from earlier requests."""

    cached_tokens: int | None = None


@define
class OutputTokensDetails(WireModel):
    """How the output tokens divide: ``reasoning_tokens`` were spent thinking."""

    reasoning_tokens: int | None = None


@define
class ServerSideToolUsage(WireModel):
    """How many times each server-side tool ran for a response (xAI-specific)."""

    web_search_calls: int = 0
    x_search_calls: int = 0
    code_interpreter_calls: int = 0
    file_search_calls: int = 0
    mcp_calls: int = 0
    document_search_calls: int = 0


@define
class ResponseUsage(WireModel, CostInTicks):
    """Token counts and cost of a response. As on chat completions, ``total_tokens`` may
    exceed ``input_tokens + output_tokens``: xAI counts reasoning tokens apart."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_tokens_details: InputTokensDetails | None = None
    output_tokens_details: OutputTokensDetails | None = None
    #: Live Search sources used (billed per source); xAI-specific.
    num_sources_used: int | None = None
    #: Server-side tool calls made (web search, X search, code execution, ...); xAI-specific.
    num_server_side_tools_used: int | None = None
    #: Cost in USD ticks (1 USD = 10,000,000,000 ticks); xAI-specific.
    cost_in_usd_ticks: int | None = None
    #: Cost in billionths of a USD: the OpenAPI document's other cost field, read by
    #: ``cost_usd`` when no ticks came.
    cost_in_nano_usd: int | None = None
    #: Server-side tool calls by kind (``web_search_calls``, ``x_search_calls``, ...).
    server_side_tool_usage_details: ServerSideToolUsage | None = None

    @property
    def cost_usd(self) -> float | None:
        """What the response cost in US dollars: from ``cost_in_usd_ticks``, else from
        ``cost_in_nano_usd``; None when the server sent neither."""
        if self.cost_in_usd_ticks is None and self.cost_in_nano_usd is not None:
            return self.cost_in_nano_usd / 1e9
        return ticks_to_usd(self.cost_in_usd_ticks)


# -- content parts ----------------------------------------------------------------------------


@define
class ResponseContentPart(WireModel):
    """One part of an output message's content; a part of unknown type is this class."""

    type: str = ""


@define
class ResponseAnnotation(WireModel):
    """A citation inside output text: ``type`` ``url_citation``, the source's ``url`` and
    ``title``, and the span of the text it backs (``text[start_index:end_index]``). The
    server-side search tools cite their sources this way."""

    type: str = ""
    url: str | None = None
    title: str | None = None
    start_index: int | None = None
    end_index: int | None = None


@define
class ResponseOutputText(ResponseContentPart):
    """Text the model wrote, with the citations (``annotations``) that back it."""

    type: str = "output_text"
    text: str = ""
    annotations: list[ResponseAnnotation] = field(factory=list)
    logprobs: Any = None


@define
class ResponseOutputRefusal(ResponseContentPart):
    """The model declined to answer; ``refusal`` says why."""

    type: str = "refusal"
    refusal: str = ""


#: Content part classes by their ``type``; other types decode as :class:`ResponseContentPart`.
CONTENT_PART_TYPES: Mapping[str, type[ResponseContentPart]] = {
    "output_text": ResponseOutputText,
    "refusal": ResponseOutputRefusal,
}


# -- output items -----------------------------------------------------------------------------


@define
class ResponseOutputItem(WireModel):
    """One item of a response's ``output``. Items of a type without a class of their own
    (server-side tool calls such as ``web_search_call``) are this class; read their other
    fields from ``.raw``."""

    type: str = ""
    id: str | None = None
    #: ``completed``, ``in_progress`` or ``incomplete``.
    status: str | None = None


@define
class ResponseOutputMessage(ResponseOutputItem):
    """A message from the model: ``content`` holds output text and refusal parts."""

    type: str = "message"
    role: str = "assistant"
    content: list[ResponseContentPart] = field(factory=list)


@define
class ResponseFunctionToolCall(ResponseOutputItem):
    """A call of one of your ``function`` tools: run it and send the result back as a
    ``{"type": "function_call_output", "call_id": ..., "output": ...}`` input item."""

    type: str = "function_call"
    call_id: str = ""
    name: str = ""
    #: The arguments as a JSON string.
    arguments: str = ""


@define
class ReasoningSummaryText(WireModel):
    """A summary of the model's reasoning."""

    type: str = "summary_text"
    text: str = ""


@define
class ReasoningText(WireModel):
    """The model's reasoning text itself."""

    type: str = "reasoning_text"
    text: str = ""


@define
class ResponseReasoningItem(ResponseOutputItem):
    """The model's reasoning: a ``summary``, the reasoning ``content`` when the model shares
    it, and ``encrypted_content`` when ``include=["reasoning.encrypted_content"]`` asked
    for it (send the item back as input to continue without storing the response)."""

    type: str = "reasoning"
    summary: list[ReasoningSummaryText] = field(factory=list)
    content: list[ReasoningText] | None = None
    encrypted_content: str | None = None


@define
class WebSearchSource(WireModel):
    """A page a web search found or opened."""

    type: str = "url"
    url: str | None = None


@define
class WebSearchAction(WireModel):
    """What a web search call did: ``search`` (a ``query``, and the ``sources`` found),
    ``open_page`` (a ``url``) or ``find`` (a ``pattern`` in a page, its ``source``)."""

    type: str = ""
    query: str | None = None
    sources: list[WebSearchSource] = field(factory=list)
    url: str | None = None
    pattern: str | None = None
    source: WebSearchSource | None = None


@define
class ResponseWebSearchCall(ResponseOutputItem):
    """A web search the server ran for the model (the ``web_search`` tool)."""

    type: str = "web_search_call"
    action: WebSearchAction | None = None


@define
class FileSearchResult(WireModel):
    """A chunk a file search found: the document (``file_id``, ``filename``), the chunk's
    ``text`` and its relevance ``score``."""

    file_id: str = ""
    filename: str = ""
    text: str = ""
    score: float = 0.0


@define
class ResponseFileSearchCall(ResponseOutputItem):
    """A search of your collections the server ran for the model (``file_search``)."""

    type: str = "file_search_call"
    queries: list[str] = field(factory=list)
    results: list[FileSearchResult] = field(factory=list)


@define
class CodeInterpreterOutput(WireModel):
    """What the code printed (``type`` ``logs``: the ``logs``) or drew (``image``: a ``url``)."""

    type: str = ""
    logs: str | None = None
    url: str | None = None


@define
class ResponseCodeInterpreterCall(ResponseOutputItem):
    """Code the server ran for the model (the ``code_interpreter`` tool), and its output."""

    type: str = "code_interpreter_call"
    code: str | None = None
    outputs: list[CodeInterpreterOutput] = field(factory=list)


@define
class ResponseMcpCall(ResponseOutputItem):
    """A tool of a remote MCP server called for the model (the ``mcp`` tool): its
    ``name``, the server's label, the ``arguments`` (a JSON string), its ``output``, or
    its ``error``."""

    type: str = "mcp_call"
    name: str = ""
    server_label: str = ""
    arguments: str = ""
    output: str | None = None
    error: str | None = None


@define
class ResponseCustomToolCall(ResponseOutputItem):
    """Another server-side tool's call (xAI reports some, such as its X searches, this
    way): the tool's ``name`` and its ``input``."""

    type: str = "custom_tool_call"
    call_id: str = ""
    name: str = ""
    input: str | None = None


#: Output item classes by their ``type``; other types decode as :class:`ResponseOutputItem`.
OUTPUT_ITEM_TYPES: Mapping[str, type[ResponseOutputItem]] = {
    "message": ResponseOutputMessage,
    "function_call": ResponseFunctionToolCall,
    "reasoning": ResponseReasoningItem,
    "web_search_call": ResponseWebSearchCall,
    "file_search_call": ResponseFileSearchCall,
    "code_interpreter_call": ResponseCodeInterpreterCall,
    "mcp_call": ResponseMcpCall,
    "custom_tool_call": ResponseCustomToolCall,
}


# -- the response -----------------------------------------------------------------------------


@define
class ResponseIncompleteDetails(WireModel):
    """Why a response stopped early: ``max_output_tokens``, ``max_prompt_tokens``, ..."""

    reason: str | None = None


@define
class Response(WireModel):
    """A model response: ``response.output_text`` for the answer, ``response.output`` for
    every item (messages, function calls, reasoning, server-side tool calls).

    ``id`` is required: a body without it is not a response.
    """

    id: str
    object: str = "response"
    created_at: int = 0
    #: When the response completed (Unix seconds); only set once it has.
    completed_at: int | None = None
    model: str = ""
    output: list[ResponseOutputItem] = field(factory=list)
    #: ``completed``, ``in_progress``, ``incomplete`` or ``failed``.
    status: str | None = None
    incomplete_details: ResponseIncompleteDetails | None = None
    #: What went wrong when ``status`` is ``failed``: usually ``{"code", "message"}``.
    error: Any = None
    usage: ResponseUsage | None = None
    previous_response_id: str | None = None
    instructions: Any = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    tool_choice: Any = None
    tools: list[Any] | None = None
    reasoning: Any = None
    text: Any = None
    #: Whether the server keeps the response for :meth:`retrieve` and chaining (30 days).
    store: bool | None = None
    user: str | None = None
    metadata: Any = None
    #: The ``x-request-id`` of the response (else the response ``id``); set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)
    #: How long the call took (attempts, pool wait, time to headers); set by the client.
    timings: Timings | None = field(default=None, eq=False, repr=False)

    @property
    def output_text(self) -> str:
        """The text of every output message, concatenated (``""`` when there is none)."""
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, ResponseOutputMessage)
            for part in item.content
            if isinstance(part, ResponseOutputText)
        )


@define
class ResponseDeleted(WireModel):
    """What ``client.responses.delete(id)`` returns."""

    id: str = ""
    object: str = "response"
    deleted: bool = False
    #: The ``x-request-id`` of the response; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)


# -- stream events ----------------------------------------------------------------------------


@define
class ResponseStreamEvent(WireModel):
    """One event of a streamed response. The base of every event class; an event of a
    type this library does not know is this class itself, with its fields in ``.raw``."""

    type: str = ""
    #: The event's position in the stream.
    sequence_number: int | None = None


@define
class ResponseLifecycleEvent(ResponseStreamEvent):
    """An event carrying the whole response as it stands (created, in progress, done)."""

    response: Response | None = None


@define
class ResponseCreatedEvent(ResponseLifecycleEvent):
    """``response.created``: the first event; the response has its ``id``."""

    type: str = "response.created"


@define
class ResponseInProgressEvent(ResponseLifecycleEvent):
    """``response.in_progress``: the model is working."""

    type: str = "response.in_progress"


@define
class ResponseCompletedEvent(ResponseLifecycleEvent):
    """``response.completed``: the last event of a successful response, with its usage."""

    type: str = "response.completed"


@define
class ResponseFailedEvent(ResponseLifecycleEvent):
    """``response.failed``: the last event of a response that failed; ``response.error``
    says why."""

    type: str = "response.failed"


@define
class ResponseIncompleteEvent(ResponseLifecycleEvent):
    """``response.incomplete``: the last event of a response cut short;
    ``response.incomplete_details`` says why."""

    type: str = "response.incomplete"


@define
class ResponseOutputItemAddedEvent(ResponseStreamEvent):
    """``response.output_item.added``: a new output item begins."""

    type: str = "response.output_item.added"
    output_index: int = 0
    item: ResponseOutputItem | None = None


@define
class ResponseOutputItemDoneEvent(ResponseStreamEvent):
    """``response.output_item.done``: an output item is complete."""

    type: str = "response.output_item.done"
    output_index: int = 0
    item: ResponseOutputItem | None = None


@define
class ResponseContentPartAddedEvent(ResponseStreamEvent):
    """``response.content_part.added``: a message's new content part begins."""

    type: str = "response.content_part.added"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: ResponseContentPart | None = None


@define
class ResponseContentPartDoneEvent(ResponseStreamEvent):
    """``response.content_part.done``: a content part is complete."""

    type: str = "response.content_part.done"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: ResponseContentPart | None = None


@define
class ResponseTextDeltaEvent(ResponseStreamEvent):
    """``response.output_text.delta``: the next piece of output text."""

    type: str = "response.output_text.delta"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""
    logprobs: Any = None


@define
class ResponseTextDoneEvent(ResponseStreamEvent):
    """``response.output_text.done``: a text part is complete; ``text`` is all of it."""

    type: str = "response.output_text.done"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    text: str = ""
    logprobs: Any = None


@define
class ResponseReasoningSummaryTextDeltaEvent(ResponseStreamEvent):
    """``response.reasoning_summary_text.delta``: the next piece of a reasoning summary."""

    type: str = "response.reasoning_summary_text.delta"
    item_id: str = ""
    output_index: int = 0
    summary_index: int = 0
    delta: str = ""


@define
class ResponseReasoningSummaryTextDoneEvent(ResponseStreamEvent):
    """``response.reasoning_summary_text.done``: a reasoning summary is complete."""

    type: str = "response.reasoning_summary_text.done"
    item_id: str = ""
    output_index: int = 0
    summary_index: int = 0
    text: str = ""


@define
class ResponseReasoningTextDeltaEvent(ResponseStreamEvent):
    """``response.reasoning_text.delta``: the next piece of the reasoning itself."""

    type: str = "response.reasoning_text.delta"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""


@define
class ResponseReasoningTextDoneEvent(ResponseStreamEvent):
    """``response.reasoning_text.done``: a reasoning text is complete."""

    type: str = "response.reasoning_text.done"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    text: str = ""


@define
class ResponseFunctionCallArgumentsDeltaEvent(ResponseStreamEvent):
    """``response.function_call_arguments.delta``: the next piece of a call's arguments."""

    type: str = "response.function_call_arguments.delta"
    item_id: str = ""
    output_index: int = 0
    delta: str = ""


@define
class ResponseFunctionCallArgumentsDoneEvent(ResponseStreamEvent):
    """``response.function_call_arguments.done``: a call's arguments are complete."""

    type: str = "response.function_call_arguments.done"
    item_id: str = ""
    output_index: int = 0
    arguments: str = ""
    name: str | None = None


_EVENT_CLASSES: tuple[type[ResponseStreamEvent], ...] = (
    ResponseCreatedEvent,
    ResponseInProgressEvent,
    ResponseCompletedEvent,
    ResponseFailedEvent,
    ResponseIncompleteEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningSummaryTextDoneEvent,
    ResponseReasoningTextDeltaEvent,
    ResponseReasoningTextDoneEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
)

#: Event classes by their ``type``; other types decode as :class:`ResponseStreamEvent`.
EVENT_TYPES: Mapping[str, type[ResponseStreamEvent]] = {cls().type: cls for cls in _EVENT_CLASSES}

#: The event types that end a response stream (one of them comes last).
TERMINAL_EVENT_TYPES = frozenset({"response.completed", "response.failed", "response.incomplete"})


# -- decoding by type -------------------------------------------------------------------------

_Hook = Callable[[Any, Any], Any]


def _register_tagged(base: type[Any], by_type: Mapping[str, type[Any]]) -> None:
    """Make ``base`` decode as the subclass its ``"type"`` names, else as ``base`` itself,
    and encode every object by its own class (a field typed ``list[ResponseContentPart]``
    holding :class:`ResponseOutputText` parts keeps their ``text``).

    ``base``'s own generated hooks are taken before the dispatchers replace them; the
    dispatchers match ``base`` exactly, so the subclasses keep their generated hooks. This
    runs when the module is imported, before any class of it can be structured: cattrs
    caches the hook of a class such as :class:`Response` on first use, and one built
    earlier would decode every item as the base class.
    """
    generic: _Hook = converter.get_structure_hook(base)
    generic_unstructure: Callable[[Any], Any] = converter.get_unstructure_hook(base)
    hooks: dict[str, _Hook] = {}

    def unstructure(obj: Any) -> Any:
        cls = obj.__class__
        if cls is base:
            return generic_unstructure(obj)
        return converter.unstructure(obj, unstructure_as=cls)

    converter.register_unstructure_hook_func(lambda t: t is base, unstructure)

    def structure(data: Any, _: Any) -> Any:
        kind = data.get("type") if data.__class__ is dict else None
        cls = by_type.get(kind) if isinstance(kind, str) else None
        if cls is None:
            return generic(data, base)
        hook = hooks.get(kind)  # type: ignore[arg-type]
        if hook is None:
            hook = hooks[kind] = converter.get_structure_hook(cls)  # type: ignore[index]
        return hook(data, cls)

    converter.register_structure_hook_func(lambda t: t is base, structure)


# Parts before items (a message's hook, built on first use, finds the parts' dispatcher).
_register_tagged(ResponseContentPart, CONTENT_PART_TYPES)
_register_tagged(ResponseOutputItem, OUTPUT_ITEM_TYPES)
_register_tagged(ResponseStreamEvent, EVENT_TYPES)
# Output items go back to the server as input: with every field it sent (issue #18). The
# parts first: an item's hook, made here, binds the hooks of its fields' types.
keep_unknown_fields(
    [
        ResponseAnnotation,
        ReasoningSummaryText,
        ReasoningText,
        WebSearchSource,
        WebSearchAction,
        FileSearchResult,
        CodeInterpreterOutput,
        *CONTENT_PART_TYPES.values(),
        ResponseContentPart,
        *OUTPUT_ITEM_TYPES.values(),
        ResponseOutputItem,
    ]
)
