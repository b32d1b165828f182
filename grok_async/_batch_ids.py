"""The ``custom_id``\\ s of a batch input, for the two checks that need all of them at once:
duplicates in the input, and which input lines OUTPUT answers already (to resume).

Up to :data:`SPILL_AT` ids are kept in memory, in a dict from each id to its first line.
Past that, every id goes to temporary bucket files on disk, chosen by the high bits of its
digest, with its line number; each check then reads one bucket at a time, so memory is
bounded by a bucket however long the input is. A bucket holds the ids themselves, not
digests: both checks compare real ids, and two ids that share a digest land in the same
bucket and are still told apart. What the resume check leaves is :class:`AnsweredLines`,
one bit per input line.
"""

from __future__ import annotations

import hashlib
import heapq
import struct
import tempfile
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

__all__ = ["SPILL_AT", "AnsweredLines", "IdIndex", "SortedDigests", "Stopped", "id_digest"]

#: Ids held in memory before they go to bucket files (a module constant tests lower).
SPILL_AT = 100_000
# Bytes of records gathered before they are appended to their bucket files.
_BUFFER = 4 << 20
# Bucket counts: enough for about SPILL_AT / 2 ids a bucket, within these bounds.
_MIN_BUCKETS, _MAX_BUCKETS = 16, 4096
# A bucket record: the line number, the id's length in bytes, then the id (UTF-8).
_RECORD = struct.Struct("<QI")
_CHUNK = 1 << 20


def id_digest(custom_id: str) -> int:
    """A 64-bit digest of a ``custom_id``: its bucket, and what :class:`SortedDigests` keeps."""
    return int.from_bytes(hashlib.blake2b(custom_id.encode(), digest_size=8).digest(), "big")


class Stopped(Exception):
    """:meth:`IdIndex.stop` was called: the work in its thread gives up."""


class AnsweredLines:
    """The input lines whose ``custom_id`` OUTPUT answers: one bit per line."""

    def __init__(self, last_line: int) -> None:
        self._bits = bytearray(last_line // 8 + 1)
        #: How many lines are answered.
        self.count = 0

    def add(self, line: int) -> None:
        byte, mask = line >> 3, 1 << (line & 7)
        if not self._bits[byte] & mask:
            self._bits[byte] |= mask
            self.count += 1

    def __contains__(self, line: object) -> bool:
        if not isinstance(line, int) or not 0 <= line < len(self._bits) * 8:
            return False
        return bool(self._bits[line >> 3] & (1 << (line & 7)))


class _Buckets:
    """Records ``(line, id)`` appended to ``count`` bucket files by their id's digest."""

    def __init__(self, directory: Path, name: str, count: int) -> None:
        self._paths = [directory / f"{name}-{n:04x}" for n in range(count)]
        self._shift = 64 - (count.bit_length() - 1)
        self._pending = [bytearray() for _ in range(count)]
        self._size = 0

    def add(self, custom_id: bytes, digest: int, line: int) -> None:
        record = _RECORD.pack(line, len(custom_id)) + custom_id
        self._pending[digest >> self._shift] += record
        self._size += len(record)
        if self._size >= _BUFFER:
            self.flush()

    def flush(self) -> None:
        # Opened to append and closed again: thousands of buckets need no open files.
        for path, pending in zip(self._paths, self._pending, strict=True):
            if pending:
                with path.open("ab") as f:
                    f.write(pending)
                pending.clear()
        self._size = 0

    def __len__(self) -> int:
        return len(self._paths)

    def records(self, bucket: int) -> Iterator[tuple[int, bytes]]:
        """The ``(line, id)`` records of one bucket, in the order they were added."""
        path = self._paths[bucket]
        if not path.exists():
            return
        head = _RECORD.size
        with path.open("rb") as f:
            data = b""
            while chunk := f.read(_CHUNK):
                data += chunk
                at = 0
                while at + head <= len(data):
                    line, size = _RECORD.unpack_from(data, at)
                    if at + head + size > len(data):
                        break
                    yield line, data[at + head : at + head + size]
                    at += head + size
                data = data[at:]

    def remove(self, bucket: int) -> None:
        self._paths[bucket].unlink(missing_ok=True)


class IdIndex:
    """The ids of an input file: :meth:`add` each with its line, then :meth:`duplicates`;
    then :meth:`add_answered` each id OUTPUT answers, then :meth:`answered_lines`.

    A context manager: leaving it removes the bucket files (made only past
    :data:`SPILL_AT` ids, in a temporary directory in ``directory``, or the system's
    default without one), whether it ends well or not. The checks run in a thread (they
    read whole files); :meth:`stop` from another makes them raise :class:`Stopped` soon.

    Args:
        directory: where the bucket files go (e.g. next to OUTPUT, on the disk that takes
            the answers, rather than a ``/tmp`` that may live in memory).
        prefix: the start of the temporary directory's name.
    """

    def __init__(
        self, directory: str | Path | None = None, *, prefix: str = "grok-async-ids."
    ) -> None:
        self._directory = directory
        self._prefix = prefix
        #: How many ids the input holds, roughly, asked once at the spill: it sets the
        #: number of buckets (without it, 4 times :data:`SPILL_AT` are assumed).
        self.expected: Callable[[], int] | None = None
        self._first: dict[str, int] | None = {}
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self._input: _Buckets | None = None
        self._output: _Buckets | None = None
        self._answered: AnsweredLines | None = None
        self._last_line = 0
        self._stopped = False

    def stop(self) -> None:
        """Make the next :meth:`add`, :meth:`add_answered` or bucket read raise
        :class:`Stopped` (a Ctrl-C need not wait for a long file to be read)."""
        self._stopped = True

    def __enter__(self) -> IdIndex:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the bucket files, if any."""
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    @property
    def spilled(self) -> bool:
        """Whether the ids went to bucket files."""
        return self._input is not None

    def add(self, custom_id: str, line: int) -> int | None:
        """Note the input's ``custom_id`` on ``line``; the line it was first on when that
        is known now to be an earlier one (otherwise :meth:`duplicates` tells)."""
        if self._stopped:
            raise Stopped
        self._last_line = max(self._last_line, line)
        first = self._first
        if first is None:
            assert self._input is not None
            self._input.add(custom_id.encode(), id_digest(custom_id), line)
            return None
        known = first.get(custom_id)
        if known is not None:
            return known
        first[custom_id] = line
        if len(first) > SPILL_AT:
            self._spill(first)
        return None

    def _spill(self, first: dict[str, int]) -> None:
        expected = self.expected() if self.expected is not None else 4 * SPILL_AT
        wanted = 2 * expected // max(SPILL_AT, 1)
        count = min(max(1 << max(wanted - 1, 0).bit_length(), _MIN_BUCKETS), _MAX_BUCKETS)
        self._temporary = tempfile.TemporaryDirectory(
            prefix=self._prefix, suffix=".tmp", dir=self._directory
        )
        directory = Path(self._temporary.name)
        self._input = _Buckets(directory, "input", count)
        self._output = _Buckets(directory, "output", count)
        for custom_id, line in first.items():
            self._input.add(custom_id.encode(), id_digest(custom_id), line)
        self._first = None

    def duplicates(self) -> Iterator[tuple[int, str, int]]:
        """``(line, custom_id, first line)`` of each repeated id :meth:`add` did not
        return (those that went to bucket files), one bucket at a time."""
        buckets = self._input
        if buckets is None:
            return
        buckets.flush()
        for bucket in range(len(buckets)):
            if self._stopped:
                raise Stopped
            first: dict[bytes, int] = {}
            for line, custom_id in buckets.records(bucket):
                known = first.setdefault(custom_id, line)
                if known != line:
                    yield line, custom_id.decode(), known

    def add_answered(self, custom_id: str) -> None:
        """Note a ``custom_id`` OUTPUT answers (one not in the input is ignored)."""
        if self._stopped:
            raise Stopped
        if self._first is not None:
            line = self._first.get(custom_id)
            if line is not None:
                self._lines().add(line)
        else:
            assert self._output is not None
            self._output.add(custom_id.encode(), id_digest(custom_id), 0)

    def _lines(self) -> AnsweredLines:
        if self._answered is None:
            self._answered = AnsweredLines(self._last_line)
        return self._answered

    def answered_lines(self) -> AnsweredLines:
        """The input lines OUTPUT answers, from the ids :meth:`add_answered` was given.

        Bucket files are removed as they are read: call it once.
        """
        answered = self._lines()
        if self._input is None or self._output is None:
            return answered
        self._input.flush()
        self._output.flush()
        for bucket in range(len(self._input)):
            if self._stopped:
                raise Stopped
            lines: dict[bytes, int] = {}
            for line, custom_id in self._input.records(bucket):
                lines.setdefault(custom_id, line)
            for _, custom_id in self._output.records(bucket):
                found = lines.get(custom_id)
                if found is not None:
                    answered.add(found)
            self._input.remove(bucket)
            self._output.remove(bucket)
        return answered


# Digests sorted at once would pass through a list of Python ints (36 bytes each, not 8);
# sorted in runs of this many and merged, memory stays near the arrays themselves.
_RUN = 1 << 16


def _sorted(digests: array[int]) -> array[int]:
    """``digests`` sorted, as a new array, without a list of them all."""
    if len(digests) <= _RUN:
        return array("Q", sorted(digests))
    runs = [array("Q", sorted(digests[i : i + _RUN])) for i in range(0, len(digests), _RUN)]
    merged = array("Q")
    merged.extend(heapq.merge(*runs))
    return merged


class SortedDigests:
    """A sorted array of digests: membership by binary search, 8 bytes per id."""

    def __init__(self, digests: array[int]) -> None:
        self._digests = _sorted(digests)

    def __contains__(self, digest: object) -> bool:
        items = self._digests
        i = bisect_left(items, digest)  # type: ignore[call-overload]
        return i < len(items) and bool(items[i] == digest)

    def __len__(self) -> int:
        return len(self._digests)
