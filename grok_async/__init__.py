"""grok_async: the asyncio-first Python client for the xAI Grok API.

from grok_async import AsyncGrok

async with AsyncGrok() as client:
    reply = await client.chat.completions.create(
        model="grok-4", messages=[{"role": "user", "content": "Hi"}]
    )
"""

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
from ._sentinels import NOT_GIVEN, NotGiven
from ._streaming import AsyncStream, ChatCompletionAccumulator, ChatCompletionStreamManager
from ._timeout import Timeout
from ._version import __version__
from .types import (
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
    ImagePart,
    ImageURL,
    JSONSchema,
    Message,
    NewsSource,
    PromptTokensDetails,
    ResponseFormat,
    RssSource,
    SearchParameters,
    SearchSource,
    StreamOptions,
    SystemMessage,
    TextPart,
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
    "FanOutStats",
    "FilePart",
    "FileRef",
    "Function",
    "FunctionDefinition",
    "FunctionDelta",
    "FunctionMessage",
    "GrokError",
    "ImagePart",
    "ImageURL",
    "InternalServerError",
    "JSONSchema",
    "Message",
    "NewsSource",
    "NotFoundError",
    "NotGiven",
    "PermissionDeniedError",
    "Progress",
    "PromptTokensDetails",
    "RateLimitError",
    "ResponseFormat",
    "RssSource",
    "SearchParameters",
    "SearchSource",
    "StreamOptions",
    "SystemMessage",
    "TextPart",
    "Timeout",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolMessage",
    "UnprocessableEntityError",
    "Usage",
    "UserMessage",
    "WebSource",
    "XSource",
    "__version__",
]


def _rehome() -> None:
    # Tracebacks and reprs say grok_async.RateLimitError, not grok_async._errors.RateLimitError.
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) and obj.__module__.startswith("grok_async."):
            if attrs.has(obj):
                # Resolve string annotations while the defining module is still known.
                attrs.resolve_types(obj)
            try:
                obj.__module__ = "grok_async"
            except (AttributeError, TypeError):  # pragma: no cover - builtin-like types
                pass


_rehome()
del _rehome
