"""The emulator's Responses API: ``POST /v1/responses`` (JSON or named-event SSE),
``GET`` and ``DELETE /v1/responses/{id}``.

The answer is the chat emulator's: the input items become chat messages (a previous
response's conversation first, ``instructions`` as a system message), the default
replier (or a scripted ``Reply``) answers them, and the answer is dressed as a response:
a ``reasoning`` item for reasoning models, ``function_call`` items when the input
mentions a function tool by name (as ``default_reply`` decides for chat), and a
``message`` item with the text. So ``responses.create(input="Hi")`` says what
``chat.completions.create(messages=[{"role": "user", "content": "Hi"}])`` says, on the
same model. ``max_output_tokens`` cuts the text (status ``incomplete``).

Responses are stored unless ``store`` is false; ``previous_response_id`` must name a
stored one (404 otherwise).

Faults apply as on chat completions: the client's key and the rate limits at the front
door, then ``Fault`` items from the queue, the ``replies`` script or the dice. Streams
deliver mid-stream faults after ``after_chunks`` events: ``error_event`` sends
``event: error`` with xAI's ``{"type": "error", "status": ..., "error": {...}}`` payload
and ends the body; ``no_done`` ends the body before the terminal ``response.completed``
event; ``reset_mid_stream``, ``stall_mid_stream`` and ``malformed`` as for chat.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from typing import Any

import attrs
import orjson
from aiohttp import web

from ._catalog import Catalog, ModelInfo, is_reasoning_model
from ._delivery import send_json, write_events
from ._documents import DocumentStore
from ._errors import error_response, nested_error_response
from ._faults import Fault
from ._replies import Answer, build_answer, default_reply
from ._response_events import error_event, stream_events
from ._script import Script
from ._server_tools import ServerTools
from ._tickets import note_answer
from ._usage import responses_usage
from ._validation import (
    InvalidRequest,
    _check_ranges,
    language_model,
    parse_json_body,
    type_error,
)

__all__ = ["ResponsesEndpoint"]

_INPUT_ROLES = frozenset({"user", "assistant", "system", "developer"})
# Input items that carry nothing the emulated model reads (earlier reasoning, server-side
# tool calls): accepted, as xAI accepts them, and skipped.
_IGNORED_INPUT = frozenset({"reasoning", "compaction"})
# Parameters shared with chat completions, checked the same way.
_CHECKED_AS_ON_CHAT = (
    "temperature",
    "top_p",
    "top_logprobs",
    "stream",
    "logprobs",
    "tools",
    "frequency_penalty",
    "presence_penalty",
)
#: Fields on every Responses object (SPEC.md §9: required in the OpenAPI document, always
#: in real traffic), echoed from the request or at the server's default.
_ALWAYS_SENT: Mapping[str, object] = {
    "background": False,
    "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
    "service_tier": "default",
    "top_logprobs": 0,
    "truncation": "disabled",
}


@attrs.define
class _Stored:
    payload: dict[str, Any]
    #: The conversation so far as chat messages, this response's answer included.
    messages: list[dict[str, Any]]


def _required(field: str) -> InvalidRequest:
    return InvalidRequest(
        422, f"Failed to deserialize the JSON body into the target type: missing field `{field}`"
    )


def _input_messages(value: Any) -> list[dict[str, Any]]:
    """``input`` as chat messages, or ``InvalidRequest`` for a shape xAI refuses."""
    if value is None:
        raise _required("input")
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        raise type_error("input", "a string or a sequence of input items")
    if not value:
        raise InvalidRequest(400, "The input must contain at least one item.")
    messages: list[dict[str, Any]] = []
    for position, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise type_error(f"input[{position}]", "an input item object")
        kind = item.get("type", "message")
        if kind == "message" or (kind is None and "role" in item):
            messages.append(_message_item(item, position))
        elif kind == "function_call_output":
            call_id, output = item.get("call_id"), item.get("output")
            if not isinstance(call_id, str) or not isinstance(output, str):
                raise InvalidRequest(
                    422, f"input[{position}] (function_call_output) needs `call_id` and `output`."
                )
            messages.append({"role": "tool", "content": output, "tool_call_id": call_id})
        elif kind == "function_call":
            messages.append(_function_call_item(item, position))
        elif not isinstance(kind, str):
            raise type_error(f"input[{position}].type", "a string")
        elif kind in _IGNORED_INPUT or kind.endswith("_call"):
            continue
        else:
            raise InvalidRequest(400, f"Unknown input item type {kind!r} in input[{position}].")
    return messages


def _message_item(item: Mapping[str, Any], position: int) -> dict[str, Any]:
    role = item.get("role")
    if role not in _INPUT_ROLES:
        raise InvalidRequest(
            400,
            f"Invalid role {role!r} in input[{position}]; expected one of "
            f"{', '.join(sorted(_INPUT_ROLES))}.",
        )
    content = item.get("content")
    if not isinstance(content, (str, list)):
        raise type_error(f"input[{position}].content", "a string or an array of parts")
    # Output items sent back (role assistant, output_text parts) read like any message.
    return {"role": role, "content": content}


def _function_call_item(item: Mapping[str, Any], position: int) -> dict[str, Any]:
    call_id, name = item.get("call_id"), item.get("name")
    arguments = item.get("arguments", "")
    if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(arguments, str):
        raise InvalidRequest(
            422, f"input[{position}] (function_call) needs `call_id`, `name` and `arguments`."
        )
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        ],
    }


def _chat_tools(tools: Any) -> list[dict[str, Any]] | None:
    """Function tools in chat form (``{"type": "function", "function": {...}}``); the
    Responses API writes them flat. Server-side tools run apart (``_server_tools.py``)."""
    if not isinstance(tools, list):
        return None
    converted = []
    for tool in tools:
        if not isinstance(tool, Mapping) or tool.get("type") != "function":
            continue
        if isinstance(tool.get("function"), Mapping):  # the chat form, accepted as well
            converted.append(dict(tool))
        elif isinstance(tool.get("name"), str):
            function = {k: v for k, v in tool.items() if k != "type"}
            converted.append({"type": "function", "function": function})
    return converted


def _chat_tool_choice(choice: Any) -> Any:
    if isinstance(choice, Mapping) and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice


def _check(body: Mapping[str, Any], catalog: Catalog) -> ModelInfo:
    """Validate a ``/v1/responses`` body the way xAI does; return the model."""
    model = language_model(body, catalog, "respond")
    _check_ranges(
        {key: body[key] for key in _CHECKED_AS_ON_CHAT if key in body}
        | {"parallel_tool_calls": body.get("parallel_tool_calls")}
    )
    limit = body.get("max_output_tokens")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise type_error("max_output_tokens", "an integer")
    if isinstance(limit, int) and limit < 1:
        raise InvalidRequest(400, f"max_output_tokens must be at least 1, got {limit}.")
    for flag in ("store", "background"):
        if body.get(flag) is not None and not isinstance(body[flag], bool):
            raise type_error(flag, "a boolean")
    for text in ("instructions", "previous_response_id", "user", "service_tier", "truncation"):
        if body.get(text) is not None and not isinstance(body[text], str):
            raise type_error(text, "a string")
    if body.get("instructions") is not None and body.get("previous_response_id") is not None:
        # xAI: instructions "cannot be used alongside previous_response_id, where the
        # system prompt of the previous message will be used".
        raise InvalidRequest(400, "instructions cannot be used together with previous_response_id.")
    return model


class ResponsesEndpoint:
    """The Responses API of one emulator: its handlers and its stored responses."""

    def __init__(
        self,
        catalog: Catalog,
        documents: DocumentStore,
        script: Script,
        *,
        tokens_per_second: float | None,
    ) -> None:
        self._catalog = catalog
        self._script = script
        self._tokens_per_second = tokens_per_second
        self._stored: dict[str, _Stored] = {}
        self._server_tools = ServerTools(documents)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Serve creating, retrieving and deleting responses on ``router``."""
        router.add_post("/v1/responses", self.create)
        router.add_get("/v1/responses/{response_id}", self.retrieve)
        router.add_delete("/v1/responses/{response_id}", self.delete)

    # -- handlers ------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/responses``."""
        try:
            body = parse_json_body(request.content_type, await request.read())
            model = _check(body, self._catalog)
            messages = self._conversation(body)
            server_tools = self._server_tools.plan(body)
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        fault, replies, early = await self._script.draw(request, body)
        if early is not None:
            return early
        chat = self._chat_request(body, model, messages)
        if replies is None:
            replies = default_reply(chat, reasoning=is_reasoning_model(model.id))
        answer = build_answer(chat, replies[:1], model, 1)
        note_answer(request, answer.usage, charged=fault is None)
        payload = self._payload(body, answer, chat)
        self._server_tools.apply(server_tools, body, payload)
        if body.get("store") is not False:
            self._stored[payload["id"]] = _Stored(payload, [*messages, _assistant_turn(answer)])
        if body.get("stream") is True:
            return await self._stream(request, payload, fault)
        if fault is not None and fault.kind == "error_event":
            return nested_error_response(fault.message, fault.code)
        return await send_json(request, orjson.dumps(payload), fault)

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/responses/{response_id}``."""
        stored = self._stored.get(request.match_info["response_id"])
        if stored is None:
            return _not_found(request.match_info["response_id"])
        return web.Response(body=orjson.dumps(stored.payload), content_type="application/json")

    async def delete(self, request: web.Request) -> web.StreamResponse:
        """``DELETE /v1/responses/{response_id}``."""
        response_id = request.match_info["response_id"]
        if self._stored.pop(response_id, None) is None:
            return _not_found(response_id)
        return web.Response(
            body=orjson.dumps({"id": response_id, "object": "response", "deleted": True}),
            content_type="application/json",
        )

    # -- building the answer -------------------------------------------------------------

    def _conversation(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The chat messages the model answers: the previous response's conversation (or
        the instructions), then this request's input."""
        messages = _input_messages(body.get("input"))
        previous_id = body.get("previous_response_id")
        if previous_id is not None:
            previous = self._stored.get(previous_id)
            if previous is None:
                raise InvalidRequest(404, f"Response with id '{previous_id}' not found.")
            return [*previous.messages, *messages]
        instructions = body.get("instructions")
        if instructions is not None:
            return [{"role": "system", "content": instructions}, *messages]
        return messages

    @staticmethod
    def _chat_request(
        body: Mapping[str, Any], model: ModelInfo, messages: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The chat completion request that asks what this response asks."""
        chat: dict[str, Any] = {"model": model.id, "messages": messages}
        tools = _chat_tools(body.get("tools"))
        if tools:
            chat["tools"] = tools
        for key, value in (
            ("tool_choice", _chat_tool_choice(body.get("tool_choice"))),
            ("parallel_tool_calls", body.get("parallel_tool_calls")),
            ("max_completion_tokens", body.get("max_output_tokens")),
        ):
            if value is not None:
                chat[key] = value
        return chat

    def _payload(
        self, body: Mapping[str, Any], answer: Answer, chat: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The response object of ``answer``."""
        response_id = str(uuid.uuid4())
        choice = answer.choices[0]
        output: list[dict[str, Any]] = []
        if choice.reasoning_content is not None:
            reasoning: dict[str, Any] = {
                "id": f"rs_{response_id}",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": choice.reasoning_content}],
                "status": "completed",
            }
            include = body.get("include")
            if isinstance(include, list) and "reasoning.encrypted_content" in include:
                reasoning["encrypted_content"] = base64.b64encode(
                    choice.reasoning_content.encode()
                ).decode()
            output.append(reasoning)
        for call in choice.tool_calls:
            output.append(
                {
                    "id": f"fc_{call['id']}",
                    "type": "function_call",
                    "call_id": call["id"],
                    "name": call["function"]["name"],
                    "arguments": call["function"]["arguments"],
                    "status": "completed",
                }
            )
        if choice.content is not None:
            output.append(
                {
                    "id": f"msg_{response_id}",
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                    "content": [
                        {
                            "type": "output_text",
                            "text": choice.content,
                            "annotations": [],
                            "logprobs": [],
                        }
                    ],
                }
            )
        cut = choice.finish_reason == "length"
        now = int(time.time())
        tools = body.get("tools")
        payload: dict[str, Any] = {
            "id": response_id,
            "object": "response",
            "created_at": now,
            "completed_at": None if cut else now,
            "model": answer.model,
            "output": output,
            "status": "incomplete" if cut else "completed",
            "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
            "error": None,
            "usage": responses_usage(answer.usage),
            "previous_response_id": body.get("previous_response_id"),
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "temperature": body.get("temperature"),
            "top_p": body.get("top_p"),
            "tool_choice": body.get("tool_choice", "auto" if chat.get("tools") else "none"),
            "tools": tools if isinstance(tools, list) else [],
            "reasoning": body.get("reasoning"),
            "text": body.get("text", {"format": {"type": "text"}}),
            "store": body.get("store", True),
            "user": body.get("user"),
            "metadata": body.get("metadata"),
            **{
                key: default if body.get(key) is None else body[key]
                for key, default in _ALWAYS_SENT.items()
            },
        }
        if answer.extra:
            payload.update(answer.extra)
        return payload

    # -- streaming -----------------------------------------------------------------------

    async def _stream(
        self, request: web.Request, payload: dict[str, Any], fault: Fault | None
    ) -> web.StreamResponse:
        """Send ``payload`` as the named events of a Responses stream, with ``fault``."""
        return await write_events(
            request,
            stream_events(payload),
            fault,
            tokens_per_second=self._tokens_per_second,
            error_event=error_event,
            broken_event=b'event: response.output_text.delta\ndata: {"type":\n\n',
        )


def _assistant_turn(answer: Answer) -> dict[str, Any]:
    choice = answer.choices[0]
    turn: dict[str, Any] = {"role": "assistant", "content": choice.content}
    if choice.tool_calls:
        turn["tool_calls"] = list(choice.tool_calls)
    return turn


def _not_found(response_id: str) -> web.Response:
    return error_response(404, f"Response with id '{response_id}' not found.")
