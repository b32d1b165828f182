"""What a call did and how long it took: timings, hooks, pool statistics.

Every call carries a small :class:`Call` record (its start time, attempt count and time
spent waiting for a pooled connection), so ``result.timings`` costs a few clock reads and
one object. Hooks and OpenTelemetry spans hang off an :class:`Observer`, which exists only
when the client was given ``hooks=`` or ``tracing=``; without them each attempt checks one
attribute and moves on.

Hooks receive a :class:`HookEvent`: numbers, the method and path, the status and request
id, an exception *type*. Never the key, the headers or message contents, so a hook can log
or export what it receives without thinking about secrets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import ConfigurationError
from ._events import (
    Call,
    HookEvent,
    HookFn,
    PoolStats,
    StreamOutcome,
    Timings,
    status_of,
)
from ._ratelimits import server_metrics

if TYPE_CHECKING:
    from ._otel import Tracing
    from ._response import HTTPResponse

__all__ = [
    "Call",
    "HookEvent",
    "Hooks",
    "Observer",
    "PoolStats",
    "StreamOutcome",
    "Timings",
    "make_observer",
]

logger = logging.getLogger("grok_async")


@attrs.frozen(kw_only=True)
class Hooks:
    """Callbacks the client calls as work happens; each is optional.

    Each is a plain function or a coroutine function taking one :class:`HookEvent`. Hooks
    run inline and complete before the call returns or raises, so keep them quick (hand
    slow work to a queue). A hook that raises is logged on the ``grok_async`` logger and
    never breaks the call.
    """

    #: Before each HTTP attempt.
    on_request: HookFn | None = None
    #: When each attempt's response headers arrive (whatever the status), or when the
    #: attempt ended without a response (then ``status`` is None and ``exception_type``
    #: says why).
    on_response: HookFn | None = None
    #: Once per decision to retry, with the wait chosen.
    on_retry: HookFn | None = None
    #: Once per call that ends in an exception (after its retries), streams included.
    on_error: HookFn | None = None
    #: Once per stream however it ends: exhausted, closed early, cancelled or failed.
    on_stream_end: HookFn | None = None


class Observer:
    """Runs the hooks and the tracing of one client family (exists only when configured)."""

    __slots__ = ("_pending", "hooks", "tracing")

    def __init__(self, hooks: Hooks | None, tracing: Tracing | None) -> None:
        self.hooks = hooks or Hooks()
        self.tracing = tracing
        # Hooks started from a stream's finaliser: referenced until done so they run.
        self._pending: set[asyncio.Task[None]] = set()

    # -- call lifecycle ------------------------------------------------------------------------

    def begin(self, call: Call) -> None:
        if self.tracing is not None:
            call.span = _guarded(self.tracing.start, call)

    async def attempt(self, call: Call) -> None:
        hook = self.hooks.on_request
        if hook is not None:
            await _run("on_request", hook, call.event())

    async def response(self, call: Call, response: HTTPResponse, pool_wait: float) -> None:
        hook = self.hooks.on_response
        if hook is not None:
            ttft, itl, e2e = server_metrics(response.headers)
            await _run(
                "on_response",
                hook,
                call.event(
                    status=response.status,
                    elapsed=response.time_to_headers,
                    wait=pool_wait,
                    request_id=response.request_id,
                    server_ttft=ttft,
                    server_itl=itl,
                    server_e2e=e2e,
                ),
            )

    async def no_response(self, call: Call, error: BaseException, pool_wait: float) -> None:
        """``on_response`` for an attempt that ended without one (reset, timeout, ...)."""
        hook = self.hooks.on_response
        if hook is not None:
            await _run(
                "on_response",
                hook,
                call.event(
                    wait=pool_wait,
                    request_id=getattr(error, "request_id", None),
                    exception_type=type(error),
                ),
            )

    async def retry(self, call: Call, error: BaseException, wait: float) -> None:
        if self.tracing is not None and call.span is not None:
            _guarded(self.tracing.retry, call, error, wait)
        hook = self.hooks.on_retry
        if hook is not None:
            await _run("on_retry", hook, call.error_event(error, wait=wait))

    async def failed(self, call: Call, error: BaseException) -> None:
        if self.tracing is not None and call.span is not None:
            _guarded(self.tracing.end, call, error=error)
        hook = self.hooks.on_error
        if hook is not None and not isinstance(error, GeneratorExit):
            # (A coroutine being closed must not suspend: no async hook then.)
            await _run("on_error", hook, call.error_event(error))

    def succeeded(self, call: Call, result: object) -> None:
        if self.tracing is not None and call.span is not None:
            _guarded(self.tracing.end, call, result=result)

    async def stream_ended(
        self,
        call: Call,
        outcome: StreamOutcome,
        error: BaseException | None,
        request_id: str | None,
        final: Callable[[], object],
    ) -> None:
        """A stream ended: its span ends, ``on_stream_end`` (and ``on_error``) run.

        ``final`` gives what the stream assembled (for the span's usage); it is called only
        when tracing, as assembling costs.
        """
        if self.tracing is not None and call.span is not None:
            _guarded(
                self.tracing.end,
                call,
                error=error,
                result=final(),
                outcome=outcome,
                request_id=request_id,
            )
        hook = self.hooks.on_stream_end
        if hook is not None:
            await _run(
                "on_stream_end",
                hook,
                call.event(
                    elapsed=call.elapsed(),
                    request_id=request_id,
                    exception_type=type(error) if error is not None else None,
                    status=status_of(error),
                    outcome=outcome,
                ),
            )
        if error is not None and self.hooks.on_error is not None:
            await _run("on_error", self.hooks.on_error, call.error_event(error))

    def stream_ended_soon(
        self,
        call: Call,
        outcome: StreamOutcome,
        error: BaseException | None,
        request_id: str | None,
        final: Callable[[], object],
    ) -> None:
        """:meth:`stream_ended` from synchronous code (a finaliser): run it on the loop."""
        loop = call.loop
        if loop is None or loop.is_closed():
            return  # the loop is gone: nothing could run the hooks

        def start() -> None:
            task = loop.create_task(self.stream_ended(call, outcome, error, request_id, final))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        # The finaliser may run in any thread (the garbage collector's choice).
        try:
            loop.call_soon_threadsafe(start)
        except RuntimeError:  # pragma: no cover - closed between the check and the call
            pass


def _guarded(action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a tracing step; a failure in the tracing SDK is logged, never raised into a call."""
    try:
        return action(*args, **kwargs)
    except Exception as exc:
        logger.warning(
            "grok_async tracing failed with %s; ignored", type(exc).__name__, exc_info=True
        )
        return None


async def _run(name: str, hook: HookFn, event: HookEvent) -> None:
    """Call one hook; its failure is logged, never raised into the call."""
    try:
        result = hook(event)
        # Not inspect.isawaitable: inspect costs a few ms of `import grok_async`.
        if isinstance(result, Awaitable):
            await result
    except Exception as exc:
        # The hook's own traceback helps its author; the event holds no secrets.
        logger.warning(
            "grok_async hook %s raised %s; ignored", name, type(exc).__name__, exc_info=True
        )


def make_observer(hooks: Hooks | None, tracing: object) -> Observer | None:
    """The observer for these settings, or None when there is nothing to observe."""
    if hooks is not None and not isinstance(hooks, Hooks):
        raise ConfigurationError(f"hooks must be a grok_async.Hooks, not {type(hooks).__name__}")
    tracer = None
    if not isinstance(tracing, bool) and not hasattr(tracing, "get_tracer"):
        raise ConfigurationError(
            "tracing must be True, False or an OpenTelemetry TracerProvider, "
            f"not {type(tracing).__name__}"
        )
    if tracing:
        # Imported here only: without tracing=, OpenTelemetry is never imported.
        from ._otel import Tracing

        tracer = Tracing.create(None if tracing is True else tracing)
    if hooks is None and tracer is None:
        return None
    return Observer(hooks, tracer)
