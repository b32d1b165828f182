"""The emulator's aiohttp application: the front door, handlers, fault delivery.

``Emulator`` owns the state the handlers share (recordings, stats, the reply queue,
deferred completions); who gets in, and the budget headers, are the ``Gate``'s
(``_admission.py``); ``FakeGrok`` (``_fake.py``) owns the server's lifecycle.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import socket
import struct
import time
import uuid
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from email.utils import formatdate
from typing import Any, TypeAlias

import attrs
import orjson
from aiohttp import web

from ._admission import Gate, bearer_token
from ._batches import BatchService
from ._catalog import Catalog, hash_text, is_reasoning_model
from ._errors import (
    TEAM_ID,
    error_body,
    error_response,
    mask_key,
    model_not_found_message,
    nested_error_response,
)
from ._faults import Fault, FaultDice
from ._files import FileStore
from ._images import IMAGE_PATH, ImageStudio
from ._media import MediaEndpoints
from ._options import Options
from ._records import RecordedRequest, Stats
from ._replies import (
    Answer,
    Reply,
    build_answer,
    completion_bytes,
    completion_tail,
    default_reply,
    sse_event,
    stream_events,
)
from ._responses import ResponsesEndpoint
from ._tickets import note_answer, note_stream
from ._tokens import split_tokens, token_id
from ._validation import ChatParams, InvalidRequest, parse_json_body, validate_chat

__all__ = ["Emulator", "Options", "Replier", "ReplyItem", "ReplyResult"]

ReplyItem: TypeAlias = Reply | Fault | str
"""One scripted answer: a Reply, a Fault, or plain content text."""
ReplyResult: TypeAlias = ReplyItem | Sequence[Reply] | None
"""What a ``replies`` callable returns: an item, one Reply per choice, or None for the
default answer."""
Replier: TypeAlias = Callable[[dict[str, Any]], ReplyResult | Awaitable[ReplyResult]]
"""A ``replies`` callable: sync or async, given the request's JSON body."""

# Long conversations with inline images are large; aiohttp's 1 MiB default is too small.
_MAX_BODY = 64 * 1024 * 1024
# Identical request bodies get identical default answers; keep this many ready.
_CACHE_SIZE = 1024
_USER_ID = "3f1c9a52-8d7e-4b60-a1f2-5e9d0c4b7a13"
_KEY_TIME = "2025-01-01T00:00:00Z"
_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@attrs.define
class _Deferred:
    ready_at: float
    body: bytes


@attrs.frozen
class _Cached:
    answer: Answer
    tail: bytes


def _seconds(value: float) -> str:
    """A header value for a duration: "2" for whole numbers, "0.05" otherwise."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def _mask_authorization(value: str) -> str:
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token:
        return f"{scheme} {mask_key(token.strip())}"
    return mask_key(value)


class Emulator:
    """The state and request handlers of one emulated xAI API."""

    def __init__(
        self, options: Options, replies: Replier | Iterable[ReplyItem] | None = None
    ) -> None:
        self.options = options
        self.catalog = Catalog(options.models)
        self.requests: list[RecordedRequest] = []
        self.stats = Stats()
        self.queue: deque[ReplyItem] = deque()
        self._replier: Replier | None = None
        self._script: Iterator[ReplyItem] | None = None
        if replies is None:
            pass
        elif callable(replies):
            self._replier = replies
        elif isinstance(replies, (str, bytes, Reply, Fault)):
            raise TypeError("replies must be a callable or an iterable of Reply/Fault/str")
        else:
            self._script = iter(replies)
        self._dice = (
            FaultDice(
                options.fault_rates,
                seed=options.seed,
                stall_seconds=options.stall_seconds,
                retry_after=options.retry_after,
            )
            if options.fault_rates
            else None
        )
        self.gate = Gate(options, self.catalog, self.stats)
        self._deferred: dict[str, _Deferred] = {}
        self._cache: dict[bytes, _Cached] = {}
        # Transports seen so far, to count new connections without keeping closed ones alive.
        self._transports: weakref.WeakSet[Any] = weakref.WeakSet()
        self._static = self._static_bodies()
        self._images = ImageStudio(self.catalog)
        self.media = MediaEndpoints(self.catalog, video_delay=options.video_delay)
        self._responses = ResponsesEndpoint(self)
        self.files = FileStore()
        self.batches = BatchService(self.catalog, self.files, options.batch_delay)

    # -- the application ---------------------------------------------------------------

    def make_app(self) -> web.Application:
        """A fresh aiohttp application serving the emulated API."""

        @web.middleware
        async def front_door(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            return await self._admit(request, handler)

        self.gate.start(time.monotonic())
        app = web.Application(middlewares=[front_door], client_max_size=_MAX_BODY)
        app.on_response_prepare.append(self._on_prepare)
        router = app.router
        router.add_post("/v1/chat/completions", self._chat_completions)
        router.add_get("/v1/chat/deferred-completion/{request_id}", self._deferred_completion)
        router.add_get("/v1/models", self._list(self._static["models"]))
        router.add_get("/v1/models/{model_id}", self._model_lookup("models"))
        router.add_get("/v1/language-models", self._list(self._static["language-models"]))
        router.add_get("/v1/language-models/{model_id}", self._model_lookup("language"))
        router.add_get(
            "/v1/image-generation-models", self._list(self._static["image-generation-models"])
        )
        router.add_get("/v1/image-generation-models/{model_id}", self._model_lookup("image"))
        router.add_post("/v1/tokenize-text", self._tokenize)
        router.add_get("/v1/api-key", self._api_key)
        router.add_post("/v1/responses", self._responses.create)
        router.add_get("/v1/responses/{response_id}", self._responses.retrieve)
        router.add_delete("/v1/responses/{response_id}", self._responses.delete)
        router.add_post("/v1/images/generations", self._images.generations)
        router.add_post("/v1/images/edits", self._images.edits)
        router.add_get(IMAGE_PATH + "{name}", self._images.serve)
        self.media.add_routes(router)
        self.files.add_routes(router)
        self.batches.add_routes(router)
        return app

    def _static_bodies(self) -> dict[str, bytes]:
        catalog = self.catalog
        return {
            "models": orjson.dumps(
                {"object": "list", "data": [m.model_object() for m in catalog.models]}
            ),
            "language-models": orjson.dumps(
                {"models": [m.language_model_object() for m in catalog.language_models]}
            ),
            "image-generation-models": orjson.dumps(
                {"models": [m.image_model_object() for m in catalog.image_models]}
            ),
        }

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers["x-request-id"] = str(uuid.uuid4())
        self.gate.stamp(request, response)
        transport = request.transport
        # After Fault.reset() aiohttp still "prepares" a response nobody receives.
        if transport is not None and not transport.is_closing():
            self.stats.responses_by_status[response.status] += 1

    # -- admission: every request passes here ------------------------------------------

    async def _admit(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        try:
            return await self._admit_and_handle(request, handler)
        except web.HTTPException as exc:
            # aiohttp's own refusals (unknown path, wrong method, body too large), in
            # xAI's body shape like everything else the emulator sends.
            headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            message = f"{request.method} {request.path}: {exc.reason}."
            return error_response(exc.status, message, headers)

    async def _admit_and_handle(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        stats = self.stats
        stats.requests += 1
        transport = request.transport
        if transport is not None and transport not in self._transports:
            self._transports.add(transport)
            stats.connections_opened += 1
        raw = await request.read()
        if self.options.record_requests:
            self._record(request, raw)
        refusal = self.gate.refusal(request, raw)
        if refusal is not None:
            return refusal
        stats.in_flight += 1
        stats.max_in_flight_seen = max(stats.max_in_flight_seen, stats.in_flight)
        try:
            if self.options.latency:
                await asyncio.sleep(self.options.latency)
            return await handler(request)
        finally:
            stats.in_flight -= 1
            self.gate.release(request)

    def _record(self, request: web.Request, raw: bytes) -> None:
        headers = {name.lower(): value for name, value in request.headers.items()}
        if "authorization" in headers:
            # Recordings get printed in test failures: never keep the secret itself.
            headers["authorization"] = _mask_authorization(headers["authorization"])
        parsed: Any = None
        if raw:
            try:
                parsed = orjson.loads(raw)
            except orjson.JSONDecodeError:
                parsed = None
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                headers=headers,
                json=parsed,
                time=time.monotonic(),
                query=dict(request.query),
                body=raw,
            )
        )

    # -- chat completions ----------------------------------------------------------------

    async def _fault_or_script(
        self, request: web.Request, body: dict[str, Any]
    ) -> tuple[Fault | None, Sequence[Reply] | None, web.StreamResponse | None]:
        """What answers one generating request (chat or Responses): a fault to inject,
        scripted replies (None: the default answer), or a response to send at once (an
        error before the headers, or a failing replies callable)."""
        # A random fault never consumes a scripted reply: the retry that follows gets it.
        fault = self._dice.roll() if self._dice is not None else None
        replies: Sequence[Reply] | None = None
        if fault is None:
            try:
                scripted = await self._scripted(body)
            except Exception as exc:  # a bug in the test's replier: tell the client why
                return None, None, error_response(500, f"The replies callable raised {exc!r}")
            if isinstance(scripted, Fault):
                fault = scripted
            else:
                replies = scripted
        if fault is not None:
            self.stats.faults[fault.name] += 1
            early = await self._before_headers(request, fault)
            if early is not None:
                return None, None, early
            if fault.kind == "stall":
                fault = None  # served its purpose: the answer itself is normal
        return fault, replies, None

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = parse_json_body(request.content_type, raw)
            params = validate_chat(body, self.catalog)
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        fault, replies, early = await self._fault_or_script(request, body)
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
        return await self._send_json(request, data, fault)

    async def _scripted(self, body: dict[str, Any]) -> Sequence[Reply] | Fault | None:
        """The next scripted answer: the queue first, then ``replies``; None = default."""
        item: ReplyResult
        try:
            item = self.queue.popleft()
        except IndexError:
            if self._script is not None:
                item = next(self._script, None)
            elif self._replier is not None:
                result = self._replier(body)
                item = await result if inspect.isawaitable(result) else result
            else:
                return None
        if item is None or isinstance(item, Fault):
            return item
        if isinstance(item, str):
            return [Reply(item)]
        if isinstance(item, Reply):
            return [item]
        if isinstance(item, Sequence):
            replies = [reply for reply in item if isinstance(reply, Reply)]
            if replies and len(replies) == len(item):
                return replies
        raise TypeError(f"expected Reply, Fault, str or a list of Reply, got {item!r}")

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

    async def _before_headers(
        self, request: web.Request, fault: Fault
    ) -> web.StreamResponse | None:
        """Carry out a fault that strikes before any response; None to go on answering."""
        if fault.kind == "stall":
            await asyncio.sleep(fault.seconds)
            return None
        if fault.kind == "reset":
            transport = request.transport
            if transport is not None:
                _abort(transport, hard=True)
            return web.Response(status=499)  # never sent: the connection is gone
        if fault.kind == "status":
            return _status_response(fault)
        if fault.kind == "html":
            reason = web.Response(status=fault.status_code).reason
            page = _HTML_PAGE.format(status=fault.status_code, reason=reason)
            return web.Response(status=fault.status_code, text=page, content_type="text/html")
        return None

    async def _send_json(
        self, request: web.Request, data: bytes, fault: Fault | None
    ) -> web.StreamResponse:
        """Send a 200 JSON body, broken as a mid-response *fault* says."""
        if fault is None or fault.kind not in ("malformed", "reset_mid_stream", "stall_mid_stream"):
            return web.Response(body=data, content_type="application/json")
        half = len(data) // 2
        if fault.kind == "malformed":
            return web.Response(body=data[:half], content_type="application/json")
        response = web.StreamResponse()
        response.content_type = "application/json"
        response.content_length = len(data)
        try:
            await response.prepare(request)
            await response.write(data[:half])
            if fault.kind == "reset_mid_stream":
                if request.transport is not None:
                    _abort(request.transport, hard=False)
                return response
            await asyncio.sleep(fault.seconds)
            await response.write(data[half:])
            await response.write_eof()
        except ConnectionError:
            pass  # the client gave up (it may well time out on a stall); nothing to do
        return response

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
            heartbeats=self.options.chunk_heartbeats,
        )
        return await self._write_events(
            request,
            events,
            fault,
            error_event=lambda fault, _position: _error_event(fault),
            broken_event=_broken_event(completion_id),
        )

    async def _write_events(
        self,
        request: web.Request,
        events: Sequence[bytes],
        fault: Fault | None,
        *,
        error_event: Callable[[Fault, int], bytes],
        broken_event: bytes,
    ) -> web.StreamResponse:
        """Stream ``events`` as SSE (chat and Responses alike), one per write, paced by
        ``tokens_per_second``; just before event ``fault.after_chunks``, deliver ``fault``: a
        reset, ``error_event(fault, position)`` then the end, a stall, or ``broken_event``
        (valid framing, invalid JSON). A fault placed past the end strikes just before the
        last event (the ``[DONE]``, or the Responses terminal event); ``no_done`` always
        strikes there, ending the body without it."""
        last = len(events) - 1
        strike_at = -1
        if fault is not None:
            strike_at = last if fault.kind == "no_done" else min(fault.after_chunks, last)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        interval = 1.0 / self.options.tokens_per_second if self.options.tokens_per_second else 0
        loop = asyncio.get_running_loop()
        note_stream(request, interval, len(events))
        try:
            await response.prepare(request)
            next_at = loop.time()
            for position, event in enumerate(events):
                if fault is not None and position == strike_at:
                    if fault.kind == "reset_mid_stream":
                        if request.transport is not None:
                            _abort(request.transport, hard=False)
                        return response
                    if fault.kind in ("error_event", "no_done"):
                        if fault.kind == "error_event":
                            await response.write(error_event(fault, position))
                        await response.write_eof()
                        return response
                    if fault.kind == "stall_mid_stream":
                        await asyncio.sleep(fault.seconds)
                        next_at = loop.time()
                    elif fault.kind == "malformed":
                        await response.write(broken_event)
                if interval and position:
                    next_at += interval
                    delay = next_at - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                await response.write(event)
            await response.write_eof()
        except ConnectionError:
            pass  # the client closed the stream early, as it may
        return response

    async def _start_deferred(
        self, request: web.Request, answer: Answer, fault: Fault | None
    ) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        self._deferred[request_id] = _Deferred(
            ready_at=time.monotonic() + self.options.deferred_delay,
            body=completion_bytes(answer, str(uuid.uuid4()), int(time.time())),
        )
        return await self._send_json(request, orjson.dumps({"request_id": request_id}), fault)

    async def _deferred_completion(self, request: web.Request) -> web.StreamResponse:
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

    # -- other endpoints -----------------------------------------------------------------

    @staticmethod
    def _list(body: bytes) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(_request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, content_type="application/json")

        return handler

    def _model_lookup(self, family: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A handler for ``GET .../{model_id}`` of one model family: "models" (any model,
        OpenAI shape), "language" or "image" (that kind only, xAI shape)."""

        async def handler(request: web.Request) -> web.StreamResponse:
            name = request.match_info["model_id"]
            model = self.catalog.resolve(name)
            if model is None or family not in ("models", model.kind):
                return error_response(404, model_not_found_message(name))
            if family == "language":
                payload = model.language_model_object()
            elif family == "image":
                payload = model.image_model_object()
            else:
                payload = model.model_object()
            return web.Response(body=orjson.dumps(payload), content_type="application/json")

        return handler

    async def _tokenize(self, request: web.Request) -> web.StreamResponse:
        try:
            body = parse_json_body(request.content_type, await request.read())
            text = body.get("text")
            if not isinstance(text, str):
                raise InvalidRequest(
                    422,
                    "Failed to deserialize the JSON body into the target type: "
                    "missing or invalid field `text`",
                )
            name = body.get("model")
            if not isinstance(name, str) or not name:
                raise InvalidRequest(400, "The request must specify a model.")
            if self.catalog.resolve(name) is None:
                raise InvalidRequest(404, model_not_found_message(name))
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        tokens = [
            {
                "token_id": token_id(piece),
                "string_token": piece,
                "token_bytes": list(piece.encode()),
            }
            for piece in split_tokens(text)
        ]
        return web.Response(
            body=orjson.dumps({"token_ids": tokens}), content_type="application/json"
        )

    async def _api_key(self, request: web.Request) -> web.StreamResponse:
        key = self.options.api_key or bearer_token(request) or ""
        key_id = uuid.UUID(int=hash_text(key) << 64 | hash_text(key[::-1]), version=4)
        payload = {
            "redacted_api_key": mask_key(key),
            "user_id": _USER_ID,
            "name": "FakeGrok key",
            "create_time": _KEY_TIME,
            "modify_time": _KEY_TIME,
            "modified_by": _USER_ID,
            "team_id": TEAM_ID,
            "acls": ["api-key:model:*", "api-key:endpoint:*"],
            "api_key_id": str(key_id),
            "team_blocked": False,
            "api_key_blocked": False,
            "api_key_disabled": False,
        }
        return web.Response(body=orjson.dumps(payload), content_type="application/json")


def _abort(transport: Any, *, hard: bool) -> None:
    """Drop the connection. *hard*: send a TCP RST (a "connection reset by peer"), which is
    only safe before any response bytes, since a client kernel may discard unread data."""
    if hard:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                # SO_LINGER with a zero timeout turns close() into a reset.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
    transport.abort()


def _status_response(fault: Fault) -> web.Response:
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        if fault.retry_after_date:
            # An HTTP date has whole seconds: round up so the client never retries early.
            headers["Retry-After"] = formatdate(
                math.ceil(time.time() + fault.retry_after), usegmt=True
            )
        else:
            headers["Retry-After"] = _seconds(fault.retry_after)
    if fault.retry_after_ms is not None:
        headers["retry-after-ms"] = _seconds(fault.retry_after_ms)
    body = fault.body if fault.body is not None else error_body(fault.status_code)
    return web.Response(
        status=fault.status_code, body=body, content_type=fault.content_type, headers=headers
    )


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
