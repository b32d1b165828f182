"""Cost in dollars (issue #18, point 3): ``usage.cost_usd`` on chat, Responses and image
usage, from xAI's ``cost_in_usd_ticks`` (1 tick = 1e-10 USD), and a fan-out's sum of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from grok_async import (
    AsyncGrok,
    ChatCompletion,
    FanOutStats,
    ImageUsage,
    ResponseUsage,
    Usage,
)
from grok_async._constants import USD_TICKS
from grok_async._serialization import converter
from grok_async.testing import FakeGrok, Reply
from grok_async.types.models import price_to_usd

HI = [{"role": "user", "content": "Hi"}]
USAGE_CLASSES = [
    pytest.param(Usage, id="chat"),
    pytest.param(ResponseUsage, id="responses"),
    pytest.param(ImageUsage, id="images"),
]


@pytest.fixture
async def client(fake_grok: FakeGrok) -> AsyncIterator[AsyncGrok]:
    async with AsyncGrok(api_key="test", base_url=fake_grok.base_url) as client:
        yield client


def test_a_tick_is_a_ten_billionth_of_a_dollar() -> None:
    """The unit, as xAI defines it (SPEC.md §2, §9): 10**10 ticks per US dollar."""
    assert USD_TICKS == 10_000_000_000


@pytest.mark.parametrize("cls", USAGE_CLASSES)
@pytest.mark.parametrize(
    ("ticks", "dollars"),
    [
        pytest.param(500_000_000, 0.05, id="five-cents"),
        pytest.param(1, 1e-10, id="one-tick"),
        pytest.param(0, 0.0, id="free"),
    ],
)
def test_cost_usd_is_the_ticks_in_dollars(cls: type[Any], ticks: int, dollars: float) -> None:
    """Decoded from the wire, ``cost_usd`` is ``cost_in_usd_ticks / 10**10``; a cost of
    zero is $0.00, not "unknown"."""
    usage = converter.structure({"cost_in_usd_ticks": ticks}, cls)
    assert usage.cost_usd == pytest.approx(dollars)
    assert usage.cost_usd is not None


@pytest.mark.parametrize("cls", USAGE_CLASSES)
@pytest.mark.parametrize(
    "wire", [pytest.param({}, id="absent"), pytest.param({"cost_in_usd_ticks": None}, id="null")]
)
def test_cost_usd_is_none_without_ticks(cls: type[Any], wire: dict[str, Any]) -> None:
    """An answer that says nothing about its cost has ``cost_usd`` None (not $0)."""
    assert converter.structure(wire, cls).cost_usd is None


def test_responses_usage_reads_nano_dollars_when_no_ticks_came() -> None:
    """The OpenAPI document gives Responses usage a second cost field, ``cost_in_nano_usd``:
    read when there are no ticks; the ticks win when both came."""
    only_nano = converter.structure({"cost_in_nano_usd": 50_000_000}, ResponseUsage)
    both = converter.structure(
        {"cost_in_usd_ticks": 500_000_000, "cost_in_nano_usd": 1}, ResponseUsage
    )
    assert only_nano.cost_usd == pytest.approx(0.05)
    assert both.cost_usd == pytest.approx(0.05)


def test_prices_convert_with_the_same_definition() -> None:
    """A catalogue price is ticks per unit: $3 per million tokens is 30000."""
    assert price_to_usd(30_000, per=1_000_000) == pytest.approx(3.0)
    assert price_to_usd(None) is None


async def test_every_answer_reports_its_cost_in_dollars(
    fake_grok: FakeGrok, client: AsyncGrok
) -> None:
    """Against the emulator (which prices every answer), ``usage.cost_usd`` is the answer's
    ticks in dollars on a chat completion, a stream's final completion, a deferred result,
    a response, a streamed response and generated images."""
    plain = await client.chat.completions.create(model="grok-3-mini", messages=HI)
    async with client.chat.completions.stream(
        model="grok-3-mini", messages=HI, stream_options={"include_usage": True}
    ) as stream:
        streamed = await stream.get_final_completion()
    handle = await client.chat.completions.create(model="grok-3-mini", messages=HI, deferred=True)
    deferred = await handle.wait()
    response = await client.responses.create(model="grok-3-mini", input="Hi")
    async with client.responses.stream(model="grok-3-mini", input="Hi") as response_stream:
        streamed_response = await response_stream.get_final_response()
    images = await client.images.generate(prompt="A cat", n=2)
    usages = [
        result.usage for result in (plain, streamed, deferred, response, streamed_response, images)
    ]
    for usage in usages:
        assert usage is not None
        assert usage.cost_in_usd_ticks is not None
        assert usage.cost_in_usd_ticks > 0
        assert usage.cost_usd == usage.cost_in_usd_ticks / 10**10
    chat_costs = {usage.cost_usd for usage in usages[:5] if usage is not None}
    assert len(chat_costs) == 1  # the same answer, streamed or not, costs the same
    assert usages[-1] is not None
    assert usages[-1].cost_usd == pytest.approx(2 * 0.07)  # two images at $0.07


async def test_a_fan_outs_stats_sum_the_answers_costs(
    fake_grok: FakeGrok, client: AsyncGrok
) -> None:
    """``FanOutStats.cost_usd`` is the sum of the answers' ``usage.cost_usd``."""
    stats = FanOutStats()
    requests = [
        {"model": "grok-4", "messages": [{"role": "user", "content": f"Fact {i}?"}]}
        for i in range(5)
    ]
    results = await client.chat.completions.create_many(requests, stats=stats)
    costs = [result.usage.cost_usd for result in results if result.usage is not None]
    assert len(costs) == 5
    assert all(cost is not None and cost > 0 for cost in costs)
    assert stats.cost_usd == pytest.approx(sum(cost for cost in costs if cost is not None))


async def test_streamed_answers_count_in_fan_out_stats(
    fake_grok: FakeGrok, client: AsyncGrok
) -> None:
    """A fan-out sends its requests unstreamed, but a streamed answer's final completion
    carries the usage chunk's cost and counts the same when recorded; an answer without
    a cost adds nothing."""
    async with client.chat.completions.stream(
        model="grok-4", messages=HI, stream_options={"include_usage": True}
    ) as stream:
        final = await stream.get_final_completion()
    fake_grok.enqueue(Reply("Free.", usage={"prompt_tokens": 1, "total_tokens": 1}))
    unpriced = await client.chat.completions.create(model="grok-4", messages=HI)
    stats = FanOutStats()
    stats.record(0.1, final)
    stats.record(0.1, unpriced)
    stats.record(0.1, ChatCompletion(id="c", choices=[], usage=None))
    assert final.usage is not None
    assert final.usage.cost_usd is not None
    assert final.usage.cost_usd > 0
    assert unpriced.usage is not None
    assert unpriced.usage.cost_usd is None
    assert stats.cost_usd == pytest.approx(final.usage.cost_usd)
    assert stats.succeeded == 3
