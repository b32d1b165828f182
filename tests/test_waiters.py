"""The line of tasks waiting for a place (``_waiters.Waiters``), shared by the pool's gate,
a fan-out's limiter and the rate budget: order, cancellation races, failing everyone."""

from __future__ import annotations

import asyncio

import pytest

from grok_async._waiters import Waiters


async def settle() -> None:
    """Let every ready task run until it waits again."""
    for _ in range(5):
        await asyncio.sleep(0)


def queue(line: Waiters, name: str, order: list[str], *, first: bool = False) -> asyncio.Task[None]:
    async def wait() -> None:
        await line.wait(first=first)
        order.append(name)

    return asyncio.create_task(wait())


async def test_places_are_handed_over_first_come_first_served() -> None:
    """Tasks are served in the order they queued; ``first=True`` goes ahead of them all."""
    line = Waiters()
    order: list[str] = []
    tasks = [queue(line, name, order) for name in ("a", "b", "c")]
    await settle()
    tasks.append(queue(line, "retry", order, first=True))
    await settle()
    assert line.live() == 4
    for _ in range(4):
        assert line.hand_over()
        await settle()
    assert order == ["retry", "a", "b", "c"]
    assert not line and line.handed == 0
    await asyncio.gather(*tasks)


async def test_nobody_waiting_means_the_owner_keeps_the_place() -> None:
    line = Waiters()
    assert line.hand_over() is False
    assert line.handed == 0


async def test_a_handed_place_is_counted_until_its_task_runs() -> None:
    """``handed`` covers the moment between the hand-over and the task resuming: the place
    is spoken for (the limiter does not give it to a newcomer)."""
    line = Waiters()
    order: list[str] = []
    task = queue(line, "a", order)
    await settle()
    line.hand_over()
    assert (line.handed, order) == (1, [])
    await settle()
    assert (line.handed, order) == (0, ["a"])
    await task


async def test_a_task_cancelled_in_line_leaves_it_and_is_skipped() -> None:
    line = Waiters()
    order: list[str] = []
    cancelled = queue(line, "cancelled", order)
    second = queue(line, "second", order)
    await settle()
    cancelled.cancel()
    assert line.live() == 1  # no longer counted, though it has not run yet
    await settle()
    assert cancelled.cancelled()
    assert len(line) == 1  # it took itself out
    assert line.hand_over()
    await second
    assert order == ["second"]


async def test_cancelled_before_running_skipped_by_a_hand_over() -> None:
    """Cancelled and handed over in the same loop iteration, the other way round: the
    hand-over skips the cancelled task and the place goes to the next one."""
    line = Waiters()
    order: list[str] = []
    cancelled = queue(line, "cancelled", order)
    second = queue(line, "second", order)
    await settle()
    cancelled.cancel()
    assert line.hand_over()
    await settle()
    assert cancelled.cancelled() and order == ["second"]
    assert not line and line.handed == 0
    await second


async def test_cancelled_just_after_a_hand_over_passes_the_place_on() -> None:
    """The place was handed over, then the task was cancelled before it could run: the next
    task in line gets the place; the owner is not given it back."""
    line = Waiters()
    order: list[str] = []
    given_back: list[None] = []

    async def wait(name: str) -> None:
        await line.wait(give_back=lambda: given_back.append(None))
        order.append(name)

    first = asyncio.create_task(wait("first"))
    second = asyncio.create_task(wait("second"))
    await settle()
    assert line.hand_over()
    first.cancel()  # same loop iteration: first has not resumed yet
    await settle()
    assert first.cancelled()
    assert order == ["second"]
    assert given_back == []
    assert not line and line.handed == 0
    await second


async def test_cancelled_just_after_a_hand_over_with_nobody_behind_gives_it_back() -> None:
    line = Waiters()
    given_back: list[None] = []
    task = asyncio.create_task(line.wait(give_back=lambda: given_back.append(None)))
    await settle()
    assert line.hand_over()
    task.cancel()
    await settle()
    assert task.cancelled()
    assert given_back == [None]
    assert line.handed == 0


async def test_fail_all_wakes_every_waiter_with_its_own_error() -> None:
    """Every waiting task raises an error of its own (a shared instance would collect every
    task's traceback); nothing is handed over and the line is empty."""
    line = Waiters()
    tasks = [asyncio.create_task(line.wait()) for _ in range(3)]
    await settle()
    line.fail_all(lambda: RuntimeError("closing"))
    errors = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(error, RuntimeError) for error in errors)
    assert len({id(error) for error in errors}) == 3
    assert not line and line.handed == 0


async def test_fail_all_leaves_an_already_cancelled_waiter_cancelled() -> None:
    line = Waiters()
    cancelled = asyncio.create_task(line.wait())
    other = asyncio.create_task(line.wait())
    await settle()
    cancelled.cancel()
    line.fail_all(lambda: RuntimeError("closing"))
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    with pytest.raises(RuntimeError, match="closing"):
        await other
