"""Many chat completions at once: ``iter_many()`` and ``create_many()`` of
``client.chat.completions``, and what each fan-out sets up around the workers of
``_fanout`` (its statistics, its adaptive limiter, a shared rate limiter's pauses, the
progress display).
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sized,
)
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Literal, overload

from .._constants import DEFAULT_CONCURRENCY
from .._fanout import FanOutStats, iter_many, run_many
from .._progress import Progress
from .._ratecontrol import AdaptiveLimiter
from ..types.chat import ChatCompletion
from ._chat_create import BaseCompletions

if TYPE_CHECKING:
    from .._ratelimit import RateLimiter, SharedPauses
    from .._requester import Requester

__all__ = ["FanOutCompletions"]


class FanOutCompletions(BaseCompletions):
    """Chat completions, many at a time: :meth:`iter_many` and :meth:`create_many`."""

    async def iter_many(
        self,
        requests: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = False,
        progress: bool | Progress = False,
        stats: FanOutStats | None = None,
        on_result: Callable[[int, ChatCompletion | Exception], Any] | None = None,
        rate_limit: RateLimiter | None = None,
    ) -> AsyncGenerator[tuple[int, ChatCompletion | Exception], None]:
        """Run many ``create()`` calls; yield ``(index, result)`` as each finishes.

        ``requests`` (dicts of :meth:`create` keyword arguments, sync or async iterable) is
        consumed lazily, so memory stays flat for millions of requests. At most
        ``concurrency`` are in flight; on a rate-limit signal the whole fan-out halves its
        in-flight limit and waits out the server's Retry-After together, then grows back by
        one per window of successes. The client's ``requests_per_minute`` /
        ``tokens_per_minute`` budgets, if set, apply to every request; ``rate_limit`` (a
        :class:`RedisRateLimiter` shared by many processes, or any :class:`RateLimiter`)
        replaces them for this fan-out and is told of every server pause.

        With ``return_exceptions=False`` the first failure (after its retries) is raised
        and everything in flight is cancelled; with ``True`` exceptions are yielded in
        their request's place. Pass a :class:`FanOutStats` as ``stats`` to read live counters
        and the final summary; ``progress=True`` shows the progress on stderr (live on a
        terminal, a line every few seconds elsewhere; or pass a ``grok_async.Progress``). Use
        ``contextlib.aclosing`` if you may stop iterating early, so in-flight calls are
        cancelled at once.
        """
        setup = _FanOutSetup(
            self._client, self.create, requests, concurrency, progress, stats, rate_limit
        )
        try:
            async with aclosing(
                iter_many(
                    setup.call,
                    requests,
                    concurrency=concurrency,
                    limiter=setup.limiter,
                    stats=setup.stats,
                    return_exceptions=return_exceptions,
                    on_result=on_result,
                )
            ) as results:
                async for item in results:
                    yield item
        finally:
            await setup.finish()

    @overload
    async def create_many(
        self,
        requests: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: Literal[False] = False,
        progress: bool | Progress = False,
        stats: FanOutStats | None = None,
        on_result: Callable[[int, ChatCompletion | Exception], Any] | None = None,
        rate_limit: RateLimiter | None = None,
    ) -> list[ChatCompletion]: ...

    @overload
    async def create_many(
        self,
        requests: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool,
        progress: bool | Progress = False,
        stats: FanOutStats | None = None,
        on_result: Callable[[int, ChatCompletion | Exception], Any] | None = None,
        rate_limit: RateLimiter | None = None,
    ) -> list[ChatCompletion | Exception]: ...

    async def create_many(
        self,
        requests: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        return_exceptions: bool = False,
        progress: bool | Progress = False,
        stats: FanOutStats | None = None,
        on_result: Callable[[int, ChatCompletion | Exception], Any] | None = None,
        rate_limit: RateLimiter | None = None,
    ) -> list[ChatCompletion] | list[ChatCompletion | Exception]:
        """Run many ``create()`` calls and return their results in request order.

        Takes the arguments of :meth:`iter_many`. With ``return_exceptions=True`` a failed
        request's exception takes its place in the list; otherwise the first failure is
        raised and the rest cancelled.
        """
        setup = _FanOutSetup(
            self._client, self.create, requests, concurrency, progress, stats, rate_limit
        )
        try:
            return await run_many(
                setup.call,
                requests,
                concurrency=concurrency,
                limiter=setup.limiter,
                stats=setup.stats,
                return_exceptions=return_exceptions,
                on_result=on_result,
            )
        finally:
            await setup.finish()


class _FanOutSetup:
    """What both fan-out methods need: stats, the shared limiter, paced calls, the bar."""

    def __init__(
        self,
        client: Requester,
        create: Callable[..., Awaitable[ChatCompletion]],
        requests: object,
        concurrency: int,
        progress: bool | Progress,
        stats: FanOutStats | None,
        rate_limit: RateLimiter | None = None,
    ) -> None:
        if stats is None:
            # A Progress of the caller's counts what it shows.
            stats = progress.stats if isinstance(progress, Progress) else FanOutStats()
        self.stats = stats
        if self.stats.total is None and isinstance(requests, Sized):
            self.stats.total = len(requests)
        # Every attempt of this fan-out goes through its one limiter: the workers make it
        # their calls' limiter (see _ratecontrol.current_limiter).
        self.limiter = AdaptiveLimiter(concurrency)
        self._pauses: SharedPauses | None = None
        if rate_limit is not None:
            from .._ratelimit import SharedPauses  # only fan-outs given a rate_limit need it

            self._pauses = SharedPauses(rate_limit)
            # Every request draws from the given budget instead of the client's, and a
            # server pause seen here holds back every sharer of that budget too.
            self.limiter.rate_limit = self._pauses.rate_limit
            self.limiter.on_pause = self._pauses.share
        self._create = create
        self._bar = (
            progress
            if isinstance(progress, Progress)
            else Progress(self.stats)
            if progress
            else None
        )
        if self._bar is not None:
            self._bar.follow(self.limiter, client.rate_limits)
            self._bar.start()

    def call(self, request: Mapping[str, Any]) -> Awaitable[ChatCompletion]:
        return self._create(**request, stream=False)

    async def finish(self) -> None:
        if self._pauses is not None:
            await self._pauses.drain()
        if self._bar is not None:
            await self._bar.stop()
