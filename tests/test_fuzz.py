"""Fuzzing the decoders: mutated or random bytes only ever raise GrokError, fast, within caps.

Three layers are fed hostile input: the SSE decoder (checked against a whole-stream
reference model of the WHATWG rules, under a tiny ``max_event_size``), ``parse_completion``
(non-streamed bodies) and ``AsyncStream`` (streamed chunks, driven without any I/O). Inputs
start from valid xAI payloads and are mutated: truncation, byte flips, inserted CR/LF,
huge numbers, deep nesting and values of the wrong type.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Coroutine, Sequence
from typing import Any, cast

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from grok_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AsyncStream,
    ChatCompletion,
    ChatCompletionChunk,
    GrokError,
)
from grok_async._response import HTTPResponse
from grok_async._sse import ServerSentEvent, SSEDecoder
from grok_async.resources._chat_create import parse_completion

from .conftest import completion_body

# database=None: failing examples are not saved into the checkout. The deadline is the
# "never hangs" check: every example here is microseconds of work, so a second means a loop.
# GROK_FUZZ_EXAMPLES runs more examples per test (the default keeps the suite fast);
# --hypothesis-show-statistics shows how the outcomes were spread.
fuzz_settings = settings(
    database=None,
    deadline=1000,
    max_examples=int(os.environ.get("GROK_FUZZ_EXAMPLES", "200")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

BOM = b"\xef\xbb\xbf"
# The small caps the SSE fuzzing runs under: chunk events (100-300 bytes) land on both sides.
CAPS = st.integers(1, 64) | st.integers(65, 512)

# --------------------------------------------------------------------------- inputs


def chunk_payloads() -> list[dict[str, Any]]:
    """The chunks of a short streamed answer, as xAI sends them (role, content, usage)."""
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000}
    base["model"] = "grok-4-0709"
    return [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "Hel"}}]},
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "content": "lo",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "f", "arguments": '{"a":'},
                            }
                        ],
                    },
                }
            ],
        },
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {
            **base,
            "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        },
    ]


def json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON tree (the root included)."""
    paths = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += json_paths(item, (*path, index))
    return paths


_HOLE = "\x00hole\x00"


def replace_at(document: Any, path: tuple[Any, ...], raw_value: bytes) -> bytes:
    """The JSON text of ``document`` with the value at ``path`` replaced by ``raw_value``
    (raw bytes, so it may be anything orjson would refuse to write: 5000 levels deep,
    numbers past 64 bits, invalid JSON)."""
    if not path:
        return raw_value
    copy = orjson.loads(orjson.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = _HOLE
    return orjson.dumps(copy).replace(orjson.dumps(_HOLE), raw_value, 1)


def deep(depth: int, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return opener * depth + closer * depth


def odd_values(max_depth: int = 3000) -> st.SearchStrategy[bytes]:
    """Raw JSON replacement values: wrong types, edge numbers, deep nesting (up to
    ``max_depth`` levels; orjson parses 1024), broken JSON."""
    return st.one_of(
        st.sampled_from(
            [
                b"null",
                b"true",
                b"0",
                b"-1",
                b"1.5",
                b'""',
                b'"x"',
                b"[]",
                b"{}",
                b'[1,"a",null]',
                b'{"a":null}',
                b'{"error":"nested"}',
                b"9" * 40,
                b"-" + b"9" * 40,
                b"1e308",
                b"-1e308",
                b"1e999",
                b"1e-999",
                b"NaN",
                b'"\\ud800"',
                b'"\xff\xfe"',
                b"[",
                b"",
            ]
        ),
        st.integers(1, max_depth).map(deep),
        st.integers(1, max_depth).map(lambda d: b'{"a":' * d + b"1" + b"}" * d),
        st.integers().map(lambda n: str(n).encode()),
        st.text(max_size=20).map(orjson.dumps),
    )


# Byte-level mutations, applied in order to a whole body.
_INSERTS = [b"\r", b"\n", b"\r\n", b"\n\n", b"\r\r", b"data: ", b":", b"\x00", BOM, b"\xff"]


@st.composite
def byte_mutations(draw: st.DrawFn, blob: bytes) -> bytes:
    """``blob`` after a few random truncations, byte flips and insertions."""
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(blob)))
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "duplicate"]))
        if kind == "truncate":
            blob = blob[:position]
        elif kind == "flip" and position < len(blob):
            mask = draw(st.integers(1, 255))
            blob = blob[:position] + bytes([blob[position] ^ mask]) + blob[position + 1 :]
        elif kind == "insert":
            blob = blob[:position] + draw(st.sampled_from(_INSERTS)) + blob[position:]
        elif kind == "delete":
            blob = blob[:position] + blob[position + draw(st.integers(1, 8)) :]
        elif kind == "duplicate":
            blob = blob[:position] + blob[position : position + 64] + blob[position:]
    return blob


@st.composite
def mutated_documents(draw: st.DrawFn, document: Any) -> bytes:
    """The JSON text of ``document``, maybe with one value replaced, maybe byte-mutated."""
    raw = orjson.dumps(document)
    if draw(st.booleans()):
        path = draw(st.sampled_from(json_paths(document)))
        raw = replace_at(document, path, draw(odd_values()))
    if draw(st.booleans()):
        raw = draw(byte_mutations(raw))
    return raw


@st.composite
def sse_bodies(draw: st.DrawFn) -> bytes:
    """A streamed answer's SSE body (``[DONE]``-terminated), then mutated."""
    payloads = chunk_payloads()
    events = [orjson.dumps(p) for p in payloads]
    if draw(st.booleans()):
        index = draw(st.integers(0, len(payloads) - 1))
        events[index] = draw(mutated_documents(payloads[index]))
    framing = draw(st.sampled_from([b"\n\n", b"\r\n\r\n", b"\r\r", b"\n"]))
    body = b"".join(b"data: " + event + framing for event in events) + b"data: [DONE]\n\n"
    if draw(st.booleans()):
        body = b": keep-alive\n\n" + body
    return draw(byte_mutations(body))


def split(blob: bytes, points: Sequence[int]) -> list[bytes]:
    """``blob`` cut at the given offsets (out-of-range offsets are clamped)."""
    bounds = sorted({0, len(blob), *(min(max(p, 0), len(blob)) for p in points)})
    return [blob[a:b] for a, b in itertools.pairwise(bounds)]


pieces_of = st.lists(st.integers(0, 4096), max_size=12)
random_bytes = st.binary(max_size=600)

# --------------------------------------------------------------------------- SSE decoder

_LINE_END = re.compile(rb"\r\n|\r|\n")


class Reference:
    """The WHATWG event-stream rules over a whole stream at once, as plainly as possible.

    ``events`` are the dispatched events; ``overflow`` says whether the data of some event
    (dispatched or not) grew past the cap at some point; ``longest_line`` is the longest
    line, which the decoder may refuse (chunking decides whether it sees it unterminated).
    """

    def __init__(self, stream: bytes, cap: int) -> None:
        if stream.startswith(BOM):
            stream = stream[len(BOM) :]
        *lines, tail = _LINE_END.split(stream)
        if tail:
            lines.append(tail)  # the final unterminated line is processed, never dispatched
        self.events: list[ServerSentEvent] = []
        self.overflow = False
        self.longest_line = max((len(line) for line in lines), default=0)
        data: list[bytes] = []
        event_type = ""
        event_id: str | None = None
        retry: int | None = None
        for line in lines:
            if not line:
                if data:
                    text = b"\n".join(data).decode("utf-8", "replace")
                    self.events.append(
                        ServerSentEvent(event_type or "message", text, event_id, retry)
                    )
                data, event_type, retry = [], "", None
                continue
            name, colon, value = line.partition(b":")
            if colon and value.startswith(b" "):
                value = value[1:]
            if name == b"data":
                data.append(value)
                if len(b"\n".join(data)) > cap:
                    self.overflow = True
            elif name == b"event":
                event_type = value.decode("utf-8", "replace")
            elif name == b"id" and b"\x00" not in value:
                event_id = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit() and len(value) <= 64:
                retry = int(value)


def feed_all(decoder: SSEDecoder, pieces: Sequence[bytes]) -> tuple[list[ServerSentEvent], bool]:
    """Feed every piece and flush; the events delivered and whether the size error came."""
    events: list[ServerSentEvent] = []
    error: APIResponseValidationError | None = None
    try:
        for piece in pieces:
            events += decoder.feed(piece)
        events += decoder.flush()
    except APIResponseValidationError as exc:
        error = exc
    if error is not None:
        assert f"max_event_size={decoder.max_event_size}" in str(error)
    return events, error is not None


def check_against_reference(stream: bytes, pieces: Sequence[bytes], cap: int) -> None:
    reference = Reference(stream, cap)
    decoder = SSEDecoder(max_event_size=cap)
    events, refused = feed_all(decoder, pieces)
    event(("refused" if refused else "decoded") + (" over" if reference.overflow else " within"))
    # Whatever came out before a refusal is what the stream really held, in order.
    assert events == reference.events[: len(events)]
    if reference.overflow:
        assert refused, "an event larger than max_event_size was accepted"
    elif reference.longest_line <= cap + len(b"data: "):
        # No event and no line past the cap: the decoder must not refuse anything.
        assert not refused
        assert events == reference.events
    for delivered in events:
        assert len(delivered.data.encode("utf-8", "surrogatepass")) <= 3 * cap


@fuzz_settings
@given(sse_bodies(), pieces_of, CAPS)
def test_sse_decoder_matches_the_reference_on_mutated_streams(
    body: bytes, points: list[int], cap: int
) -> None:
    """A mutated chat stream, cut anywhere, decodes to the reference's events or the size error."""
    check_against_reference(body, split(body, points), cap)


@fuzz_settings
@given(random_bytes, pieces_of, CAPS)
def test_sse_decoder_matches_the_reference_on_random_bytes(
    blob: bytes, points: list[int], cap: int
) -> None:
    """Random bytes, cut anywhere, decode to the reference's events or the size error."""
    check_against_reference(blob, split(blob, points), cap)


@fuzz_settings
@given(
    st.lists(
        st.sampled_from([b"data:", b"data: ", b"x" * 7, b"\r", b"\n", b"\r\n", b":", b"id: 1"]),
        max_size=60,
    ),
    CAPS,
)
def test_sse_decoder_byte_by_byte_matches_the_reference(pieces: list[bytes], cap: int) -> None:
    """Streams dense in line ends and data prefixes, fed one byte at a time, still agree."""
    stream = b"".join(pieces)
    check_against_reference(stream, [stream[i : i + 1] for i in range(len(stream))], cap)


@pytest.mark.parametrize("cap", [1, 7, 64])
@pytest.mark.parametrize("piece", [1, 3, 1000])
def test_sse_event_one_byte_over_the_cap_is_refused_however_it_arrives(
    cap: int, piece: int
) -> None:
    """Data of exactly the cap decodes; one byte more raises, whatever the read size."""
    for size, refused in ((cap, False), (cap + 1, True)):
        stream = b"data: " + b"x" * size + b"\n\n"
        pieces = [stream[i : i + piece] for i in range(0, len(stream), piece)]
        events, was_refused = feed_all(SSEDecoder(max_event_size=cap), pieces)
        assert was_refused is refused
        assert events == ([] if refused else [ServerSentEvent(data="x" * size)])


# --------------------------------------------------------------------------- parse_completion


def parse_or_error(raw: bytes) -> ChatCompletion | GrokError:
    """parse_completion's result, or the error it raised (anything else propagates)."""
    try:
        return parse_completion(raw, status=200, request_id=None)
    except GrokError as exc:
        return exc


def check_parse(raw: bytes) -> None:
    outcome = parse_or_error(raw)
    event(type(outcome).__name__)
    if isinstance(outcome, GrokError):
        assert isinstance(outcome, APIResponseValidationError)
        assert outcome.status_code == 200
        assert outcome.body is None or len(outcome.body) <= 2048
    else:
        assert isinstance(outcome, ChatCompletion)
        assert outcome.request_id == outcome.id  # no x-request-id: the response id
        outcome.to_dict()  # the raw form stays reachable
        repr(outcome)


@fuzz_settings
@given(mutated_documents(completion_body()))
def test_parse_completion_on_mutated_completions(raw: bytes) -> None:
    """A mutated completion body parses or raises APIResponseValidationError, nothing else."""
    check_parse(raw)


@fuzz_settings
@given(random_bytes)
def test_parse_completion_on_random_bytes(raw: bytes) -> None:
    """Random bytes parse or raise APIResponseValidationError, nothing else."""
    check_parse(raw)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(deep(1025), id="nested-past-orjson-limit"),
        pytest.param(replace_at(completion_body(), ("choices",), deep(1000)), id="deep-choices"),
        pytest.param(
            replace_at(completion_body(), ("choices", 0, "message", "content"), deep(1000)),
            id="deep-content",
        ),
        pytest.param(replace_at(completion_body(), ("created",), b"9" * 400), id="huge-int"),
        pytest.param(replace_at(completion_body(), ("created",), b"1e999"), id="infinite"),
        pytest.param(replace_at(completion_body(), ("usage",), b"[1]"), id="usage-list"),
        pytest.param(replace_at(completion_body(), ("choices", 0), b'"x"'), id="choice-str"),
        pytest.param(orjson.dumps(completion_body())[:-1], id="truncated"),
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>502 Bad Gateway</html>", id="html"),
    ],
)
def test_parse_completion_known_hostile_bodies(raw: bytes) -> None:
    """Hand-picked hostile bodies raise APIResponseValidationError."""
    with pytest.raises(APIResponseValidationError):
        parse_completion(raw, status=200, request_id="req-1")


# --------------------------------------------------------------------------- AsyncStream


class ScriptedBody:
    """Stands in for ``HTTPResponse``: hands out fixed pieces, records how it was let go."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.request_id: str | None = "req-fuzz"
        self.timings = None  # set by the client on real responses; none here
        self.started = 0.0
        self.call = None
        self.settle = None  # the client's pacing hook: no pacing here
        self._pieces = list(pieces)
        self.closed = False
        self.finished = False

    async def read_chunk(self) -> bytes:
        return self._pieces.pop(0) if self._pieces else b""

    def close(self) -> None:
        self.closed = True

    async def finish(self, grace: float = 1.0) -> None:
        self.finished = True


def run_to_end(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that must never suspend (nothing here does I/O): a suspension would
    be a hang in real life, so it fails the test instead of waiting."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    raise AssertionError("the stream suspended with no I/O to wait for")


async def consume(stream: AsyncStream[ChatCompletionChunk]) -> tuple[int, ChatCompletion]:
    delivered = 0
    async for _chunk in stream:
        delivered += 1
    return delivered, await stream.get_final_completion()


def check_stream(pieces: Sequence[bytes], cap: int) -> None:
    body = ScriptedBody(pieces)
    stream = AsyncStream(cast(HTTPResponse, body), ChatCompletionChunk, max_event_size=max(cap, 1))
    try:
        delivered, completion = run_to_end(consume(stream))
    except GrokError as exc:
        error: GrokError | None = exc
    else:
        error = None
    if error is not None:
        event(type(error).__name__)
        assert isinstance(error, (APIResponseValidationError, APIStatusError, APIConnectionError))
        assert body.closed, "an error left the connection open"
        assert not body.finished
        return
    event("completed")
    # Success means [DONE] was seen: the connection goes back to the pool, not closed.
    assert body.finished and not body.closed
    assert delivered <= len(b"".join(pieces)) // 8
    assert isinstance(completion, ChatCompletion)
    assert completion.request_id == "req-fuzz"


@fuzz_settings
@given(sse_bodies(), pieces_of, st.sampled_from([16, 64, 256, 1 << 20]))
def test_async_stream_on_mutated_streams(body: bytes, points: list[int], cap: int) -> None:
    """Mutated SSE chat streams yield chunks then end cleanly, or raise a GrokError with the
    connection closed."""
    check_stream(split(body, points), cap)


@fuzz_settings
@given(random_bytes, pieces_of)
def test_async_stream_on_random_bytes(blob: bytes, points: list[int]) -> None:
    """Random bytes as a stream body only ever raise a GrokError, with the connection closed."""
    check_stream(split(blob, points), 1 << 20)


@fuzz_settings
@given(odd_values(), st.booleans())
def test_async_stream_error_events_of_any_shape(value: bytes, nested: bool) -> None:
    """An ``{"error": ...}`` event of any shape raises a GrokError carrying the stream's
    request id, never anything else."""
    event = b'{"error":{"message":' + value + b"}}" if nested else b'{"error":' + value + b"}"
    body = ScriptedBody([b"data: " + event + b"\n\n", b"data: [DONE]\n\n"])
    stream = AsyncStream(cast(HTTPResponse, body), ChatCompletionChunk)
    with pytest.raises(GrokError) as excinfo:
        run_to_end(consume(stream))
    assert body.closed
    assert getattr(excinfo.value, "request_id", None) == "req-fuzz"


@pytest.mark.parametrize(
    "depth",
    [
        pytest.param(200, id="shallow"),
        pytest.param(300, id="deep"),
    ],
)
def test_async_stream_deeply_nested_error_event(depth: int) -> None:
    """A mid-stream error event nested past orjson's encoder limit (254) still raises an
    APIStatusError, not orjson's TypeError from re-encoding it."""
    body = ScriptedBody([b'data: {"error":' + deep(depth) + b"}\n\n"])
    stream = AsyncStream(cast(HTTPResponse, body), ChatCompletionChunk)
    with pytest.raises(APIStatusError):
        run_to_end(consume(stream))
    assert body.closed
