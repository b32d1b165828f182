"""Turn a response body into a model: the one decoding path of the non-chat resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from .._errors import APIResponseValidationError
from .._response import HTTPResponse
from .._serialization import decode_json, decode_model

__all__ = ["decode_list", "decode_object", "job_id", "json_of", "parse_json", "path_segment"]

T = TypeVar("T")


def parse_json(raw: bytes, *, status: int, request_id: str | None) -> Any:
    """A response body's JSON, or :class:`APIResponseValidationError` if it is not JSON."""
    try:
        return decode_json(raw)
    except ValueError as exc:
        raise APIResponseValidationError(
            f"The server returned invalid JSON ({exc}).",
            status_code=status,
            body=raw[:2048].decode("utf-8", "replace"),
            request_id=request_id,
        ) from None


def json_of(reply: HTTPResponse) -> Any:
    """The parsed JSON body, or :class:`APIResponseValidationError` if it is not JSON."""
    return parse_json(reply.body, status=reply.status, request_id=reply.request_id)


def _set_request_id(result: object, request_id: str | None) -> None:
    if hasattr(result, "request_id"):
        result.request_id = request_id  # a client-side field: never read from the body


def decode_object(reply: HTTPResponse, cls: type[T]) -> T:
    """The body as one ``cls``, its ``request_id`` set from the response."""
    result = decode_model(
        json_of(reply), cls, status_code=reply.status, request_id=reply.request_id, raw=reply.body
    )
    _set_request_id(result, reply.request_id)
    return result


def decode_list(reply: HTTPResponse, key: str, cls: type[T]) -> list[T]:
    """The list under ``key`` of the body's object, each item a ``cls`` carrying the
    response's ``request_id``."""
    data = json_of(reply)
    items = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise APIResponseValidationError(
            f"The response has no {key!r} list of {cls.__name__} objects.",
            status_code=reply.status,
            body=reply.body[:2048].decode("utf-8", "replace"),
            request_id=reply.request_id,
        )
    results = []
    for item in items:
        result = decode_model(
            item, cls, status_code=reply.status, request_id=reply.request_id, raw=reply.body
        )
        _set_request_id(result, reply.request_id)
        results.append(result)
    return results


def job_id(reply: HTTPResponse, what: str) -> str:
    """The ``request_id`` of an answer that starts a job (a deferred completion, a video):
    ``{"request_id": ...}``, else :class:`APIResponseValidationError` naming the ``what``
    request."""
    data = json_of(reply)
    request_id = data.get("request_id") if isinstance(data, Mapping) else None
    if not isinstance(request_id, str) or not request_id:
        raise APIResponseValidationError(
            f"A {what} request was answered without a request_id.",
            status_code=reply.status,
            body=reply.body[:2048].decode("utf-8", "replace"),
            request_id=reply.request_id,
        )
    return request_id


def path_segment(value: str, what: str) -> str:
    """``value`` escaped as one URL path segment: an id never reaches another endpoint.

    Every character that means something in a URL (``/``, ``?``, ``#``, ``%``) is escaped.
    ``"."`` and ``".."`` cannot be escaped (they are plain characters), and URL
    normalisation would turn ``/v1/models/..`` into ``/v1/``: they are refused.

    Raises:
        ValueError: ``value`` is not a string, is empty, or is ``"."`` or ``".."``; the
            message names the argument (``what``).
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        raise ValueError(f"{what} cannot be {value!r}: it would name another URL path")
    return quote(value, safe="")
