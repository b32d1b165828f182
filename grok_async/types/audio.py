"""Response models of speech to text (``POST /v1/stt``)."""

from __future__ import annotations

from typing import Any

from attrs import define, field

from ._base import WireModel

__all__ = ["Transcription", "TranscriptionWord"]


@define
class TranscriptionWord(WireModel):
    """One word with its time in the audio, in seconds from the start."""

    text: str = ""
    start: float | None = None
    end: float | None = None
    #: Who said it, with ``diarize=True``: the speaker's label as the server sends it.
    speaker: Any = None


@define
class Transcription(WireModel):
    """What was said: the whole ``text``, its ``language``, the audio's ``duration``
    (seconds) and every word with its timing (iterating gives ``words``)."""

    text: str = ""
    language: str | None = None
    duration: float | None = None
    words: list[TranscriptionWord] = field(factory=list)
    #: The ``x-request-id`` of the response; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)
