"""Timings, hooks, pool statistics and logging, against the emulator on a real socket."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

import grok_async._client
from grok_async import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncGrok,
    GrokError,
    HookEvent,
    Hooks,
    InternalServerError,
    NotFoundError,
    PoolStats,
    RateLimitError,
    Timings,
)
from grok_async.testing import FakeGrok, Fault, Reply

from .conftest import FAKE_KEY, wait_until

MESSAGES = [{"role": "user", "content": "Hi"}]


class Recorder:
    """Hooks that record every event by hook name; ``asynchronous`` makes them coroutines."""

    def __init__(self, *, asynchronous: bool = False) -> None:
        self.events: list[tuple[str, HookEvent]] = []
        self.asynchronous = asynchronous

    def _hook(self, name: str) -> Callable[[HookEvent], Any]:
        if self.asynchronous:

            async def record_later(event: HookEvent) -> None:
                await asyncio.sleep(0.01)  # a real suspension: the call must wait for it
                self.events.append((name, event))

            return record_later

        def record(event: HookEvent) -> None:
            self.events.append((name, event))

        return record

    def hooks(self) -> Hooks:
        return Hooks(
            on_request=self._hook("request"),
            on_response=self._hook("response"),
            on_retry=self._hook("retry"),
            on_error=self._hook("error"),
            on_stream_end=self._hook("stream_end"),
        )

    def named(self, name: str) -> list[HookEvent]:
        return [event for hook, event in self.events if hook == name]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for hook, _ in self.events:
            counts[hook] = counts.get(hook, 0) + 1
        return counts


def client_for(fake: FakeGrok, **options: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)


# -- timings -----------------------------------------------------------------------------------


async def test_timings_of_a_call_are_consistent(fake_grok: FakeGrok) -> None:
    async with client_for(fake_grok) as client:
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    timings = reply.timings
    assert isinstance(timings, Timings)
    assert timings.attempts == 1
    assert timings.pool_wait == 0.0  # the pool had room
    assert 0.0 < timings.time_to_headers <= timings.total
    assert timings.time_to_first_chunk is None


async def test_timings_count_attempts_and_include_retry_waits(fake_grok: FakeGrok) -> None:
    fake_grok.enqueue(
        Fault.status(503, retry_after_ms=50), Fault.status(500), Reply("third time lucky")
    )
    async with client_for(fake_grok) as client:
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert reply.timings is not None
    assert reply.timings.attempts == 3
    assert reply.timings.total >= 0.05  # the server asked for 50 ms before the second try


async def test_pool_wait_is_measured_when_the_pool_is_full() -> None:
    async with FakeGrok(latency=0.2) as fake, client_for(fake, max_connections=1) as client:
        first, second = await asyncio.gather(
            client.chat.completions.create(model="grok-4", messages=MESSAGES),
            client.chat.completions.create(model="grok-4", messages=MESSAGES),
        )
    waits = sorted(r.timings.pool_wait for r in (first, second) if r.timings is not None)
    assert waits[0] == 0.0
    # The second waited for the first's connection: most of the server's 0.2 s.
    assert waits[1] >= 0.15


async def test_pool_wait_counts_against_the_total_timeout() -> None:
    async with FakeGrok(latency=0.5) as fake, client_for(fake, max_connections=1) as client:
        slow = asyncio.ensure_future(
            client.chat.completions.create(model="grok-4", messages=MESSAGES)
        )
        await asyncio.sleep(0.05)
        with pytest.raises(APITimeoutError, match="free pooled connection"):
            await client.chat.completions.create(
                model="grok-4", messages=MESSAGES, timeout=0.1, max_retries=0
            )
        await slow
        assert client.pool_stats().in_use == 0


async def test_stream_timings(fake_grok: FakeGrok) -> None:
    async with client_for(fake_grok) as client:
        stream = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, stream=True
        )
        timings = stream.timings
        assert timings.attempts == 1
        before_reading = timings.time_to_first_chunk
        async for _ in stream:
            pass
    assert before_reading is None  # nothing was read before the loop
    first_chunk = timings.time_to_first_chunk
    assert first_chunk is not None
    assert 0.0 < timings.time_to_headers <= first_chunk <= timings.total


# -- hooks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
async def test_hooks_fire_per_attempt_and_per_retry(
    fake_grok: FakeGrok, asynchronous: bool
) -> None:
    recorder = Recorder(asynchronous=asynchronous)
    # Both refusals say how long to wait (and it is short): the hook reports those waits.
    fake_grok.enqueue(
        Fault.status(500, retry_after_ms=10), Fault.status(429, retry_after_ms=20), Reply("ok")
    )
    async with client_for(fake_grok, hooks=recorder.hooks()) as client:
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        # Hooks completed before the call returned: nothing arrives later.
        seen = list(recorder.events)
        await asyncio.sleep(0.05)
    assert recorder.events == seen
    assert recorder.counts() == {"request": 3, "response": 3, "retry": 2}
    assert [e.attempt for e in recorder.named("request")] == [1, 2, 3]
    assert [e.status for e in recorder.named("response")] == [500, 429, 200]
    retries = recorder.named("retry")
    assert [e.exception_type for e in retries] == [InternalServerError, RateLimitError]
    assert retries[0].wait == pytest.approx(0.01)  # the server's retry-after-ms
    assert retries[1].wait == pytest.approx(0.02)
    last = recorder.named("response")[-1]
    assert last.request_id == reply.request_id
    assert last.method == "POST"
    assert last.path == "/chat/completions"
    assert last.model == "grok-4"
    assert last.elapsed is not None and last.elapsed > 0


async def test_on_response_also_reports_an_attempt_that_got_no_response(
    fake_grok: FakeGrok, no_backoff: list[float]
) -> None:
    recorder = Recorder()
    fake_grok.enqueue(Fault.reset(), Reply("ok"))
    async with client_for(fake_grok, hooks=recorder.hooks()) as client:
        await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    responses = recorder.named("response")
    assert len(recorder.named("request")) == len(responses) == 2
    assert responses[0].status is None
    assert responses[0].exception_type is not None
    assert issubclass(responses[0].exception_type, APIConnectionError)
    assert (responses[1].status, responses[1].exception_type) == (200, None)


async def test_on_error_fires_once_per_failed_call(
    fake_grok: FakeGrok, no_backoff: list[float]
) -> None:
    recorder = Recorder()
    fake_grok.enqueue(Fault.status(500), Fault.status(500), Fault.status(500))
    async with client_for(fake_grok, hooks=recorder.hooks(), max_retries=2) as client:
        with pytest.raises(InternalServerError):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        with pytest.raises(NotFoundError):
            await client.chat.completions.create(model="no-such-model", messages=MESSAGES)
    errors = recorder.named("error")
    assert [e.exception_type for e in errors] == [InternalServerError, NotFoundError]
    assert [e.attempt for e in errors] == [3, 1]
    assert [e.status for e in errors] == [500, 404]
    assert recorder.counts()["retry"] == 2  # the 404 is not retried


async def test_on_error_sees_a_body_that_fails_to_decode(fake_grok: FakeGrok) -> None:
    recorder = Recorder()
    fake_grok.enqueue(Fault.malformed())
    async with client_for(fake_grok, hooks=recorder.hooks()) as client:
        with pytest.raises(APIResponseValidationError):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert [e.status for e in recorder.named("response")] == [200]
    assert [e.exception_type for e in recorder.named("error")] == [APIResponseValidationError]


async def test_a_failing_hook_is_logged_and_never_breaks_the_call(
    fake_grok: FakeGrok, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: HookEvent) -> None:
        raise RuntimeError("hook bug")

    async def broken_async(event: HookEvent) -> None:
        raise ValueError("async hook bug")

    hooks = Hooks(on_request=broken, on_response=broken_async)
    with caplog.at_level(logging.WARNING, logger="grok_async"):
        async with client_for(fake_grok, hooks=hooks) as client:
            reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert reply.choices[0].message.content
    messages = [r.getMessage() for r in caplog.records]
    assert any("on_request raised RuntimeError" in m for m in messages)
    assert any("on_response raised ValueError" in m for m in messages)


async def test_a_call_cancelled_inside_a_hook_frees_its_connection(fake_grok: FakeGrok) -> None:
    entered = asyncio.Event()

    async def slow(event: HookEvent) -> None:
        entered.set()
        await asyncio.sleep(10)

    async with client_for(fake_grok, hooks=Hooks(on_response=slow)) as client:
        call = asyncio.ensure_future(
            client.chat.completions.create(model="grok-4", messages=MESSAGES)
        )
        await entered.wait()
        assert client.pool_stats().in_use == 1
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert client.pool_stats().in_use == 0


async def test_hooks_must_be_a_hooks_object() -> None:
    with pytest.raises(TypeError, match=r"grok_async\.Hooks"):
        AsyncGrok(FAKE_KEY, hooks={"on_request": print})  # type: ignore[arg-type]


async def test_hook_events_never_carry_the_key_or_contents(fake_grok: FakeGrok) -> None:
    recorder = Recorder()
    secret_text = "my private question"
    async with client_for(fake_grok, hooks=recorder.hooks()) as client:
        await client.chat.completions.create(
            model="grok-4", messages=[{"role": "user", "content": secret_text}]
        )
        stream = await client.chat.completions.create(
            model="grok-4", messages=[{"role": "user", "content": secret_text}], stream=True
        )
        async for _ in stream:
            pass
    assert recorder.events
    for _, event in recorder.events:
        assert FAKE_KEY not in repr(event)
        assert secret_text not in repr(event)


# -- stream ends -------------------------------------------------------------------------------


async def test_on_stream_end_when_exhausted(fake_grok: FakeGrok) -> None:
    recorder = Recorder(asynchronous=True)
    async with (
        client_for(fake_grok, hooks=recorder.hooks()) as client,
        client.chat.completions.stream(model="grok-4", messages=MESSAGES) as stream,
    ):
        await stream.get_final_completion()
        assert [e.outcome for e in recorder.named("stream_end")] == ["exhausted"]
    ends = recorder.named("stream_end")
    assert len(ends) == 1  # leaving the block after the end does not report again
    assert ends[0].request_id == stream.request_id
    assert "error" not in recorder.counts()


async def test_on_stream_end_when_closed_early(fake_grok: FakeGrok) -> None:
    recorder = Recorder(asynchronous=True)
    async with client_for(fake_grok, hooks=recorder.hooks()) as client:
        stream = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, stream=True
        )
        async for _ in stream:
            break
        await stream.aclose()
        await stream.aclose()  # idempotent: still one report
        assert [e.outcome for e in recorder.named("stream_end")] == ["closed"]
        assert client.pool_stats().in_use == 0
    assert stream.timings.total > 0.0


async def test_on_stream_end_and_on_error_when_a_stream_fails(fake_grok: FakeGrok) -> None:
    recorder = Recorder()
    fake_grok.enqueue(Fault.error_event(after_chunks=1))
    async with client_for(fake_grok, hooks=recorder.hooks()) as client:
        stream = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, stream=True
        )
        with pytest.raises(GrokError) as caught:
            async for _ in stream:
                pass
    ends = recorder.named("stream_end")
    assert [e.outcome for e in ends] == ["failed"]
    assert ends[0].exception_type is type(caught.value)
    assert [e.exception_type for e in recorder.named("error")] == [type(caught.value)]


async def test_on_stream_end_when_the_reader_is_cancelled() -> None:
    recorder = Recorder()
    async with (
        FakeGrok(tokens_per_second=20) as fake,
        client_for(fake, hooks=recorder.hooks()) as client,
    ):
        stream = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, stream=True
        )

        async def read_all() -> None:
            async for _ in stream:
                pass

        reader = asyncio.ensure_future(read_all())
        await asyncio.sleep(0.15)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
        ends = recorder.named("stream_end")
        assert [e.outcome for e in ends] == ["cancelled"]
        assert ends[0].exception_type is asyncio.CancelledError
        assert client.pool_stats().in_use == 0


async def test_on_stream_end_when_a_stream_is_dropped(fake_grok: FakeGrok) -> None:
    recorder = Recorder(asynchronous=True)
    async with client_for(fake_grok, hooks=recorder.hooks()) as client:
        stream = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, stream=True
        )
        del stream
        gc.collect()
        assert await wait_until(lambda: bool(recorder.named("stream_end")))
        assert [e.outcome for e in recorder.named("stream_end")] == ["closed"]
        assert client.pool_stats().in_use == 0


async def test_stream_open_failure_reports_on_error_only(fake_grok: FakeGrok) -> None:
    recorder = Recorder()
    async with client_for(fake_grok, hooks=recorder.hooks()) as client:
        with pytest.raises(NotFoundError):
            await client.chat.completions.create(
                model="no-such-model", messages=MESSAGES, stream=True
            )
    assert recorder.counts() == {"request": 1, "response": 1, "error": 1}


async def test_with_options_can_replace_the_hooks(fake_grok: FakeGrok) -> None:
    first, second = Recorder(), Recorder()
    async with client_for(fake_grok, hooks=first.hooks()) as client:
        await client.with_options(hooks=second.hooks()).chat.completions.create(
            model="grok-4", messages=MESSAGES
        )
        await client.with_options(max_retries=0).chat.completions.create(
            model="grok-4", messages=MESSAGES
        )
    assert first.counts() == {"request": 1, "response": 1}  # the copy kept the hooks
    assert second.counts() == {"request": 1, "response": 1}


# -- pool statistics ---------------------------------------------------------------------------


async def test_pool_stats_follow_a_stream_and_keep_alive(fake_grok: FakeGrok) -> None:
    async with client_for(fake_grok, max_connections=7) as client:
        assert client.pool_stats() == PoolStats(in_use=0, idle=0, limit=7, waiting=0)
        stream = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, stream=True
        )
        assert client.pool_stats().in_use == 1
        async for _ in stream:
            pass
        stats = client.pool_stats()
        assert (stats.in_use, stats.idle) == (0, 1)  # kept alive for the next request


def test_pool_stats_outside_any_loop_is_an_empty_pool() -> None:
    """Asked from synchronous code (no running loop), the client reports an empty pool."""
    client = AsyncGrok(api_key="test", base_url="http://127.0.0.1:9/v1", max_connections=3)
    assert client.pool_stats() == PoolStats(in_use=0, idle=0, limit=3, waiting=0)


async def test_pool_stats_count_waiters() -> None:
    async with FakeGrok(latency=0.3) as fake, client_for(fake, max_connections=2) as client:
        calls = [
            asyncio.ensure_future(client.chat.completions.create(model="grok-4", messages=MESSAGES))
            for _ in range(5)
        ]
        assert await wait_until(lambda: client.pool_stats().waiting == 3)
        assert client.pool_stats().in_use == 2
        await asyncio.gather(*calls)
        assert client.pool_stats() == PoolStats(in_use=0, idle=2, limit=2, waiting=0)


async def test_cancelled_waiters_leave_the_queue() -> None:
    async with FakeGrok(latency=0.3) as fake, client_for(fake, max_connections=1) as client:
        running = asyncio.ensure_future(
            client.chat.completions.create(model="grok-4", messages=MESSAGES)
        )
        waiter = asyncio.ensure_future(
            client.chat.completions.create(model="grok-4", messages=MESSAGES)
        )
        assert await wait_until(lambda: client.pool_stats().waiting == 1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert client.pool_stats().waiting == 0
        await running
        assert client.pool_stats().in_use == 0
        # The place was not lost: the next call goes straight through.
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
        assert reply.timings is not None and reply.timings.pool_wait == 0.0


async def test_close_ends_requests_queued_for_a_connection() -> None:
    """close() ends calls waiting for a pooled connection at once, with a GrokError, even
    when the connection they wait for is held by an open stream."""
    async with FakeGrok() as fake:
        client = client_for(fake, max_connections=1)
        stream = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, stream=True
        )
        queued = asyncio.ensure_future(
            client.chat.completions.create(model="grok-4", messages=MESSAGES, timeout=None)
        )
        assert await wait_until(lambda: client.pool_stats().waiting == 1)
        await client.close()
        with pytest.raises(GrokError, match="closed"):
            await asyncio.wait_for(queued, 2)
        await stream.aclose()
        assert fake.stats.requests == 1  # the queued call was never sent


async def test_retries_draw_from_the_rate_budget(
    fake_grok: FakeGrok, no_backoff: list[float]
) -> None:
    """Every attempt is a request the server counts: retries draw from a shared budget too."""

    class CountingLimiter:
        def __init__(self) -> None:
            self.acquired: list[int] = []

        async def acquire(self, tokens: int) -> None:
            self.acquired.append(tokens)

        def settle(self, estimated: int, actual: int) -> None:
            pass

        async def pause(self, seconds: float) -> None:
            pass

    limiter = CountingLimiter()
    fake_grok.enqueue(Fault.status(500), Fault.status(503), Reply("ok"))
    async with client_for(fake_grok) as client:
        results = await client.chat.completions.create_many(
            [{"model": "grok-4", "messages": MESSAGES}], rate_limit=limiter
        )
    assert results[0].choices[0].message.content == "ok"
    assert fake_grok.stats.requests == 3
    assert len(limiter.acquired) == 3  # one per attempt
    assert limiter.acquired[0] > 0 and limiter.acquired[1:] == [0, 0]  # tokens drawn once


# -- logging -----------------------------------------------------------------------------------


async def test_logging_debug_per_attempt_info_per_retry_never_the_key(
    fake_grok: FakeGrok, no_backoff: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    fake_grok.enqueue(Fault.status(503), Reply("secret answer text"))
    with caplog.at_level(logging.DEBUG, logger="grok_async"):
        async with client_for(fake_grok) as client:
            await client.chat.completions.create(
                model="grok-4", messages=[{"role": "user", "content": "secret question"}]
            )
    ours = [r for r in caplog.records if r.name == "grok_async"]
    attempts = [r for r in ours if r.levelno == logging.DEBUG and "attempt" in r.getMessage()]
    retries = [r for r in ours if r.levelno == logging.INFO and "retrying" in r.getMessage()]
    assert len(attempts) == 2
    assert len(retries) == 1
    for record in ours:
        text = record.getMessage()
        assert FAKE_KEY not in text
        assert "secret" not in text


async def test_warning_when_many_clients_are_alive(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    gc.collect()
    many = grok_async._census._live_clients + 3
    monkeypatch.setattr(grok_async._census, "MANY_CLIENTS", many)
    with caplog.at_level(logging.WARNING, logger="grok_async"):
        clients = [AsyncGrok(FAKE_KEY) for _ in range(2)]
        assert not caplog.records
        clients.append(AsyncGrok(FAKE_KEY))
    assert f"{many} AsyncGrok clients are alive in this process" in caplog.text
    assert FAKE_KEY not in caplog.text


def test_warning_when_one_client_serves_two_running_loops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with FakeGrok() as fake:
        client = client_for(fake)
        other_loop_ready = threading.Event()
        release = threading.Event()

        def other_thread() -> None:
            async def hold() -> None:
                await client.chat.completions.create(model="grok-4", messages=MESSAGES)
                other_loop_ready.set()
                # Keep this loop running (and its pool alive) until the main thread is done.
                await asyncio.get_running_loop().run_in_executor(None, release.wait, 10)

            asyncio.run(hold())

        thread = threading.Thread(target=other_thread)
        thread.start()
        try:
            assert other_loop_ready.wait(10)
            with caplog.at_level(logging.WARNING, logger="grok_async"):
                asyncio.run(
                    client.with_options().chat.completions.create(model="grok-4", messages=MESSAGES)
                )
        finally:
            release.set()
            thread.join(10)
    assert "in use from 2 event loops at once" in caplog.text


def test_successive_loops_do_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    with FakeGrok() as fake:
        client = client_for(fake)
        with caplog.at_level(logging.WARNING, logger="grok_async"):
            for _ in range(2):
                asyncio.run(client.chat.completions.create(model="grok-4", messages=MESSAGES))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
