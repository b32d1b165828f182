"""``client.files``: upload, list, retrieve, download and delete files (``/v1/files``).

An upload is streamed from disk (a path, or a seekable file object) rather than read whole,
and every attempt re-reads it from its start, so a retry after a connection reset sends
the whole file again (see ``_multipart.StreamedForm``).
"""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from .._multipart import FileStream, StreamedForm
from .._sentinels import NOT_GIVEN, NotGiven
from .._serialization import decode_model
from .._timeout import TimeoutTypes
from ..types.files import File, FileDeleted
from ._decode import decode_object, path_segment
from ._pages import check_limit, iterate_pages

if TYPE_CHECKING:
    from .._requester import Requester

__all__ = ["MAX_FILE_SIZE", "Files", "FileInput"]

#: The largest file the API takes (SPEC.md §10).
MAX_FILE_SIZE = 50 * 1024 * 1024
#: ``expires_after`` must lie within these seconds (one hour to 30 days).
EXPIRES_AFTER_RANGE = (3600, 2_592_000)

#: What ``files.create`` uploads: a path, the bytes themselves, or a binary file object.
FileInput = str | os.PathLike[str] | bytes | IO[bytes]


def _content_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _from_path(path: Path, filename: str | None) -> FileStream:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValueError(f"cannot upload {str(path)!r}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise ValueError(f"cannot upload {str(path)!r}: not a regular file")
    name = filename or path.name
    return FileStream(lambda: path.open("rb"), size, name, _content_type(name))


def _from_file_object(file: IO[bytes], filename: str | None) -> FileStream | bytes:
    """A seekable file streams from where it stands now; any other is read whole."""
    name = filename or os.path.basename(str(getattr(file, "name", "") or ""))
    if not name:
        raise ValueError("filename= is needed: the file object has no name")
    seekable = getattr(file, "seekable", None)
    if seekable is None or not seekable():
        data = file.read()
        if not isinstance(data, bytes):
            raise TypeError("file must be opened in binary mode ('rb')")
        return data
    start = file.tell()
    size = file.seek(0, io.SEEK_END) - start
    file.seek(start)

    def reopen() -> IO[bytes]:
        file.seek(start)  # each attempt sends the content from the same place
        return file

    return FileStream(reopen, size, name, _content_type(name), close=False)  # type: ignore[arg-type]


def _file_field(file: FileInput, filename: str | None) -> tuple[FileStream | bytes, str]:
    if isinstance(file, (bytes, bytearray, memoryview)):
        if not filename:
            raise ValueError("filename= is needed when the file is given as bytes")
        return bytes(file), filename
    if isinstance(file, (str, os.PathLike)):
        stream = _from_path(Path(file), filename)
        return stream, stream.filename
    if hasattr(file, "read"):
        opened: object = file  # typed as binary, but a caller may pass a text file
        if isinstance(opened, io.TextIOBase):
            raise TypeError("file must be opened in binary mode ('rb'), not text mode")
        field = _from_file_object(file, filename)
        name = field.filename if isinstance(field, FileStream) else filename
        return field, name or os.path.basename(str(getattr(file, "name", "")))
    raise TypeError(
        f"file must be a path, bytes or a binary file object, not {type(file).__name__}"
    )


def _form(file: FileInput, filename: str | None, expires_after: int | None) -> StreamedForm:
    """The upload's form; raises ValueError/TypeError before anything is sent."""
    if expires_after is not None:
        low, high = EXPIRES_AFTER_RANGE
        if isinstance(expires_after, bool) or not isinstance(expires_after, int):
            raise TypeError(f"expires_after must be seconds as an int, got {expires_after!r}")
        if not low <= expires_after <= high:
            raise ValueError(
                f"expires_after must be between {low} and {high} seconds, got {expires_after}"
            )
    content, name = _file_field(file, filename)
    if isinstance(content, bytes):
        data = content
        content = FileStream(lambda: io.BytesIO(data), len(data), name, _content_type(name))
    if content.size > MAX_FILE_SIZE:
        raise ValueError(
            f"{name} has {content.size:,} bytes; the API takes files up to {MAX_FILE_SIZE:,}"
        )
    fields: list[tuple[str, str | FileStream]] = []
    if expires_after is not None:
        fields.append(("expires_after", str(expires_after)))  # before the file (SPEC §10)
    fields.append(("file", content))
    return StreamedForm(fields)


class Files:
    """``client.files``"""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def create(
        self,
        *,
        file: FileInput,
        filename: str | None = None,
        expires_after: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> File:
        """Upload ``file``: a path, bytes, or a binary file object (up to 50 MB).

        A path or a seekable file object is streamed from disk, never read whole; a retry
        (after a connection reset, a 5xx) sends it again from its start. ``filename`` is the
        name the server keeps (default: the path's or file object's name; needed for bytes).
        ``expires_after``: seconds until the server deletes it (3600 to 2592000).

        Example::

            f = await client.files.create(file="requests.jsonl")
            batch = await client.batches.create(name="nightly", input_file_id=f.id)

        Raises:
            ValueError, TypeError: not a file, too large, no name for bytes, or a bad
                ``expires_after``; nothing is sent.
            APIStatusError, APIConnectionError, APITimeoutError: as for any call.
        """
        form = _form(file, filename, expires_after)
        headers = {
            **(extra_headers or {}),
            "Content-Type": form.content_type,
            "Content-Length": str(form.size),
        }
        return await self._client.request(
            "POST",
            "/files",
            body=form,
            extra_headers=headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=lambda reply: decode_object(reply, File),
        )

    def list(
        self,
        *,
        limit: int = 100,
        order: Literal["asc", "desc"] = "desc",
        sort_by: Literal["created_at", "filename", "size"] = "created_at",
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[File]:
        """Every file, page after page (``limit`` per request), as an async iterator.

        Example::

            async for f in client.files.list():
                print(f.id, f.filename, f.bytes)

        Raises:
            ValueError: a bad ``limit``, ``order`` or ``sort_by`` (at the call, before
                anything is sent).
        """
        check_limit(limit)
        if order not in ("asc", "desc"):
            raise ValueError(f"order must be 'asc' or 'desc', got {order!r}")
        if sort_by not in ("created_at", "filename", "size"):
            raise ValueError(f"sort_by must be created_at, filename or size, got {sort_by!r}")
        return iterate_pages(
            self._client,
            "/files",
            {"order": order, "sort_by": sort_by},
            key="data",
            convert=lambda item: decode_model(item, File),
            limit=limit,
            timeout=timeout,
        )

    async def retrieve(self, file_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> File:
        """The file's record. Raises :class:`NotFoundError` when deleted or expired."""
        path = f"/files/{path_segment(file_id, 'file_id')}"
        return await self._client.request(
            "GET", path, timeout=timeout, decode=lambda reply: decode_object(reply, File)
        )

    async def content(
        self,
        file_id: str,
        *,
        format: Literal["original", "text"] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> bytes:
        """The file's bytes (``format="text"``: the server's text rendering of it)."""
        path = f"/files/{path_segment(file_id, 'file_id')}/content"
        if format is not None:
            if format not in ("original", "text"):
                raise ValueError(f"format must be 'original' or 'text', got {format!r}")
            path += f"?format={format}"
        reply = await self._client.request("GET", path, timeout=timeout)
        return reply.body

    async def delete(
        self, file_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> FileDeleted:
        """Delete the file; ``result.deleted`` says whether it went."""
        path = f"/files/{path_segment(file_id, 'file_id')}"
        return await self._client.request(
            "DELETE", path, timeout=timeout, decode=lambda reply: decode_object(reply, FileDeleted)
        )
