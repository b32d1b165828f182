"""The SSE decoder, rule by rule (WHATWG "Interpreting an event stream"), then by property."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grok_async._constants import DEFAULT_MAX_EVENT_SIZE
from grok_async._errors import APIResponseValidationError
from grok_async._sse import ServerSentEvent, SSEDecoder

E = ServerSentEvent
KIB = 1024
MIB = 1024 * KIB

# database=None: failing examples are not saved into the checkout (.hypothesis/examples).
hypothesis_settings = settings(
    database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def decode(*pieces: bytes, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> list[ServerSentEvent]:
    """Feed the pieces in order, then flush; return every event."""
    decoder = SSEDecoder(max_event_size)
    events: list[ServerSentEvent] = []
    for piece in pieces:
        events += decoder.feed(piece)
    events += decoder.flush()
    return events


def decode_or_error(
    *pieces: bytes, max_event_size: int
) -> list[ServerSentEvent] | APIResponseValidationError:
    """decode(), returning rather than raising the size error."""
    try:
        return decode(*pieces, max_event_size=max_event_size)
    except APIResponseValidationError as exc:
        return exc


def cut(stream: bytes, points: Iterable[int]) -> list[bytes]:
    """Split the stream at the given offsets."""
    bounds = [0, *sorted(points), len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


# --------------------------------------------------------------------------- line ends


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        pytest.param(b"data: a\n\n", [E(data="a")], id="lf"),
        pytest.param(b"data: a\r\n\r\n", [E(data="a")], id="crlf"),
        pytest.param(b"data: a\r\r", [E(data="a")], id="lone-cr"),
        pytest.param(b"data: a\rdata: b\r\ndata: c\n\r\n", [E(data="a\nb\nc")], id="mixed"),
        pytest.param(b"data: a\r\n\rdata: b\n\r", [E(data="a"), E(data="b")], id="mixed-blank"),
        pytest.param(b"data: a\r\r\n", [E(data="a")], id="cr-then-crlf-is-two-ends"),
        pytest.param(b"data: a\n\r\n\n", [E(data="a")], id="extra-blank-lines-dispatch-nothing"),
        pytest.param(
            b"data: \x0b\x0c\x1c\x1d\x1e\xc2\x85\xe2\x80\xa8\r\n\r\n",
            [E(data="\x0b\x0c\x1c\x1d\x1e\x85\u2028")],
            id="only-cr-and-lf-end-lines",
        ),
    ],
)
def test_line_ends(stream: bytes, expected: list[ServerSentEvent]) -> None:
    """LF, CRLF and a lone CR each end a line, in any mixture."""
    assert decode(stream) == expected


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        pytest.param([b"data: a\r", b"\ndata: b\n\n"], [E(data="a\nb")], id="crlf-split"),
        pytest.param([b"data: a\r", b"\n", b"\n"], [E(data="a")], id="crlf-split-lf-alone"),
        pytest.param([b"data: a\r", b"", b"\n\n"], [E(data="a")], id="crlf-split-empty-between"),
        pytest.param([b"data: a\r", b"\r"], [E(data="a")], id="cr-then-cr-is-two-ends"),
        pytest.param([b"data: a\r\n\r", b"\n"], [E(data="a")], id="blank-crlf-split"),
        pytest.param([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"], [E(data="a\nb")], id="chain"),
        pytest.param([b"data: a\n", b"\n"], [E(data="a")], id="lf-split"),
    ],
)
def test_line_ends_split_across_feeds(pieces: list[bytes], expected: list[ServerSentEvent]) -> None:
    """A CR ending one chunk and an LF starting the next are one CRLF, not two line ends."""
    assert decode(*pieces) == expected


def test_lone_cr_at_end_of_stream_is_a_line_end() -> None:
    """A CR as the last byte ends its line at once, without waiting for a possible LF."""
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 5\r") == []
    assert decoder.retry == 5
    assert decoder.feed(b"data: a\r\r") == [E(data="a", retry=5)]
    assert decoder.flush() == []


# --------------------------------------------------------------------------- UTF-8

UTF8_STREAM = "data: é€😀 ü\n\n".encode()


@pytest.mark.parametrize("point", range(1, len(UTF8_STREAM)))
def test_multibyte_character_split_across_feeds(point: int) -> None:
    """A UTF-8 character cut between two feeds still decodes as one character."""
    assert decode(*cut(UTF8_STREAM, [point])) == [E(data="é€😀 ü")]


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        pytest.param(b"data: \xff\n\n", [E(data="\ufffd")], id="invalid-byte"),
        pytest.param(b"data: a\xe2\x82\n\n", [E(data="a\ufffd")], id="truncated-at-line-end"),
        pytest.param(b"data: \xe2\x82\ndata: \xac\n\n", [E(data="\ufffd\n\ufffd")], id="no-join"),
        pytest.param(b"data: \xed\xa0\x80\n\n", [E(data="\ufffd" * 3)], id="surrogate"),
        pytest.param(b"event: \xc3\n", [], id="invalid-event-no-data"),
        pytest.param(b"event: \xc3\ndata: x\n\n", [E("\ufffd", "x")], id="invalid-event-name"),
        pytest.param(b"id: \xff\ndata: x\n\n", [E(data="x", id="\ufffd")], id="invalid-id"),
        pytest.param(b"\xff: x\ndata: y\n\n", [E(data="y")], id="invalid-field-name"),
    ],
)
def test_invalid_utf8_becomes_replacement_character(
    stream: bytes, expected: list[ServerSentEvent]
) -> None:
    """Invalid UTF-8 decodes to U+FFFD and never raises."""
    assert decode(stream) == expected


# --------------------------------------------------------------------------- BOM

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        pytest.param([BOM + b"data: a\n\n"], [E(data="a")], id="whole"),
        pytest.param([b"\xef", b"\xbb", b"\xbf", b"data: a\n\n"], [E(data="a")], id="byte-by-byte"),
        pytest.param([b"\xef\xbb", b"\xbfdata: a\n\n"], [E(data="a")], id="two-plus-one"),
        pytest.param([b"", b"\xef", b"", b"\xbb\xbfdata: a\n\n"], [E(data="a")], id="empty-reads"),
        pytest.param([BOM + BOM + b"data: a\n\n"], [], id="only-once"),
        pytest.param([BOM + b"data: a\n\n" + BOM + b"data: b\n\n"], [E(data="a")], id="not-later"),
        pytest.param([b"data: \xef\xbb\xbfa\n\n"], [E(data="\ufeffa")], id="kept-in-data"),
        pytest.param([b"data: ", BOM + b"a\n\n"], [E(data="\ufeffa")], id="not-at-later-read"),
        pytest.param([b"data: a\n\n", BOM, b"data: b\n\n"], [E(data="a")], id="not-as-later-read"),
        pytest.param([b"\xef\xbb", b"data: a\n\n"], [], id="partial-bom-is-content"),
        pytest.param([b"\xef\xbb"], [], id="partial-bom-then-eof"),
        pytest.param([b"data: a\n\n"], [E(data="a")], id="absent"),
    ],
)
def test_bom(pieces: list[bytes], expected: list[ServerSentEvent]) -> None:
    """A UTF-8 BOM is stripped once, only at the very start, even when split across reads."""
    assert decode(*pieces) == expected


# --------------------------------------------------------------------------- fields


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        pytest.param(b": keep-alive\n\n", [], id="comment-only"),
        pytest.param(b":\ndata: a\n: x\n\n", [E(data="a")], id="comments-ignored"),
        pytest.param(b"data:x\n\n", [E(data="x")], id="no-space"),
        pytest.param(b"data: x\n\n", [E(data="x")], id="one-space-removed"),
        pytest.param(b"data:  x\n\n", [E(data=" x")], id="only-one-space-removed"),
        pytest.param(b"data:\tx\n\n", [E(data="\tx")], id="tab-kept"),
        pytest.param(b"data: a:b: c\n\n", [E(data="a:b: c")], id="later-colons-kept"),
        pytest.param(b"data\n\n", [E(data="")], id="no-colon-empty-value"),
        pytest.param(b"data:\n\n", [E(data="")], id="empty-value"),
        pytest.param(b"data\ndata\n\n", [E(data="\n")], id="two-empty-lines"),
        pytest.param(b"data: \n\n", [E(data="")], id="just-the-space"),
        pytest.param(b"Data: x\n\n", [], id="names-case-sensitive"),
        pytest.param(b"data : x\n\n", [], id="space-before-colon-other-name"),
        pytest.param(b"foo: bar\ndata: x\nbaz\n\n", [E(data="x")], id="unknown-ignored"),
        pytest.param(b"event: delta\ndata: x\n\n", [E("delta", "x")], id="event"),
        pytest.param(b"event:\ndata: x\n\n", [E("message", "x")], id="empty-event-is-message"),
        pytest.param(b"event\ndata: x\n\n", [E("message", "x")], id="event-no-colon"),
        pytest.param(b"event: a\nevent: b\ndata: x\n\n", [E("b", "x")], id="last-event-wins"),
        pytest.param(b"id: 7\ndata: x\n\n", [E(data="x", id="7")], id="id"),
        pytest.param(b"id: 7\nid: 8\ndata: x\n\n", [E(data="x", id="8")], id="last-id-wins"),
        pytest.param(b"id: 7\nid: 8\x00\ndata: x\n\n", [E(data="x", id="7")], id="id-nul-ignored"),
        pytest.param(b"id: \x00\ndata: x\n\n", [E(data="x")], id="id-nul-never-set"),
        pytest.param(b"id: 7\nid\ndata: x\n\n", [E(data="x", id="")], id="id-no-colon-resets"),
        pytest.param(b"retry: 1500\ndata: x\n\n", [E(data="x", retry=1500)], id="retry"),
        pytest.param(b"retry:0\ndata: x\n\n", [E(data="x", retry=0)], id="retry-zero"),
        pytest.param(b"retry: 1.5\ndata: x\n\n", [E(data="x")], id="retry-float-ignored"),
        pytest.param(b"retry: -1\ndata: x\n\n", [E(data="x")], id="retry-negative-ignored"),
        pytest.param(b"retry: 1a\ndata: x\n\n", [E(data="x")], id="retry-letters-ignored"),
        pytest.param(b"retry:\ndata: x\n\n", [E(data="x")], id="retry-empty-ignored"),
        pytest.param(b"retry:  5\ndata: x\n\n", [E(data="x")], id="retry-two-spaces-ignored"),
        pytest.param("retry: ١٢\ndata: x\n\n".encode(), [E(data="x")], id="retry-non-ascii-digits"),
        pytest.param(b"retry: " + b"9" * 65 + b"\ndata: x\n\n", [E(data="x")], id="retry-absurd"),
        pytest.param(
            b"retry: 5\nretry: x\ndata: x\n\n", [E(data="x", retry=5)], id="bad-retry-keeps"
        ),
    ],
)
def test_fields(stream: bytes, expected: list[ServerSentEvent]) -> None:
    """Comments, the four known fields, unknown fields and the one-leading-space rule."""
    assert decode(stream) == expected


# --------------------------------------------------------------------------- dispatch


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        pytest.param(b"data: a\ndata: b\ndata: c\n\n", [E(data="a\nb\nc")], id="multi-line-data"),
        pytest.param(b"data: a\n\ndata: b\n\n", [E(data="a"), E(data="b")], id="blank-dispatches"),
        pytest.param(b"event: x\nid: 1\nretry: 9\n\n", [], id="no-data-no-event"),
        pytest.param(
            b"event: x\n\ndata: y\n\n", [E(data="y", id=None)], id="type-reset-undispatched"
        ),
        pytest.param(
            b"event: x\ndata: a\n\ndata: b\n\n", [E("x", "a"), E("message", "b")], id="type-reset"
        ),
        pytest.param(
            b"id: 1\ndata: a\n\ndata: b\n\n",
            [E(data="a", id="1"), E(data="b", id="1")],
            id="id-kept",
        ),
        pytest.param(b"id: 1\n\ndata: b\n\n", [E(data="b", id="1")], id="id-from-empty-block"),
        pytest.param(
            b"retry: 9\ndata: a\n\ndata: b\n\n",
            [E(data="a", retry=9), E(data="b")],
            id="retry-once",
        ),
        pytest.param(b"retry: 9\n\ndata: b\n\n", [E(data="b")], id="retry-not-carried"),
        pytest.param(b"data: [DONE]\n\n", [E(data="[DONE]")], id="done-is-ordinary"),
        pytest.param(
            b"data: [DONE]\n\ndata: more\n\n", [E(data="[DONE]"), E(data="more")], id="after-done"
        ),
        pytest.param(b"data: a\n", [], id="unterminated-event-dropped"),
        pytest.param(b"data: a", [], id="unterminated-line-dropped"),
    ],
)
def test_dispatch(stream: bytes, expected: list[ServerSentEvent]) -> None:
    """A blank line dispatches an event with data; type resets, the last event id persists."""
    assert decode(stream) == expected


def test_feed_returns_events_as_soon_as_they_complete() -> None:
    """Each feed() returns exactly the events whose blank line it contained."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\ndata: b\n\ndata: c\n\nda") == [E(data="a"), E(data="b"), E(data="c")]
    assert decoder.feed(b"ta: d\n") == []
    assert decoder.feed(b"\n") == [E(data="d")]


def test_flush_processes_final_line_but_drops_incomplete_event() -> None:
    """flush() applies a last unterminated retry: line, dispatches nothing and resets."""
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 1\ndata: a\n\nid: 2\nevent: x\ndata: b\nretry: 300") == [
        E(data="a", id="1")
    ]
    # Read into a local: mypy would otherwise keep decoder.retry narrowed to None.
    retry_before_flush: int | None = decoder.retry
    assert retry_before_flush is None
    assert decoder.flush() == []
    assert decoder.retry == 300
    # The decoder is ready for a new stream: BOM detection is back, the dropped block's
    # id, type and data are gone, the committed last event id carries over.
    assert decoder.last_event_id == "1"
    assert decoder.feed(BOM + b"data: c\n\n") == [E(data="c", id="1")]


def test_last_event_id_is_committed_at_blank_lines() -> None:
    """last_event_id changes at a blank line (dispatching or not), not at the id: line."""
    decoder = SSEDecoder()
    # Snapshots in a list: mypy would keep decoder.last_event_id narrowed between asserts.
    seen: list[str | None] = [decoder.last_event_id]
    decoder.feed(b"id: 1\n")
    seen.append(decoder.last_event_id)
    decoder.feed(b"\n")
    seen.append(decoder.last_event_id)
    decoder.feed(b"id: 2\ndata: x\n\n")
    seen.append(decoder.last_event_id)
    assert seen == [None, None, "1", "2"]


def test_event_is_a_small_repr_able_value() -> None:
    """ServerSentEvent has slots, a readable repr and value equality."""
    event = ServerSentEvent("delta", "x", "7", 100)
    assert repr(event) == "ServerSentEvent(event='delta', data='x', id='7', retry=100)"
    assert event == E(event="delta", data="x", id="7", retry=100)
    assert not hasattr(event, "__dict__")
    assert E() == E("message", "", None, None)


# --------------------------------------------------------------------------- size cap


@pytest.mark.parametrize(
    ("pieces", "limit"),
    [
        pytest.param([b"data: " + b"x" * 101 + b"\n"], 100, id="one-line"),
        pytest.param([b"data: " + b"x" * 50 + b"\n"] * 3, 100, id="many-lines"),
        pytest.param([b"data: " + b"x" * 60 + b"\n"] * 2, 120, id="joins-count"),
        pytest.param([b"data: " + b"x" * 100 + b"\n", b"data:\n"], 100, id="empty-line-counts"),
        pytest.param([("data: " + "é" * 51 + "\n").encode()], 100, id="counts-bytes-not-chars"),
        pytest.param([b"data: " + b"x" * 10] * 11, 100, id="unterminated-line"),
        pytest.param([b": " + b"x" * 200], 100, id="unterminated-comment"),
        pytest.param([b"data: " + b"x" * 90, b"x" * 20, b"\n"], 100, id="line-in-pieces"),
        pytest.param([b"data: " + b"x" * 95 + b"\n\ndata: ", b"x" * 101], 100, id="second-event"),
    ],
)
def test_oversized_event_raises(pieces: list[bytes], limit: int) -> None:
    """Event data or an unterminated line past max_event_size raises, naming the limit."""
    with pytest.raises(APIResponseValidationError, match=rf"max_event_size={limit}\b"):
        decode(*pieces, max_event_size=limit)


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        pytest.param([b"data: " + b"x" * 100 + b"\n\n"], "x" * 100, id="one-line"),
        pytest.param(
            [b"data: " + b"x" * 49 + b"\n"] * 2 + [b"\n"], "x" * 49 + "\n" + "x" * 49, id="two"
        ),
        pytest.param([b"data: " + b"x" * 50, b"x" * 50, b"\n\n"], "x" * 100, id="in-pieces"),
        pytest.param([b"data:" + b"x" * 100 + b"\n\n"], "x" * 100, id="no-space"),
    ],
)
def test_event_at_exactly_the_limit_is_accepted(pieces: list[bytes], expected: str) -> None:
    """Data of exactly max_event_size bytes is still decoded."""
    assert decode(*pieces, max_event_size=100) == [E(data=expected)]


def test_many_events_each_under_the_limit_are_fine() -> None:
    """The cap is per event: the size count restarts after every dispatch."""
    stream = (b"data: " + b"x" * 90 + b"\n\n") * 50
    assert decode(stream, max_event_size=100) == [E(data="x" * 90)] * 50


def test_default_limit_message_and_poisoning() -> None:
    """The default 16 MiB cap is named in the message; afterwards the decoder keeps failing."""
    decoder = SSEDecoder()
    piece = b"x" * MIB
    for _ in range(16):
        decoder.feed(piece)
    with pytest.raises(APIResponseValidationError) as excinfo:
        decoder.feed(b"x" * 7)
    message = str(excinfo.value)
    assert "16 MiB" in message
    assert f"max_event_size={16 * MIB}" in message
    assert excinfo.value.body is not None
    assert excinfo.value.body.startswith("xxx")
    with pytest.raises(APIResponseValidationError, match="16 MiB"):
        decoder.feed(b"\n\n")
    with pytest.raises(APIResponseValidationError, match="16 MiB"):
        decoder.flush()


@pytest.mark.parametrize("size", [0, -1])
def test_nonpositive_limit_is_rejected(size: int) -> None:
    """max_event_size must be at least one byte."""
    with pytest.raises(ValueError, match="max_event_size"):
        SSEDecoder(size)


# --------------------------------------------------------------------------- big events


@pytest.mark.parametrize(
    "line_size",
    [pytest.param(MIB, id="one-line"), pytest.param(100, id="100-byte-lines")],
)
def test_one_mib_event_in_one_kib_pieces(line_size: int) -> None:
    """A 1 MiB event read 1 KiB at a time decodes to exactly the data that was sent."""
    payload = bytes(range(32, 127)) * (MIB // 95 + 1)
    lines = [payload[i : i + line_size] for i in range(0, MIB, line_size)]
    stream = b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"
    pieces = [stream[i : i + KIB] for i in range(0, len(stream), KIB)]
    assert decode(*pieces) == [E(data="\n".join(line.decode() for line in lines))]


def test_huge_line_in_small_pieces_takes_linear_time() -> None:
    """An 8 MiB line in 256-byte reads is not rescanned or recopied per read (no O(n^2))."""
    pieces = [b"data: "] + [b"x" * 256] * (8 * MIB // 256) + [b"\n\n"]
    start = time.perf_counter()
    events = decode(*pieces)
    elapsed = time.perf_counter() - start
    assert [len(event.data) for event in events] == [8 * MIB]
    # Linear is ~0.05 s here; quadratic copying (128 GiB) would take minutes.
    assert elapsed < 3.0


# --------------------------------------------------------------------------- properties

text_chars = st.characters(codec="utf-8", exclude_characters="\r\n") | st.sampled_from(
    ["é", "€", "😀", "\ufeff", ":", " ", "\x00", "\ufffd"]
)
texts = st.text(text_chars, max_size=12)
# (field, value) of a non-blank line; "comment" is written as ":" + value.
fields = st.one_of(
    st.tuples(st.just("data"), texts),
    st.tuples(st.just("data"), texts),
    st.tuples(st.just("event"), texts),
    st.tuples(st.just("id"), texts.filter(lambda s: "\x00" not in s)),
    st.tuples(st.just("retry"), st.integers(0, 10**12).map(str)),
    st.tuples(st.just("comment"), texts),
)
blocks = st.lists(fields, max_size=5)
line_ends = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[ServerSentEvent]]:
    """A valid stream and the events the standard says it holds."""
    lines: list[str] = []
    expected: list[ServerSentEvent] = []
    event_id: str | None = None
    for block in draw(st.lists(blocks, max_size=6)):
        data: list[str] = []
        event_type = ""
        retry: int | None = None
        for field, value in block:
            lines.append(":" + value if field == "comment" else f"{field}: {value}")
            if field == "data":
                data.append(value)
            elif field == "event":
                event_type = value
            elif field == "id":
                event_id = value
            elif field == "retry":
                retry = int(value)
        lines.append("")
        if data:
            expected.append(E(event_type or "message", "\n".join(data), event_id, retry))
    # An unfinished last block, which is never dispatched, possibly without a final line end.
    lines += [":" + v if f == "comment" else f"{f}: {v}" for f, v in draw(blocks)]
    out: list[str] = []
    previous_end = ""
    for index, line in enumerate(lines):
        end = draw(line_ends)
        if previous_end == "\r" and line == "" and end == "\n":
            end = "\r\n"  # CR + (empty line, LF) would read as one CRLF
        if index == len(lines) - 1 and line and draw(st.booleans()):
            end = ""
        out += [line, end]
        previous_end = end
    stream = "".join(out).encode()
    if draw(st.booleans()):
        stream = BOM + stream
    return stream, expected


@hypothesis_settings
@given(st.data())
def test_any_split_gives_the_same_events(data: st.DataObject) -> None:
    """Cutting a valid stream anywhere, any number of times, changes nothing."""
    stream, expected = data.draw(streams())
    points = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    assert decode(stream) == expected
    assert decode(*cut(stream, points)) == expected


@hypothesis_settings
@given(streams())
def test_byte_by_byte_gives_the_same_events(case: tuple[bytes, list[ServerSentEvent]]) -> None:
    """Feeding a valid stream one byte at a time gives the events of feeding it whole."""
    stream, expected = case
    assert decode(*(stream[i : i + 1] for i in range(len(stream)))) == expected


@hypothesis_settings
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=10))
def test_arbitrary_bytes_split_anywhere_decode_alike(blob: bytes, points: Sequence[int]) -> None:
    """Even garbage decodes without error, and the same whether whole or in pieces."""
    points = [p for p in points if p <= len(blob)]
    assert decode(*cut(blob, points)) == decode(blob)


garbage = st.lists(
    st.binary(max_size=40)
    | st.sampled_from([b"\r", b"\n", b"\r\n", b"data: ", b"data:", b":", b"\xef\xbb\xbf"]),
    max_size=30,
)


@hypothesis_settings
@given(garbage, st.integers(1, 64))
def test_fuzz_only_raises_the_size_error(pieces: list[bytes], limit: int) -> None:
    """Arbitrary bytes under a tiny cap raise nothing but APIResponseValidationError."""
    outcome = decode_or_error(*pieces, max_event_size=limit)
    if isinstance(outcome, APIResponseValidationError):
        assert f"max_event_size={limit}" in str(outcome)
    else:
        for event in outcome:
            assert len(event.data) <= limit  # one character at most per byte received
