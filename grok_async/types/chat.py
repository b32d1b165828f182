"""Response models of ``/v1/chat/completions``: completions, streamed chunks, usage.

Everything but what a caller cannot live without is optional, because xAI omits fields
more often than it sends ``null``; unknown fields stay reachable through ``.raw``.
"""

from __future__ import annotations

from typing import Any

from attrs import define, field

from .._events import Timings
from ._base import WireModel
from ._cost import CostInTicks

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "Choice",
    "ChoiceDelta",
    "ChunkChoice",
    "CompletionTokensDetails",
    "Function",
    "FunctionDelta",
    "PromptTokensDetails",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
]


@define
class PromptTokensDetails(WireModel):
    """How the prompt tokens divide (cached tokens are included in text tokens)."""

    text_tokens: int | None = None
    audio_tokens: int | None = None
    image_tokens: int | None = None
    cached_tokens: int | None = None


@define
class CompletionTokensDetails(WireModel):
    """How the completion tokens divide; ``reasoning_tokens`` are billed on top."""

    reasoning_tokens: int | None = None
    audio_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None


@define
class Usage(WireModel, CostInTicks):
    """Token counts and cost. On xAI ``completion_tokens`` excludes reasoning tokens, so
    ``total_tokens`` may exceed ``prompt_tokens + completion_tokens``; ``cost_usd`` is the
    cost in US dollars (None when the server sent none)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    #: Live Search sources used (billed per source); xAI-specific.
    num_sources_used: int | None = None
    #: Cost in USD ticks (1 USD = 10,000,000,000 ticks); xAI-specific, newer responses.
    cost_in_usd_ticks: int | None = None


@define
class Function(WireModel):
    """The function a tool call invokes; ``arguments`` is a JSON string."""

    name: str = ""
    arguments: str = ""


@define
class ToolCall(WireModel):
    """A tool call. Only ``type == "function"`` calls are for the client to execute; the
    others (``web_search_call``, ...) were run by xAI's server-side tools."""

    id: str = ""
    type: str = "function"
    function: Function = field(factory=Function)
    index: int | None = None


@define
class ChatCompletionMessage(WireModel):
    """The assistant's reply: content, reasoning trace, refusal or tool calls."""

    role: str = "assistant"
    content: str | None = None
    #: The model's reasoning trace (xAI reasoning models such as grok-3-mini).
    reasoning_content: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None


@define
class Choice(WireModel):
    """One answer of a completion (``n`` > 1 gives several)."""

    index: int = 0
    message: ChatCompletionMessage = field(factory=ChatCompletionMessage)
    #: ``stop``, ``length``, ``tool_calls``, ``end_turn`` (``""`` with tool calls is
    #: normalised to ``tool_calls``).
    finish_reason: str | None = None
    logprobs: Any = None


@define
class ChatCompletion(WireModel):
    """A chat completion: ``completion.choices[0].message.content``.

    ``id`` and ``choices`` are required: a body without them is not a completion.
    """

    id: str
    choices: list[Choice]
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    usage: Usage | None = None
    system_fingerprint: str | None = None
    #: URLs of the sources Live Search used; xAI-specific.
    citations: list[str] | None = None
    #: Files produced by server-side code execution; xAI-specific.
    output_files: list[Any] | None = None
    #: The ``x-request-id`` of the response (else the completion ``id``); set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)
    #: How long the call took (attempts, pool wait, time to headers); set by the client.
    timings: Timings | None = field(default=None, eq=False, repr=False)


# -- streaming --------------------------------------------------------------------------------


@define
class FunctionDelta(WireModel):
    """A piece of a streamed function call: the name once, arguments in pieces."""

    name: str | None = None
    arguments: str | None = None


@define
class ToolCallDelta(WireModel):
    """A fragment of a tool call; fragments with the same ``index`` form one call."""

    index: int = 0
    id: str | None = None
    type: str | None = None
    function: FunctionDelta | None = None


@define
class ChoiceDelta(WireModel):
    """What one chunk adds to a choice: a piece of content, reasoning or tool calls."""

    role: str | None = None
    content: str | None = None
    reasoning_content: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


@define
class ChunkChoice(WireModel):
    """One choice's part of a streamed chunk; ``finish_reason`` on its last one."""

    index: int = 0
    delta: ChoiceDelta = field(factory=ChoiceDelta)
    finish_reason: str | None = None
    logprobs: Any = None


@define
class ChatCompletionChunk(WireModel):
    """One streamed event. ``choices`` is empty on the final usage-only chunk."""

    id: str = ""
    object: str = "chat.completion.chunk"
    created: int = 0
    model: str = ""
    choices: list[ChunkChoice] = field(factory=list)
    usage: Usage | None = None
    system_fingerprint: str | None = None
    citations: list[str] | None = None
