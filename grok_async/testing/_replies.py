"""What the emulator answers: ``Reply``, the default deterministic replier, and the
encoding of an answer as a chat completion body or as SSE chunks."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import orjson

from ._catalog import Catalog, ModelInfo, is_reasoning_model
from ._content import formatted_content, placeholder, sentence
from ._tokens import count_tokens, split_tokens
from ._usage import chat_usage

__all__ = [
    "DONE_EVENT",
    "Answer",
    "Choice",
    "Reply",
    "build_answer",
    "completion_bytes",
    "completion_tail",
    "default_reply",
    "message_text",
    "sse_event",
    "stream_events",
]


def _optional_list(value: Sequence[Any] | None) -> list[Any] | None:
    return None if value is None else list(value)


def _optional_dict(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else dict(value)


@attrs.frozen
class Reply:
    """One scripted answer of the assistant (one choice).

    - ``content``: the visible text; streamed token by token.
    - ``reasoning_content``: a reasoning trace, streamed before the content.
    - ``tool_calls``: ``[{"name": ..., "arguments": str | dict, "id"?: ...}]``; sent whole,
      in one chunk when streamed. A missing id gets a deterministic ``call_<hex>``.
    - ``refusal``: a refusal text (``message.refusal``; content is then null unless set).
    - ``finish_reason``: default "tool_calls" when there are tool calls, else "stop".
    - ``usage``: sent verbatim instead of the computed usage.
    - ``citations``: top-level ``citations`` (Live Search URLs).
    - ``model``: the ``model`` field to report instead of the resolved model id.
    - ``extra``: more top-level fields, to test that a client tolerates unknown ones.
    """

    content: str = ""
    reasoning_content: str | None = attrs.field(default=None, kw_only=True)
    tool_calls: list[dict[str, Any]] | None = attrs.field(
        default=None, kw_only=True, converter=_optional_list
    )
    refusal: str | None = attrs.field(default=None, kw_only=True)
    finish_reason: str | None = attrs.field(default=None, kw_only=True)
    usage: dict[str, Any] | None = attrs.field(default=None, kw_only=True, converter=_optional_dict)
    citations: list[str] | None = attrs.field(default=None, kw_only=True, converter=_optional_list)
    model: str | None = attrs.field(default=None, kw_only=True)
    extra: dict[str, Any] | None = attrs.field(default=None, kw_only=True, converter=_optional_dict)


# ---------------------------------------------------------------------------------------
# The default replier: an answer that depends only on the request, so tests can predict it.


def message_text(message: Any) -> str:
    """The text of a message's ``content``: a string, or the text parts of a list."""
    if not isinstance(message, Mapping):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def _last_user_text(messages: Sequence[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return message_text(message)
    return ""


def _functions(request: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tools = request.get("tools")
    if not isinstance(tools, list):
        return []
    return [
        tool["function"]
        for tool in tools
        if isinstance(tool, Mapping)
        and tool.get("type", "function") == "function"
        and isinstance(tool.get("function"), Mapping)
        and isinstance(tool["function"].get("name"), str)
    ]


def _tools_to_call(request: Mapping[str, Any], user_text: str) -> list[Mapping[str, Any]]:
    """The functions the default replier calls, following ``tool_choice`` like Grok."""
    functions = _functions(request)
    messages = request.get("messages") or []
    choice = request.get("tool_choice")
    if not functions or choice == "none":
        return []
    if messages and isinstance(messages[-1], Mapping) and messages[-1].get("role") == "tool":
        # The tool already answered: now the model talks.
        return []
    if isinstance(choice, Mapping):
        wanted = (choice.get("function") or {}).get("name")
        return [f for f in functions if f["name"] == wanted][:1]
    lowered = user_text.lower()
    mentioned = [f for f in functions if f["name"].lower() in lowered]
    if request.get("parallel_tool_calls") is False:
        mentioned = mentioned[:1]
    if mentioned:
        return mentioned
    return functions[:1] if choice == "required" else []


def _call_id(seed: str) -> str:
    return "call_" + hashlib.blake2b(seed.encode(), digest_size=12).hexdigest()


def _completion_limit(request: Mapping[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = request.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


_BUILTIN_CATALOG = Catalog()


def default_reply(request: Mapping[str, Any], *, reasoning: bool | None = None) -> list[Reply]:
    """The emulator's own answer to a chat request: one ``Reply`` per choice (``n``).

    Deterministic: the same request always gets the same answer. The text is a made-up
    sentence derived from the last user message (and the choice index); ``max_tokens`` /
    ``max_completion_tokens`` truncate it (finish_reason "length"). Reasoning models (see
    *reasoning*; by default judged from the model name) add a ``reasoning_content``. With
    ``tools``, the reply calls a tool when ``tool_choice`` is "required" or names one, or
    the last user message mentions a tool by name — unless the last message is a tool
    result. Arguments fill the schema's required properties with placeholders. With a
    ``response_format`` of type ``json_schema`` the content is JSON that fits the schema
    (every property filled, values derived from the request), with ``json_object`` a JSON
    object; ``max_tokens`` still truncates it, as a real model's JSON would be.
    """
    messages = request.get("messages")
    messages = messages if isinstance(messages, list) else []
    if reasoning is None:
        name = str(request.get("model", ""))
        model = _BUILTIN_CATALOG.resolve(name)
        reasoning = is_reasoning_model(model.id if model else name)
    user_text = _last_user_text(messages)
    seed = user_text
    if messages and isinstance(messages[-1], Mapping) and messages[-1].get("role") == "tool":
        seed += "\x00tool\x00" + message_text(messages[-1])
    n = request.get("n", 1)
    n = n if isinstance(n, int) and n > 0 else 1
    limit = _completion_limit(request)
    tools = _tools_to_call(request, user_text)
    replies = []
    for index in range(n):
        choice_seed = f"{seed}\x00{index}"
        thought = (
            "Let me think. " + sentence("reasoning\x00" + choice_seed, 6, 14) if reasoning else None
        )
        if tools:
            calls = [
                {
                    "id": _call_id(f"{choice_seed}\x00{position}\x00{function['name']}"),
                    "name": function["name"],
                    "arguments": placeholder(function.get("parameters")),
                }
                for position, function in enumerate(tools)
            ]
            replies.append(Reply(reasoning_content=thought, tool_calls=calls))
            continue
        content = formatted_content(request.get("response_format"), choice_seed)
        if content is None:
            content = sentence(choice_seed, 8, 16)
        finish = "stop"
        if limit is not None:
            pieces = split_tokens(content)
            if len(pieces) > limit:
                content = "".join(pieces[:limit])
                finish = "length"
        replies.append(Reply(content, reasoning_content=thought, finish_reason=finish))
    return replies


# ---------------------------------------------------------------------------------------
# From replies to the wire.


@attrs.frozen
class Choice:
    """One choice, normalised to what goes on the wire."""

    index: int
    content: str | None
    reasoning_content: str | None
    tool_calls: tuple[dict[str, Any], ...]
    finish_reason: str
    refusal: str | None = None


@attrs.frozen
class Answer:
    """Everything a chat completion needs except its ``id`` and ``created`` time."""

    model: str
    fingerprint: str
    choices: tuple[Choice, ...]
    usage: dict[str, Any]
    citations: list[str] | None = None
    extra: dict[str, Any] | None = None


def _wire_tool_call(call: Mapping[str, Any], seed: str) -> dict[str, Any]:
    # Accept both the short form {"name", "arguments"} and the wire form {"function": {...}}.
    function = call.get("function")
    source: Mapping[str, Any] = function if isinstance(function, Mapping) else call
    arguments = source.get("arguments", {})
    if not isinstance(arguments, str):
        arguments = orjson.dumps(arguments).decode()
    name = str(source.get("name", ""))
    return {
        "id": str(call.get("id") or _call_id(f"{seed}\x00{name}\x00{arguments}")),
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def _choice(index: int, reply: Reply) -> Choice:
    calls = tuple(
        _wire_tool_call(call, f"{index}\x00{position}")
        for position, call in enumerate(reply.tool_calls or ())
    )
    finish = reply.finish_reason or ("tool_calls" if calls else "stop")
    # OpenAI-compatible servers send content null, not "", next to tool calls or a refusal.
    content = None if (calls or reply.refusal) and not reply.content else reply.content
    return Choice(index, content, reply.reasoning_content, calls, finish, reply.refusal)


def _usage(
    request: Mapping[str, Any], choices: Sequence[Choice], model: ModelInfo
) -> dict[str, Any]:
    messages = request.get("messages")
    prompt = sum(count_tokens(message_text(m)) for m in messages or ()) if messages else 0
    completion = 0
    reasoning = 0
    for choice in choices:
        completion += count_tokens(choice.content or "") + count_tokens(choice.refusal or "")
        reasoning += count_tokens(choice.reasoning_content or "")
        for call in choice.tool_calls:
            completion += count_tokens(call["function"]["name"])
            completion += count_tokens(call["function"]["arguments"])
    return chat_usage(model, prompt, completion, reasoning)


def build_answer(
    request: Mapping[str, Any], replies: Sequence[Reply], model: ModelInfo, n: int
) -> Answer:
    """Turn replies into an answer: one reply serves all ``n`` choices, several are used
    one per choice; usage is computed unless the first reply sets it."""
    if not replies:
        replies = [Reply()]
    if len(replies) == 1 and n > 1:
        replies = list(replies) * n
    choices = tuple(_choice(index, reply) for index, reply in enumerate(replies))
    first = replies[0]
    return Answer(
        model=first.model or model.id,
        fingerprint=model.fingerprint,
        choices=choices,
        usage=first.usage if first.usage is not None else _usage(request, choices, model),
        citations=next((r.citations for r in replies if r.citations is not None), None),
        extra=first.extra,
    )


_ENVELOPE_KEYS = frozenset({"id", "object", "created"})


def completion_tail(answer: Answer) -> bytes:
    """The JSON of a completion after its ``id``/``object``/``created`` fields, without
    the opening brace: what the server caches for repeated identical requests."""
    return orjson.dumps(_completion_fields(answer))[1:]


def completion_bytes(
    answer: Answer, completion_id: str, created: int, tail: bytes | None = None
) -> bytes:
    """The JSON body of a non-streamed chat completion."""
    if answer.extra and not _ENVELOPE_KEYS.isdisjoint(answer.extra):
        # The caller overrides an envelope field: build the whole object instead.
        body = {"id": completion_id, "object": "chat.completion", "created": created}
        body.update(_completion_fields(answer))
        return orjson.dumps(body)
    head = b'{"id":"%s","object":"chat.completion","created":%d,' % (
        completion_id.encode(),
        created,
    )
    return head + (tail if tail is not None else completion_tail(answer))


def _completion_fields(answer: Answer) -> dict[str, Any]:
    choices = []
    for choice in answer.choices:
        message: dict[str, Any] = {"role": "assistant", "content": choice.content}
        if choice.reasoning_content is not None:
            message["reasoning_content"] = choice.reasoning_content
        if choice.tool_calls:
            message["tool_calls"] = list(choice.tool_calls)
        message["refusal"] = choice.refusal
        choices.append(
            {"index": choice.index, "message": message, "finish_reason": choice.finish_reason}
        )
    fields: dict[str, Any] = {
        "model": answer.model,
        "choices": choices,
        "usage": answer.usage,
        "system_fingerprint": answer.fingerprint,
    }
    if answer.citations is not None:
        fields["citations"] = answer.citations
    if answer.extra:
        fields.update(answer.extra)
    return fields


DONE_EVENT = b"data: [DONE]\n\n"


def sse_event(payload: Mapping[str, Any]) -> bytes:
    """One data-only SSE event carrying *payload* as JSON."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def _choice_deltas(choice: Choice) -> list[dict[str, Any]]:
    deltas: list[dict[str, Any]] = [
        {"reasoning_content": piece} for piece in split_tokens(choice.reasoning_content or "")
    ]
    deltas.extend({"content": piece} for piece in split_tokens(choice.content or ""))
    deltas.extend({"refusal": piece} for piece in split_tokens(choice.refusal or ""))
    if choice.tool_calls:
        # xAI sends each tool call whole, in a single chunk (SPEC.md §3).
        deltas.append(
            {"tool_calls": [dict(call, index=i) for i, call in enumerate(choice.tool_calls)]}
        )
    if not deltas:
        deltas.append({"content": ""})
    # The first chunk carries the role together with the first token, as xAI does.
    deltas[0] = {"role": "assistant", **deltas[0]}
    return deltas


def stream_events(
    answer: Answer,
    completion_id: str,
    created: int,
    *,
    include_usage: bool = False,
    heartbeats: int = 0,
) -> list[bytes]:
    """The SSE events of a streamed chat completion, ``data: [DONE]`` last.

    Per choice: *heartbeats* empty-delta chunks (what reasoning models send while they
    think), reasoning deltas then content deltas token by token, tool calls whole, then a
    ``finish_reason`` chunk. With *include_usage*, a ``choices: []`` chunk with the usage.
    """
    head = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": answer.model,
    }
    tail: dict[str, Any] = {"system_fingerprint": answer.fingerprint}
    if answer.extra:
        tail.update(answer.extra)

    def chunk(choices: list[dict[str, Any]], **more: Any) -> bytes:
        return sse_event({**head, "choices": choices, **tail, **more})

    events: list[bytes] = []
    last = len(answer.choices) - 1
    for choice in answer.choices:
        events.extend(chunk([{"index": choice.index, "delta": {}}]) for _ in range(heartbeats))
        events.extend(
            chunk([{"index": choice.index, "delta": delta}]) for delta in _choice_deltas(choice)
        )
        finish = [{"index": choice.index, "delta": {}, "finish_reason": choice.finish_reason}]
        if choice.index == last and answer.citations is not None:
            events.append(chunk(finish, citations=answer.citations))
        else:
            events.append(chunk(finish))
    if include_usage:
        events.append(chunk([], usage=answer.usage))
    events.append(DONE_EVENT)
    return events
