"""``multipart/form-data`` request bodies (RFC 7578): built in memory as bytes, or
streamed from disk.

A body of bytes can be sent again as it is when a request is retried. A file too large to
hold in memory goes as a :class:`StreamedForm` instead: each attempt re-opens the form and
reads the file again from its start, so a retry is as safe as with bytes, and memory stays
at one piece of the file. Parts go in the order given: xAI wants its file part last.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable
from typing import BinaryIO

import attrs

__all__ = ["FilePart", "FileStream", "StreamedForm", "encode_multipart"]

# Bytes read from the file per piece: large enough to keep the thread hand-offs rare,
# small enough that memory does not grow with the file.
_PIECE = 256 * 1024


@attrs.frozen
class FilePart:
    """A file field's content, with the name and media type it is sent under."""

    data: bytes
    filename: str
    content_type: str = "application/octet-stream"


@attrs.frozen
class FileStream:
    """A file field whose content is read from a file while the request is sent.

    ``open`` gives a binary file positioned at the content's start, each time it is
    called; ``size`` bytes are sent from there. ``close`` says whether the file is ours to
    close after sending (a file we opened from a path) or the caller's (a file object).
    """

    open: Callable[[], BinaryIO]
    size: int
    filename: str
    content_type: str = "application/octet-stream"
    close: bool = True


def _quote(value: str) -> str:
    # The HTML standard's escaping of form field names and filenames in Content-Disposition:
    # a quote or a line break would otherwise end the header value or the header.
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def _part_head(boundary: str, name: str, value: str | FilePart | FileStream) -> str:
    disposition = f'form-data; name="{_quote(name)}"'
    if isinstance(value, (FilePart, FileStream)):
        disposition += f'; filename="{_quote(value.filename)}"'
        return (
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: {value.content_type}\r\n\r\n"
        )
    return f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n"


class StreamedForm:
    """A form whose file fields are read from disk as it is sent; re-openable for retries.

    ``size`` (for ``Content-Length``) and ``content_type`` are known before sending.
    """

    def __init__(self, fields: Iterable[tuple[str, str | FileStream]]) -> None:
        boundary = f"grok-async-{uuid.uuid4().hex}"
        self.content_type = f"multipart/form-data; boundary={boundary}"
        # The form as a sequence of literal bytes and files to copy in between.
        self._segments: list[bytes | FileStream] = []
        for name, value in fields:
            head = _part_head(boundary, name, value).encode()
            if isinstance(value, FileStream):
                self._segments += [head, value, b"\r\n"]
            else:
                self._segments.append(head + value.encode("utf-8") + b"\r\n")
        self._segments.append(f"--{boundary}--\r\n".encode())
        self.size = sum(
            part.size if isinstance(part, FileStream) else len(part) for part in self._segments
        )

    def open(self) -> _FormReader:
        """A reader of the whole form from its first byte."""
        return _FormReader(self._segments)


class _FormReader:
    """One sending of a :class:`StreamedForm`: literal bytes, then each file in pieces."""

    def __init__(self, segments: list[bytes | FileStream]) -> None:
        self._segments = iter(segments)
        self._file: BinaryIO | None = None
        self._current: FileStream | None = None
        self._left = 0
        self._closed = False

    def __aiter__(self) -> _FormReader:
        return self

    async def __anext__(self) -> bytes:
        while not self._closed:
            if self._current is None:
                segment = next(self._segments, None)
                if segment is None:
                    break
                if isinstance(segment, bytes):
                    return segment
                self._current, self._left = segment, segment.size
                self._file = await asyncio.to_thread(segment.open)
                continue
            if self._left == 0:
                self._release()
                continue
            assert self._file is not None
            piece = await asyncio.to_thread(self._file.read, min(_PIECE, self._left))
            if not piece:
                # Sending fewer bytes than Content-Length promised would hang the server.
                raise OSError(
                    f"{self._current.filename} became shorter while it was uploaded "
                    f"({self._left:,} bytes missing)"
                )
            self._left -= len(piece)
            return piece
        self.close()
        raise StopAsyncIteration

    def _release(self) -> None:
        if self._file is not None and self._current is not None and self._current.close:
            self._file.close()
        self._file = None
        self._current = None

    def close(self) -> None:
        """Close the file being read, if it is ours; later reads end the body."""
        self._closed = True
        self._release()


def encode_multipart(fields: Iterable[tuple[str, str | FilePart]]) -> tuple[bytes, str]:
    """``(body, content_type)`` of a form with ``fields`` in order; text values are UTF-8."""
    boundary = f"grok-async-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields:
        disposition = f'form-data; name="{_quote(name)}"'
        if isinstance(value, FilePart):
            disposition += f'; filename="{_quote(value.filename)}"'
            head = f"Content-Disposition: {disposition}\r\nContent-Type: {value.content_type}"
            data = value.data
        else:
            head = f"Content-Disposition: {disposition}"
            data = value.encode("utf-8")
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
