"""grok_async: the asyncio-first Python client for the xAI Grok API.

from grok_async import AsyncGrok

async with AsyncGrok() as client:
    reply = await client.chat.completions.create(
        model="grok-4", messages=[{"role": "user", "content": "Hi"}]
    )
"""

from typing import TYPE_CHECKING

import attrs

from ._client import AsyncGrok
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GrokError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._fanout import FanOutStats, Progress
from ._observe import HookEvent, Hooks, PoolStats, Timings
from ._parsing import ParsedChatCompletionStreamManager, StructuredOutputError
from ._responses_stream import (
    ResponseAccumulator,
    ResponseFailedError,
    ResponseStream,
    ResponseStreamManager,
)
from ._schema import json_schema
from ._sentinels import NOT_GIVEN, NotGiven
from ._streaming import AsyncStream, ChatCompletionAccumulator, ChatCompletionStreamManager
from ._timeout import Timeout
from ._tools import (
    FunctionTool,
    MaxToolRoundsError,
    ToolArgumentsError,
    ToolCallResult,
    ToolRunResult,
    function_tool,
    run_tools,
)
from ._version import __version__
from .resources.deferred import DeferredCompletion
from .types import (
    APIKeyInfo,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    Choice,
    ChoiceDelta,
    ChunkChoice,
    CompletionTokensDetails,
    ContentPart,
    FilePart,
    FileRef,
    Function,
    FunctionDefinition,
    FunctionDelta,
    FunctionMessage,
    GeneratedImage,
    ImageGenerationModel,
    ImagePart,
    ImagesResponse,
    ImageURL,
    ImageUsage,
    InputTokensDetails,
    JSONSchema,
    LanguageModel,
    Message,
    Model,
    ModelPricing,
    NewsSource,
    OutputTokensDetails,
    ParsedChatCompletion,
    ParsedChatCompletionMessage,
    ParsedChoice,
    PromptTokensDetails,
    ReasoningSummaryText,
    ReasoningText,
    Response,
    ResponseAnnotation,
    ResponseCompletedEvent,
    ResponseContentPart,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseDeleted,
    ResponseFailedEvent,
    ResponseFormat,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseIncompleteDetails,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseLifecycleEvent,
    ResponseOutputItem,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseReasoningItem,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningSummaryTextDoneEvent,
    ResponseReasoningTextDeltaEvent,
    ResponseReasoningTextDoneEvent,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
    RssSource,
    SearchParameters,
    SearchSource,
    StreamOptions,
    SystemMessage,
    TextPart,
    Token,
    TokenizeResult,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
    ToolChoiceFunction,
    ToolMessage,
    Usage,
    UserMessage,
    WebSource,
    XSource,
)

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIKeyInfo",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AssistantMessage",
    "AsyncGrok",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatCompletionAccumulator",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionStreamManager",
    "Choice",
    "ChoiceDelta",
    "ChunkChoice",
    "CompletionTokensDetails",
    "ConflictError",
    "ContentPart",
    "DeferredCompletion",
    "FanOutStats",
    "FilePart",
    "FileRef",
    "Function",
    "FunctionDefinition",
    "FunctionDelta",
    "FunctionMessage",
    "FunctionTool",
    "GeneratedImage",
    "GrokError",
    "HookEvent",
    "Hooks",
    "ImageGenerationModel",
    "ImagePart",
    "ImageURL",
    "ImageUsage",
    "ImagesResponse",
    "InputTokensDetails",
    "InternalServerError",
    "JSONSchema",
    "LanguageModel",
    "MaxToolRoundsError",
    "Message",
    "Model",
    "ModelPricing",
    "NewsSource",
    "NotFoundError",
    "NotGiven",
    "OutputTokensDetails",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChatCompletionStreamManager",
    "ParsedChoice",
    "PermissionDeniedError",
    "PoolStats",
    "Progress",
    "PromptTokensDetails",
    "RateLimitError",
    "RateLimiter",
    "RateLimiterError",
    "ReasoningSummaryText",
    "RedisRateLimiter",
    "ReasoningText",
    "Response",
    "ResponseAccumulator",
    "ResponseAnnotation",
    "ResponseCompletedEvent",
    "ResponseContentPart",
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseCreatedEvent",
    "ResponseDeleted",
    "ResponseFailedError",
    "ResponseFailedEvent",
    "ResponseFormat",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseFunctionToolCall",
    "ResponseInProgressEvent",
    "ResponseIncompleteDetails",
    "ResponseIncompleteEvent",
    "ResponseLifecycleEvent",
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
    "ResponseStream",
    "ResponseStreamEvent",
    "ResponseStreamManager",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "ResponseUsage",
    "RssSource",
    "SearchParameters",
    "SearchSource",
    "StreamOptions",
    "StructuredOutputError",
    "SystemMessage",
    "TextPart",
    "Timeout",
    "Timings",
    "Token",
    "TokenizeResult",
    "Tool",
    "ToolArgumentsError",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallResult",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolMessage",
    "ToolRunResult",
    "UnprocessableEntityError",
    "Usage",
    "UserMessage",
    "WebSource",
    "XSource",
    "__version__",
    "function_tool",
    "json_schema",
    "run_tools",
]


if TYPE_CHECKING:
    from ._ratelimit import RateLimiter, RateLimiterError
    from ._redis_limiter import RedisRateLimiter

# Imported on first use, so `import grok_async` costs nothing more for them: most programs
# never share a rate limit between processes.
_LAZY = {
    "RateLimiter": "._ratelimit",
    "RateLimiterError": "._ratelimit",
    "RedisRateLimiter": "._redis_limiter",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'grok_async' has no attribute {name!r}")
    import importlib

    value: object = getattr(importlib.import_module(module, __name__), name)
    value.__module__ = "grok_async"
    globals()[name] = value
    return value


def _rehome() -> None:
    # Tracebacks and reprs say grok_async.RateLimitError, not grok_async._errors.RateLimitError.
    ours = [
        obj
        for obj in (globals()[name] for name in __all__ if name not in _LAZY)
        if isinstance(obj, type) and obj.__module__.startswith("grok_async.")
    ]
    # First resolve every string annotation, while each class's defining module is still
    # known: a subclass's hints include its bases', looked up in the bases' modules.
    for cls in ours:
        if attrs.has(cls):
            attrs.resolve_types(cls)
    for cls in ours:
        try:
            cls.__module__ = "grok_async"
        except (AttributeError, TypeError):  # pragma: no cover - builtin-like types
            pass


_rehome()
del _rehome
