"""xAI's error responses: a flat ``{"code": <gRPC status sentence>, "error": <message>}``.

xAI's REST gateway does not use OpenAI's nested ``{"error": {...}}`` shape; ``code`` is the
description of the gRPC status behind the HTTP status (SPEC.md §4b).
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from aiohttp import web

__all__ = [
    "GRPC_STATUS_TEXT",
    "TEAM_ID",
    "error_body",
    "error_response",
    "mask_key",
    "model_not_found_message",
    "nested_error_response",
    "over_budget_message",
    "quota_message",
]

# The gRPC status descriptions (as tonic spells them) for the HTTP statuses they map to.
GRPC_STATUS_TEXT: Mapping[int, str] = {
    400: "Client specified an invalid argument",
    401: "The request does not have valid authentication credentials",
    403: "The caller does not have permission to execute the specified operation",
    404: "Some requested entity was not found",
    405: "Operation is not implemented or not supported",
    409: "The operation was aborted",
    413: "Client specified an invalid argument",
    415: "Client specified an invalid argument",
    422: "Client specified an invalid argument",
    429: "Some resource has been exhausted",
    499: "The operation was cancelled",
    500: "Internal error",
    501: "Operation is not implemented or not supported",
    502: "The service is currently unavailable",
    503: "The service is currently unavailable",
    504: "The deadline expired before the operation could complete",
}

_DEFAULT_MESSAGES: Mapping[int, str] = {
    400: "Bad request.",
    401: "Missing or malformed Authorization header; expected 'Bearer <XAI_API_KEY>'.",
    403: "The API key does not have permission to perform this action.",
    404: "The requested resource was not found.",
    405: "Method not allowed.",
    409: "The request conflicted with another request; try again.",
    415: "Expected request with `Content-Type: application/json`",
    422: "Failed to deserialize the JSON body into the target type.",
    429: "Too many requests: the rate limit of your team for this model has been reached.",
    500: "The server had an error while processing your request.",
    502: "Bad gateway: the upstream inference server returned an invalid response.",
    503: "The service is temporarily overloaded; try again shortly.",
    504: "The request timed out upstream.",
}

# The team the emulated key belongs to (it appears in "model not found" messages too).
TEAM_ID = "7b0f5c2e-4f6a-4c1d-9a43-2b6c8e1d0f11"


def error_body(status: int, message: str | None = None) -> bytes:
    """The JSON bytes of xAI's flat error body for *status*."""
    code = GRPC_STATUS_TEXT.get(status, "Unknown error")
    text = message if message is not None else _DEFAULT_MESSAGES.get(status, f"HTTP {status}")
    return orjson.dumps({"code": code, "error": text})


def error_response(
    status: int, message: str | None = None, headers: Mapping[str, str] | None = None
) -> web.Response:
    """An aiohttp response carrying xAI's flat error body."""
    return web.Response(
        status=status,
        body=error_body(status, message),
        content_type="application/json",
        headers=headers,
    )


def nested_error_response(message: str, code: str | int | None) -> web.Response:
    """A 500 in OpenAI's nested shape, ``{"error": {"message", "type", "code"}}``: what a
    model server failing mid-answer sends instead of the flat body."""
    body = {"error": {"message": message, "type": "server_error", "code": code}}
    return web.Response(status=500, body=orjson.dumps(body), content_type="application/json")


def model_not_found_message(model: str) -> str:
    """The message of the 404 xAI sends for a model that does not exist (or that the team
    cannot use)."""
    return f"The model {model} does not exist or your team {TEAM_ID} does not have access to it."


def quota_message() -> str:
    """The message of the 429 xAI sends once the team's credits or spending limit are used
    up (no retry can help)."""
    return (
        f"Your team {TEAM_ID} has either used all available credits or reached its monthly "
        "spending limit. To continue making API requests, please purchase more credits or "
        "raise your spending limit."
    )


def over_budget_message(model: str, budget: str, actual: int, limit: float) -> str:
    """The message of the 429 xAI sends when a request would exceed *model*'s per-minute
    *budget* ("requests" or "tokens") of the team."""
    unit = "Tokens" if budget == "tokens" else "Requests"
    return (
        f"Too many {budget} for team {TEAM_ID} and model {model}. Your team's rate limit "
        f"is \u2014 {unit} per Minute (actual/limit): {actual}/{int(limit)}"
    )


def mask_key(key: str) -> str:
    """Mask an API key the way xAI's messages do: the first two and last two characters."""
    if len(key) < 6:
        # Too short to show both ends without revealing most of it.
        return "***"
    return f"{key[:2]}***{key[-2:]}"
