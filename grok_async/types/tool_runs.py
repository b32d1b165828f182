"""What :func:`grok_async.run_tools` returns: each tool call's outcome and the final reply."""

from __future__ import annotations

from typing import Any

import attrs

from .chat import ChatCompletion

__all__ = ["ToolCallResult", "ToolRunResult"]


@attrs.frozen
class ToolCallResult:
    """One tool call the model made and what came of it."""

    #: The call's ``id``, echoed as the tool message's ``tool_call_id``.
    id: str
    name: str
    #: The arguments as the model sent them (a JSON string).
    arguments: str
    #: The text sent back to the model: the result (JSON unless a str) or an error text.
    content: str
    #: What the function returned (``None`` if it failed).
    output: Any = None
    #: The exception: the tool's own, a :class:`ToolArgumentsError`, a ``LookupError`` for
    #: a tool name the model made up, or a ``TimeoutError`` for a tool that outran
    #: ``tool_timeout``. ``None`` on success.
    error: Exception | None = None
    #: The round (1 for the first reply's calls).
    round: int = 1


@attrs.frozen
class ToolRunResult:
    """What :func:`run_tools` returns: the final reply and the conversation that led to it."""

    #: The model's final reply (no tool calls).
    completion: ChatCompletion
    #: The conversation: the messages passed in, each assistant turn with its tool calls,
    #: one :class:`~grok_async.ToolMessage` per call, and the final assistant message; pass
    #: it as ``messages=`` to continue the conversation.
    messages: list[Any]
    #: Every tool call that was run, in order.
    tool_calls: list[ToolCallResult]
    #: How many rounds of tool calls were run.
    rounds: int

    @property
    def content(self) -> str | None:
        """The text of the final reply."""
        return self.completion.choices[0].message.content if self.completion.choices else None
