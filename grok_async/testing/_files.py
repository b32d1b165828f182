"""The emulator's Files API (``/v1/files``, SPEC.md §10): files kept in memory, listed a
page at a time, downloaded, deleted. Batches read their uploaded input from here."""

from __future__ import annotations

import itertools
import time
from typing import Any

import attrs
import orjson
from aiohttp import web

from ._errors import error_response
from ._speech import parse_multipart
from ._validation import InvalidRequest

__all__ = ["FileStore", "StoredFile"]

_MAX_FILE = 50 * 1024 * 1024
_SORT_KEYS = {"created_at": "created_at", "filename": "filename", "size": "bytes"}


@attrs.define
class StoredFile:
    """One uploaded file and its metadata."""

    id: str
    filename: str
    data: bytes
    created_at: int
    expires_at: int | None
    order: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "expires_at": self.expires_at,
            "purpose": "batch",
        }


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")


class FileStore:
    """Files of one emulator, by id."""

    def __init__(self) -> None:
        self.files: dict[str, StoredFile] = {}
        self._ids = itertools.count(1)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/files", self.upload)
        router.add_get("/v1/files", self.list)
        router.add_get("/v1/files/{file_id}", self.retrieve)
        router.add_get("/v1/files/{file_id}/content", self.content)
        router.add_delete("/v1/files/{file_id}", self.delete)

    async def upload(self, request: web.Request) -> web.StreamResponse:
        try:
            parts = parse_multipart(request.headers.get("Content-Type", ""), await request.read())
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        files = [(name, data) for field, name, data in parts if field == "file" and name]
        if not files:
            return error_response(400, "The form has no 'file' part with a filename.")
        filename, data = files[0]
        if len(data) > _MAX_FILE:
            return error_response(413, f"The file exceeds {_MAX_FILE} bytes.")
        expires: int | None = None
        fields = {field: data for field, name, data in parts if name is None}
        raw_expiry = fields.get("expires_after")
        now = int(time.time())
        if raw_expiry is not None:
            try:
                seconds = int(raw_expiry)
            except ValueError:
                return error_response(400, "expires_after must be an integer.")
            if not 3600 <= seconds <= 2_592_000:
                return error_response(400, "expires_after must be between 3600 and 2592000.")
            expires = now + seconds
        number = next(self._ids)
        stored = StoredFile(f"file-{number:06d}", filename, data, now, expires, number)
        self.files[stored.id] = stored
        return _json(stored.as_json())

    async def list(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        try:
            limit = int(query.get("limit", "100"))
        except ValueError:
            return error_response(400, "limit must be an integer.")
        order = query.get("order", "desc")
        key = _SORT_KEYS.get(query.get("sort_by", "created_at"))
        if limit < 1 or order not in ("asc", "desc") or key is None:
            return error_response(400, "Invalid limit, order or sort_by.")
        files = sorted(
            self.files.values(),
            key=lambda f: (f.as_json()[key], f.order),
            reverse=order == "desc",
        )
        # The token is the offset of the next page: opaque to the client, as xAI's is.
        start = int(query.get("pagination_token") or 0)
        page = files[start : start + limit]
        token = str(start + limit) if start + limit < len(files) else None
        return _json({"data": [f.as_json() for f in page], "pagination_token": token})

    def _find(self, request: web.Request) -> StoredFile | None:
        return self.files.get(request.match_info["file_id"])

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        found = self._find(request)
        if found is None:
            return error_response(404, f"File {request.match_info['file_id']} not found.")
        return _json(found.as_json())

    async def content(self, request: web.Request) -> web.StreamResponse:
        found = self._find(request)
        if found is None:
            return error_response(404, f"File {request.match_info['file_id']} not found.")
        return web.Response(body=found.data, content_type="application/octet-stream")

    async def delete(self, request: web.Request) -> web.StreamResponse:
        found = self._find(request)
        if found is None:
            return error_response(404, f"File {request.match_info['file_id']} not found.")
        del self.files[found.id]
        return _json({"id": found.id, "object": "file", "deleted": True})
