"""The emulator's chat completions: ``POST /v1/chat/completions`` (JSON, SSE, or deferred)
and ``GET /v1/chat/deferred-completion/{request_id}``.

A request is validated like xAI (``_validation.py``), answered by the script or the
default replier (``_script.py``, ``_replies.py``), and sent with its fault applied
(``_delivery.py``).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import attrs
import orjson
from aiohttp import web

from ._catalog import Catalog, is_reasoning_model
from ._delivery import send_json, write_events
from ._errors import error_response, nested_error_response
from ._faults import Fault
from ._options import Options
from ._replies import (
    Answer,
    build_answer,
    completion_bytes,
    completion_tail,
    default_reply,
    sse_event,
    stream_events,
)
from ._script import Script
from ._tickets import note_answer
from ._validation import ChatParams, InvalidRequest, parse_json_body, validate_chat

__all__ = ["ChatEndpoint"]

# Identical request bodies get identical default answers; keep this many ready.
_CACHE_SIZE = 1024


@attrs.define
class _Deferred:
    ready_at: float
    body: bytes


@attrs.frozen
class _Cached:
    answer: Answer
    tail: bytes


class ChatEndpoint:
    """Chat completions of one emulator: the handlers, the default answers already encoded,
    and the deferred completions not yet fetched."""

    def __init__(self, catalog: Catalog, script: Script, options: Options) -> None:
        self._catalog = catalog
        self._script = script
        self._options = options
        self._deferred: dict[str, _Deferred] = {}
        self._cache: dict[bytes, _Cached] = {}

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Serve chat completions and deferred completions on ``router``."""
        router.add_post("/v1/chat/completions", self.create)
        router.add_get("/v1/chat/deferred-completion/{request_id}", self.deferred_completion)

    async def create(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/chat/completions``."""
        raw = await request.read()
        try:
            body = parse_json_body(request.content_type, raw)
            params = validate_chat(body, self._catalog)
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        fault, replies, early = await self._script.draw(request, body)
        if early is not None:
            return early
        if replies is None:
            cached = self._default_answer(raw, body, params)
            answer, tail = cached.answer, cached.tail
        else:
            answer, tail = build_answer(body, replies, params.model, params.n), None
        note_answer(request, answer.usage, charged=fault is None)
        if params.deferred:
            return await self._start_deferred(request, answer, fault)
        if params.stream:
            return await self._stream(request, answer, params, fault)
        if fault is not None and fault.kind == "error_event":
            return nested_error_response(fault.message, fault.code)
        data = completion_bytes(answer, str(uuid.uuid4()), int(time.time()), tail)
        return await send_json(request, data, fault)

    async def deferred_completion(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/chat/deferred-completion/{request_id}``: 202 until ready, then the
        completion, once."""
        request_id = request.match_info["request_id"]
        entry = self._deferred.get(request_id)
        if entry is None:
            return error_response(
                404, f"No deferred completion with request id {request_id} was found."
            )
        if time.monotonic() < entry.ready_at:
            return web.Response(status=202)
        # A result can be fetched exactly once (SPEC.md §5).
        del self._deferred[request_id]
        return web.Response(body=entry.body, content_type="application/json")

    def _default_answer(self, raw: bytes, body: dict[str, Any], params: ChatParams) -> _Cached:
        # The default answer depends on nothing but the body, so identical bodies (the
        # common case in benchmarks) reuse the encoded result.
        cached = self._cache.get(raw)
        if cached is None:
            reasoning = is_reasoning_model(params.model.id)
            answer = build_answer(
                body, default_reply(body, reasoning=reasoning), params.model, params.n
            )
            cached = _Cached(answer, completion_tail(answer))
            if len(self._cache) >= _CACHE_SIZE:
                del self._cache[next(iter(self._cache))]
            self._cache[raw] = cached
        return cached

    async def _stream(
        self, request: web.Request, answer: Answer, params: ChatParams, fault: Fault | None
    ) -> web.StreamResponse:
        """Stream the answer as SSE, one event per write, delivering mid-stream faults."""
        completion_id = str(uuid.uuid4())
        events = stream_events(
            answer,
            completion_id,
            int(time.time()),
            include_usage=params.include_usage,
            heartbeats=self._options.chunk_heartbeats,
        )
        return await write_events(
            request,
            events,
            fault,
            tokens_per_second=self._options.tokens_per_second,
            error_event=lambda fault, _position: _error_event(fault),
            broken_event=_broken_event(completion_id),
        )

    async def _start_deferred(
        self, request: web.Request, answer: Answer, fault: Fault | None
    ) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        self._deferred[request_id] = _Deferred(
            ready_at=time.monotonic() + self._options.deferred_delay,
            body=completion_bytes(answer, str(uuid.uuid4()), int(time.time())),
        )
        return await send_json(request, orjson.dumps({"request_id": request_id}), fault)


def _error_event(fault: Fault) -> bytes:
    return sse_event(
        {"error": {"message": fault.message, "type": "server_error", "code": fault.code}}
    )


def _broken_event(completion_id: str) -> bytes:
    # A chunk cut off in the middle of a string: valid SSE framing, invalid JSON.
    return (
        b'data: {"id":"%s","object":"chat.completion.chunk","choices":[{"delta":{"content":"'
        % (completion_id.encode())
        + b"\n\n"
    )
