"""OpenTelemetry spans (the ``otel`` extra), read back with the SDK's in-memory exporter."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from grok_async import AsyncGrok, GrokError, NotFoundError
from grok_async.testing import FakeGrok, Fault, Reply

from .conftest import FAKE_KEY

MESSAGES = [{"role": "user", "content": "a question nobody should see in a span"}]


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def client_for(fake: FakeGrok, provider: TracerProvider) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, tracing=provider)


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    spans = exporter.get_finished_spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


async def test_one_span_per_call_with_genai_attributes(
    fake_grok: FakeGrok, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with client_for(fake_grok, provider) as client:
        reply = await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    span = only_span(exporter)
    assert span.name == "chat grok-4"
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "x_ai"
    assert attributes["gen_ai.request.model"] == "grok-4"
    assert attributes["gen_ai.response.id"] == reply.id
    assert reply.usage is not None
    assert attributes["gen_ai.usage.input_tokens"] == reply.usage.prompt_tokens
    assert attributes["gen_ai.usage.output_tokens"] == reply.usage.completion_tokens
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["grok_async.request_id"] == reply.request_id
    assert attributes["grok_async.retries"] == 0
    assert span.status.status_code is StatusCode.UNSET
    for value in attributes.values():
        assert FAKE_KEY not in str(value)
        assert "nobody should see" not in str(value)


async def test_retries_are_span_events(
    fake_grok: FakeGrok,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    no_backoff: list[float],
) -> None:
    fake_grok.enqueue(Fault.status(503), Fault.status(429, retry_after_ms=1), Reply("ok"))
    async with client_for(fake_grok, provider) as client:
        await client.chat.completions.create(model="grok-4", messages=MESSAGES)
    span = only_span(exporter)
    assert (span.attributes or {})["grok_async.retries"] == 2
    events = [e for e in span.events if e.name == "grok_async.retry"]
    assert [(e.attributes or {})["http.response.status_code"] for e in events] == [503, 429]
    assert [(e.attributes or {})["error.type"] for e in events] == [
        "InternalServerError",
        "RateLimitError",
    ]


async def test_a_failed_call_ends_its_span_with_an_error(
    fake_grok: FakeGrok, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with client_for(fake_grok, provider) as client:
        with pytest.raises(NotFoundError):
            await client.chat.completions.create(model="no-such-model", messages=MESSAGES)
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    attributes = dict(span.attributes or {})
    assert attributes["error.type"] == "NotFoundError"
    assert attributes["http.response.status_code"] == 404


async def test_a_stream_span_ends_when_the_stream_is_exhausted(
    fake_grok: FakeGrok, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with client_for(fake_grok, provider) as client:
        stream = await client.chat.completions.create(
            model="grok-4",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        assert not exporter.get_finished_spans()  # open while the stream is
        final = await stream.get_final_completion()
    span = only_span(exporter)
    attributes = dict(span.attributes or {})
    assert attributes["grok_async.stream.outcome"] == "exhausted"
    assert attributes["grok_async.request_id"] == stream.request_id
    assert final.usage is not None
    assert attributes["gen_ai.usage.output_tokens"] == final.usage.completion_tokens
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)


async def test_a_stream_span_ends_on_early_break(
    fake_grok: FakeGrok, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with client_for(fake_grok, provider) as client:
        async with client.chat.completions.stream(model="grok-4", messages=MESSAGES) as stream:
            async for _ in stream:
                break
        span = only_span(exporter)
    assert (span.attributes or {})["grok_async.stream.outcome"] == "closed"
    assert span.status.status_code is StatusCode.UNSET


async def test_a_failed_stream_span_records_the_error(
    fake_grok: FakeGrok, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    fake_grok.enqueue(Fault.error_event(after_chunks=1))
    async with client_for(fake_grok, provider) as client:
        stream = await client.chat.completions.create(
            model="grok-4", messages=MESSAGES, stream=True
        )
        with pytest.raises(GrokError):
            async for _ in stream:
                pass
    span = only_span(exporter)
    assert (span.attributes or {})["grok_async.stream.outcome"] == "failed"
    assert span.status.status_code is StatusCode.ERROR


async def test_span_names_of_other_endpoints_carry_no_ids(
    fake_grok: FakeGrok, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with client_for(fake_grok, provider) as client:
        await client.models.retrieve("grok-4")
    assert [s.name for s in exporter.get_finished_spans()] == ["GET /models/{id}"]
    assert (exporter.get_finished_spans()[0].attributes or {})["url.path"] == "/models/grok-4"


def test_tracing_must_be_a_flag_or_a_provider() -> None:
    with pytest.raises(TypeError, match="TracerProvider"):
        AsyncGrok(FAKE_KEY, tracing="yes")


def test_without_tracing_opentelemetry_is_never_imported() -> None:
    code = (
        "import sys, asyncio, grok_async\n"
        "from grok_async.testing import FakeGrok\n"
        "async def main():\n"
        "    async with FakeGrok() as fake, grok_async.AsyncGrok('k', base_url=fake.base_url,"
        " hooks=grok_async.Hooks(on_request=print)) as c:\n"
        "        await c.chat.completions.create(model='grok-4',"
        " messages=[{'role': 'user', 'content': 'hi'}])\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
