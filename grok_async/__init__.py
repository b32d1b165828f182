"""grok_async: the asyncio-first Python client for the xAI Grok API.

from grok_async import AsyncGrok

async with AsyncGrok() as client:
    reply = await client.chat.completions.create(
        model="grok-4", messages=[{"role": "user", "content": "Hi"}]
    )
"""

from typing import TYPE_CHECKING, Any

from . import _exports_table, _lazy
from ._chat_stream import AsyncStream as AsyncStream
from ._chat_stream import ChatCompletionAccumulator as ChatCompletionAccumulator
from ._chat_stream import ChatCompletionStreamManager as ChatCompletionStreamManager
from ._client import AsyncGrok as AsyncGrok
from ._errors import APIConnectionError as APIConnectionError
from ._errors import APIResponseValidationError as APIResponseValidationError
from ._errors import APIStatusError as APIStatusError
from ._errors import APITimeoutError as APITimeoutError
from ._errors import AuthenticationError as AuthenticationError
from ._errors import BadRequestError as BadRequestError
from ._errors import BatchInputError as BatchInputError
from ._errors import BatchOutputError as BatchOutputError
from ._errors import BudgetWaitError as BudgetWaitError
from ._errors import ConfigurationError as ConfigurationError
from ._errors import ConflictError as ConflictError
from ._errors import GrokError as GrokError
from ._errors import InternalServerError as InternalServerError
from ._errors import MaxToolRoundsError as MaxToolRoundsError
from ._errors import NotFoundError as NotFoundError
from ._errors import PermissionDeniedError as PermissionDeniedError
from ._errors import QuotaExceededError as QuotaExceededError
from ._errors import RateLimiterError as RateLimiterError
from ._errors import RateLimitError as RateLimitError
from ._errors import RequestTooLargeError as RequestTooLargeError
from ._errors import StructuredOutputError as StructuredOutputError
from ._errors import ToolArgumentsError as ToolArgumentsError
from ._errors import UnprocessableEntityError as UnprocessableEntityError
from ._errors import VideoGenerationError as VideoGenerationError
from ._fanout import FanOutStats as FanOutStats
from ._observe import HookEvent as HookEvent
from ._observe import Hooks as Hooks
from ._observe import PoolStats as PoolStats
from ._observe import Timings as Timings
from ._progress import Progress as Progress
from ._ratelimits import RateLimits as RateLimits
from ._response import HTTPResponse as HTTPResponse
from ._sentinels import NOT_GIVEN as NOT_GIVEN
from ._sentinels import NotGiven as NotGiven
from ._streaming import EventStream as EventStream
from ._timeout import Timeout as Timeout
from ._version import __version__ as __version__
from .types import ChatCompletion as ChatCompletion
from .types import ChatCompletionChunk as ChatCompletionChunk
from .types import ChatCompletionMessage as ChatCompletionMessage
from .types import Choice as Choice
from .types import ChoiceDelta as ChoiceDelta
from .types import ChunkChoice as ChunkChoice
from .types import CompletionTokensDetails as CompletionTokensDetails
from .types import Function as Function
from .types import FunctionDelta as FunctionDelta
from .types import PromptTokensDetails as PromptTokensDetails
from .types import ToolCall as ToolCall
from .types import ToolCallDelta as ToolCallDelta
from .types import Usage as Usage

if TYPE_CHECKING:
    from ._batch_runner import BatchRunSummary as BatchRunSummary
    from ._parsing import ParsedChatCompletionStreamManager as ParsedChatCompletionStreamManager
    from ._ratelimit import RateLimiter as RateLimiter
    from ._redis_limiter import RedisRateLimiter as RedisRateLimiter
    from ._responses_stream import ResponseAccumulator as ResponseAccumulator
    from ._responses_stream import ResponseFailedError as ResponseFailedError
    from ._responses_stream import ResponseStream as ResponseStream
    from ._responses_stream import ResponseStreamManager as ResponseStreamManager
    from ._schema import json_schema as json_schema
    from ._tool_runs import run_tools as run_tools
    from ._tools import FunctionTool as FunctionTool
    from ._tools import function_tool as function_tool
    from .resources.deferred import DeferredCompletion as DeferredCompletion
    from .resources.videos import VideoJob as VideoJob
    from .types.api_key import APIKeyInfo as APIKeyInfo
    from .types.audio import Transcription as Transcription
    from .types.audio import TranscriptionWord as TranscriptionWord
    from .types.batches import Batch as Batch
    from .types.batches import BatchRequestError as BatchRequestError
    from .types.batches import BatchResult as BatchResult
    from .types.batches import BatchState as BatchState
    from .types.documents import DocumentSearchMatch as DocumentSearchMatch
    from .types.documents import DocumentSearchResponse as DocumentSearchResponse
    from .types.embeddings import CreateEmbeddingResponse as CreateEmbeddingResponse
    from .types.embeddings import Embedding as Embedding
    from .types.embeddings import EmbeddingUsage as EmbeddingUsage
    from .types.files import File as File
    from .types.files import FileDeleted as FileDeleted
    from .types.images import GeneratedImage as GeneratedImage
    from .types.images import ImagesResponse as ImagesResponse
    from .types.images import ImageUsage as ImageUsage
    from .types.messages import AssistantMessage as AssistantMessage
    from .types.messages import ContentPart as ContentPart
    from .types.messages import FilePart as FilePart
    from .types.messages import FileRef as FileRef
    from .types.messages import FunctionDefinition as FunctionDefinition
    from .types.messages import FunctionMessage as FunctionMessage
    from .types.messages import ImagePart as ImagePart
    from .types.messages import ImageURL as ImageURL
    from .types.messages import JSONSchema as JSONSchema
    from .types.messages import Message as Message
    from .types.messages import NewsSource as NewsSource
    from .types.messages import ResponseFormat as ResponseFormat
    from .types.messages import RssSource as RssSource
    from .types.messages import SearchParameters as SearchParameters
    from .types.messages import SearchSource as SearchSource
    from .types.messages import StreamOptions as StreamOptions
    from .types.messages import SystemMessage as SystemMessage
    from .types.messages import TextPart as TextPart
    from .types.messages import Tool as Tool
    from .types.messages import ToolChoice as ToolChoice
    from .types.messages import ToolChoiceFunction as ToolChoiceFunction
    from .types.messages import ToolMessage as ToolMessage
    from .types.messages import UserMessage as UserMessage
    from .types.messages import WebSource as WebSource
    from .types.messages import XSource as XSource
    from .types.models import EmbeddingModel as EmbeddingModel
    from .types.models import ImageGenerationModel as ImageGenerationModel
    from .types.models import LanguageModel as LanguageModel
    from .types.models import Model as Model
    from .types.models import ModelPricing as ModelPricing
    from .types.models import VideoGenerationModel as VideoGenerationModel
    from .types.parsed import ParsedChatCompletion as ParsedChatCompletion
    from .types.parsed import ParsedChatCompletionMessage as ParsedChatCompletionMessage
    from .types.parsed import ParsedChoice as ParsedChoice
    from .types.responses import CodeInterpreterOutput as CodeInterpreterOutput
    from .types.responses import FileSearchResult as FileSearchResult
    from .types.responses import InputTokensDetails as InputTokensDetails
    from .types.responses import OutputTokensDetails as OutputTokensDetails
    from .types.responses import ReasoningSummaryText as ReasoningSummaryText
    from .types.responses import ReasoningText as ReasoningText
    from .types.responses import Response as Response
    from .types.responses import ResponseAnnotation as ResponseAnnotation
    from .types.responses import ResponseCodeInterpreterCall as ResponseCodeInterpreterCall
    from .types.responses import ResponseCompletedEvent as ResponseCompletedEvent
    from .types.responses import ResponseContentPart as ResponseContentPart
    from .types.responses import ResponseContentPartAddedEvent as ResponseContentPartAddedEvent
    from .types.responses import ResponseContentPartDoneEvent as ResponseContentPartDoneEvent
    from .types.responses import ResponseCreatedEvent as ResponseCreatedEvent
    from .types.responses import ResponseCustomToolCall as ResponseCustomToolCall
    from .types.responses import ResponseDeleted as ResponseDeleted
    from .types.responses import ResponseFailedEvent as ResponseFailedEvent
    from .types.responses import ResponseFileSearchCall as ResponseFileSearchCall
    from .types.responses import (
        ResponseFunctionCallArgumentsDeltaEvent as ResponseFunctionCallArgumentsDeltaEvent,
    )
    from .types.responses import (
        ResponseFunctionCallArgumentsDoneEvent as ResponseFunctionCallArgumentsDoneEvent,
    )
    from .types.responses import ResponseFunctionToolCall as ResponseFunctionToolCall
    from .types.responses import ResponseIncompleteDetails as ResponseIncompleteDetails
    from .types.responses import ResponseIncompleteEvent as ResponseIncompleteEvent
    from .types.responses import ResponseInProgressEvent as ResponseInProgressEvent
    from .types.responses import ResponseLifecycleEvent as ResponseLifecycleEvent
    from .types.responses import ResponseMcpCall as ResponseMcpCall
    from .types.responses import ResponseOutputItem as ResponseOutputItem
    from .types.responses import ResponseOutputItemAddedEvent as ResponseOutputItemAddedEvent
    from .types.responses import ResponseOutputItemDoneEvent as ResponseOutputItemDoneEvent
    from .types.responses import ResponseOutputMessage as ResponseOutputMessage
    from .types.responses import ResponseOutputRefusal as ResponseOutputRefusal
    from .types.responses import ResponseOutputText as ResponseOutputText
    from .types.responses import ResponseReasoningItem as ResponseReasoningItem
    from .types.responses import (
        ResponseReasoningSummaryTextDeltaEvent as ResponseReasoningSummaryTextDeltaEvent,
    )
    from .types.responses import (
        ResponseReasoningSummaryTextDoneEvent as ResponseReasoningSummaryTextDoneEvent,
    )
    from .types.responses import ResponseReasoningTextDeltaEvent as ResponseReasoningTextDeltaEvent
    from .types.responses import ResponseReasoningTextDoneEvent as ResponseReasoningTextDoneEvent
    from .types.responses import ResponseStreamEvent as ResponseStreamEvent
    from .types.responses import ResponseTextDeltaEvent as ResponseTextDeltaEvent
    from .types.responses import ResponseTextDoneEvent as ResponseTextDoneEvent
    from .types.responses import ResponseUsage as ResponseUsage
    from .types.responses import ResponseWebSearchCall as ResponseWebSearchCall
    from .types.responses import ServerSideToolUsage as ServerSideToolUsage
    from .types.responses import WebSearchAction as WebSearchAction
    from .types.responses import WebSearchSource as WebSearchSource
    from .types.server_tools import CodeExecutionTool as CodeExecutionTool
    from .types.server_tools import FileSearchTool as FileSearchTool
    from .types.server_tools import MCPTool as MCPTool
    from .types.server_tools import WebSearchTool as WebSearchTool
    from .types.server_tools import XSearchTool as XSearchTool
    from .types.tokenizer import Token as Token
    from .types.tokenizer import TokenizeResult as TokenizeResult
    from .types.tool_runs import ToolCallResult as ToolCallResult
    from .types.tool_runs import ToolRunResult as ToolRunResult
    from .types.videos import GeneratedVideo as GeneratedVideo
    from .types.videos import VideoError as VideoError
    from .types.videos import VideoResult as VideoResult
    from .types.videos import VideoUsage as VideoUsage

# Every public name is imported above as `Name as Name` (what tells type checkers it is
# re-exported), and only there. `__all__`, `dir()` and the names in the TYPE_CHECKING block,
# which load on first use so `import grok_async` costs no more for them, come from
# _exports_table.py, generated from these lines by `python tools/exports_table.py` (see _lazy.py).
_exports = _lazy.LazyExports(__name__, globals(), _exports_table, rehome=__name__)


def __getattr__(name: str) -> Any:
    return _exports.load(name)


def __dir__() -> list[str]:
    return _exports.dir()


# Tracebacks and reprs say grok_async.RateLimitError, not grok_async._errors.RateLimitError.
_lazy.rehome(list(globals().values()), __name__)
