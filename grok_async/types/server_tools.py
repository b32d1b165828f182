"""Server-side tools of the Responses API: tools xAI runs itself during a response.

Give them in ``tools=`` next to your own function tools::

    response = await client.responses.create(
        model="grok-4",
        input="What changed in the latest CPython release?",
        tools=[WebSearchTool(allowed_domains=["python.org"]), CodeExecutionTool()],
    )

Each is an attrs class that goes on the wire as the API's tool object (a field left at
None is not sent). Arguments the API would refuse are refused here, with the reason:
more than the allowed number of domains or handles, an allow list together with a block
list, a date that is not ``YYYY-MM-DD``. The calls the model made come back as output
items (``ResponseWebSearchCall``, ...), their sources as the message's ``annotations``,
their count in ``usage.server_side_tool_usage_details``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from .._serialization import converter

__all__ = ["CodeExecutionTool", "FileSearchTool", "MCPTool", "WebSearchTool", "XSearchTool"]

# The API's limits (its OpenAPI document's maxItems).
_MAX_DOMAINS = 5
_MAX_HANDLES = 10
_MAX_COLLECTIONS = 10


def _strings(value: Iterable[str] | None, what: str, most: int | None = None) -> list[str] | None:
    """An iterable of non-empty strings as a list (None stays None), or a clear error."""
    if value is None:
        return None
    # A single string would otherwise become a list of its characters.
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{what} takes a list of strings, not {type(value).__name__}")
    items = list(value)
    if not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"{what} must hold non-empty strings, got {items!r}")
    if most is not None and len(items) > most:
        raise ValueError(f"{what} takes at most {most} entries, got {len(items)}")
    return items


def _date(value: datetime.date | str | None, what: str) -> str | None:
    """A ``datetime.date`` or a ``YYYY-MM-DD`` string, as the string (None stays None)."""
    if value is None:
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()[:10]
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a date or 'YYYY-MM-DD', got {value!r}") from None


# The converters of each field (mypy's attrs plugin takes only named functions), naming it.


def _allowed_domains(value: Iterable[str] | None) -> list[str] | None:
    return _strings(value, "allowed_domains", _MAX_DOMAINS)


def _excluded_domains(value: Iterable[str] | None) -> list[str] | None:
    return _strings(value, "excluded_domains", _MAX_DOMAINS)


def _allowed_handles(value: Iterable[str] | None) -> list[str] | None:
    return _strings(value, "allowed_x_handles", _MAX_HANDLES)


def _excluded_handles(value: Iterable[str] | None) -> list[str] | None:
    return _strings(value, "excluded_x_handles", _MAX_HANDLES)


def _from_date(value: datetime.date | str | None) -> str | None:
    return _date(value, "from_date")


def _to_date(value: datetime.date | str | None) -> str | None:
    return _date(value, "to_date")


def _collection_ids(value: Iterable[str]) -> list[str]:
    ids = _strings(value, "collection_ids", _MAX_COLLECTIONS)
    if not ids:
        raise ValueError("collection_ids must name at least one collection")
    return ids


def _tool_names(value: Iterable[str] | None) -> list[str] | None:
    return _strings(value, "allowed_tools")


def _not_both(allowed: str, excluded: str) -> Any:
    def check(instance: Any, _attribute: Any, _value: Any) -> None:
        if getattr(instance, allowed) is not None and getattr(instance, excluded) is not None:
            raise ValueError(f"{allowed} and {excluded} cannot be set together")

    return check


@attrs.frozen
class WebSearchTool:
    """``web_search``: the model searches the web and reads pages.

    ``allowed_domains`` (at most 5) keeps the search to those sites; ``excluded_domains``
    (at most 5) leaves them out; not both. ``enable_image_search`` lets it search images
    too, ``enable_image_understanding`` look at the images it finds.
    """

    allowed_domains: list[str] | None = attrs.field(default=None, converter=_allowed_domains)
    excluded_domains: list[str] | None = attrs.field(
        default=None,
        converter=_excluded_domains,
        validator=_not_both("allowed_domains", "excluded_domains"),
    )
    enable_image_search: bool | None = None
    enable_image_understanding: bool | None = None
    type: str = attrs.field(default="web_search", init=False)


@attrs.frozen
class XSearchTool:
    """``x_search``: the model searches posts on X.

    ``allowed_x_handles`` (at most 10) keeps the search to those accounts,
    ``excluded_x_handles`` leaves them out; not both. ``from_date``/``to_date`` (a
    ``datetime.date`` or ``"YYYY-MM-DD"``) bound the posts' dates.
    ``enable_image_understanding`` / ``enable_video_understanding`` let it look at the
    posts' media.
    """

    allowed_x_handles: list[str] | None = attrs.field(default=None, converter=_allowed_handles)
    excluded_x_handles: list[str] | None = attrs.field(
        default=None,
        converter=_excluded_handles,
        validator=_not_both("allowed_x_handles", "excluded_x_handles"),
    )
    from_date: str | None = attrs.field(default=None, converter=_from_date)
    to_date: str | None = attrs.field(default=None, converter=_to_date)
    enable_image_understanding: bool | None = None
    enable_video_understanding: bool | None = None
    type: str = attrs.field(default="x_search", init=False)

    def __attrs_post_init__(self) -> None:
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise ValueError(f"from_date {self.from_date} is after to_date {self.to_date}")


@attrs.frozen
class CodeExecutionTool:
    """``code_interpreter``: the model writes and runs Python code in a sandbox (to
    calculate, analyse data, check its work); it takes no options."""

    type: str = attrs.field(default="code_interpreter", init=False)


def _positive(_instance: Any, attribute: Any, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(f"{attribute.name} must be a positive int, got {value!r}")


@attrs.frozen
class FileSearchTool:
    """``file_search``: the model searches your collections of documents (what
    ``client.documents.search`` does for you).

    ``collection_ids`` (1 to 10) are the collections, sent as the API's
    ``vector_store_ids``; ``max_num_results`` caps the chunks it gets per search.
    """

    vector_store_ids: list[str] = attrs.field(alias="collection_ids", converter=_collection_ids)
    max_num_results: int | None = attrs.field(default=None, validator=_positive)
    type: str = attrs.field(default="file_search", init=False)


def _http_url(_instance: Any, _attribute: Any, value: str) -> None:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"server_url must be an http(s) URL, got {value!r}")


def _label(_instance: Any, _attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"server_label must be a non-empty string, got {value!r}")


def _headers(value: Mapping[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise TypeError("headers must be a mapping of header names to string values")
    return dict(value)


@attrs.frozen
class MCPTool:
    """``mcp``: the model calls the tools of a remote MCP server, which xAI connects to.

    ``server_url`` is the server's URL and ``server_label`` the name the model knows it
    by (it names the server in ``mcp_call`` items). ``allowed_tools`` limits which of its
    tools may be called. ``authorization`` (a bearer token) and ``headers`` are sent to
    the MCP server by xAI; neither is shown by ``repr()``.
    """

    server_url: str = attrs.field(validator=_http_url)
    server_label: str = attrs.field(validator=_label)
    server_description: str | None = None
    allowed_tools: list[str] | None = attrs.field(default=None, converter=_tool_names)
    authorization: str | None = attrs.field(default=None, repr=False)
    headers: dict[str, str] | None = attrs.field(default=None, converter=_headers, repr=False)
    require_approval: str | None = None
    connector_id: str | None = None
    type: str = attrs.field(default="mcp", init=False)


def _with_type(cls: type[Any]) -> None:
    """Unstructure ``cls`` with its ``type`` tag first: the converter's generated hooks leave
    out fields that ``__init__`` does not take, and the tag is one."""
    fields = converter.get_unstructure_hook(cls)

    def unstructure(tool: Any) -> dict[str, Any]:
        return {"type": tool.type, **fields(tool)}

    converter.register_unstructure_hook_func(lambda t: t is cls, unstructure)


for _tool in (WebSearchTool, XSearchTool, CodeExecutionTool, FileSearchTool, MCPTool):
    _with_type(_tool)
del _tool
