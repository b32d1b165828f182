"""grok_async: the asyncio-first Python client for the xAI Grok API.

from grok_async import AsyncGrok

async with AsyncGrok() as client:
    reply = await client.chat.completions.create(
        model="grok-4", messages=[{"role": "user", "content": "Hi"}]
    )
"""

from typing import TYPE_CHECKING, Any

from ._client import AsyncGrok
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    GrokError,
    InternalServerError,
    MaxToolRoundsError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimiterError,
    RateLimitError,
    RequestTooLargeError,
    StructuredOutputError,
    ToolArgumentsError,
    UnprocessableEntityError,
    VideoGenerationError,
)
from ._exports import LAZY_EXPORTS
from ._fanout import FanOutStats
from ._lazy import LazyExports, rehome
from ._observe import HookEvent, Hooks, PoolStats, Timings
from ._progress import Progress
from ._ratelimits import RateLimits
from ._response import HTTPResponse
from ._sentinels import NOT_GIVEN, NotGiven
from ._streaming import AsyncStream, ChatCompletionAccumulator, ChatCompletionStreamManager
from ._timeout import Timeout
from ._version import __version__
from .types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    Choice,
    ChoiceDelta,
    ChunkChoice,
    CompletionTokensDetails,
    Function,
    FunctionDelta,
    PromptTokensDetails,
    ToolCall,
    ToolCallDelta,
    Usage,
)

if TYPE_CHECKING:
    from ._batch_input import BatchInputError
    from ._batch_runner import BatchRunSummary
    from ._parsing import ParsedChatCompletionStreamManager
    from ._ratelimit import RateLimiter
    from ._redis_limiter import RedisRateLimiter
    from ._responses_stream import (
        ResponseAccumulator,
        ResponseFailedError,
        ResponseStream,
        ResponseStreamManager,
    )
    from ._schema import json_schema
    from ._tool_runs import run_tools
    from ._tools import FunctionTool, function_tool
    from .resources.deferred import DeferredCompletion
    from .resources.videos import VideoJob
    from .types.api_key import APIKeyInfo
    from .types.audio import Transcription, TranscriptionWord
    from .types.batches import Batch, BatchRequestError, BatchResult, BatchState
    from .types.documents import DocumentSearchMatch, DocumentSearchResponse
    from .types.embeddings import CreateEmbeddingResponse, Embedding, EmbeddingUsage
    from .types.files import File, FileDeleted
    from .types.images import GeneratedImage, ImagesResponse, ImageUsage
    from .types.messages import (
        AssistantMessage,
        ContentPart,
        FilePart,
        FileRef,
        FunctionDefinition,
        FunctionMessage,
        ImagePart,
        ImageURL,
        JSONSchema,
        Message,
        NewsSource,
        ResponseFormat,
        RssSource,
        SearchParameters,
        SearchSource,
        StreamOptions,
        SystemMessage,
        TextPart,
        Tool,
        ToolChoice,
        ToolChoiceFunction,
        ToolMessage,
        UserMessage,
        WebSource,
        XSource,
    )
    from .types.models import (
        EmbeddingModel,
        ImageGenerationModel,
        LanguageModel,
        Model,
        ModelPricing,
        VideoGenerationModel,
    )
    from .types.parsed import (
        ParsedChatCompletion,
        ParsedChatCompletionMessage,
        ParsedChoice,
    )
    from .types.responses import (
        CodeInterpreterOutput,
        FileSearchResult,
        InputTokensDetails,
        OutputTokensDetails,
        ReasoningSummaryText,
        ReasoningText,
        Response,
        ResponseAnnotation,
        ResponseCodeInterpreterCall,
        ResponseCompletedEvent,
        ResponseContentPart,
        ResponseContentPartAddedEvent,
        ResponseContentPartDoneEvent,
        ResponseCreatedEvent,
        ResponseCustomToolCall,
        ResponseDeleted,
        ResponseFailedEvent,
        ResponseFileSearchCall,
        ResponseFunctionCallArgumentsDeltaEvent,
        ResponseFunctionCallArgumentsDoneEvent,
        ResponseFunctionToolCall,
        ResponseIncompleteDetails,
        ResponseIncompleteEvent,
        ResponseInProgressEvent,
        ResponseLifecycleEvent,
        ResponseMcpCall,
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
        ResponseWebSearchCall,
        ServerSideToolUsage,
        WebSearchAction,
        WebSearchSource,
    )
    from .types.server_tools import (
        CodeExecutionTool,
        FileSearchTool,
        MCPTool,
        WebSearchTool,
        XSearchTool,
    )
    from .types.tokenizer import Token, TokenizeResult
    from .types.tool_runs import ToolCallResult, ToolRunResult
    from .types.videos import GeneratedVideo, VideoError, VideoResult, VideoUsage

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
    "Batch",
    "BatchInputError",
    "BatchRequestError",
    "BatchResult",
    "BatchRunSummary",
    "BatchState",
    "ChatCompletion",
    "ChatCompletionAccumulator",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionStreamManager",
    "Choice",
    "ChoiceDelta",
    "ChunkChoice",
    "CodeExecutionTool",
    "CodeInterpreterOutput",
    "CompletionTokensDetails",
    "ConfigurationError",
    "ConflictError",
    "ContentPart",
    "CreateEmbeddingResponse",
    "DeferredCompletion",
    "DocumentSearchMatch",
    "DocumentSearchResponse",
    "Embedding",
    "EmbeddingModel",
    "EmbeddingUsage",
    "FanOutStats",
    "File",
    "FileDeleted",
    "FilePart",
    "FileRef",
    "FileSearchResult",
    "FileSearchTool",
    "Function",
    "FunctionDefinition",
    "FunctionDelta",
    "FunctionMessage",
    "FunctionTool",
    "GeneratedImage",
    "GeneratedVideo",
    "GrokError",
    "HTTPResponse",
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
    "MCPTool",
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
    "QuotaExceededError",
    "RateLimitError",
    "RateLimiter",
    "RateLimiterError",
    "RateLimits",
    "ReasoningSummaryText",
    "ReasoningText",
    "RedisRateLimiter",
    "RequestTooLargeError",
    "Response",
    "ResponseAccumulator",
    "ResponseAnnotation",
    "ResponseCodeInterpreterCall",
    "ResponseCompletedEvent",
    "ResponseContentPart",
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseCreatedEvent",
    "ResponseCustomToolCall",
    "ResponseDeleted",
    "ResponseFailedError",
    "ResponseFailedEvent",
    "ResponseFileSearchCall",
    "ResponseFormat",
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
    "ResponseStream",
    "ResponseStreamEvent",
    "ResponseStreamManager",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "ResponseUsage",
    "ResponseWebSearchCall",
    "RssSource",
    "SearchParameters",
    "SearchSource",
    "ServerSideToolUsage",
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
    "Transcription",
    "TranscriptionWord",
    "UnprocessableEntityError",
    "Usage",
    "UserMessage",
    "VideoError",
    "VideoGenerationError",
    "VideoGenerationModel",
    "VideoJob",
    "VideoResult",
    "VideoUsage",
    "WebSearchAction",
    "WebSearchSource",
    "WebSearchTool",
    "WebSource",
    "XSearchTool",
    "XSource",
    "__version__",
    "function_tool",
    "json_schema",
    "run_tools",
]

# Loaded on first use (see _lazy.py; the table of modules is _exports.py): `import
# grok_async` costs no more for them. Each name is also imported above for type checkers.
_lazy = LazyExports(__name__, globals(), LAZY_EXPORTS, rehome=__name__)


def __getattr__(name: str) -> Any:
    return _lazy.load(name)


def __dir__() -> list[str]:
    return sorted(__all__)


# Tracebacks and reprs say grok_async.RateLimitError, not grok_async._errors.RateLimitError.
rehome([globals()[name] for name in __all__ if name not in _lazy], __name__)
