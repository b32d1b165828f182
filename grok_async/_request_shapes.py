"""Request values in the shape xAI's API accepts, where the friendly form a caller may
give is not it (SPEC.md §9, "Request bodies"):

* ``stop``: the API takes an array of strings (or null); a single string is sent as a
  one-element list.
* A ``function`` tool's ``parameters`` is required; a tool given without one (a function
  that takes no arguments) is sent with the empty object schema
  ``{"type": "object", "properties": {}}``. Both tool shapes are handled: chat's
  ``{"type": "function", "function": {...}}`` and the Responses API's flat
  ``{"type": "function", "name": ...}``.
* The Responses API takes its tools flat: a chat-shaped function tool (a
  :class:`~grok_async.FunctionTool`, a :class:`~grok_async.Tool`, or a
  ``{"type": "function", "function": {...}}`` dict) is flattened to
  ``{"type": "function", "name": ..., "parameters": ...}``.

The caller's objects are never modified: a reshaped tool is a new dict. ``extra_body`` is
not reshaped; it is sent as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._serialization import converter

__all__ = [
    "empty_parameters",
    "reshape_chat_body",
    "reshape_responses_body",
    "responses_tool",
    "stop_sequences",
    "wire_tool",
]


def empty_parameters() -> dict[str, Any]:
    """The JSON schema of a function without arguments (a fresh dict each time)."""
    return {"type": "object", "properties": {}}


def stop_sequences(stop: Any) -> Any:
    """``stop`` as the API takes it: a string becomes ``[string]``; anything else is left
    for the server to judge."""
    return [stop] if isinstance(stop, str) else stop


def wire_tool(tool: Any) -> Any:
    """One tool as it goes on the wire: an attrs object (a :class:`~grok_async.Tool`, a
    :class:`~grok_async.FunctionTool`) as its JSON object, and a function without
    ``parameters`` given the empty object schema. Other tools go as they are."""
    if not isinstance(tool, Mapping) and attrs.has(type(tool)):
        tool = converter.unstructure(tool)
    if not isinstance(tool, Mapping) or tool.get("type") != "function":
        return tool
    function = tool.get("function")
    if isinstance(function, Mapping):  # chat completions: the definition is nested
        if function.get("parameters") is None:
            return {**tool, "function": {**function, "parameters": empty_parameters()}}
    elif "name" in tool and tool.get("parameters") is None:  # Responses API: flat
        return {**tool, "parameters": empty_parameters()}
    return tool


def reshape_chat_body(body: dict[str, Any]) -> None:
    """Put a chat completion body's ``stop`` and ``tools`` (any iterable) in the shapes
    above, in place (the body is the library's own dict, not the caller's)."""
    if "stop" in body:
        body["stop"] = stop_sequences(body["stop"])
    tools: Iterable[Any] | None = body.get("tools")
    if tools is not None:
        body["tools"] = [wire_tool(tool) for tool in tools]


def responses_tool(tool: Any) -> Any:
    """One tool in the Responses API's flat shape: a chat-shaped function tool is
    flattened (its ``None`` fields left out); anything else (a flat dict,
    ``{"type": "web_search"}``, ...) goes as :func:`wire_tool` leaves it."""
    tool = wire_tool(tool)
    if isinstance(tool, Mapping) and isinstance(tool.get("function"), Mapping):
        function = {k: v for k, v in tool["function"].items() if v is not None}
        return {"type": tool.get("type", "function"), **function}
    return tool


def reshape_responses_body(body: dict[str, Any]) -> None:
    """Put a Responses API body's ``tools`` (any iterable) in the flat shape, in place."""
    tools: Iterable[Any] | None = body.get("tools")
    if tools is not None:
        body["tools"] = [responses_tool(tool) for tool in tools]
