"""Speech: text to speech (bytes, or streamed to a file) and speech to text (a multipart
upload), against FakeGrok and a scripted server; the multipart encoder itself."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from grok_async import (
    APIConnectionError,
    AsyncGrok,
    HookEvent,
    Hooks,
    Transcription,
    TranscriptionWord,
    UnprocessableEntityError,
)
from grok_async._multipart import FilePart, encode_multipart
from grok_async.testing import FakeGrok
from grok_async.testing._speech import parse_multipart

from .conftest import FAKE_KEY, LocalServer

TEXT = "Hello there. How are you today?"


def client_for(fake: FakeGrok | LocalServer, **options: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)


async def test_speech_is_the_audio_bytes(fake_grok: FakeGrok) -> None:
    """``speech.create`` returns the body's bytes; the request is JSON with the language
    ``auto`` and only the options set."""
    async with client_for(fake_grok) as client:
        audio = await client.audio.speech.create(text=TEXT)
        await client.audio.speech.create(text="Hi", voice_id="eve", language="en", codec="wav")
    assert audio.startswith(b"ID3")
    assert len(audio) > 5 * 1024  # a frame per word
    assert [r.json for r in fake_grok.requests] == [
        {"text": TEXT, "language": "auto"},
        {"text": "Hi", "language": "en", "voice_id": "eve", "output_format": {"codec": "wav"}},
    ]


async def test_speech_streams_to_a_file(fake_grok: FakeGrok, tmp_path: Path) -> None:
    """``stream_to_file`` writes what ``create`` returns, piece by piece, and reports the
    stream's end to the hooks."""
    ended: list[HookEvent] = []
    hooks = Hooks(on_stream_end=ended.append)
    target = tmp_path / "speech.mp3"
    async with client_for(fake_grok, hooks=hooks) as client:
        written = await client.audio.speech.stream_to_file(target, text=TEXT)
        whole = await client.audio.speech.create(text=TEXT)
    assert written == target.stat().st_size == len(whole)
    assert target.read_bytes() == whole
    assert [(event.outcome, event.path) for event in ended] == [("exhausted", "/tts")]


async def test_a_refused_speech_request_creates_no_file(
    fake_grok: FakeGrok, tmp_path: Path
) -> None:
    """The file is made only once the server accepted the request."""
    target = tmp_path / "speech.mp3"
    async with client_for(fake_grok, max_retries=0) as client:
        with pytest.raises(UnprocessableEntityError, match="voice_id"):
            await client.audio.speech.stream_to_file(target, text=TEXT, extra_body={"voice_id": 5})
        with pytest.raises(ValueError, match="empty"):
            await client.audio.speech.stream_to_file(target, text="  ")
    assert not target.exists()


async def test_a_transfer_cut_short_leaves_no_file(server: LocalServer, tmp_path: Path) -> None:
    """A connection lost part way raises, and the partial file is removed."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        response.content_length = 100_000
        await response.prepare(request)
        await response.write(b"ID3" + bytes(5000))
        await asyncio.sleep(0.05)
        assert request.transport is not None
        request.transport.abort()
        return response

    server.handler = handler
    target = tmp_path / "speech.mp3"
    async with client_for(server) as client:
        with pytest.raises(APIConnectionError):
            await client.audio.speech.stream_to_file(target, text=TEXT)
    assert not target.exists()


async def test_speech_to_text_gives_the_words_back(fake_grok: FakeGrok, tmp_path: Path) -> None:
    """The emulator transcribes its own speech: text → audio → text, words timed; from a
    path, bytes or a binary file object alike."""
    async with client_for(fake_grok) as client:
        audio = await client.audio.speech.create(text=TEXT)
        path = tmp_path / "speech.mp3"
        path.write_bytes(audio)
        results = [
            await client.audio.transcriptions.create(file=path),
            await client.audio.transcriptions.create(file=audio, filename="x.mp3"),
            await client.audio.transcriptions.create(file=io.BytesIO(audio)),
        ]
    for result in results:
        assert isinstance(result, Transcription)
        assert result.text == TEXT
        assert [w.text for w in result.words] == TEXT.split()
        assert all(isinstance(w, TranscriptionWord) for w in result.words)
        assert all(w.speaker is None for w in result.words)
        assert result.duration is not None and result.duration > 0
    starts = [w.start for w in results[0].words]
    assert all(isinstance(start, float) for start in starts)
    assert starts == sorted(start for start in starts if start is not None)


async def test_the_upload_is_multipart_with_the_file_last(fake_grok: FakeGrok) -> None:
    """``language`` and ``diarize`` go before the file, which carries its name and type;
    ``diarize=True`` labels the speakers."""
    async with client_for(fake_grok) as client:
        audio = await client.audio.speech.create(text=TEXT)
        result = await client.audio.transcriptions.create(
            file=audio, filename="talk.mp3", language="en", diarize=True
        )
    recorded = fake_grok.last_request
    assert recorded.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = parse_multipart(recorded.headers["content-type"], recorded.body)
    assert [(name, filename) for name, filename, _ in parts] == [
        ("language", None),
        ("diarize", None),
        ("file", "talk.mp3"),
    ]
    assert parts[0][2] == b"en" and parts[1][2] == b"true" and parts[2][2] == audio
    assert b"Content-Type: audio/mpeg" in recorded.body
    assert [w.speaker for w in result.words] == [0, 0, 1, 1, 1, 1]
    assert result.language == "en"


async def test_unset_options_are_not_sent(fake_grok: FakeGrok) -> None:
    async with client_for(fake_grok) as client:
        await client.audio.transcriptions.create(file=b"RIFF....WAVE", filename="a.wav")
    recorded = fake_grok.last_request
    parts = parse_multipart(recorded.headers["content-type"], recorded.body)
    assert [name for name, _, _ in parts] == ["file"]
    assert b"Content-Type: audio/x-wav" in recorded.body or b"audio/wav" in recorded.body


@pytest.mark.parametrize(
    ("file", "error", "match"),
    [
        pytest.param(b"", ValueError, "empty", id="empty"),
        pytest.param(io.StringIO("text"), TypeError, "binary mode", id="text-mode"),
        pytest.param(3, TypeError, "path, bytes or a binary file", id="int"),
    ],
)
async def test_bad_files_are_refused_before_sending(
    fake_grok: FakeGrok, file: Any, error: type[Exception], match: str
) -> None:
    async with client_for(fake_grok) as client:
        with pytest.raises(error, match=match):
            await client.audio.transcriptions.create(file=file)
        with pytest.raises(FileNotFoundError):
            await client.audio.transcriptions.create(file=Path("/no/such/file.mp3"))
    assert fake_grok.requests == []


async def test_a_retried_upload_sends_the_same_body(server: LocalServer) -> None:
    """The form is bytes, so a retry after a 503 sends it again whole."""
    answers = iter(
        [
            web.json_response({"code": "x", "error": "busy"}, status=503),
            web.json_response({"text": "ok", "words": []}),
        ]
    )

    async def handler(request: web.Request) -> web.StreamResponse:
        return next(answers)

    server.handler = handler
    async with client_for(server) as client:
        result = await client.audio.transcriptions.create(file=b"audio", language="en")
    assert result.text == "ok"
    first, second = server.requests
    assert first["raw"] == second["raw"] != b""


def test_the_encoder_quotes_names_and_keeps_bytes_exact() -> None:
    """Quotes and line breaks in names are escaped (they would end the header); file bytes
    go through untouched, CR/LF included; parts keep their order."""
    data = b"\r\n--not-a-boundary\r\n\x00\xff"
    body, content_type = encode_multipart(
        [("a", "1"), ('we"ird\r\nname', "é"), ("file", FilePart(data, 'x".bin'))]
    )
    parts = parse_multipart(content_type, body)
    assert [(name, filename, value) for name, filename, value in parts] == [
        ("a", None, b"1"),
        ("we%22ird%0D%0Aname", None, "é".encode()),
        ("file", "x%22.bin", data),
    ]
    assert body.endswith(b"--\r\n")
