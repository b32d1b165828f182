"""The Files API: uploads streamed from disk and safe to retry, pages, download, delete."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from grok_async import AsyncGrok, File, FileDeleted, NotFoundError
from grok_async._multipart import FileStream, StreamedForm
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY, LocalServer


def client_for(base_url: str, **options: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=base_url, **options)


async def test_upload_from_a_path_round_trips(fake_grok: FakeGrok, tmp_path: Path) -> None:
    """A file uploaded from a path comes back byte for byte, named after the path."""
    data = bytes(range(256)) * 4000  # ~1 MB, binary
    path = tmp_path / "requests.jsonl"
    path.write_bytes(data)
    async with client_for(fake_grok.base_url) as client:
        uploaded = await client.files.create(file=path)
        assert isinstance(uploaded, File)
        assert (uploaded.filename, uploaded.bytes) == ("requests.jsonl", len(data))
        assert uploaded.request_id
        assert await client.files.content(uploaded.id) == data
    (sent,) = [r for r in fake_grok.requests if r.method == "POST"]
    # A known length, not a chunked body: the server can refuse a too-large file at once.
    assert sent.headers["content-length"] == str(len(sent.body))
    assert "transfer-encoding" not in sent.headers


@pytest.mark.parametrize(
    ("make", "expected_name"),
    [
        pytest.param(lambda: b"hello", "given.txt", id="bytes"),
        pytest.param(lambda: io.BytesIO(b"xxhello"), "given.txt", id="seekable-object"),
    ],
)
async def test_upload_from_bytes_and_file_objects(
    fake_grok: FakeGrok, make: Any, expected_name: str
) -> None:
    """Bytes and a seekable file object upload their content under the given name; a file
    object is sent from where it stands."""
    source = make()
    if isinstance(source, io.BytesIO):
        source.seek(2)
    async with client_for(fake_grok.base_url) as client:
        uploaded = await client.files.create(file=source, filename="given.txt")
        assert uploaded.filename == expected_name
        assert await client.files.content(uploaded.id) == b"hello"


async def test_expires_after_goes_before_the_file(fake_grok: FakeGrok) -> None:
    """``expires_after`` is a form field sent before the file part (xAI reads it first)."""
    async with client_for(fake_grok.base_url) as client:
        uploaded = await client.files.create(file=b"x", filename="a.txt", expires_after=3600)
    raw = fake_grok.last_request.body
    assert raw.index(b'name="expires_after"') < raw.index(b'name="file"')
    assert uploaded.expires_at is not None


async def test_streamed_form_reads_the_file_in_pieces(tmp_path: Path) -> None:
    """A streamed form never holds the whole file: a 3 MB file comes out in pieces of at
    most 256 KiB, and its size is known before sending."""
    path = tmp_path / "big.bin"
    path.write_bytes(b"a" * (3 * 1024 * 1024))
    stream = FileStream(lambda: path.open("rb"), path.stat().st_size, "big.bin")
    form = StreamedForm([("file", stream)])
    pieces = [piece async for piece in form.open()]
    assert max(len(piece) for piece in pieces) <= 256 * 1024
    assert sum(len(piece) for piece in pieces) == form.size


async def test_upload_is_retried_whole_after_a_connection_reset(
    server: LocalServer, tmp_path: Path, no_backoff: list[float]
) -> None:
    """A connection reset during an upload is retried, and the retry sends the whole file
    again from its start (the body is re-opened, not a spent stream)."""
    data = b"line\n" * 50_000
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    calls = 0

    async def reset_first(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        return web.json_response({"id": "file-1", "bytes": len(data), "filename": "in.jsonl"})

    server.handler = reset_first
    async with client_for(server.base_url, max_retries=2) as client:
        uploaded = await client.files.create(file=path)
    assert uploaded.id == "file-1"
    assert calls == 2
    first, second = (request["raw"] for request in server.requests)
    assert first == second
    assert data in second


async def test_list_walks_every_page(fake_grok: FakeGrok) -> None:
    """Listing reads page after page until a short page: 5 files at 2 a page take 3
    requests, each file once, newest first."""
    async with client_for(fake_grok.base_url) as client:
        ids = [(await client.files.create(file=b"x", filename=f"f{i}.txt")).id for i in range(5)]
        before = len(fake_grok.requests)
        listed = [f.id async for f in client.files.list(limit=2)]
    pages = [r for r in fake_grok.requests[before:] if r.path == "/v1/files"]
    assert len(pages) == 3
    assert pages[1].query["pagination_token"]
    assert listed == list(reversed(ids))


async def test_retrieve_and_delete(fake_grok: FakeGrok) -> None:
    """A file can be looked up until it is deleted; then it is a 404."""
    async with client_for(fake_grok.base_url) as client:
        uploaded = await client.files.create(file=b"x", filename="a.txt")
        assert (await client.files.retrieve(uploaded.id)).filename == "a.txt"
        gone = await client.files.delete(uploaded.id)
        assert isinstance(gone, FileDeleted)
        assert (gone.id, gone.deleted) == (uploaded.id, True)
        with pytest.raises(NotFoundError):
            await client.files.retrieve(uploaded.id)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        pytest.param(
            {"file": "/no/such/file.jsonl"}, ValueError, "/no/such/file.jsonl", id="missing"
        ),
        pytest.param({"file": b"x"}, ValueError, "filename=", id="bytes-without-name"),
        pytest.param(
            {"file": b"x", "filename": "a", "expires_after": 60}, ValueError, "3600", id="expiry"
        ),
        pytest.param({"file": 42}, TypeError, "path, bytes", id="not-a-file"),
        pytest.param({"file": io.StringIO("x"), "filename": "a"}, TypeError, "binary", id="text"),
    ],
)
async def test_bad_uploads_are_refused_before_sending(
    fake_grok: FakeGrok, kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    """A bad upload raises a clear error naming what is wrong, and nothing is sent."""
    async with client_for(fake_grok.base_url) as client:
        with pytest.raises(error, match=words.replace(".", r"\.")):
            await client.files.create(**kwargs)
    assert fake_grok.requests == []


async def test_a_file_over_50_mb_is_refused(fake_grok: FakeGrok, tmp_path: Path) -> None:
    """A file over the API's 50 MB limit is refused with its size, before sending."""
    path = tmp_path / "huge.bin"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024 + 1)  # sparse: no 50 MB written
    async with client_for(fake_grok.base_url) as client:
        with pytest.raises(ValueError, match="52,428,801 bytes"):
            await client.files.create(file=path)
    assert fake_grok.requests == []
