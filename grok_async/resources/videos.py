"""``client.videos``: generate, edit and extend videos, and wait for them.

A video takes from tens of seconds to minutes, so each request only starts a job: ``POST
/v1/videos/generations`` (or ``/edits``, ``/extensions``) answers ``{"request_id"}`` at
once. ``GET /v1/videos/{request_id}`` then answers 202 ``{"status": "pending",
"progress": 18}`` while the job runs, and 200 once it is over: ``done`` with the video's
URL and cost, or ``failed``/``expired`` with an error. Unlike a deferred chat completion,
the result can be read again.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .._errors import APITimeoutError, VideoGenerationError
from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutTypes
from ..types.videos import VideoResult
from ._decode import decode_object, job_id, path_segment
from ._media import MediaInput, MediaResource, media_list, media_object
from ._polling import check_wait, poll_until

if TYPE_CHECKING:
    from .._response import HTTPResponse

__all__ = ["MediaInput", "VideoGenerationError", "VideoJob", "Videos"]

# A 1-second 480p video took about 28 s; longer, sharper ones take minutes.
DEFAULT_VIDEO_WAIT_TIMEOUT = 900.0
# Videos are never ready in under a second: polling faster would only spend requests.
DEFAULT_VIDEO_POLL_INTERVAL = 1.0
DEFAULT_VIDEO_MAX_POLL_INTERVAL = 5.0

#: What ``wait(on_progress=...)`` calls with each poll's result: a function or a coroutine
#: function.
ProgressCallback = Callable[[VideoResult], "Awaitable[object] | object"]


def _body(prompt: object, **optional: Any) -> dict[str, Any]:
    """The JSON body: parameters left at None are not sent."""
    if prompt is not None and not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
    duration = optional.get("duration")
    if duration is not None and (not isinstance(duration, int) or isinstance(duration, bool)):
        raise TypeError(f"duration must be an int (seconds), not {type(duration).__name__}")
    upload_url = optional.pop("upload_url", None)
    if upload_url is not None:
        optional["output"] = {"upload_url": upload_url}
    body = {key: value for key, value in optional.items() if value is not None}
    if prompt is not None:
        body = {"prompt": prompt, **body}
    return body


def _decode_result(reply: HTTPResponse) -> VideoResult:
    """A poll's answer. A 202 may come with ``{"status", "progress"}`` or empty."""
    if reply.status == 202 and not reply.body.strip():
        result = VideoResult()
        result.request_id = reply.request_id
        return result
    return decode_object(reply, VideoResult)


@attrs.frozen
class VideoJob:
    """A started video job: keep its ``request_id``, collect the video later.

    Returned by ``client.videos.generate()``, ``edit()`` and ``extend()``::

        job = await client.videos.generate(prompt="A lighthouse at dusk", model=...)
        result = await job.wait(on_progress=lambda r: print(r.progress, "%"))
        print(result.video.url, result.usage.cost_usd)

    The id alone is enough to collect the video from elsewhere with
    ``client.videos.retrieve(request_id)`` or ``wait(request_id)``.
    """

    #: The job's id (not an ``x-request-id``).
    request_id: str
    _videos: Videos = attrs.field(repr=False, eq=False, alias="videos")

    async def retrieve(
        self,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> VideoResult:
        """The job's state now: see :meth:`Videos.retrieve`."""
        return await self._videos.retrieve(
            self.request_id, extra_headers=extra_headers, timeout=timeout, max_retries=max_retries
        )

    async def wait(
        self,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = DEFAULT_VIDEO_WAIT_TIMEOUT,
        interval: float = DEFAULT_VIDEO_POLL_INTERVAL,
        max_interval: float = DEFAULT_VIDEO_MAX_POLL_INTERVAL,
        extra_headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> VideoResult:
        """Poll until the video is done: see :meth:`Videos.wait`."""
        return await self._videos.wait(
            self.request_id,
            on_progress=on_progress,
            timeout=timeout,
            interval=interval,
            max_interval=max_interval,
            extra_headers=extra_headers,
            max_retries=max_retries,
        )


class Videos(MediaResource):
    """``client.videos``"""

    async def generate(
        self,
        *,
        prompt: str | None = None,
        model: str | None = None,
        duration: int | None = None,
        aspect_ratio: str | None = None,
        resolution: str | None = None,
        image: MediaInput | None = None,
        reference_images: Iterable[MediaInput] | None = None,
        upload_url: str | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> VideoJob:
        """Start making a video from ``prompt`` (and/or a first-frame ``image``, or
        ``reference_images`` for style and content).

        ``duration`` is in seconds (1 to 15; the server's default is 8), ``aspect_ratio``
        e.g. ``"16:9"``, ``resolution`` ``"480p"``, ``"720p"`` or ``"1080p"``. An image is
        a URL (``https://...`` or ``data:image/...;base64,...``) or ``{"url": ...}`` /
        ``{"file_id": ...}``. ``upload_url``: a signed URL the server PUTs the video to.
        ``None`` means "not sent". Returns at once with the job: ``await job.wait()``.

        Raises:
            TypeError: ``prompt`` is not a string, ``duration`` not an int, or an image is
                neither a URL nor a mapping.
            BadRequestError, UnprocessableEntityError: the server refused a parameter.
            NotFoundError: unknown model.
            APIStatusError, APIConnectionError, APITimeoutError: as for any call.
        """
        body = _body(
            prompt,
            model=model,
            duration=duration,
            aspect_ratio=aspect_ratio,
            resolution=resolution,
            image=None if image is None else media_object(image, "image"),
            reference_images=(
                None
                if reference_images is None
                else media_list(reference_images, "reference_images", "reference_images")
            ),
            upload_url=upload_url,
            user=user,
        )
        return await self._post(
            "/videos/generations", body, self._job, extra_headers, extra_body, timeout, max_retries
        )

    async def edit(
        self,
        *,
        prompt: str,
        video: MediaInput,
        model: str | None = None,
        upload_url: str | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> VideoJob:
        """Start editing ``video`` as ``prompt`` says (``POST /v1/videos/edits``).

        ``video`` is an ``.mp4`` URL (or ``data:`` URL), or ``{"url": ...}`` /
        ``{"file_id": ...}``. The other arguments are those of :meth:`generate`.

        Raises:
            TypeError: ``prompt`` is not a string, or ``video`` neither a URL nor a mapping.
            APIStatusError, APIConnectionError, APITimeoutError: as for :meth:`generate`.
        """
        if prompt is None:
            raise TypeError("edit() needs a prompt saying what to change")
        body = _body(
            prompt,
            video=media_object(video, "video"),
            model=model,
            upload_url=upload_url,
            user=user,
        )
        return await self._post(
            "/videos/edits", body, self._job, extra_headers, extra_body, timeout, max_retries
        )

    async def extend(
        self,
        *,
        prompt: str,
        video: MediaInput,
        duration: int | None = None,
        model: str | None = None,
        upload_url: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> VideoJob:
        """Start continuing ``video`` (2 to 30 seconds long) with what ``prompt`` says
        happens next (``POST /v1/videos/extensions``); ``duration`` is the new segment's
        length in seconds (1 to 10; the server's default is 6).

        Raises:
            TypeError: ``prompt`` is not a string, ``duration`` not an int, or ``video``
                neither a URL nor a mapping.
            APIStatusError, APIConnectionError, APITimeoutError: as for :meth:`generate`.
        """
        if prompt is None:
            raise TypeError("extend() needs a prompt saying what happens next")
        body = _body(
            prompt,
            video=media_object(video, "video"),
            duration=duration,
            model=model,
            upload_url=upload_url,
        )
        return await self._post(
            "/videos/extensions", body, self._job, extra_headers, extra_body, timeout, max_retries
        )

    async def retrieve(
        self,
        request_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> VideoResult:
        """The job's state now (``GET /v1/videos/{request_id}``): ``status`` ``pending``
        with its ``progress``, or its end (``done``, ``failed``, ``expired``).

        Raises:
            NotFoundError: no job has this id.
            ValueError: ``request_id`` is empty, ``"."`` or ``".."``; nothing is sent.
            APIStatusError, APIConnectionError, APITimeoutError: as for any call.
        """
        return await self._client.request(
            "GET",
            "/videos/" + path_segment(request_id, "request_id"),
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=_decode_result,
        )

    async def wait(
        self,
        request_id: str,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = DEFAULT_VIDEO_WAIT_TIMEOUT,
        interval: float = DEFAULT_VIDEO_POLL_INTERVAL,
        max_interval: float = DEFAULT_VIDEO_MAX_POLL_INTERVAL,
        extra_headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> VideoResult:
        """Poll :meth:`retrieve` until the job is over; return it once ``done``.

        ``on_progress`` (a function or a coroutine function) gets every poll's
        :class:`VideoResult`, the last one included, e.g. to show ``result.progress``; an
        exception it raises ends the wait. Polls back off as ``chat.deferred.wait()``'s
        do: the first at once, then ``interval`` seconds growing by half up to
        ``max_interval``, each pause jittered. ``timeout`` (seconds, None for no limit)
        bounds the wait as there: the job goes on on the server, so ``wait`` again with
        the same id to pick it up. Cancelling the waiting task stops the polling at once.

        Raises:
            VideoGenerationError: the job ``failed`` or ``expired``; ``.result`` holds it.
            APITimeoutError: not done within ``timeout``; the message names the id and the
                last progress.
            NotFoundError: no job has this id.
            ValueError: a bad id, an interval that is not a positive number, or a negative
                or infinite ``timeout``; nothing is sent.
        """
        path_segment(request_id, "request_id")  # a bad id fails before any wait
        check_wait(timeout, interval, max_interval)
        last: list[VideoResult] = []

        async def poll(poll_timeout: TimeoutTypes | NotGiven) -> VideoResult | None:
            result = await self.retrieve(
                request_id,
                extra_headers=extra_headers,
                timeout=poll_timeout,
                max_retries=max_retries,
            )
            last[:] = [result]
            if on_progress is not None:
                outcome = on_progress(result)
                if inspect.isawaitable(outcome):
                    await outcome
            if result.status == "done":
                return result
            if result.finished:
                raise VideoGenerationError(request_id, result)
            return None

        def late(polls: int) -> APITimeoutError:
            progress = last[0].progress if last else None
            return APITimeoutError(
                f"Video job {request_id!r} was not done after {timeout:g} s "
                f"({polls} polls, last progress {progress}%). It goes on on "
                "the server: call client.videos.wait() or retrieve() with this id again."
            )

        return await poll_until(
            poll,
            self._client.timeout,
            timeout=timeout,
            interval=interval,
            max_interval=max_interval,
            late=late,
        )

    def _job(self, reply: HTTPResponse) -> VideoJob:
        """The job a start's answer names."""
        return VideoJob(job_id(reply, "video"), videos=self)
