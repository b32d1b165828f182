"""Response models of the Files API (``/v1/files``, SPEC.md §10)."""

from __future__ import annotations

from attrs import define

from ._base import WireModel

__all__ = ["File", "FileDeleted"]


@define
class File(WireModel):
    """An uploaded file: its id (for ``input_file_id`` of a batch, or a chat content part),
    size in bytes, name, and when it expires (None: kept until deleted)."""

    id: str
    bytes: int = 0
    filename: str = ""
    created_at: int | None = None
    expires_at: int | None = None
    purpose: str | None = None
    object: str = "file"
    #: The ``x-request-id`` of the response (set by the client, never read from the body).
    request_id: str | None = None


@define
class FileDeleted(WireModel):
    """The answer to ``files.delete``: the id, and whether it is gone."""

    id: str
    deleted: bool = False
    object: str = "file"
    request_id: str | None = None
