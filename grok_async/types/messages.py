"""Request-side models for chat completions: messages, content parts, tools, formats, search.

Every model here is optional sugar: plain dicts in the same shape are accepted everywhere,
and fields left at ``None`` are not sent.
"""

from __future__ import annotations

from typing import Any, Literal

from attrs import define

__all__ = [
    "AssistantMessage",
    "ContentPart",
    "FilePart",
    "FileRef",
    "FunctionDefinition",
    "FunctionMessage",
    "ImagePart",
    "ImageURL",
    "JSONSchema",
    "Message",
    "NewsSource",
    "ResponseFormat",
    "RssSource",
    "SearchParameters",
    "SearchSource",
    "StreamOptions",
    "SystemMessage",
    "TextPart",
    "Tool",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolMessage",
    "UserMessage",
    "WebSource",
    "XSource",
]


# -- content parts ----------------------------------------------------------------------------


@define
class TextPart:
    """``{"type": "text", "text": ...}``"""

    text: str
    type: Literal["text"] = "text"


@define
class ImageURL:
    """An https URL or a ``data:image/...;base64,`` URL; ``detail`` is auto, low or high."""

    url: str
    detail: str | None = None


@define
class ImagePart:
    """``{"type": "image_url", "image_url": {...}}`` (vision models only)."""

    image_url: ImageURL
    type: Literal["image_url"] = "image_url"


@define
class FileRef:
    """A file uploaded with the Files API (``file_id``) or reachable at ``url``."""

    file_id: str | None = None
    url: str | None = None


@define
class FilePart:
    """``{"type": "file", "file": {...}}``"""

    file: FileRef
    type: Literal["file"] = "file"


ContentPart = TextPart | ImagePart | FilePart


# -- messages ---------------------------------------------------------------------------------


@define
class SystemMessage:
    """Instructions for the model."""

    content: str | list[ContentPart]
    name: str | None = None
    role: Literal["system"] = "system"


@define
class UserMessage:
    """What the user says: text, or a list of content parts (text, images, files)."""

    content: str | list[ContentPart]
    name: str | None = None
    role: Literal["user"] = "user"


@define
class AssistantMessage:
    """An earlier model turn sent back as context, tool calls included."""

    content: str | list[ContentPart] | None = None
    name: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[Any] | None = None  # ToolCall objects or dicts, as received
    role: Literal["assistant"] = "assistant"


@define
class ToolMessage:
    """The result of a client-side tool call; ``tool_call_id`` echoes ``ToolCall.id``."""

    content: str | list[ContentPart]
    tool_call_id: str | None = None
    role: Literal["tool"] = "tool"


@define
class FunctionMessage:
    """Deprecated legacy role; prefer :class:`ToolMessage`."""

    content: str
    name: str | None = None
    role: Literal["function"] = "function"


Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage


# -- tools ------------------------------------------------------------------------------------


@define
class FunctionDefinition:
    """A function the model may call; ``parameters`` is a JSON schema object (left at
    ``None``, the function takes no arguments: ``{"type": "object", "properties": {}}`` is
    sent, as the API requires a schema)."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


@define
class Tool:
    """``{"type": "function", "function": {...}}`` (at most 128 per request)."""

    function: FunctionDefinition
    type: Literal["function"] = "function"


@define
class ToolChoiceFunction:
    """The name of the function :class:`ToolChoice` forces."""

    name: str


@define
class ToolChoice:
    """Force one named function; the strings "none", "auto" and "required" are also accepted."""

    function: ToolChoiceFunction
    type: Literal["function"] = "function"


# -- response format --------------------------------------------------------------------------


@define
class JSONSchema:
    """A named JSON schema the reply must follow (OpenAI shape: the schema under ``schema``)."""

    name: str
    schema: dict[str, Any] | None = None
    description: str | None = None
    strict: bool | None = None


@define
class ResponseFormat:
    """``text``, ``json_object``, or ``json_schema`` with :class:`JSONSchema`."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchema | None = None


@define
class StreamOptions:
    """``include_usage=True`` adds a final chunk carrying the usage (with ``choices: []``)."""

    include_usage: bool | None = None


# -- Live Search (xAI-specific, deprecated by xAI in favour of search tools) ------------------


@define
class WebSource:
    """Live Search over the web."""

    country: str | None = None
    allowed_websites: list[str] | None = None
    excluded_websites: list[str] | None = None
    safe_search: bool | None = None
    type: Literal["web"] = "web"


@define
class XSource:
    """Live Search over X posts."""

    included_x_handles: list[str] | None = None
    excluded_x_handles: list[str] | None = None
    post_favorite_count: int | None = None
    post_view_count: int | None = None
    type: Literal["x"] = "x"


@define
class NewsSource:
    """Live Search over news sites."""

    country: str | None = None
    excluded_websites: list[str] | None = None
    safe_search: bool | None = None
    type: Literal["news"] = "news"


@define
class RssSource:
    """Live Search over one RSS feed."""

    links: list[str]
    type: Literal["rss"] = "rss"


SearchSource = WebSource | XSource | NewsSource | RssSource


@define
class SearchParameters:
    """``search_parameters``: Live Search options (mode off/on/auto, sources, dates)."""

    mode: Literal["off", "on", "auto"] | None = None
    sources: list[SearchSource] | None = None
    return_citations: bool | None = None
    from_date: str | None = None
    to_date: str | None = None
    max_search_results: int | None = None
