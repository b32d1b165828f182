"""Request checks, with the statuses and messages xAI answers invalid requests with.

Shape errors (a field of the wrong JSON type, a missing ``messages``) are 422, as the
deserializer of xAI's gateway reports them; value errors (out of range, unknown model)
are 400 or 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import orjson

from ._catalog import Catalog, ModelInfo
from ._errors import model_not_found_message

__all__ = [
    "ChatParams",
    "InvalidRequest",
    "kind_phrase",
    "language_model",
    "parse_json_body",
    "type_error",
    "validate_chat",
]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_CONTENT_REQUIRED = frozenset({"system", "developer", "user", "tool"})


class InvalidRequest(Exception):
    """The request is refused with *status* and xAI's flat error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@attrs.frozen
class ChatParams:
    """What the server needs to know about a valid chat request."""

    model: ModelInfo
    n: int
    stream: bool
    include_usage: bool
    deferred: bool


def parse_json_body(content_type: str, raw: bytes) -> dict[str, Any]:
    """The JSON object of a POST body, or ``InvalidRequest`` (415 / 400 / 422)."""
    if content_type != "application/json" or not raw:
        raise InvalidRequest(415, "Expected request with `Content-Type: application/json`")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(400, f"Failed to parse the request body as JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequest(
            422,
            "Failed to deserialize the JSON body into the target type: "
            f"invalid type: expected a JSON object, got {type(body).__name__}",
        )
    return body


def type_error(field: str, expected: str) -> InvalidRequest:
    """xAI's 422 for a JSON value of the wrong type."""
    return InvalidRequest(
        422,
        "Failed to deserialize the JSON body into the target type: "
        f"{field}: invalid type, expected {expected}",
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_messages(messages: Any) -> None:
    if messages is None:
        raise InvalidRequest(
            422,
            "Failed to deserialize the JSON body into the target type: missing field `messages`",
        )
    if not isinstance(messages, list):
        raise type_error("messages", "a sequence")
    if not messages:
        raise InvalidRequest(400, "The messages array must contain at least one message.")
    for position, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise type_error(f"messages[{position}]", "a message object")
        role = message.get("role")
        if role not in _ROLES:
            raise InvalidRequest(
                400,
                f"Invalid role {role!r} in messages[{position}]; expected one of "
                f"{', '.join(sorted(_ROLES))}.",
            )
        content = message.get("content")
        if role in _CONTENT_REQUIRED and content is None:
            raise InvalidRequest(400, f"messages[{position}] ({role}) must have a content.")
        if content is not None and not isinstance(content, (str, list)):
            raise type_error(f"messages[{position}].content", "a string or an array of parts")


def _check_ranges(body: Mapping[str, Any]) -> None:
    temperature = body.get("temperature")
    if temperature is not None:
        if not _is_number(temperature):
            raise type_error("temperature", "a number")
        if not 0 <= temperature <= 2:
            raise InvalidRequest(
                400, f"temperature must be between 0 and 2 (inclusive), got {temperature}."
            )
    top_p = body.get("top_p")
    if top_p is not None:
        if not _is_number(top_p):
            raise type_error("top_p", "a number")
        if not 0 < top_p <= 1:
            raise InvalidRequest(400, f"top_p must be in (0, 1], got {top_p}.")
    for penalty in ("frequency_penalty", "presence_penalty"):
        value = body.get(penalty)
        if value is not None and (not _is_number(value) or not -2 <= value <= 2):
            raise InvalidRequest(400, f"{penalty} must be between -2 and 2, got {value}.")
    stop = body.get("stop")
    if stop is not None:
        if isinstance(stop, str):
            stop = [stop]
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise type_error("stop", "a string or a sequence of strings")
        if len(stop) > 4:
            raise InvalidRequest(400, f"At most 4 stop sequences are allowed, got {len(stop)}.")
    top_logprobs = body.get("top_logprobs")
    if top_logprobs is not None:
        if not _is_int(top_logprobs):
            raise type_error("top_logprobs", "an integer")
        if not 0 <= top_logprobs <= 8:
            raise InvalidRequest(400, f"top_logprobs must be between 0 and 8, got {top_logprobs}.")
    n = body.get("n")
    if n is not None:
        if not _is_int(n):
            raise type_error("n", "an integer")
        if n < 1:
            raise InvalidRequest(400, f"n must be at least 1, got {n}.")
    for limit in ("max_tokens", "max_completion_tokens"):
        value = body.get(limit)
        if value is not None:
            if not _is_int(value):
                raise type_error(limit, "an integer")
            if value < 1:
                raise InvalidRequest(400, f"{limit} must be at least 1, got {value}.")
    for flag in ("stream", "deferred", "logprobs", "parallel_tool_calls"):
        value = body.get(flag)
        if value is not None and not isinstance(value, bool):
            raise type_error(flag, "a boolean")
    stream_options = body.get("stream_options")
    if stream_options is not None and not isinstance(stream_options, Mapping):
        raise type_error("stream_options", "an object")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise type_error("tools", "a sequence")
        if len(tools) > 128:
            raise InvalidRequest(400, f"At most 128 tools are allowed, got {len(tools)}.")


def language_model(body: Mapping[str, Any], catalog: Catalog, task: str) -> ModelInfo:
    """The language model a request's ``model`` names (an alias resolved), or the error xAI
    gives: 400 when missing, 422 when not a string, 404 when unknown, 400 for an image
    model (which "cannot ``task``")."""
    name = body.get("model")
    if name is None or name == "":
        raise InvalidRequest(400, "The request must specify a model.")
    if not isinstance(name, str):
        raise type_error("model", "a string")
    model = catalog.resolve(name)
    if model is None:
        raise InvalidRequest(404, model_not_found_message(name))
    if model.kind != "language":
        raise InvalidRequest(
            400, f"The model {model.id} is {kind_phrase(model)}; it cannot {task}."
        )
    return model


def kind_phrase(model: ModelInfo) -> str:
    """What a model is, for error messages: "an image generation model", ..."""
    return {
        "language": "a language model",
        "image": "an image generation model",
        "embedding": "an embedding model",
        "video": "a video generation model",
    }.get(model.kind, f"a {model.kind} model")


def validate_chat(body: Mapping[str, Any], catalog: Catalog) -> ChatParams:
    """Check a chat completion request the way xAI does; ``InvalidRequest`` if refused."""
    model = language_model(body, catalog, "chat")
    _check_messages(body.get("messages"))
    _check_ranges(body)
    stream = body.get("stream") is True
    options = body.get("stream_options")
    include_usage = stream and isinstance(options, Mapping) and options.get("include_usage") is True
    n = body.get("n")
    return ChatParams(
        model=model,
        n=n if isinstance(n, int) else 1,
        stream=stream,
        include_usage=include_usage,
        deferred=body.get("deferred") is True,
    )
