"""An incremental decoder for ``text/event-stream`` bodies: bytes in, events out, no I/O.

The parsing rules are those of the WHATWG HTML standard, section "Interpreting an event
stream", applied to a byte stream that arrives in arbitrary pieces:

* Lines end with LF, CRLF or a lone CR.  A CR that ends one chunk and an LF that starts the
  next are one CRLF, not two line ends; a CR at the very end of the stream is a line end.
* The stream is UTF-8.  A leading byte order mark (even one split across chunks) is removed
  once, at the very start only; later U+FEFF characters are content.  Invalid UTF-8 becomes
  U+FFFD, it never raises.
* A line starting with ``:`` is a comment.  Otherwise the field name is what precedes the
  first ``:`` and the value what follows it, minus exactly one leading space; a line without
  a colon is a field whose name is the whole line and whose value is empty.  ``event``,
  ``data``, ``id`` and ``retry`` are understood, any other name is ignored.
* ``data`` values accumulate, joined with ``"\\n"``; a blank line dispatches the event.  A
  block with no ``data`` line at all dispatches nothing.  The event type (``"message"`` when
  no ``event`` field was given, or it was empty) resets after every blank line, the last
  event id persists from event to event until another ``id`` field changes it.  An ``id``
  containing NUL is ignored; ``id:`` with an empty value resets the id to ``""``.
* ``retry`` is honoured only when its value is all ASCII digits (and at most
  ``_MAX_RETRY_DIGITS`` of them, see there).  It is reported on the event it came with and
  as :attr:`SSEDecoder.retry`, which, as in the standard, takes effect at once and persists.
* ``data: [DONE]`` is an ordinary event; ending the stream on it is the streaming layer's job.

Choices the standard leaves to the implementation, or that this API adds:

* End of stream.  The standard discards an event that is not followed by a blank line, so
  :meth:`SSEDecoder.flush` processes a final unterminated line (a ``retry:`` there still
  takes effect) but never dispatches the incomplete event: it returns an empty list.  It
  then resets the decoder for a new stream (a reconnection); ``last_event_id`` and ``retry``
  carry over, as they do on a browser's ``EventSource``.
* Size cap.  When the data of one event grows past ``max_event_size`` bytes (counted as
  received, UTF-8, the ``"\\n"`` joins included), or an unterminated line grows past
  ``max_event_size`` plus the length of a ``"data: "`` prefix,
  :class:`~grok_async._errors.APIResponseValidationError` is raised, so a broken or hostile
  server can neither hang a reader nor exhaust its memory.
  Events completed earlier in the chunk that overflowed are still returned by that
  ``feed()``; the decoder is then poisoned: every later ``feed()``/``flush()`` raises.

Performance notes (a chat-completion stream is hundreds of thousands of tiny events):
lines are found by one ``bytes.split(b"\\n")`` over the whole chunk (``bytes.splitlines()``,
which knows exactly LF, CRLF and CR, when the chunk holds a CR), ``data: `` lines skip the
general field parsing, :meth:`SSEDecoder.feed_raw` hands each event out as a plain tuple
with its data still bytes (orjson parses UTF-8 bytes directly: no decode, no object per
event; :meth:`SSEDecoder.feed` makes :class:`ServerSentEvent` objects of them), and a line
that spans many chunks is kept as a list of pieces, each searched once and joined once, so a
huge event arriving in small reads costs linear, not quadratic, time.  Working on bytes and
decoding whole lines is also what makes a UTF-8 character split between chunks harmless: LF
and CR never occur inside a multi-byte sequence.
"""

from __future__ import annotations

from typing import NoReturn

from attrs import define

from grok_async._constants import DEFAULT_MAX_EVENT_SIZE
from grok_async._errors import APIResponseValidationError

__all__ = ["RawEvent", "SSEDecoder", "ServerSentEvent"]

#: An event as :meth:`SSEDecoder.feed_raw` gives it: ``(type, data, id, retry)``, the type
#: ``""`` when no ``event`` field was given, the data undecoded UTF-8 (maybe invalid).
RawEvent = tuple[str, bytes, "str | None", "int | None"]

_BOM = b"\xef\xbb\xbf"
_DATA_PREFIX = b"data: "
_DATA_PREFIX_LEN = len(_DATA_PREFIX)
# The standard accepts any run of digits, but int() refuses more than 4300 of them (a
# ValueError) and no real reconnection delay needs more than a handful; longer values are
# ignored like any other malformed retry field.
_MAX_RETRY_DIGITS = 64
# How much of an oversized event is kept on the exception, for diagnosis.
_ERROR_PREVIEW = 256


@define(slots=True)
class ServerSentEvent:
    """One dispatched server-sent event."""

    event: str = "message"
    """The ``event:`` field, or ``"message"`` when there was none."""
    data: str = ""
    """The ``data:`` lines joined with ``"\\n"``."""
    id: str | None = None
    """The last event id in effect when the event was dispatched; ``None`` if never set."""
    retry: int | None = None
    """The ``retry:`` value given within this event, else ``None``."""


def _format_size(size: int) -> str:
    mib, rest = divmod(size, 1024 * 1024)
    return f"{mib} MiB" if mib and not rest else f"{size} bytes"


class SSEDecoder:
    """Turns the bytes of one ``text/event-stream`` body into :class:`ServerSentEvent` objects.

    Feed it every chunk in order with :meth:`feed`, then call :meth:`flush` at end of stream.
    Not thread-safe; one decoder per stream.
    """

    __slots__ = (
        "_at_start",
        "_data",
        "_data_limit",
        "_data_size",
        "_error",
        "_event",
        "_event_retry",
        "_id",
        "_last_event_id",
        "_line_limit",
        "_max_event_size",
        "_pending",
        "_pending_size",
        "_retry",
        "_skip_lf",
    )

    def __init__(self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size < 1:
            raise ValueError(f"max_event_size must be at least 1, got {max_event_size}")
        self._max_event_size = max_event_size
        # _data_size counts a "\n" after every data line, one more than the joined data.
        self._data_limit = max_event_size + 1
        # An unterminated line may still become "data: " + a value of exactly the limit.
        self._line_limit = max_event_size + _DATA_PREFIX_LEN
        self._error: APIResponseValidationError | None = None
        # Stream-level state, kept across flush(): the committed last event id (updated at
        # every blank line, as EventSource.lastEventId is) and the reconnection time.
        self._last_event_id: str | None = None
        self._retry: int | None = None
        # The last event id buffer, which events carry.
        self._id: str | None = None
        self._reset_stream()

    def _reset_stream(self) -> None:
        # True until the first three bytes have been checked for a BOM.
        self._at_start = True
        # True after a chunk that ended in CR: an LF starting the next chunk is its partner.
        self._skip_lf = False
        # The unterminated last line, as the pieces it arrived in (joined once, when it ends).
        self._pending: list[bytes] = []
        self._pending_size = 0
        # The event being built: data lines (without their "\n"), type, retry.
        self._data: list[bytes] = []
        self._data_size = 0
        self._event = ""
        self._event_retry: int | None = None

    @property
    def max_event_size(self) -> int:
        """The largest event data, in bytes, this decoder accepts."""
        return self._max_event_size

    @property
    def last_event_id(self) -> str | None:
        """The last event id as of the most recent blank line (for a ``Last-Event-ID`` header)."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The most recent valid ``retry:`` value in milliseconds, ``None`` if none was seen."""
        return self._retry

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume the next piece of the stream; return the events it completed, in order."""
        return [
            ServerSentEvent(kind or "message", data.decode("utf-8", "replace"), event_id, retry)
            for kind, data, event_id, retry in self.feed_raw(chunk)
        ]

    def feed_raw(self, chunk: bytes) -> list[RawEvent]:
        """Like :meth:`feed`, but each event a :data:`RawEvent` tuple (the streams' path)."""
        if self._error is not None:
            self._fail(b"")
        if not chunk:
            return []
        if self._at_start:
            chunk = self._strip_bom(chunk)
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
        if not chunk:
            return []
        if b"\r" not in chunk:
            # The common case, LF only: one split of the whole chunk finds every line end.
            lines = chunk.split(b"\n")
            tail = lines.pop()  # after the last line end: unterminated, maybe empty
        else:
            # bytes.splitlines() breaks at exactly LF, CRLF and CR (unlike str.splitlines()),
            # in one pass, but drops the trailing empty piece when the chunk ends a line.
            lines = chunk.splitlines()
            last = chunk[-1]
            if last == 0x0D:
                # The CR already ends its line; an LF starting the next chunk is its partner.
                self._skip_lf = True
                tail = b""
            elif last == 0x0A:
                tail = b""
            else:
                tail = lines.pop()
        pending = self._pending
        if not lines:
            # No line end: the pending line grows.  Only this chunk was searched, and the
            # pieces are joined once when the line ends, so a huge line costs linear time.
            pending.append(tail)
            self._pending_size += len(tail)
            if self._pending_size > self._line_limit:
                self._fail(b"".join(pending))
            return []
        if pending:
            pending.append(lines[0])
            lines[0] = b"".join(pending)
            pending.clear()
        events = self._process(lines)
        if tail:
            pending.append(tail)
            self._pending_size = len(tail)
            if self._pending_size > self._line_limit:
                self._poison(tail)
        else:
            self._pending_size = 0
        if not events and self.error is not None:
            self._fail(b"")
        return events

    def flush(self) -> list[ServerSentEvent]:
        """Signal end of stream; always returns ``[]``, because an event not followed by a
        blank line is discarded, per the standard.

        A final unterminated line is still processed (so a last ``retry:`` takes effect), the
        incomplete event is dropped, and the decoder is reset for a new stream, keeping
        :attr:`last_event_id` and :attr:`retry`.
        """
        if self._error is not None:
            self._fail(b"")
        if self._pending:
            self._process([b"".join(self._pending)])
            if self.error is not None:
                self._fail(b"")
        self._id = self._last_event_id
        self._reset_stream()
        return []

    def _strip_bom(self, chunk: bytes) -> bytes:
        # While undecided, _pending holds at most two bytes, a proper prefix of the BOM.
        head = b"".join(self._pending) + chunk if self._pending else chunk
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._pending = [head]
            self._pending_size = len(head)
            return b""
        self._at_start = False
        self._pending = []
        self._pending_size = 0
        return head[len(_BOM) :] if head.startswith(_BOM) else head

    def _process(self, lines: list[bytes]) -> list[RawEvent]:
        # The hot loop.  State lives in locals for its duration; if it raises, nothing is
        # written back, which is fine because the decoder is poisoned then anyway.
        events: list[RawEvent] = []
        data = self._data
        data_size = self._data_size
        data_limit = self._data_limit
        event_type = self._event
        event_id = self._id
        event_retry = self._event_retry
        last_event_id = self._last_event_id
        for line in lines:
            if line[:_DATA_PREFIX_LEN] == _DATA_PREFIX:
                # The common case, "data: <json>", without the general parsing below.
                value = line[_DATA_PREFIX_LEN:]
            elif not line:
                # A blank line: dispatch.  The id is committed even when nothing is dispatched.
                last_event_id = event_id
                if data:
                    # One data line is the common case: no join needed.
                    value = data[0] if len(data) == 1 else b"\n".join(data)
                    events.append((event_type, value, event_id, event_retry))
                    data.clear()
                    data_size = 0
                event_type = ""
                event_retry = None
                continue
            else:
                name, _, value = line.partition(b":")
                if value[:1] == b" ":
                    value = value[1:]
                if name != b"data":
                    if not name:  # the line started with ":", a comment
                        pass
                    elif name == b"event":
                        event_type = value.decode("utf-8", "replace")
                    elif name == b"id" and b"\x00" not in value:
                        event_id = value.decode("utf-8", "replace")
                    # bytes.isdigit() is ASCII-only, and False for b"".
                    elif name == b"retry" and value.isdigit() and len(value) <= _MAX_RETRY_DIGITS:
                        event_retry = self._retry = int(value)
                    continue
            data.append(value)
            data_size += len(value) + 1
            if data_size > data_limit:
                # The events completed before the oversized one are still returned; the
                # decoder is poisoned, so the next feed() raises.
                self._poison(b"\n".join(data))
                return events
        self._data_size = data_size
        self._event = event_type
        self._id = event_id
        self._event_retry = event_retry
        self._last_event_id = last_event_id
        return events

    @property
    def error(self) -> APIResponseValidationError | None:
        """Why the decoder refuses more input (an oversized event), or None."""
        return self._error

    def _poison(self, preview: bytes) -> None:
        if self._error is None:
            limit = self._max_event_size
            self._error = APIResponseValidationError(
                f"SSE event exceeds the {_format_size(limit)} limit (max_event_size={limit}); "
                "the stream is malformed or the limit is too small",
                body=preview[:_ERROR_PREVIEW].decode("utf-8", "replace"),
            )

    def _fail(self, preview: bytes) -> NoReturn:
        self._poison(preview)
        assert self._error is not None
        # A fresh exception every time: re-raising one instance would grow its traceback.
        raise APIResponseValidationError(self._error.message, body=self._error.body)
