"""Videos: start a job (generate, edit, extend), poll it, wait for it with progress."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from grok_async import (
    APIResponseValidationError,
    APITimeoutError,
    AsyncGrok,
    BadRequestError,
    NotFoundError,
    UnprocessableEntityError,
    VideoGenerationError,
    VideoGenerationModel,
    VideoJob,
    VideoResult,
)
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY, LocalServer, wait_until

VIDEO = "https://example.com/clip.mp4"


def client_for(fake: FakeGrok | LocalServer, **options: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)


def polls(fake: FakeGrok) -> list[str]:
    return [r.path for r in fake.requests if r.method == "GET" and r.path.startswith("/v1/videos/")]


@pytest.mark.fake_grok(video_delay=0.3)
async def test_wait_polls_until_done_reporting_progress(fake_grok: FakeGrok) -> None:
    """``wait()`` polls while the job is pending (202 with a progress), hands every poll's
    result to ``on_progress`` (the last, done one too) and returns the video with its
    cost in dollars."""
    seen: list[tuple[str, int]] = []
    async with client_for(fake_grok) as client:
        job = await client.videos.generate(
            prompt="A lighthouse at dusk", duration=2, resolution="720p"
        )
        result = await job.wait(
            on_progress=lambda r: seen.append((r.status, r.progress)), interval=0.05
        )
        async with aiohttp.ClientSession() as session:
            assert result.video is not None and result.video.url is not None
            async with session.get(result.video.url) as download:
                data = await download.read()
    assert isinstance(job, VideoJob)
    assert repr(job) == f"VideoJob(request_id={job.request_id!r})"
    assert isinstance(result, VideoResult)
    assert (result.status, result.progress, result.finished) == ("done", 100, True)
    assert result.model == "grok-imagine-video"
    assert result.video.duration == 2
    # 2 s at 720p: twice the model's $0.05 per second of 480p, twice over.
    assert result.usage is not None
    assert result.usage.cost_usd == pytest.approx(0.2)
    assert data[4:8] == b"ftyp"
    assert len(seen) == len(polls(fake_grok)) >= 2
    assert seen[-1] == ("done", 100)
    pending = [progress for status, progress in seen[:-1]]
    assert all(status == "pending" for status, _ in seen[:-1])
    assert pending == sorted(pending) and all(0 <= p <= 99 for p in pending)
    assert fake_grok.stats.responses_by_status[202] == len(seen) - 1


async def test_a_coroutine_progress_callback_is_awaited(fake_grok: FakeGrok) -> None:
    """``on_progress`` may be a coroutine function; its awaitable is awaited each poll."""
    seen: list[int] = []

    async def report(result: VideoResult) -> None:
        await asyncio.sleep(0)
        seen.append(result.progress)

    async with client_for(fake_grok) as client:
        job = await client.videos.generate(prompt="Waves")
        await client.videos.wait(job.request_id, on_progress=report)
    assert seen == [100]


async def test_a_failing_progress_callback_ends_the_wait(fake_grok: FakeGrok) -> None:
    """An exception from ``on_progress`` propagates: the caller decides to stop."""

    class Enough(Exception):
        pass

    def stop(result: VideoResult) -> None:
        raise Enough(result.status)

    async with client_for(fake_grok) as client:
        job = await client.videos.generate(prompt="Waves")
        with pytest.raises(Enough, match="done"):
            await job.wait(on_progress=stop)


async def test_a_failed_job_raises_with_its_error(fake_grok: FakeGrok) -> None:
    """A job that ends ``failed`` raises VideoGenerationError with the server's code and
    text, and the final result."""
    async with client_for(fake_grok) as client:
        job = await client.videos.generate(prompt="A [fail] lighthouse")
        with pytest.raises(VideoGenerationError) as caught:
            await job.wait()
        again = await job.retrieve()  # a video's result can be read again
    error = caught.value
    assert error.job_id == job.request_id
    assert error.code == "internal_error"
    assert error.result.status == "failed"
    assert "[fail]" in str(error) and job.request_id in str(error)
    assert again.status == "failed" and again.error is not None


@pytest.mark.fake_grok(video_delay=30)
async def test_a_wait_past_its_timeout_says_how_far_it_got(fake_grok: FakeGrok) -> None:
    """``timeout`` bounds the wait: APITimeoutError names the job and its last progress;
    the job carries on (a later poll still finds it pending)."""
    async with client_for(fake_grok) as client:
        job = await client.videos.generate(prompt="Slow clouds")
        started = asyncio.get_running_loop().time()
        with pytest.raises(APITimeoutError, match=job.request_id) as caught:
            await job.wait(timeout=0.3, interval=0.05)
        elapsed = asyncio.get_running_loop().time() - started
        later = await job.retrieve()
    assert 0.3 <= elapsed < 2
    assert re.search(r"last progress \d%", str(caught.value))
    assert later.status == "pending"


@pytest.mark.fake_grok(video_delay=30)
async def test_cancelling_a_wait_stops_the_polling(fake_grok: FakeGrok) -> None:
    """Cancelling the waiting task ends it at once, and no poll follows."""
    async with client_for(fake_grok) as client:
        job = await client.videos.generate(prompt="Slow clouds")
        task = asyncio.create_task(job.wait(interval=0.05, max_interval=0.05))
        assert await wait_until(lambda: len(polls(fake_grok)) >= 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.1)  # a poll sent just before the cancel may still land
        count = len(polls(fake_grok))
        await asyncio.sleep(0.3)  # several intervals: a live wait would poll again
    assert len(polls(fake_grok)) == count


async def test_edit_and_extend_send_the_input_video(fake_grok: FakeGrok) -> None:
    """``edit`` and ``extend`` send the video as ``{"url": ...}`` (or a mapping as given),
    only the parameters set, and return jobs that finish."""
    async with client_for(fake_grok) as client:
        edited = await client.videos.edit(prompt="Add snow", video=VIDEO)
        extended = await client.videos.extend(
            prompt="Zoom out", video={"file_id": "file-1"}, duration=3, upload_url="https://u"
        )
        results = [await edited.wait(), await extended.wait()]
    posts = [r for r in fake_grok.requests if r.method == "POST"]
    assert [(r.path, r.json) for r in posts] == [
        ("/v1/videos/edits", {"prompt": "Add snow", "video": {"url": VIDEO}}),
        (
            "/v1/videos/extensions",
            {
                "prompt": "Zoom out",
                "video": {"file_id": "file-1"},
                "duration": 3,
                "output": {"upload_url": "https://u"},
            },
        ),
    ]
    assert [r.video.duration for r in results if r.video is not None] == [8, 3]


async def test_generate_sends_images_as_objects(fake_grok: FakeGrok) -> None:
    """A first-frame image and reference images go as ``{"url": ...}`` objects; with an
    image the prompt may be left out."""
    async with client_for(fake_grok) as client:
        await client.videos.generate(
            image="https://example.com/a.png",
            reference_images=["https://example.com/b.png", {"file_id": "file-2"}],
            aspect_ratio="9:16",
        )
    assert fake_grok.last_request.json == {
        "image": {"url": "https://example.com/a.png"},
        "reference_images": [{"url": "https://example.com/b.png"}, {"file_id": "file-2"}],
        "aspect_ratio": "9:16",
    }


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param({"prompt": 5}, TypeError, "prompt must be a str", id="prompt"),
        pytest.param({"duration": 2.5}, TypeError, "duration must be an int", id="duration"),
        pytest.param({"duration": True}, TypeError, "duration must be an int", id="bool"),
        pytest.param({"image": 3}, TypeError, "image must be a URL", id="image"),
        pytest.param(
            {"reference_images": "https://x/a.png"}, TypeError, "list of images", id="refs"
        ),
    ],
)
async def test_bad_arguments_are_refused_before_sending(
    fake_grok: FakeGrok, call: dict[str, Any], error: type[Exception], match: str
) -> None:
    """Wrong types raise a clear error and send nothing."""
    async with client_for(fake_grok) as client:
        with pytest.raises(error, match=match):
            await client.videos.generate(**{"prompt": "x", **call})
        with pytest.raises(TypeError, match="video must be a URL"):
            await client.videos.edit(prompt="x", video=["a"])  # type: ignore[arg-type]
        for bad in ("", "..", "."):
            with pytest.raises(ValueError, match="request_id"):
                await client.videos.wait(bad)
        with pytest.raises(ValueError, match="interval"):
            await client.videos.wait("job", interval=0)
        with pytest.raises(ValueError, match="timeout"):
            await client.videos.wait("job", timeout=float("inf"))
    assert fake_grok.requests == []


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param({"duration": 16}, BadRequestError, "between 1 and 15", id="duration"),
        pytest.param({"resolution": "4k"}, UnprocessableEntityError, "4k", id="resolution"),
        pytest.param({"model": "grok-4"}, BadRequestError, "cannot make videos", id="chat-model"),
        pytest.param({"model": "nope"}, NotFoundError, "nope", id="unknown-model"),
        pytest.param({"prompt": None}, UnprocessableEntityError, "prompt", id="no-prompt"),
    ],
)
async def test_the_server_refusals_raise_their_errors(
    fake_grok: FakeGrok, call: dict[str, Any], error: type[Exception], match: str
) -> None:
    """Values the emulator (like xAI) refuses raise the status's error with its text."""
    async with client_for(fake_grok, max_retries=0) as client:
        with pytest.raises(error, match=match):
            await client.videos.generate(**{"prompt": "x", **call})


async def test_an_unknown_job_is_not_found(fake_grok: FakeGrok) -> None:
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError, match="no-such-job"):
            await client.videos.retrieve("no-such-job")
        with pytest.raises(NotFoundError):
            await client.videos.wait("no-such-job")


async def test_a_pending_poll_with_an_empty_body_is_pending(server: LocalServer) -> None:
    """The document describes the 202 without a body: an empty one reads as pending with
    no progress, and the wait goes on until the 200."""
    answers = iter(
        [
            web.Response(status=202),
            web.json_response({"status": "pending", "progress": 40}, status=202),
            web.json_response({"status": "done", "progress": 100, "video": {"url": "u"}}),
        ]
    )

    async def handler(request: web.Request) -> web.StreamResponse:
        return next(answers)

    server.handler = handler
    seen: list[tuple[str, int]] = []
    async with client_for(server) as client:
        result = await client.videos.wait(
            "job-1", interval=0.01, on_progress=lambda r: seen.append((r.status, r.progress))
        )
    assert seen == [("pending", 0), ("pending", 40), ("done", 100)]
    assert result.video is not None and result.video.url == "u"
    assert [r["path"] for r in server.requests] == ["/v1/videos/job-1"] * 3


async def test_an_expired_job_raises(server: LocalServer) -> None:
    """``expired`` ends a wait like ``failed`` (the error may be missing)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "expired", "progress": 0})

    server.handler = handler
    async with client_for(server) as client:
        with pytest.raises(VideoGenerationError, match="expired") as caught:
            await client.videos.wait("job-1")
    assert caught.value.code is None


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(lambda c: c.videos.generate(prompt="x"), id="generate"),
        pytest.param(lambda c: c.videos.edit(prompt="x", video="https://x/v.mp4"), id="edit"),
        pytest.param(lambda c: c.videos.extend(prompt="x", video="https://x/v.mp4"), id="extend"),
    ],
)
async def test_a_start_answer_without_request_id_is_a_validation_error(
    server: LocalServer, start: Callable[[AsyncGrok], Awaitable[VideoJob]]
) -> None:
    """A start must answer with the job's request_id; anything else fails the call, once."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"request_id": ""})

    server.handler = handler
    async with client_for(server) as client:
        with pytest.raises(APIResponseValidationError, match=r"video request .* request_id"):
            await start(client)
    assert len(server.requests) == 1


async def test_video_models_are_listed_and_looked_up(fake_grok: FakeGrok) -> None:
    async with client_for(fake_grok) as client:
        models = await client.video_generation_models.list()
        model = await client.video_generation_models.retrieve("grok-imagine-video-latest")
        with pytest.raises(NotFoundError):
            await client.video_generation_models.retrieve("v1")
    assert [m.id for m in models] == ["grok-imagine-video"]
    assert isinstance(model, VideoGenerationModel)
    assert model.id == "grok-imagine-video"
    assert "video" in model.output_modalities
