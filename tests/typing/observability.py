"""Never executed: checked by ``mypy --strict`` to pin the observability types."""

from __future__ import annotations

from typing import Literal

from typing_extensions import assert_type

from grok_async import AsyncGrok, HookEvent, Hooks, PoolStats, Timings


def on_retry(event: HookEvent) -> None:
    assert_type(event.wait, float | None)
    assert_type(event.exception_type, type[BaseException] | None)


async def on_stream_end(event: HookEvent) -> None:
    assert_type(event.outcome, Literal["exhausted", "closed", "cancelled", "failed"] | None)


async def typed_observability(client: AsyncGrok) -> None:
    observed = client.with_options(hooks=Hooks(on_retry=on_retry, on_stream_end=on_stream_end))
    reply = await observed.chat.completions.create(model="grok-4", messages=[])
    assert_type(reply.timings, Timings | None)
    stream = await observed.chat.completions.create(model="grok-4", messages=[], stream=True)
    assert_type(stream.timings, Timings)
    assert_type(stream.timings.time_to_first_chunk, float | None)
    assert_type(client.pool_stats(), PoolStats)
