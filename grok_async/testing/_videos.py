"""The emulator's video endpoints: jobs started by ``POST /v1/videos/generations``,
``/edits`` and ``/extensions``, polled at ``GET /v1/videos/{request_id}``, and the videos
themselves at ``/v1/fake-videos/{request_id}.mp4``.

A job runs for ``video_delay`` seconds (``FakeGrok(video_delay=...)``): until then a poll
answers 202 ``{"status": "pending", "progress": N}`` with N growing towards 99, as xAI's
does; afterwards 200 with the video, its cost and ``progress`` 100. A prompt containing
``[fail]`` makes the job end ``failed`` with an ``internal_error``, to test that path.
Requests are checked as xAI checks them: a shape error is 422, a value out of range 400, an
unknown model 404.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

import attrs
import orjson
from aiohttp import web

from ._catalog import Catalog, ModelInfo
from ._errors import error_response, model_not_found_message
from ._tickets import note_answer
from ._validation import InvalidRequest, kind_phrase, parse_json_body, type_error

__all__ = ["DEFAULT_VIDEO_MODEL", "FAIL_MARKER", "VIDEO_PATH", "VideoStudio"]

#: Where finished videos are served (no authentication: real video URLs are public).
VIDEO_PATH = "/v1/fake-videos/"
#: The model a video request without ``model`` uses.
DEFAULT_VIDEO_MODEL = "grok-imagine-video"
#: A prompt containing this makes the emulator's job fail.
FAIL_MARKER = "[fail]"
_ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")
_RESOLUTIONS = ("480p", "720p", "1080p")
# Sharper videos cost more: multiples of the model's 480p price per second.
_RESOLUTION_COST = {"480p": 1, "720p": 2, "1080p": 4}
# The duration an edited video keeps (the emulator cannot look at the input video).
_EDIT_DURATION = 8


@attrs.frozen
class _Job:
    model: ModelInfo
    duration: int
    resolution: str
    started: float
    failed: bool


def _missing(field: str) -> InvalidRequest:
    return InvalidRequest(
        422, f"Failed to deserialize the JSON body into the target type: missing field `{field}`"
    )


def _variant(body: Mapping[str, Any], field: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(field)
    if value is None:
        return default
    if value not in allowed:
        raise InvalidRequest(
            422,
            "Failed to deserialize the JSON body into the target type: "
            f"{field}: unknown variant {orjson.dumps(value).decode()}, expected one of "
            + ", ".join(f"`{a}`" for a in allowed),
        )
    return str(value)


def _duration(body: Mapping[str, Any], most: int, default: int) -> int:
    """``duration`` (an int, or a numeric string as the API also takes) within 1..most."""
    value = body.get("duration", default)
    if value is None:
        return default
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise type_error("duration", "an integer")
    if not 1 <= value <= most:
        raise InvalidRequest(400, f"duration must be between 1 and {most} seconds, got {value}.")
    return value


def _media(value: Any, field: str) -> None:
    """An input image or video: ``{"url": ...}`` or ``{"file_id": ...}``."""
    ref = (value.get("url") or value.get("file_id")) if isinstance(value, Mapping) else None
    if not isinstance(ref, str):
        raise type_error(field, "an object with a `url` or `file_id` string")


def _prompt(body: Mapping[str, Any], *, required: bool) -> str:
    prompt = body.get("prompt")
    if prompt is None:
        if required:
            raise _missing("prompt")
        return ""
    if not isinstance(prompt, str):
        raise type_error("prompt", "a string")
    if required and not prompt.strip():
        raise InvalidRequest(400, "The prompt must not be empty.")
    return prompt


def _mp4(request_id: str) -> bytes:
    """A tiny file that starts like an MP4 (an ``ftyp`` box), with the job id inside."""
    ftyp = b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2mp41"
    free = b"free" + request_id.encode()
    return (len(ftyp) + 4).to_bytes(4, "big") + ftyp + (len(free) + 4).to_bytes(4, "big") + free


class VideoStudio:
    """Starts, runs and serves the emulator's video jobs."""

    def __init__(self, catalog: Catalog, delay: float) -> None:
        self._catalog = catalog
        self._delay = delay
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    # -- handlers --------------------------------------------------------------------------

    async def generations(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/videos/generations``"""
        return await self._start(request, "generation")

    async def edits(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/videos/edits``"""
        return await self._start(request, "edit")

    async def extensions(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/videos/extensions``"""
        return await self._start(request, "extension")

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/videos/{request_id}``: 202 while pending, then the outcome."""
        request_id = request.match_info["request_id"]
        with self._lock:
            job = self._jobs.get(request_id)
        if job is None:
            return error_response(404, f"No video request with id {request_id} was found.")
        elapsed = time.monotonic() - job.started
        if elapsed < self._delay:
            progress = min(99, int(100 * elapsed / self._delay))
            return _json({"status": "pending", "progress": progress}, status=202)
        if job.failed:
            error = {
                "code": "internal_error",
                "message": f"Video generation failed: the prompt asked for it with {FAIL_MARKER}",
            }
            return _json({"status": "failed", "progress": 0, "error": error})
        ticks = job.model.video_price * job.duration * _RESOLUTION_COST[job.resolution]
        return _json(
            {
                "status": "done",
                "progress": 100,
                "model": job.model.id,
                "video": {
                    "url": f"{request.url.origin()}{VIDEO_PATH}{request_id}.mp4",
                    "duration": job.duration,
                    "respect_moderation": True,
                },
                "usage": {"cost_in_usd_ticks": ticks},
            }
        )

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/fake-videos/{name}``: the video of a finished job."""
        name = request.match_info["name"]
        request_id = name.removesuffix(".mp4")
        with self._lock:
            job = self._jobs.get(request_id)
        if job is None or job.failed or not name.endswith(".mp4"):
            return error_response(404, f"No video {name} was generated by this server.")
        return web.Response(body=_mp4(request_id), content_type="video/mp4")

    # -- the work --------------------------------------------------------------------------

    async def _start(self, request: web.Request, kind: str) -> web.StreamResponse:
        try:
            body = parse_json_body(request.content_type, await request.read())
            job = self._validate(body, kind)
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        request_id = str(uuid.uuid4())
        with self._lock:
            self._jobs[request_id] = job
        note_answer(request, None, charged=True)  # a video costs no tokens
        return _json({"request_id": request_id})

    def _validate(self, body: Mapping[str, Any], kind: str) -> _Job:
        model = self._model(body.get("model", DEFAULT_VIDEO_MODEL))
        for field in ("user",):
            if body.get(field) is not None and not isinstance(body[field], str):
                raise type_error(field, "a string")
        output = body.get("output")
        if output is not None and not (
            isinstance(output, Mapping) and isinstance(output.get("upload_url"), str)
        ):
            raise type_error("output", "an object with an `upload_url` string")
        if kind == "generation":
            image = body.get("image")
            references = body.get("reference_images")
            if image is not None:
                _media(image, "image")
            if references is not None:
                if not isinstance(references, list):
                    raise type_error("reference_images", "a sequence of image objects")
                for position, reference in enumerate(references):
                    _media(reference, f"reference_images[{position}]")
            # Image-to-video may go without a prompt; every other kind needs one.
            prompt = _prompt(body, required=image is None)
            duration = _duration(body, 15, 8)
            _variant(body, "aspect_ratio", _ASPECT_RATIOS, "16:9")
            resolution = _variant(body, "resolution", _RESOLUTIONS, "480p")
        else:
            prompt = _prompt(body, required=True)
            if body.get("video") is None:
                raise _missing("video")
            _media(body["video"], "video")
            duration = _duration(body, 10, 6) if kind == "extension" else _EDIT_DURATION
            resolution = "480p"
        return _Job(model, duration, resolution, time.monotonic(), FAIL_MARKER in prompt)

    def _model(self, name: Any) -> ModelInfo:
        if not isinstance(name, str):
            raise type_error("model", "a string")
        model = self._catalog.resolve(name)
        if model is None:
            raise InvalidRequest(404, model_not_found_message(name))
        if model.kind != "video":
            raise InvalidRequest(
                400, f"The model {model.id} is {kind_phrase(model)}; it cannot make videos."
            )
        return model


def _json(payload: Mapping[str, Any], status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json")
