"""What a resource needs of the client: its public ``request()``, ``open_stream()``,
``rate_limits()``, ``timeout`` and ``max_event_size``.

Every resource is typed against this protocol rather than ``AsyncGrok`` itself, so none
imports the client module: the client imports them (for its typed properties), and
nothing imports back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from ._ratelimits import RateLimits
    from ._response import HTTPResponse
    from ._sentinels import NotGiven
    from ._timeout import TimeoutTypes
    from ._transport import RequestBody

__all__ = ["Requester"]

T = TypeVar("T")


class Requester(Protocol):
    """The part of :class:`~grok_async.AsyncGrok` that resources call."""

    @property
    def timeout(self) -> TimeoutTypes:
        """The client's default timeout."""

    @property
    def max_event_size(self) -> int:
        """The largest single SSE event a stream accepts, in bytes."""

    def rate_limits(self, model: str | None = None) -> RateLimits | None:
        """The team's budgets as the last response reported them."""

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        body: RequestBody = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutTypes | NotGiven = ...,
        max_retries: int | None = ...,
        model: str | None = ...,
        tokens: int = ...,
        decode: None = ...,
    ) -> HTTPResponse: ...

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        body: RequestBody = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutTypes | NotGiven = ...,
        max_retries: int | None = ...,
        model: str | None = ...,
        tokens: int = ...,
        decode: Callable[[HTTPResponse], T],
    ) -> T: ...

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: RequestBody = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = ...,
        max_retries: int | None = None,
        model: str | None = None,
        tokens: int = 0,
        decode: Callable[[HTTPResponse], Any] | None = None,
    ) -> Any:
        """Send a request with retries (see ``AsyncGrok.request``)."""

    async def open_stream(
        self,
        method: str,
        path: str,
        *,
        body: RequestBody = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = ...,
        max_retries: int | None = None,
        model: str | None = None,
        tokens: int = 0,
    ) -> HTTPResponse:
        """Send a request and return once a 2xx response's headers arrived."""
