"""``multipart/form-data`` request bodies (RFC 7578), built in memory as bytes.

A body of bytes can be sent again as it is when a request is retried, which a streamed
form cannot. Parts go in the order given: xAI wants its file part last.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import attrs

__all__ = ["FilePart", "encode_multipart"]


@attrs.frozen
class FilePart:
    """A file field's content, with the name and media type it is sent under."""

    data: bytes
    filename: str
    content_type: str = "application/octet-stream"


def _quote(value: str) -> str:
    # The HTML standard's escaping of form field names and filenames in Content-Disposition:
    # a quote or a line break would otherwise end the header value or the header.
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


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
