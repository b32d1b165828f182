"""The emulator's speech endpoints: text to speech (``POST /v1/tts``) and speech to text
(``POST /v1/stt``, a multipart upload with the file last).

The emulator cannot speak or listen, so its "audio" is a file that starts like an MP3 (an
ID3 tag) and carries the spoken text inside; transcribing such a file gives the text back,
word by word with timings, so a test can go text → speech → text. Any other audio is
transcribed as a fixed sentence naming its size. Speech is streamed in pieces, about 1 KiB
per word, as a long real answer would be.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from email.message import Message
from typing import Any

import orjson
from aiohttp import web

from ._errors import error_response
from ._validation import InvalidRequest, parse_json_body, type_error

__all__ = ["SECONDS_PER_WORD", "Speech", "fake_audio", "parse_multipart"]

#: How long the emulator takes to say one word, in seconds.
SECONDS_PER_WORD = 0.4
# An ID3v2.4 header with an empty tag: what MP3 files start with.
_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00"
_MARK = b"FAKEGROK-SPEECH\n"
# One silent MPEG frame header and its body, repeated to give the audio a size.
_FRAME = b"\xff\xfb\x90\x64" + bytes(1020)
_WRITE_SIZE = 4096
_CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}


def fake_audio(text: str, voice: str | None, language: str) -> bytes:
    """The emulator's speech for ``text``: an ID3 header, the text, a frame per word."""
    spoken = orjson.dumps({"text": text, "voice": voice, "language": language})
    return _ID3 + _MARK + spoken + b"\n" + _FRAME * max(1, len(text.split()))


def _heard(audio: bytes) -> tuple[str, str | None]:
    """(text, language) of audio the emulator made, else a sentence naming its size."""
    if audio.startswith(_ID3 + _MARK):
        line = audio[len(_ID3 + _MARK) :].split(b"\n", 1)[0]
        try:
            spoken = orjson.loads(line)
            return str(spoken["text"]), str(spoken.get("language") or "auto")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            pass
    return f"FakeGrok heard {len(audio)} bytes of audio.", None


def parse_multipart(content_type: str, raw: bytes) -> list[tuple[str, str | None, bytes]]:
    """The parts of a ``multipart/form-data`` body as (name, filename, data), in order.

    Raises:
        InvalidRequest: not multipart, or malformed.
    """
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise InvalidRequest(415, "Expected request with `Content-Type: multipart/form-data`")
    delimiter = b"--" + boundary.encode("latin-1")
    sections = raw.split(b"\r\n" + delimiter)
    if not sections[0].startswith(delimiter) or not sections[-1].startswith(b"--"):
        raise InvalidRequest(400, "The multipart body is malformed: no closing boundary.")
    parts = []
    for section in [sections[0][len(delimiter) :], *sections[1:-1]]:
        head, separator, data = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise InvalidRequest(400, "The multipart body is malformed: a part has no headers.")
        headers = Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        field = headers.get_param("name", header="content-disposition")
        if not isinstance(field, str):
            raise InvalidRequest(400, "The multipart body is malformed: a part has no name.")
        filename = headers.get_param("filename", header="content-disposition")
        parts.append((field, filename if isinstance(filename, str) else None, data))
    return parts


def _words(text: str, diarize: bool) -> list[dict[str, Any]]:
    words: list[dict[str, Any]] = []
    # Each sentence a new speaker, when asked to tell speakers apart.
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
    for speaker, sentence in enumerate(sentences):
        for word in sentence.split():
            start = round(len(words) * SECONDS_PER_WORD, 2)
            item: dict[str, Any] = {
                "text": word,
                "start": start,
                "end": round(start + SECONDS_PER_WORD * 0.9, 2),
            }
            if diarize:
                item["speaker"] = speaker % 2
            words.append(item)
    return words


class Speech:
    """Answers ``/v1/tts`` and ``/v1/stt``."""

    async def tts(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/tts``: the fake audio, streamed in pieces."""
        try:
            body = parse_json_body(request.content_type, await request.read())
            text, voice, language, codec = self._speech_request(body)
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        audio = fake_audio(text, voice, language)
        response = web.StreamResponse(
            headers={"Content-Type": _CONTENT_TYPES.get(codec, "application/octet-stream")}
        )
        try:
            await response.prepare(request)
            for start in range(0, len(audio), _WRITE_SIZE):
                await response.write(audio[start : start + _WRITE_SIZE])
                await asyncio.sleep(0)  # let each piece go out on its own
            await response.write_eof()
        except ConnectionError:
            pass  # the client stopped listening, as it may
        return response

    async def stt(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/stt``: a transcription of the uploaded file."""
        try:
            parts = parse_multipart(request.headers.get("Content-Type", ""), await request.read())
            fields = {name: data for name, _, data in parts}
            if "file" not in fields:
                raise InvalidRequest(400, "The form has no `file` part with the audio.")
            if parts[-1][0] != "file":
                raise InvalidRequest(400, "The `file` part must come last in the form.")
            audio = fields["file"]
            if not audio:
                raise InvalidRequest(400, "The audio file is empty.")
            diarize = fields.get("diarize", b"false").decode().lower()
            if diarize not in ("true", "false"):
                raise InvalidRequest(400, f"diarize must be true or false, got {diarize!r}.")
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        text, heard_language = _heard(audio)
        language = fields["language"].decode() if "language" in fields else heard_language
        words = _words(text, diarize == "true")
        payload = {
            "text": text,
            "language": language if language not in (None, "auto") else "en",
            "duration": round(len(words) * SECONDS_PER_WORD, 2),
            "words": words,
        }
        return web.Response(body=orjson.dumps(payload), content_type="application/json")

    @staticmethod
    def _speech_request(body: Mapping[str, Any]) -> tuple[str, str | None, str, str]:
        text = body.get("text")
        if text is None:
            raise InvalidRequest(
                422,
                "Failed to deserialize the JSON body into the target type: missing field `text`",
            )
        if not isinstance(text, str):
            raise type_error("text", "a string")
        if not text.strip():
            raise InvalidRequest(400, "The text must not be empty.")
        voice = body.get("voice_id")
        if voice is not None and not isinstance(voice, str):
            raise type_error("voice_id", "a string")
        language = body.get("language", "auto")
        if not isinstance(language, str):
            raise type_error("language", "a string")
        output = body.get("output_format")
        codec = "mp3"
        if output is not None:
            if not isinstance(output, Mapping) or not isinstance(output.get("codec", "mp3"), str):
                raise type_error("output_format", "an object with a `codec` string")
            codec = output.get("codec", "mp3")
        return text, voice, language, codec
