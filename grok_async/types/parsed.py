"""Completions whose reply was parsed into a class: what ``chat.completions.parse()`` returns.

Each model subclasses its plain counterpart, so a parsed completion is also a
:class:`~grok_async.types.chat.ChatCompletion` (``.raw``, ``usage``, ``request_id`` and all);
it only adds :attr:`ParsedChatCompletionMessage.parsed` and the type parameter that makes it
typed: ``completion.choices[0].message.parsed`` is ``T | None``.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from attrs import define, field

from .chat import ChatCompletion, ChatCompletionMessage, Choice

__all__ = ["ParsedChatCompletion", "ParsedChatCompletionMessage", "ParsedChoice"]

T = TypeVar("T")


@define
class ParsedChatCompletionMessage(ChatCompletionMessage, Generic[T]):
    """The assistant's reply with its JSON ``content`` structured into ``T``.

    ``parsed`` is ``None`` when the reply has no content: the model refused (see
    ``refusal``) or called tools instead of answering.
    """

    parsed: T | None = None


@define
class ParsedChoice(Choice, Generic[T]):
    """One answer of a parsed completion."""

    message: ParsedChatCompletionMessage[T] = field(factory=ParsedChatCompletionMessage)


@define
class ParsedChatCompletion(ChatCompletion, Generic[T]):
    """A :class:`~grok_async.types.chat.ChatCompletion` whose choices carry the parsed reply:
    ``completion.choices[0].message.parsed``."""

    # A list of the subclass is not a list of the base class for mypy (lists are
    # invariant), but a parsed completion is read, not appended to, like any response.
    choices: list[ParsedChoice[T]] = field(factory=list)  # type: ignore[assignment]
