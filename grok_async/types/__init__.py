"""attrs models for requests and responses (re-exported from ``grok_async``)."""

from typing import TYPE_CHECKING, Any

from .. import _lazy
from . import _exports_table
from .chat import ChatCompletion as ChatCompletion
from .chat import ChatCompletionChunk as ChatCompletionChunk
from .chat import ChatCompletionMessage as ChatCompletionMessage
from .chat import Choice as Choice
from .chat import ChoiceDelta as ChoiceDelta
from .chat import ChunkChoice as ChunkChoice
from .chat import CompletionTokensDetails as CompletionTokensDetails
from .chat import Function as Function
from .chat import FunctionDelta as FunctionDelta
from .chat import PromptTokensDetails as PromptTokensDetails
from .chat import ToolCall as ToolCall
from .chat import ToolCallDelta as ToolCallDelta
from .chat import Usage as Usage

if TYPE_CHECKING:
    from .api_key import APIKeyInfo as APIKeyInfo
    from .audio import Transcription as Transcription
    from .audio import TranscriptionWord as TranscriptionWord
    from .documents import DocumentSearchMatch as DocumentSearchMatch
    from .documents import DocumentSearchResponse as DocumentSearchResponse
    from .embeddings import CreateEmbeddingResponse as CreateEmbeddingResponse
    from .embeddings import Embedding as Embedding
    from .embeddings import EmbeddingUsage as EmbeddingUsage
    from .images import GeneratedImage as GeneratedImage
    from .images import ImagesResponse as ImagesResponse
    from .images import ImageUsage as ImageUsage
    from .messages import AssistantMessage as AssistantMessage
    from .messages import ContentPart as ContentPart
    from .messages import FilePart as FilePart
    from .messages import FileRef as FileRef
    from .messages import FunctionDefinition as FunctionDefinition
    from .messages import FunctionMessage as FunctionMessage
    from .messages import ImagePart as ImagePart
    from .messages import ImageURL as ImageURL
    from .messages import JSONSchema as JSONSchema
    from .messages import Message as Message
    from .messages import NewsSource as NewsSource
    from .messages import ResponseFormat as ResponseFormat
    from .messages import RssSource as RssSource
    from .messages import SearchParameters as SearchParameters
    from .messages import SearchSource as SearchSource
    from .messages import StreamOptions as StreamOptions
    from .messages import SystemMessage as SystemMessage
    from .messages import TextPart as TextPart
    from .messages import Tool as Tool
    from .messages import ToolChoice as ToolChoice
    from .messages import ToolChoiceFunction as ToolChoiceFunction
    from .messages import ToolMessage as ToolMessage
    from .messages import UserMessage as UserMessage
    from .messages import WebSource as WebSource
    from .messages import XSource as XSource
    from .models import EmbeddingModel as EmbeddingModel
    from .models import ImageGenerationModel as ImageGenerationModel
    from .models import LanguageModel as LanguageModel
    from .models import Model as Model
    from .models import ModelPricing as ModelPricing
    from .models import VideoGenerationModel as VideoGenerationModel
    from .parsed import ParsedChatCompletion as ParsedChatCompletion
    from .parsed import ParsedChatCompletionMessage as ParsedChatCompletionMessage
    from .parsed import ParsedChoice as ParsedChoice
    from .responses import CodeInterpreterOutput as CodeInterpreterOutput
    from .responses import FileSearchResult as FileSearchResult
    from .responses import InputTokensDetails as InputTokensDetails
    from .responses import OutputTokensDetails as OutputTokensDetails
    from .responses import ReasoningSummaryText as ReasoningSummaryText
    from .responses import ReasoningText as ReasoningText
    from .responses import Response as Response
    from .responses import ResponseAnnotation as ResponseAnnotation
    from .responses import ResponseCodeInterpreterCall as ResponseCodeInterpreterCall
    from .responses import ResponseCompletedEvent as ResponseCompletedEvent
    from .responses import ResponseContentPart as ResponseContentPart
    from .responses import ResponseContentPartAddedEvent as ResponseContentPartAddedEvent
    from .responses import ResponseContentPartDoneEvent as ResponseContentPartDoneEvent
    from .responses import ResponseCreatedEvent as ResponseCreatedEvent
    from .responses import ResponseCustomToolCall as ResponseCustomToolCall
    from .responses import ResponseDeleted as ResponseDeleted
    from .responses import ResponseFailedEvent as ResponseFailedEvent
    from .responses import ResponseFileSearchCall as ResponseFileSearchCall
    from .responses import (
        ResponseFunctionCallArgumentsDeltaEvent as ResponseFunctionCallArgumentsDeltaEvent,
    )
    from .responses import (
        ResponseFunctionCallArgumentsDoneEvent as ResponseFunctionCallArgumentsDoneEvent,
    )
    from .responses import ResponseFunctionToolCall as ResponseFunctionToolCall
    from .responses import ResponseIncompleteDetails as ResponseIncompleteDetails
    from .responses import ResponseIncompleteEvent as ResponseIncompleteEvent
    from .responses import ResponseInProgressEvent as ResponseInProgressEvent
    from .responses import ResponseLifecycleEvent as ResponseLifecycleEvent
    from .responses import ResponseMcpCall as ResponseMcpCall
    from .responses import ResponseOutputItem as ResponseOutputItem
    from .responses import ResponseOutputItemAddedEvent as ResponseOutputItemAddedEvent
    from .responses import ResponseOutputItemDoneEvent as ResponseOutputItemDoneEvent
    from .responses import ResponseOutputMessage as ResponseOutputMessage
    from .responses import ResponseOutputRefusal as ResponseOutputRefusal
    from .responses import ResponseOutputText as ResponseOutputText
    from .responses import ResponseReasoningItem as ResponseReasoningItem
    from .responses import (
        ResponseReasoningSummaryTextDeltaEvent as ResponseReasoningSummaryTextDeltaEvent,
    )
    from .responses import (
        ResponseReasoningSummaryTextDoneEvent as ResponseReasoningSummaryTextDoneEvent,
    )
    from .responses import ResponseReasoningTextDeltaEvent as ResponseReasoningTextDeltaEvent
    from .responses import ResponseReasoningTextDoneEvent as ResponseReasoningTextDoneEvent
    from .responses import ResponseStreamEvent as ResponseStreamEvent
    from .responses import ResponseTextDeltaEvent as ResponseTextDeltaEvent
    from .responses import ResponseTextDoneEvent as ResponseTextDoneEvent
    from .responses import ResponseUsage as ResponseUsage
    from .responses import ResponseWebSearchCall as ResponseWebSearchCall
    from .responses import ServerSideToolUsage as ServerSideToolUsage
    from .responses import WebSearchAction as WebSearchAction
    from .responses import WebSearchSource as WebSearchSource
    from .server_tools import CodeExecutionTool as CodeExecutionTool
    from .server_tools import FileSearchTool as FileSearchTool
    from .server_tools import MCPTool as MCPTool
    from .server_tools import WebSearchTool as WebSearchTool
    from .server_tools import XSearchTool as XSearchTool
    from .tokenizer import Token as Token
    from .tokenizer import TokenizeResult as TokenizeResult
    from .videos import GeneratedVideo as GeneratedVideo
    from .videos import VideoError as VideoError
    from .videos import VideoResult as VideoResult
    from .videos import VideoUsage as VideoUsage

# Every public name is imported above as `Name as Name`, and only there. `__all__`, `dir()`
# and the models of the Responses API, the catalogues and the smaller endpoints, which load
# on first use, come from _exports_table.py, generated from these lines by
# `python tools/exports_table.py` (see grok_async/_lazy.py).
_exports = _lazy.LazyExports(__name__, globals(), _exports_table)


def __getattr__(name: str) -> Any:
    return _exports.load(name)


def __dir__() -> list[str]:
    return _exports.dir()
