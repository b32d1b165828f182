"""Carrying a ``Fault`` out on the wire: before the headers (a stall, a reset, an error
status, an HTML page), in a JSON body (cut short, reset or stalled half-way) or in an SSE
stream (a reset, an error event, a stall, a broken event or a missing end).

The endpoints decide which fault applies (``_script.py``) and what their answer is; these
functions only know where in a response each fault belongs. Chat completions and the
Responses API share them.
"""

from __future__ import annotations

import asyncio
import math
import socket
import struct
import time
from collections.abc import Callable, Sequence
from email.utils import formatdate
from typing import Any

from aiohttp import web

from ._errors import error_body
from ._faults import Fault
from ._tickets import note_stream

__all__ = ["before_headers", "send_json", "write_events"]

_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


async def before_headers(request: web.Request, fault: Fault) -> web.StreamResponse | None:
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


async def send_json(request: web.Request, data: bytes, fault: Fault | None) -> web.StreamResponse:
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


async def write_events(
    request: web.Request,
    events: Sequence[bytes],
    fault: Fault | None,
    *,
    tokens_per_second: float | None,
    error_event: Callable[[Fault, int], bytes],
    broken_event: bytes,
) -> web.StreamResponse:
    """Stream ``events`` as SSE, one per write, ``tokens_per_second`` of them a second
    (None: as fast as possible); just before event ``fault.after_chunks``, deliver
    ``fault``: a reset, ``error_event(fault, position)`` then the end, a stall, or
    ``broken_event`` (valid framing, invalid JSON). A fault placed past the end strikes just
    before the last event (the ``[DONE]``, or the Responses terminal event); ``no_done``
    always strikes there, ending the body without it."""
    last = len(events) - 1
    strike_at = -1
    if fault is not None:
        strike_at = last if fault.kind == "no_done" else min(fault.after_chunks, last)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    interval = 1.0 / tokens_per_second if tokens_per_second else 0
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


def _seconds(value: float) -> str:
    """A header value for a duration: "2" for whole numbers, "0.05" otherwise."""
    return str(int(value)) if value == int(value) else f"{value:g}"
