"""Assembling a streamed chat completion: chunks in, one :class:`ChatCompletion` out."""

from __future__ import annotations

from typing import Any

from .types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    Choice,
    Function,
    ToolCall,
    Usage,
)

__all__ = ["ChatCompletionAccumulator"]


class _ChoiceState:
    __slots__ = ("content", "finish_reason", "reasoning", "refusal", "role", "tool_calls")

    def __init__(self) -> None:
        self.role: str | None = None
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.refusal: list[str] = []
        self.finish_reason: str | None = None
        # index -> [id, type, name, argument fragments]
        self.tool_calls: dict[int, list[Any]] = {}


class ChatCompletionAccumulator:
    """Assembles streamed :class:`ChatCompletionChunk` objects into a :class:`ChatCompletion`.

    Works on any chunk source::

        acc = ChatCompletionAccumulator()
        async for chunk in stream:
            acc.add(chunk)
        completion = acc.completion()

    Content and reasoning are concatenated per choice; tool-call fragments are merged by
    ``index`` (id, type and name from the first fragment that has them, arguments
    concatenated); the last ``usage`` and ``citations`` seen win (xAI may send a cumulative
    usage on every chunk, or once at the end with ``choices: []``).
    """

    def __init__(self) -> None:
        self._choices: dict[int, _ChoiceState] = {}
        self._first: ChatCompletionChunk | None = None
        self._usage: Usage | None = None
        self._citations: list[str] | None = None
        self._fingerprint: str | None = None

    @property
    def usage(self) -> Usage | None:
        """The last ``usage`` a chunk carried."""
        return self._usage

    def add(self, chunk: ChatCompletionChunk) -> None:
        """Fold one chunk in."""
        if self._first is None or not self._first.id:
            # Heartbeat chunks may come first without id/model; identify by a real one.
            self._first = chunk
        if chunk.usage is not None:
            self._usage = chunk.usage
        if chunk.citations is not None:
            self._citations = chunk.citations
        if chunk.system_fingerprint is not None:
            self._fingerprint = chunk.system_fingerprint
        for choice in chunk.choices:
            state = self._choices.get(choice.index)
            if state is None:
                state = self._choices[choice.index] = _ChoiceState()
            delta = choice.delta
            if delta.role is not None:
                state.role = delta.role
            if delta.content:
                state.content.append(delta.content)
            if delta.reasoning_content:
                state.reasoning.append(delta.reasoning_content)
            if delta.refusal:
                state.refusal.append(delta.refusal)
            if delta.tool_calls:
                for call in delta.tool_calls:
                    self._add_tool_call(state, call)
            if choice.finish_reason is not None:
                state.finish_reason = choice.finish_reason

    @staticmethod
    def _add_tool_call(state: _ChoiceState, call: Any) -> None:
        entry = state.tool_calls.get(call.index)
        if entry is None:
            entry = state.tool_calls[call.index] = [None, None, None, []]
        if entry[0] is None and call.id:
            entry[0] = call.id
        if entry[1] is None and call.type:
            entry[1] = call.type
        function = call.function
        if function is not None:
            if entry[2] is None and function.name:
                entry[2] = function.name
            if function.arguments:
                entry[3].append(function.arguments)

    def completion(self) -> ChatCompletion:
        """The completion assembled so far."""
        first = self._first
        choices = []
        for index in sorted(self._choices):
            state = self._choices[index]
            tool_calls = [
                ToolCall(
                    id=entry[0] or "",
                    type=entry[1] or "function",
                    function=Function(name=entry[2] or "", arguments="".join(entry[3])),
                    index=call_index,
                )
                for call_index, entry in sorted(state.tool_calls.items())
            ]
            finish_reason = state.finish_reason
            if finish_reason == "" and tool_calls:
                finish_reason = "tool_calls"
            message = ChatCompletionMessage(
                role=state.role or "assistant",
                content="".join(state.content) if state.content else None,
                reasoning_content="".join(state.reasoning) if state.reasoning else None,
                refusal="".join(state.refusal) if state.refusal else None,
                tool_calls=tool_calls or None,
            )
            choices.append(Choice(index=index, message=message, finish_reason=finish_reason))
        return ChatCompletion(
            id=first.id if first is not None else "",
            choices=choices,
            object="chat.completion",
            created=first.created if first is not None else 0,
            model=first.model if first is not None else "",
            usage=self._usage,
            system_fingerprint=self._fingerprint,
            citations=self._citations,
        )
