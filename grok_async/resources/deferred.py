"""Deferred chat completions: start one now, collect the answer later.

``create(..., deferred=True)`` sends the request with ``"deferred": true``; xAI answers at
once with a ``request_id`` (:class:`DeferredCompletion`). ``GET
/v1/chat/deferred-completion/{request_id}`` then answers 202 with an empty body while the
completion is being computed, 200 with the completion once it is done, and 404 for an
unknown or expired id. A result can be fetched **exactly once**, within 24 hours.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING

import attrs

from .._errors import APITimeoutError
from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutTypes
from ..types.chat import ChatCompletion
from ._decode import decode_object, job_id, path_segment
from ._polling import MIN_POLL_CONNECT, check_wait, poll_pauses, poll_timeout, poll_until

if TYPE_CHECKING:
    from .._requester import Requester
    from .._response import HTTPResponse

__all__ = [
    "MIN_POLL_CONNECT",
    "Deferred",
    "DeferredCompletion",
    "poll_pauses",
    "poll_timeout",
    "start_deferred",
]

# xAI's own SDK waits 10 minutes for a deferred completion before giving up.
DEFAULT_WAIT_TIMEOUT = 600.0
# The first poll comes quickly (short answers are ready in a second or two); later polls
# back off by this factor up to the cap, so a long job costs a few requests a minute.
DEFAULT_POLL_INTERVAL = 0.25
DEFAULT_MAX_POLL_INTERVAL = 5.0

_PATH = "/chat/deferred-completion/"


@attrs.frozen
class DeferredCompletion:
    """A started deferred completion: keep its ``request_id``, collect the answer later.

    Returned by ``await client.chat.completions.create(..., deferred=True)``::

        handle = await client.chat.completions.create(model=..., messages=..., deferred=True)
        completion = await handle.wait(timeout=300)

    The id alone is enough to collect the answer from another process, later, with
    ``client.chat.deferred.get(request_id)`` or ``wait(request_id)``.
    """

    #: The id to fetch the completion with (not an ``x-request-id``).
    request_id: str
    _deferred: Deferred = attrs.field(repr=False, eq=False, alias="deferred")

    async def get(
        self,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> ChatCompletion | None:
        """The completion if it is done, else None: see :meth:`Deferred.get`."""
        return await self._deferred.get(
            self.request_id, extra_headers=extra_headers, timeout=timeout, max_retries=max_retries
        )

    async def wait(
        self,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        interval: float = DEFAULT_POLL_INTERVAL,
        max_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        extra_headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> ChatCompletion:
        """Poll until the completion is done: see :meth:`Deferred.wait`."""
        return await self._deferred.wait(
            self.request_id,
            timeout=timeout,
            interval=interval,
            max_interval=max_interval,
            extra_headers=extra_headers,
            max_retries=max_retries,
        )


class Deferred:
    """``client.chat.deferred``: collect deferred completions by ``request_id``."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def get(
        self,
        request_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> ChatCompletion | None:
        """The completion if it is done, or None while the server is still working (202).

        The server hands a result out **once**: after a call returned it, the id is
        unknown (404). A network failure while the finished result is being received can
        therefore lose it, and its retry may get a 404.

        Raises:
            NotFoundError: unknown or expired id, or a result already fetched.
            ValueError: ``request_id`` is empty, ``"."`` or ``".."``; nothing is sent.
            APIStatusError, APIConnectionError, APITimeoutError: as for any call.
        """
        return await self._client.request(
            "GET",
            _PATH + path_segment(request_id, "request_id"),
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=_decode_poll,
        )

    async def wait(
        self,
        request_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        interval: float = DEFAULT_POLL_INTERVAL,
        max_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        extra_headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> ChatCompletion:
        """Poll :meth:`get` until the completion is done, and return it.

        The first poll is immediate; then the pause starts at ``interval`` seconds and
        grows by half each time up to ``max_interval``, each pause jittered (between half
        and all of it) so that many waiters do not poll in step.

        ``timeout`` (seconds, None for no limit) bounds the pauses and the connection
        set-up of each poll (nothing has been sent yet, so nothing can be lost). It does
        not cut off a poll whose request was sent: a result is handed out only once and
        would be lost with it. Such a poll is bounded by the client's own timeout (its
        ``read`` silence limit, 15 minutes by default), so against a server that stalls,
        ``wait`` can overrun ``timeout`` by that much; for a shorter limit, wait through a
        client copy with ``client.with_options(timeout=Timeout(read=30))``, accepting that
        a poll cut off mid-answer loses its result. On timeout the completion stays on
        the server; ``wait`` or ``get`` again with the same id to collect it.

        Raises:
            APITimeoutError: not done within ``timeout``; the message names the id.
            NotFoundError: unknown or expired id, or a result already fetched.
            ValueError: ``request_id`` is empty, ``"."`` or ``".."``, an interval is not a
                positive number, or ``timeout`` is negative or not finite (NaN, infinity:
                use None for no limit).
        """
        path_segment(request_id, "request_id")  # a bad id fails before any wait
        check_wait(timeout, interval, max_interval)

        def poll(poll_timeout: TimeoutTypes | NotGiven) -> Awaitable[ChatCompletion | None]:
            return self.get(
                request_id,
                extra_headers=extra_headers,
                timeout=poll_timeout,
                max_retries=max_retries,
            )

        def late(polls: int) -> APITimeoutError:
            return APITimeoutError(
                f"Deferred completion {request_id!r} was not ready after {timeout:g} s "
                f"({polls} polls). The server keeps it (up to 24 hours): call "
                "client.chat.deferred.wait() or get() with this id again."
            )

        return await poll_until(
            poll,
            self._client.timeout,
            timeout=timeout,
            interval=interval,
            max_interval=max_interval,
            late=late,
        )


def _decode_poll(reply: HTTPResponse) -> ChatCompletion | None:
    """A poll's answer: None while pending (202, empty body), else the completion.

    Decoding inside ``request()`` makes a body that is not a completion the call's failure
    for hooks and tracing, like any other call's.
    """
    if reply.status == 202:
        return None
    completion = decode_object(reply, ChatCompletion)
    completion.request_id = reply.request_id or completion.id
    completion.timings = reply.timings
    return completion


async def start_deferred(
    client: Requester,
    path: str,
    body: bytes,
    *,
    extra_headers: Mapping[str, str] | None,
    timeout: TimeoutTypes | NotGiven,
    max_retries: int | None,
    model: str | None = None,
    tokens: int = 0,
    deferred: Deferred | None = None,
) -> DeferredCompletion:
    """POST a request body that has ``"deferred": true``; return the handle to its result.

    With ``model``, the request is paced like any other call of that model (``tokens``:
    its estimate, which stands: no usage comes until the result is fetched). The handle
    collects the result through ``deferred`` (the client's ``chat.deferred``), else a
    resource of its own.
    """
    reply = await client.request(
        "POST",
        path,
        body=body,
        extra_headers=extra_headers,
        timeout=timeout,
        max_retries=max_retries,
        model=model,
        tokens=tokens,
    )
    return DeferredCompletion(
        job_id(reply, "deferred"), deferred=deferred if deferred is not None else Deferred(client)
    )
