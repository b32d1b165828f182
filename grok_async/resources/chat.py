"""``client.chat``: ``client.chat.completions`` and ``client.chat.deferred``.

:class:`Completions` is built in layers, one concern a module: ``create()`` and the
decoding of its answer (``_chat_create``), the fan-out methods ``iter_many()`` and
``create_many()`` (``_chat_fanout``), and here the calls made of ``create()``:
``stream()``, ``parse()`` (structured outputs) and ``run_tools()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .._chat_stream import ChatCompletionStreamManager
from .._constants import DEFAULT_MAX_TOOL_ROUNDS
from ._chat_fanout import FanOutCompletions

if TYPE_CHECKING:
    from .._parsing import ParsedChatCompletionStreamManager
    from .._requester import Requester
    from .._tools import FunctionTool
    from ..types.parsed import ParsedChatCompletion
    from ..types.tool_runs import ToolRunResult
    from .deferred import Deferred

# Structured outputs, tools and deferred completions are imported when first used:
# ``import grok_async`` stays as cheap as the chat-only client (see bench_startup.py).

__all__ = ["Chat", "Completions"]

T = TypeVar("T")


class Completions(FanOutCompletions):
    """Chat completions (``POST /v1/chat/completions``): ``client.chat.completions``."""

    @overload
    def stream(
        self, *, model: str, messages: Iterable[Any], response_format: type[T], **kwargs: Any
    ) -> ParsedChatCompletionStreamManager[T]: ...

    @overload
    def stream(
        self, *, model: str, messages: Iterable[Any], **kwargs: Any
    ) -> ChatCompletionStreamManager: ...

    def stream(
        self, *, model: str, messages: Iterable[Any], **kwargs: Any
    ) -> ChatCompletionStreamManager:
        """``async with client.chat.completions.stream(...) as stream:`` — a streamed call
        whose response is closed when the block ends. Takes the arguments of :meth:`create`.

        With ``response_format=`` an attrs class (as for :meth:`parse`), the stream's
        ``get_final_completion()`` returns a :class:`~grok_async.ParsedChatCompletion`.

        Unless ``stream_options`` is given, it asks for ``{"include_usage": true}``, so the
        final completion's ``usage`` (and cost) is there; ``stream_options={"include_usage":
        False}`` turns that off.
        """
        kwargs.pop("stream", None)
        if kwargs.get("stream_options") is None:
            # The server sends usage in a stream only when asked; a final completion without
            # it would be the one place where usage and cost silently go missing.
            kwargs["stream_options"] = {"include_usage": True}
        response_format = kwargs.get("response_format")
        if isinstance(response_format, type):
            from .._parsing import ParsedChatCompletionStreamManager, response_format_for

            kwargs["response_format"] = response_format_for(response_format)
            return ParsedChatCompletionStreamManager(
                lambda: self.create(model=model, messages=messages, stream=True, **kwargs),
                response_format,
            )
        return ChatCompletionStreamManager(
            lambda: self.create(model=model, messages=messages, stream=True, **kwargs)
        )

    async def parse(
        self, *, model: str, messages: Iterable[Any], response_format: type[T], **kwargs: Any
    ) -> ParsedChatCompletion[T]:
        """A completion whose reply is JSON parsed into ``response_format``, an attrs class.

        Sends ``response_format={"type": "json_schema", ...}`` with the class's JSON schema
        (see :func:`~grok_async.json_schema`; ``"strict": true`` unless the class has a
        free-form ``dict`` field) and returns a :class:`~grok_async.ParsedChatCompletion`:
        ``completion.choices[0].message.parsed`` is an instance of the class, or ``None``
        when the model refused (``message.refusal``) or called tools instead of answering.
        Takes every other argument of :meth:`create` except ``stream`` and ``deferred``
        (use :meth:`stream` with ``response_format=`` to stream).

        Raises:
            StructuredOutputError: the reply is not JSON that fits the class, or was cut off
                by the token limit; the raw text is on ``.content``.
            TypeError: ``response_format`` is not an attrs class, or a field's type has no
                JSON schema.
            APIStatusError, APIConnectionError: as for :meth:`create`.

        Example::

            @attrs.define
            class City:
                name: str
                population: int

            completion = await client.chat.completions.parse(
                model="grok-4", messages=[...], response_format=City
            )
            city = completion.choices[0].message.parsed
        """
        from .._parsing import parse_chat_completion, response_format_for

        for name in ("stream", "deferred"):
            if kwargs.pop(name, None):
                raise TypeError(f"parse() does not take {name}=True")
        completion = await self.create(
            model=model,
            messages=messages,
            response_format=response_format_for(response_format),
            **kwargs,
        )
        return parse_chat_completion(completion, response_format)

    async def run_tools(
        self,
        *,
        model: str,
        messages: Iterable[Any],
        tools: Iterable[FunctionTool[Any] | Callable[..., Any]],
        max_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        tool_timeout: float | None = None,
        **kwargs: Any,
    ) -> ToolRunResult:
        """Talk with the model, running the Python tools it calls, until it answers.

        The same as :func:`grok_async.run_tools` with this client; see there.
        """
        from .._tool_runs import run_tools_with

        return await run_tools_with(
            self.create,
            model=model,
            messages=messages,
            tools=tools,
            max_rounds=max_rounds,
            tool_timeout=tool_timeout,
            **kwargs,
        )


class Chat:
    """``client.chat``"""

    def __init__(self, client: Requester) -> None:
        self._client = client
        self.completions = Completions(client, lambda: self.deferred)
        self._deferred: Deferred | None = None

    @property
    def deferred(self) -> Deferred:
        """Collect deferred completions by request id."""
        if self._deferred is None:
            from .deferred import Deferred

            self._deferred = Deferred(self._client)
        return self._deferred
