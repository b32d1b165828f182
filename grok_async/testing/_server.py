"""The emulator's aiohttp application: the routes, and the front door every request passes.

``Emulator`` holds one emulated API: the state its endpoints share (the catalogue, the
recordings and stats, the script of replies and faults) and the endpoints themselves,
one object per API area (chat in ``_chat.py``, Responses in ``_responses.py``, the
catalogues in ``_lookups.py``, ...). Who gets in, and the budget headers, are the
``Gate``'s (``_admission.py``); ``FakeGrok`` (``_fake.py``) owns the server's lifecycle.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson
from aiohttp import web

from ._admission import Gate
from ._batches import BatchService
from ._catalog import Catalog
from ._chat import ChatEndpoint
from ._errors import error_response, mask_key
from ._files import FileStore
from ._images import ImageStudio
from ._lookups import Lookups
from ._media import MediaEndpoints
from ._options import Options
from ._records import RecordedRequest, Stats
from ._responses import ResponsesEndpoint
from ._script import Replier, ReplyItem, Script

__all__ = ["Emulator"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Long conversations with inline images are large; aiohttp's 1 MiB default is too small.
_MAX_BODY = 64 * 1024 * 1024


def _mask_authorization(value: str) -> str:
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token:
        return f"{scheme} {mask_key(token.strip())}"
    return mask_key(value)


class Emulator:
    """One emulated xAI API: its state, its endpoints, and the front door before them."""

    def __init__(
        self, options: Options, replies: Replier | Iterable[ReplyItem] | None = None
    ) -> None:
        self.options = options
        self.catalog = Catalog(options.models)
        self.requests: list[RecordedRequest] = []
        self.stats = Stats()
        self.script = Script(replies, options, self.stats)
        self.gate = Gate(options, self.catalog, self.stats)
        # Transports seen so far, to count new connections without keeping closed ones alive.
        self._transports: weakref.WeakSet[Any] = weakref.WeakSet()
        self.media = MediaEndpoints(self.catalog, video_delay=options.video_delay)
        self.files = FileStore()
        self.batches = BatchService(self.catalog, self.files, options.batch_delay)
        self._chat = ChatEndpoint(self.catalog, self.script, options)
        self._responses = ResponsesEndpoint(
            self.catalog,
            self.media.documents,
            self.script,
            tokens_per_second=options.tokens_per_second,
        )
        self._images = ImageStudio(self.catalog)
        self._lookups = Lookups(self.catalog, api_key=options.api_key)

    # -- the application ---------------------------------------------------------------

    def make_app(self) -> web.Application:
        """A fresh aiohttp application serving the emulated API."""

        @web.middleware
        async def front_door(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self._admit(request, handler)

        self.gate.start(time.monotonic())
        app = web.Application(middlewares=[front_door], client_max_size=_MAX_BODY)
        app.on_response_prepare.append(self._on_prepare)
        for endpoints in (
            self._chat,
            self._responses,
            self._images,
            self._lookups,
            self.media,
            self.files,
            self.batches,
        ):
            endpoints.add_routes(app.router)
        return app

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
        handler: Handler,
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
        handler: Handler,
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
