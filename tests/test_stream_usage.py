"""``chat.completions.stream()`` reports usage in its final completion unless told not to."""

from __future__ import annotations

from typing import Any

import pytest

from grok_async import AsyncGrok, StreamOptions
from grok_async.testing import FakeGrok

MESSAGES = [{"role": "user", "content": "Hi"}]


async def test_stream_asks_for_usage_by_default(fake_grok: FakeGrok) -> None:
    """Without stream_options, the request asks for usage and the final completion has it."""
    client = AsyncGrok(api_key="test", base_url=fake_grok.base_url)
    async with client, client.chat.completions.stream(model="grok-4", messages=MESSAGES) as stream:
        final = await stream.get_final_completion()
    assert fake_grok.last_request.json is not None
    assert fake_grok.last_request.json["stream_options"] == {"include_usage": True}
    assert final.usage is not None
    assert final.usage.total_tokens > 0
    assert final.usage.cost_usd is not None


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"include_usage": False}, id="dict"),
        pytest.param(StreamOptions(include_usage=False), id="StreamOptions"),
    ],
)
async def test_an_explicit_choice_is_sent_as_given(fake_grok: FakeGrok, options: Any) -> None:
    """A caller's stream_options wins: it is sent as given, and no usage comes back."""
    client = AsyncGrok(api_key="test", base_url=fake_grok.base_url)
    async with (
        client,
        client.chat.completions.stream(
            model="grok-4", messages=MESSAGES, stream_options=options
        ) as stream,
    ):
        final = await stream.get_final_completion()
    assert fake_grok.last_request.json is not None
    assert fake_grok.last_request.json["stream_options"] == {"include_usage": False}
    assert final.usage is None


async def test_create_with_stream_true_sends_no_stream_options(fake_grok: FakeGrok) -> None:
    """The low-level create(stream=True) sends only what it is given, like openai-python."""
    async with AsyncGrok(api_key="test", base_url=fake_grok.base_url) as client:
        stream = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, stream=True
        )
        async with stream:
            async for _ in stream:
                pass
    assert fake_grok.last_request.json is not None
    assert "stream_options" not in fake_grok.last_request.json
