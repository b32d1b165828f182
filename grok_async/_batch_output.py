"""Batch output: one line per request in OpenAI's batch output shape, appended as answers
arrive, and read back to resume.

A line is::

    {"id": "batch_req_...", "custom_id": "q-17",
     "response": {"status_code": 200, "request_id": "...", "body": {...}} | null,
     "error": null | {"code": "...", "message": "..."}}

Why resuming is exactly-once: a line is written (one ``write`` of the whole line, ending
in its newline) only after its answer arrived, and a rerun skips every ``custom_id``
already in the file. A crash can cut only the line being written: a last line without
its newline is torn, and is dropped before anything else happens. A request that was in
flight at the crash has no line yet, so it is sent again (it may reach the server twice).
"""

from __future__ import annotations

import os
import uuid
from array import array
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ._batch_ids import SortedDigests, id_digest
from ._errors import APIStatusError, BatchOutputError, GrokError

if TYPE_CHECKING:
    from .types.batches import BatchResult

__all__ = ["OutputLog", "batch_result_line", "error_line", "success_line"]


def _line(custom_id: str, response: Any, error: Any) -> bytes:
    record = {
        "id": f"batch_req_{uuid.uuid4().hex}",
        "custom_id": custom_id,
        "response": response,
        "error": error,
    }
    return orjson.dumps(record) + b"\n"


def success_line(custom_id: str, status: int, request_id: str | None, body: Any) -> bytes:
    """The output line of an answered request."""
    return _line(custom_id, {"status_code": status, "request_id": request_id, "body": body}, None)


def batch_result_line(result: BatchResult) -> bytes:
    """A result of xAI's Batch API as a line of the same format: downstream code cannot
    tell which path produced it."""
    if result.response is not None:
        completion = result.response
        return success_line(result.custom_id, 200, completion.id or None, completion.to_dict())
    error = result.error
    code = (error.code if error is not None else None) or "error"
    message = error.message if error is not None else "no result"
    return _line(result.custom_id, None, {"code": code, "message": message})


def _code(exc: BaseException) -> str:
    # A connection error or timeout never gets here: with no answer, the request gets no
    # line and is sent again by a rerun (see _batch_runner).
    return "invalid_response" if isinstance(exc, GrokError) else type(exc).__name__


def error_line(custom_id: str, exc: BaseException) -> bytes:
    """The output line of a request that failed (after its retries): the server's status
    and error body when it refused it, and ``error`` with a code and message either way
    (``response`` is null for an answer that was not a valid one)."""
    message = " ".join(str(exc).split())
    if isinstance(exc, APIStatusError):
        body = exc.body if exc.body is not None else {"error": message}
        code = str(exc.code) if exc.code is not None else str(exc.status_code)
        response = {"status_code": exc.status_code, "request_id": exc.request_id, "body": body}
        return _line(custom_id, response, {"code": code, "message": message})
    return _line(custom_id, None, {"code": _code(exc), "message": message})


class OutputLog:
    """The output file of a run: what it holds already, and appending to it.

    :meth:`open` drops a torn last line, and with ``retry_failed`` the lines of failed
    requests (atomically: a new file replaces the old one), so those run again.
    """

    def __init__(self, path: Path, dropped_torn: bool, removed: int):
        self.path = path
        #: Whether a torn last line was found and dropped.
        self.dropped_torn = dropped_torn
        #: Failed lines removed to be retried (``retry_failed``).
        self.removed_failed = removed
        self._fd: int | None = None

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        retry_failed: bool = False,
        answered: Callable[[str], object] | None = None,
    ) -> OutputLog:
        """Read what ``path`` holds (creating it if missing) and get it ready to append.

        ``answered`` is called with the ``custom_id`` of each line the file keeps (all of
        them, or with ``retry_failed`` those without an error), as the file is read.

        Raises:
            BatchOutputError: a complete line that is not a batch output line.
            OSError: the file cannot be read or written.
        """
        file = Path(path)
        file.touch(exist_ok=True)
        dropped = _drop_torn_line(file)
        failed = 0
        for custom_id, ok in _ids(file):
            if ok or not retry_failed:
                if answered is not None:
                    answered(custom_id)
            else:
                failed += 1
        if failed:
            _remove_failed(file)
        return cls(file, dropped, failed)

    @cached_property
    def done(self) -> SortedDigests:
        """Digests of the ``custom_id``\\ s the file answers, read from it (8 bytes each)."""
        digests: array[int] = array("Q", (id_digest(custom_id) for custom_id, _ in _ids(self.path)))
        return SortedDigests(digests)

    def append(self, line: bytes) -> None:
        """Write one whole line at the end of the file."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        view = memoryview(line)
        while view:  # a regular file takes it in one write; loop in case it does not
            view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        """Flush the file to disk and close it."""
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None


def _ids(file: Path) -> Iterator[tuple[str, bool]]:
    """``(custom_id, answered)`` of each line, a line at a time."""
    with file.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if raw.strip():
                yield _read_line(raw, number, file)


def _read_line(raw: bytes, number: int, file: Path) -> tuple[str, bool]:
    """``(custom_id, answered)`` of one complete output line."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    custom_id = data.get("custom_id") if isinstance(data, dict) else None
    if not isinstance(custom_id, str):
        raise BatchOutputError(
            f"{file} line {number} is not a batch output line (no custom_id); "
            "is OUTPUT the right file?"
        )
    assert isinstance(data, dict)
    return custom_id, data.get("error") is None


def _drop_torn_line(file: Path) -> bool:
    """Cut a last line without its newline (a write cut by a crash); True if there was one."""
    size = file.stat().st_size
    if size == 0:
        return False
    with file.open("rb+") as f:
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return False
        # Walk back to the previous newline, a block at a time.
        end = size
        while end > 0:
            start = max(0, end - 65536)
            f.seek(start)
            block = f.read(end - start)
            cut = block.rfind(b"\n")
            if cut >= 0:
                f.truncate(start + cut + 1)
                return True
            end = start
        f.truncate(0)
        return True


def _remove_failed(file: Path) -> None:
    """Rewrite ``file`` without its failed lines; the old file stays whole until the new one
    replaces it."""
    temporary = file.with_name(file.name + ".retry-failed.tmp")
    with file.open("rb") as source, temporary.open("wb") as target:
        for raw in source:
            if raw.strip():
                data = orjson.loads(raw)
                if data.get("error") is None:
                    target.write(raw)
        target.flush()
        os.fsync(target.fileno())
    os.replace(temporary, file)
