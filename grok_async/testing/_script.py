"""What answers a generating request (chat or Responses): a fault drawn at random, else the
next scripted item (the ``enqueue()`` queue first, then the ``replies`` iterable or
callable), else the default answer.

``Script.draw`` also carries out the faults that strike before any response
(``_delivery.before_headers``), so an endpoint either gets a response to send at once or
goes on to build its answer with the fault that is left to deliver.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any, TypeAlias

from aiohttp import web

from ._delivery import before_headers
from ._errors import error_response
from ._faults import Fault, FaultDice
from ._options import Options
from ._records import Stats
from ._replies import Reply

__all__ = ["Draw", "Replier", "ReplyItem", "ReplyResult", "Script"]

ReplyItem: TypeAlias = Reply | Fault | str
"""One scripted answer: a Reply, a Fault, or plain content text."""
ReplyResult: TypeAlias = ReplyItem | Sequence[Reply] | None
"""What a ``replies`` callable returns: an item, one Reply per choice, or None for the
default answer."""
Replier: TypeAlias = Callable[[dict[str, Any]], ReplyResult | Awaitable[ReplyResult]]
"""A ``replies`` callable: sync or async, given the request's JSON body."""
Draw: TypeAlias = tuple[Fault | None, Sequence[Reply] | None, web.StreamResponse | None]
"""``Script.draw``'s answer: the fault still to deliver, the scripted replies (None: the
default answer), and a response to send at once instead (None: build the answer)."""


class Script:
    """The scripted replies and the random faults of one emulator."""

    def __init__(
        self,
        replies: Replier | Iterable[ReplyItem] | None,
        options: Options,
        stats: Stats,
    ) -> None:
        self.queue: deque[ReplyItem] = deque()
        self._stats = stats
        self._replier: Replier | None = None
        self._items: Iterator[ReplyItem] | None = None
        if replies is None:
            pass
        elif callable(replies):
            self._replier = replies
        elif isinstance(replies, (str, bytes, Reply, Fault)):
            raise TypeError("replies must be a callable or an iterable of Reply/Fault/str")
        else:
            self._items = iter(replies)
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

    async def draw(self, request: web.Request, body: dict[str, Any]) -> Draw:
        """What answers one generating request: a fault to inject, scripted replies (None:
        the default answer), or a response to send at once (an error before the headers,
        or a failing replies callable)."""
        # A random fault never consumes a scripted reply: the retry that follows gets it.
        fault = self._dice.roll() if self._dice is not None else None
        replies: Sequence[Reply] | None = None
        if fault is None:
            try:
                scripted = await self._next(body)
            except Exception as exc:  # a bug in the test's replier: tell the client why
                return None, None, error_response(500, f"The replies callable raised {exc!r}")
            if isinstance(scripted, Fault):
                fault = scripted
            else:
                replies = scripted
        if fault is not None:
            self._stats.faults[fault.name] += 1
            early = await before_headers(request, fault)
            if early is not None:
                return None, None, early
            if fault.kind == "stall":
                fault = None  # served its purpose: the answer itself is normal
        return fault, replies, None

    async def _next(self, body: dict[str, Any]) -> Sequence[Reply] | Fault | None:
        """The next scripted answer: the queue first, then ``replies``; None = default."""
        item: ReplyResult
        try:
            item = self.queue.popleft()
        except IndexError:
            if self._items is not None:
                item = next(self._items, None)
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
