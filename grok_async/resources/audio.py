"""``client.audio``: text to speech (``POST /v1/tts``) and speech to text (``POST /v1/stt``).

Neither endpoint is in xAI's OpenAPI document; both are shaped as real traffic shows
(SPEC.md §12). Speech comes back as raw audio bytes (``audio/mpeg`` by default); a
transcription takes the audio as a multipart upload, the file part last.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .._body_stream import copy_body
from .._multipart import FilePart, encode_multipart
from .._sentinels import NOT_GIVEN, NotGiven
from .._serialization import encode_json
from .._timeout import TimeoutTypes
from ..types.audio import Transcription
from ._decode import decode_object

if TYPE_CHECKING:
    from .._requester import Requester
    from .._response import HTTPResponse

__all__ = ["Audio", "AudioFile", "Speech", "Transcriptions"]

#: An audio file to transcribe: a path, its bytes, or a binary file object open for reading.
AudioFile = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]


def _speech_body(
    text: object,
    voice_id: str | None,
    language: str | None,
    codec: str | None,
    extra_body: Mapping[str, Any] | None,
) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if not text.strip():
        raise ValueError("text must not be empty: there is nothing to say")
    body: dict[str, Any] = {"text": text}
    if language is not None:
        body["language"] = language
    if voice_id is not None:
        body["voice_id"] = voice_id
    if codec is not None:
        body["output_format"] = {"codec": codec}
    if extra_body:
        body.update(extra_body)
    return encode_json(body)


def _audio_bytes(reply: HTTPResponse) -> bytes:
    return reply.body


class Speech:
    """``client.audio.speech``: text to speech."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def create(
        self,
        *,
        text: str,
        voice_id: str | None = None,
        language: str | None = "auto",
        codec: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> bytes:
        """The audio of ``text`` spoken, as bytes (MP3 unless ``codec`` asks otherwise).

        ``voice_id`` picks a voice (None: the server's default); ``language`` is
        ``"auto"`` (detected from the text) or a language code; ``codec`` goes in the
        request's ``output_format``. For long texts, :meth:`stream_to_file` writes the
        audio as it arrives instead of holding it in memory.

        Raises:
            TypeError, ValueError: ``text`` is not a string, or is empty; nothing is sent.
            BadRequestError: the server refused a parameter (an unknown voice).
            APIStatusError, APIConnectionError, APITimeoutError: as for any call.
        """
        body = _speech_body(text, voice_id, language, codec, extra_body)
        return await self._client.request(
            "POST",
            "/tts",
            body=body,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=_audio_bytes,
        )

    async def stream_to_file(
        self,
        file: str | os.PathLike[str],
        *,
        text: str,
        voice_id: str | None = None,
        language: str | None = "auto",
        codec: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> int:
        """Like :meth:`create`, but write the audio to ``file`` as it arrives; return the
        number of bytes written.

        The file is created (or truncated) once the server has accepted the request, and
        written from a worker thread, so the event loop never waits on the disk. If the
        transfer fails or is cancelled part way, the file is removed: a file that exists
        afterwards holds the whole audio. Retries happen only before the first byte.

        Raises:
            TypeError, ValueError: as for :meth:`create`; nothing is sent.
            OSError: the file cannot be written.
            APIStatusError, APIConnectionError, APITimeoutError: as for any call.
        """
        body = _speech_body(text, voice_id, language, codec, extra_body)
        path = Path(file)
        response = await self._client.open_stream(
            "POST",
            "/tts",
            body=body,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
        )
        try:
            handle = await asyncio.to_thread(path.open, "wb")
        except BaseException:
            response.close()
            raise
        try:
            written = await copy_body(
                response, lambda piece: asyncio.to_thread(handle.write, piece)
            )
        except BaseException:
            await asyncio.shield(asyncio.to_thread(_discard, handle, path))
            raise
        await asyncio.to_thread(handle.close)
        return written


def _discard(handle: IO[bytes], path: Path) -> None:
    """Close and remove a file whose audio did not arrive whole."""
    handle.close()
    path.unlink(missing_ok=True)


async def _read_audio(file: AudioFile, filename: str | None) -> FilePart:
    """The upload of ``file``, its name from ``filename``, the path or the file object."""
    if isinstance(file, (bytes, bytearray, memoryview)):
        data, name = bytes(file), filename or "audio"
    elif isinstance(file, (str, os.PathLike)):
        path = Path(file)
        data, name = await asyncio.to_thread(path.read_bytes), filename or path.name
    elif hasattr(file, "read"):
        data = await asyncio.to_thread(file.read)
        if not isinstance(data, bytes):
            raise TypeError(
                "file must be opened in binary mode ('rb'): its read() returned "
                f"{type(data).__name__}, not bytes"
            )
        name = filename or Path(str(getattr(file, "name", "audio"))).name
    else:
        raise TypeError(
            f"file must be a path, bytes or a binary file object, not {type(file).__name__}"
        )
    if not data:
        raise ValueError("the audio file is empty: there is nothing to transcribe")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FilePart(data, name, content_type)


class Transcriptions:
    """``client.audio.transcriptions``: speech to text."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def create(
        self,
        *,
        file: AudioFile,
        language: str | None = None,
        diarize: bool = False,
        filename: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_fields: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> Transcription:
        """Transcribe an audio file: ``result.text``, and ``result.words`` with timings.

        ``file`` is a path, the file's bytes, or a binary file object (read in a worker
        thread); ``filename`` overrides the name sent (it also gives the media type).
        ``language`` (a code such as ``"en"``; None: detected) and ``diarize=True`` (label
        each word with its speaker) are sent only when set; ``extra_fields`` adds other
        form fields. The upload goes as ``multipart/form-data``, the file last.

        Raises:
            TypeError, ValueError: ``file`` is not a path, bytes or binary file, or is
                empty; nothing is sent.
            OSError: the file cannot be read.
            BadRequestError: the server cannot read the audio.
            APIStatusError, APIConnectionError, APITimeoutError: as for any call.
        """
        upload = await _read_audio(file, filename)
        fields: list[tuple[str, str | FilePart]] = []
        if language is not None:
            fields.append(("language", language))
        if diarize:
            fields.append(("diarize", "true"))
        fields.extend((extra_fields or {}).items())
        fields.append(("file", upload))
        body, content_type = encode_multipart(fields)
        return await self._client.request(
            "POST",
            "/stt",
            body=body,
            extra_headers={**(extra_headers or {}), "Content-Type": content_type},
            timeout=timeout,
            max_retries=max_retries,
            decode=lambda reply: decode_object(reply, Transcription),
        )


class Audio:
    """``client.audio``: ``speech`` (text to speech) and ``transcriptions`` (speech to
    text)."""

    def __init__(self, client: Requester) -> None:
        self.speech = Speech(client)
        self.transcriptions = Transcriptions(client)
