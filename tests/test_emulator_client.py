"""The client against the embedded emulator: every fault ends in the right result or error."""

from __future__ import annotations

import pytest

from grok_async import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncGrok,
    AuthenticationError,
    BadRequestError,
    ChatCompletion,
    FanOutStats,
    GrokError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from grok_async.testing import FakeGrok, Fault, Reply

from .conftest import FAKE_KEY

MESSAGES = [{"role": "user", "content": "Hi"}]


def client_for(fake: FakeGrok, **options: object) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault.status(429, retry_after_ms=10), id="429-retry-after-ms"),
        pytest.param(Fault.status(429, retry_after=0), id="429-retry-after"),
        pytest.param(Fault.status(500), id="500"),
        pytest.param(Fault.status(503), id="503"),
        pytest.param(Fault.html(502), id="html-502"),
        pytest.param(Fault.reset(), id="reset"),
        pytest.param(Fault.reset_mid_stream(), id="reset-mid-body"),
    ],
)
async def test_transient_faults_are_retried(
    fake_grok: FakeGrok, no_backoff: list[float], fault: Fault
) -> None:
    """A transient fault on the first attempt is retried and the call succeeds."""
    fake_grok.enqueue(fault, Reply("recovered"))
    async with client_for(fake_grok) as client:
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert reply.choices[0].message.content == "recovered"
    assert fake_grok.stats.requests == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        pytest.param(Fault.status(429, retry_after=0), RateLimitError, id="429"),
        pytest.param(Fault.status(500), InternalServerError, id="500"),
        pytest.param(Fault.html(502), InternalServerError, id="html"),
        pytest.param(Fault.reset(), APIConnectionError, id="reset"),
        pytest.param(Fault.stall(2), APITimeoutError, id="stall"),
        pytest.param(Fault.malformed(), APIResponseValidationError, id="malformed"),
    ],
)
async def test_faults_without_retries_raise_their_error(
    fake_grok: FakeGrok, fault: Fault, error: type[GrokError]
) -> None:
    """With max_retries=0 each fault surfaces as its typed error."""
    fake_grok.enqueue(fault)
    async with client_for(fake_grok, max_retries=0, timeout=0.3) as client:
        with pytest.raises(error):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)


@pytest.mark.parametrize(
    ("fault", "error", "delivered"),
    [
        pytest.param(Fault.reset_mid_stream(after_chunks=2), APIConnectionError, 2, id="reset"),
        pytest.param(Fault.stall_mid_stream(2, 2.0), APITimeoutError, 2, id="stall"),
        pytest.param(Fault.malformed(), APIResponseValidationError, 0, id="malformed"),
        pytest.param(Fault.error_event("overloaded", after_chunks=1), GrokError, 1, id="error"),
        pytest.param(Fault.no_done(), APIConnectionError, 1, id="no-done"),
    ],
)
async def test_stream_faults_raise_after_the_delivered_chunks(
    fake_grok: FakeGrok, fault: Fault, error: type[GrokError], delivered: int
) -> None:
    """Mid-stream faults raise their typed error after the chunks before them; no replay."""
    fake_grok.enqueue(fault)
    received = []
    async with client_for(fake_grok, timeout=0.3) as client:
        stream = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, stream=True
        )

        async def consume() -> None:
            async with stream:
                async for chunk in stream:
                    received.append(chunk)

        with pytest.raises(error):
            await consume()
    assert len(received) >= delivered
    assert fake_grok.stats.requests == 1


async def test_streams_assemble_a_final_completion(fake_grok: FakeGrok) -> None:
    """A streamed reasoning answer with usage assembles into the emulator's completion."""
    fake_grok.enqueue(Reply("The answer.", reasoning_content="Thinking it over."))
    async with (
        client_for(fake_grok) as client,
        client.chat.completions.stream(
            model="grok-3-mini", messages=MESSAGES, stream_options={"include_usage": True}
        ) as stream,
    ):
        final = await stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "The answer."
    assert message.reasoning_content == "Thinking it over."
    assert final.usage is not None and final.usage.total_tokens > 0
    assert final.request_id == stream.request_id is not None


@pytest.mark.parametrize(
    ("params", "error", "text"),
    [
        pytest.param({"model": "grok-nope"}, NotFoundError, "grok-nope", id="unknown-model"),
        pytest.param({"temperature": 5}, BadRequestError, "emperature", id="temperature"),
        pytest.param({"stop": list("abcde")}, BadRequestError, "stop", id="five-stops"),
    ],
)
async def test_invalid_requests_get_xai_errors(
    fake_grok: FakeGrok, params: dict[str, object], error: type[GrokError], text: str
) -> None:
    """The emulator's xAI-style validation errors map to the right classes and messages."""
    arguments: dict[str, object] = {"model": "grok-4", "messages": MESSAGES, **params}
    async with client_for(fake_grok) as client:
        with pytest.raises(error, match=text):
            await client.chat.completions.create(**arguments)  # type: ignore[call-overload]
    assert fake_grok.stats.requests == 1


@pytest.mark.fake_grok(api_key="the-right-key")
async def test_wrong_key_is_an_authentication_error(fake_grok: FakeGrok) -> None:
    """xAI's 400 for a wrong key raises AuthenticationError; the recording masks the key."""
    async with client_for(fake_grok) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert info.value.status_code == 400
    assert FAKE_KEY not in str(info.value)
    assert FAKE_KEY not in fake_grok.requests[0].headers["authorization"]


@pytest.mark.fake_grok(max_in_flight=4, retry_after=0.01)
async def test_fan_out_converges_under_a_concurrency_limit(fake_grok: FakeGrok) -> None:
    """Against a server allowing 4 in flight, 300 requests all succeed with bounded 429s."""
    stats = FanOutStats()
    requests = [
        {"model": "grok-4", "messages": [{"role": "user", "content": str(i)}]} for i in range(300)
    ]
    async with client_for(fake_grok, max_retries=6) as client:
        results = await client.chat.completions.create_many(requests, concurrency=64, stats=stats)
    assert all(isinstance(r, ChatCompletion) for r in results)
    assert stats.failed == 0
    assert stats.rate_limited == fake_grok.stats.faults["over_max_in_flight"]
    assert fake_grok.stats.faults["over_max_in_flight"] < 300


@pytest.mark.fake_grok(requests_per_second=200, burst=20)
async def test_fan_out_respects_a_real_rate_limit(fake_grok: FakeGrok) -> None:
    """A token-bucket server limit with real 429s and Retry-After: nothing is lost."""
    stats = FanOutStats()
    requests = [
        {"model": "grok-4", "messages": [{"role": "user", "content": str(i)}]} for i in range(150)
    ]
    async with client_for(fake_grok, max_retries=8) as client:
        results = await client.chat.completions.create_many(requests, concurrency=32, stats=stats)
    assert len(results) == 150 and stats.failed == 0
    assert stats.succeeded == 150


async def test_out_of_credits_429_is_not_retried(fake_grok: FakeGrok) -> None:
    """xAI's 429 "You ran out of credits." never heals by waiting: it raises at once."""
    fake_grok.enqueue(
        Fault.status(429, body={"code": 429, "error": "You ran out of credits."}, retry_after=0)
    )
    async with client_for(fake_grok, max_retries=5) as client:
        with pytest.raises(RateLimitError, match="ran out of credits"):
            await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    assert fake_grok.stats.requests == 1


async def test_out_of_credits_429_ends_a_fan_out_request_without_pacing(
    fake_grok: FakeGrok,
) -> None:
    """Under fan-out a plain 429 is retried patiently; an out-of-credits one is not."""
    fake_grok.enqueue(
        Fault.status(429, body={"code": 429, "error": "You ran out of credits."}, retry_after=0)
    )
    async with client_for(fake_grok, max_retries=0) as client:
        results = await client.chat.completions.create_many(
            [{"model": "grok-4", "messages": MESSAGES}], return_exceptions=True
        )
    assert isinstance(results[0], RateLimitError)
    assert fake_grok.stats.requests == 1
