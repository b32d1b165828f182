"""Deferred chat completions: start, poll (202 while pending), fetch once, wait with backoff."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from typing import Any

import pytest
from aiohttp import web

from grok_async import (
    APIResponseValidationError,
    APITimeoutError,
    AsyncGrok,
    ChatCompletion,
    DeferredCompletion,
    HookEvent,
    Hooks,
    NotFoundError,
    Timeout,
)
from grok_async._sentinels import NOT_GIVEN
from grok_async.resources.deferred import MIN_POLL_CONNECT, poll_pauses, poll_timeout
from grok_async.testing import FakeGrok, Reply

from .conftest import FAKE_KEY, LocalServer, completion_body

MESSAGES = [{"role": "user", "content": "Hi"}]


def client_for(fake: FakeGrok | LocalServer, **options: object) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)  # type: ignore[arg-type]


def deferred_polls(fake: FakeGrok) -> list[str]:
    return [r.path for r in fake.requests if r.path.startswith("/v1/chat/deferred-completion/")]


async def test_create_deferred_returns_a_handle_and_sends_the_flag() -> None:
    """deferred=True posts "deferred": true and returns a DeferredCompletion with the id."""
    async with FakeGrok(deferred_delay=5) as fake, client_for(fake) as client:
        handle = await client.chat.completions.create(
            model="grok-3", messages=MESSAGES, deferred=True
        )
    assert isinstance(handle, DeferredCompletion)
    assert handle.request_id
    assert fake.last_request.json is not None
    assert fake.last_request.json["deferred"] is True
    assert "stream" not in fake.last_request.json
    assert repr(handle) == f"DeferredCompletion(request_id={handle.request_id!r})"


async def test_get_is_none_while_pending_then_the_completion() -> None:
    """get() is None while the server answers 202, then the completion once it is done."""
    fake = FakeGrok(deferred_delay=0.3, replies=[Reply("later")])
    async with fake, client_for(fake) as client:
        handle = await client.chat.completions.create(
            model="grok-3", messages=MESSAGES, deferred=True
        )
        assert await handle.get() is None
        assert await client.chat.deferred.get(handle.request_id) is None
        await asyncio.sleep(0.35)
        completion = await handle.get()
    assert isinstance(completion, ChatCompletion)
    assert completion.choices[0].message.content == "later"
    assert completion.request_id  # the x-request-id of the fetching response
    assert fake.stats.responses_by_status[202] == 2
    assert fake.stats.responses_by_status[200] == 2  # the start and the fetch


async def test_a_result_can_be_fetched_only_once(fake_grok: FakeGrok) -> None:
    """The server hands a result out once: a second get() is a NotFoundError."""
    async with client_for(fake_grok) as client:
        handle = await client.chat.completions.create(
            model="grok-3", messages=MESSAGES, deferred=True
        )
        first = await client.chat.deferred.get(handle.request_id)
        with pytest.raises(NotFoundError) as info:
            await client.chat.deferred.get(handle.request_id)
    assert first is not None
    assert info.value.status_code == 404
    assert handle.request_id in str(info.value)


async def test_unknown_request_id_is_not_found(fake_grok: FakeGrok) -> None:
    """An id the server never issued: NotFoundError naming it, no retry."""
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError, match="no-such-id"):
            await client.chat.deferred.get("no-such-id")
        with pytest.raises(NotFoundError, match="no-such-id"):
            await client.chat.deferred.wait("no-such-id", timeout=5)
    assert len(deferred_polls(fake_grok)) == 2


async def test_request_ids_stay_one_path_segment(fake_grok: FakeGrok) -> None:
    """An id with a slash is escaped: it reaches the deferred lookup, not another path."""
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError, match="No deferred completion"):
            await client.chat.deferred.get("../../models")
    assert fake_grok.last_request.path == "/v1/chat/deferred-completion/../../models"


@pytest.mark.parametrize("request_id", [".", ".."])
async def test_dot_segment_request_ids_are_refused_before_sending(
    fake_grok: FakeGrok, request_id: str
) -> None:
    """ "." and ".." would be normalised away (GET /v1/chat/ instead of a poll): a
    ValueError naming request_id for get(), wait() and a handle, with nothing sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(ValueError, match=r"^request_id cannot be"):
            await client.chat.deferred.get(request_id)
        with pytest.raises(ValueError, match=r"^request_id cannot be"):
            await client.chat.deferred.wait(request_id)
        with pytest.raises(ValueError, match=r"^request_id cannot be"):
            await DeferredCompletion(request_id, deferred=client.chat.deferred).get()
    assert fake_grok.stats.requests == 0


async def test_empty_request_id_is_refused_before_sending(fake_grok: FakeGrok) -> None:
    """An empty id is a ValueError, for get() and wait() alike, with nothing sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(ValueError, match="request_id"):
            await client.chat.deferred.get("")
        with pytest.raises(ValueError, match="request_id"):
            await client.chat.deferred.wait("")
    assert fake_grok.stats.requests == 0


async def test_wait_polls_until_done() -> None:
    """wait() polls through the 202s and returns the completion once it is ready."""
    fake = FakeGrok(deferred_delay=0.4, replies=[Reply("done at last")])
    async with fake, client_for(fake) as client:
        handle = await client.chat.completions.create(
            model="grok-3", messages=MESSAGES, deferred=True
        )
        started = time.monotonic()
        completion = await handle.wait(timeout=10, interval=0.05, max_interval=0.1)
        elapsed = time.monotonic() - started
    assert completion.choices[0].message.content == "done at last"
    assert 0.3 <= elapsed < 2.0
    polls = deferred_polls(fake)
    assert len(polls) >= 3  # pending, pending, ..., done
    assert fake.stats.responses_by_status[202] == len(polls) - 1


async def test_wait_times_out_with_the_id_and_the_result_stays_collectable() -> None:
    """On timeout wait() raises APITimeoutError naming the id; the result can be collected
    later with the same id."""
    async with FakeGrok(deferred_delay=1.0) as fake, client_for(fake) as client:
        handle = await client.chat.completions.create(
            model="grok-3", messages=MESSAGES, deferred=True
        )
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            await client.chat.deferred.wait(handle.request_id, timeout=0.2, interval=0.05)
        elapsed = time.monotonic() - started
        assert handle.request_id in str(info.value)
        assert isinstance(info.value, TimeoutError)
        assert 0.2 <= elapsed < 0.9
        completion = await handle.wait(timeout=10, interval=0.05)
    assert completion.choices


async def test_wait_with_zero_timeout_polls_once(fake_grok: FakeGrok) -> None:
    """timeout=0 is one poll: the result if it is there already."""
    async with client_for(fake_grok) as client:
        handle = await client.chat.completions.create(
            model="grok-3", messages=MESSAGES, deferred=True
        )
        completion = await handle.wait(timeout=0)
    assert completion.choices
    assert len(deferred_polls(fake_grok)) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"interval": 0}, id="zero-interval"),
        pytest.param({"max_interval": -1}, id="negative-max-interval"),
        pytest.param({"timeout": -1}, id="negative-timeout"),
    ],
)
async def test_wait_refuses_nonsense_settings(fake_grok: FakeGrok, kwargs: dict[str, Any]) -> None:
    """Non-positive intervals or a negative timeout are ValueErrors, before any poll."""
    async with client_for(fake_grok) as client:
        with pytest.raises(ValueError, match="must be"):
            await client.chat.deferred.wait("some-id", **kwargs)
    assert fake_grok.stats.requests == 0


@pytest.mark.parametrize("timeout", [math.nan, math.inf, -math.inf])
async def test_wait_refuses_a_timeout_that_is_not_finite(
    fake_grok: FakeGrok, timeout: float
) -> None:
    """NaN compares false with everything, so it would never time out: non-finite timeouts
    are ValueErrors (None is "no limit"), before any poll."""
    async with client_for(fake_grok) as client:
        with pytest.raises(ValueError, match="finite"):
            await client.chat.deferred.wait("some-id", timeout=timeout)
    assert fake_grok.stats.requests == 0


@pytest.mark.parametrize("setting", ["interval", "max_interval"])
async def test_wait_refuses_an_interval_that_is_not_finite(
    fake_grok: FakeGrok, setting: str
) -> None:
    """A NaN or infinite interval would sleep nonsense: ValueError before any poll."""
    async with client_for(fake_grok) as client:
        for value in (math.nan, math.inf):
            kwargs: dict[str, Any] = {setting: value}
            with pytest.raises(ValueError, match="finite"):
                await client.chat.deferred.wait("some-id", **kwargs)
    assert fake_grok.stats.requests == 0


async def test_wait_with_zero_timeout_on_a_pending_completion_polls_once_and_times_out() -> None:
    """timeout=0 while the server still works: one poll (202), then APITimeoutError at
    once; the completion stays collectable."""
    async with FakeGrok(deferred_delay=0.3) as fake, client_for(fake) as client:
        handle = await client.chat.completions.create(
            model="grok-3", messages=MESSAGES, deferred=True
        )
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="1 polls"):
            await handle.wait(timeout=0)
        assert time.monotonic() - started < 0.25
        assert len(deferred_polls(fake)) == 1
        assert fake.stats.responses_by_status[202] == 1
        completion = await handle.wait(timeout=10, interval=0.05)
    assert completion.choices


def test_a_poll_connects_within_what_is_left_of_the_wait() -> None:
    """Each poll's connect limit shrinks to the time left (floored so the last poll can
    still connect); the read and total limits stay the client's, because a poll whose
    request was sent must not be cut off (its once-only result would be lost)."""
    client_default = Timeout(connect=5.0, read=900.0, total=None)
    assert poll_timeout(client_default, None) is NOT_GIVEN  # no deadline: the client's own
    assert poll_timeout(client_default, 30.0) is NOT_GIVEN  # more left than connect takes
    assert poll_timeout(client_default, 2.5) == Timeout(connect=2.5, read=900.0, total=None)
    assert poll_timeout(client_default, 0.0) == Timeout(
        connect=MIN_POLL_CONNECT, read=900.0, total=None
    )
    # A float client timeout is a total; it stays, only connect shrinks.
    assert poll_timeout(60.0, 2.0) == Timeout(connect=2.0, read=None, total=60.0)
    # "No limits" on the client: the wait's limit still bounds connecting.
    assert poll_timeout(None, 3.0) == Timeout(connect=3.0, read=None, total=None)


async def test_decoding_a_poll_is_part_of_the_call_for_hooks(server: LocalServer) -> None:
    """A finished poll whose body is not a completion fails inside the call, so on_error
    sees it; a good one carries its timings, like any completion."""
    errors: list[HookEvent] = []
    polls = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal polls
        polls += 1
        if polls == 1:
            return web.Response(status=202)
        if polls == 2:
            return web.Response(body=b"<html>oops</html>", content_type="text/html")
        return web.json_response(completion_body("fine"))

    server.handler = handler
    hooks = Hooks(on_error=errors.append)
    async with client_for(server, hooks=hooks, max_retries=0) as client:
        assert await client.chat.deferred.get("req-1") is None
        with pytest.raises(APIResponseValidationError):
            await client.chat.deferred.get("req-1")
        completion = await client.chat.deferred.get("req-1")
    assert [e.exception_type for e in errors] == [APIResponseValidationError]
    assert errors[0].path == "/chat/deferred-completion/req-1"
    assert completion is not None
    assert completion.timings is not None
    assert completion.timings.attempts == 1
    assert completion.timings.total is not None and completion.timings.total > 0


def test_poll_pauses_grow_to_the_cap_with_jitter() -> None:
    """Pauses start near interval, grow by half each time up to the cap, and are jittered
    between half and all of their step."""
    pauses = list(itertools.islice(poll_pauses(0.2, 1.0), 12))
    steps = [min(0.2 * 1.5**i, 1.0) for i in range(12)]
    assert all(step / 2 <= pause <= step for pause, step in zip(pauses, steps, strict=True))
    assert max(pauses) <= 1.0
    assert len(set(pauses)) > 1  # jittered, not a fixed schedule
    many = [next(poll_pauses(1.0, 1.0)) for _ in range(50)]
    assert min(many) < 0.9 and max(many) > 0.6  # spread over the jitter range


async def test_deferred_and_stream_together_is_refused(fake_grok: FakeGrok) -> None:
    """deferred=True with stream=True is a clear error; nothing is sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(ValueError, match="deferred=True cannot be combined with stream"):
            await client.chat.completions.create(
                model="grok-3",
                messages=MESSAGES,
                deferred=True,
                stream=True,
            )
    assert fake_grok.stats.requests == 0


async def test_deferred_false_is_a_normal_completion(fake_grok: FakeGrok) -> None:
    """deferred=False is not sent and the call is an ordinary completion."""
    async with client_for(fake_grok) as client:
        completion = await client.chat.completions.create(
            model="grok-3", messages=MESSAGES, deferred=False
        )
    assert isinstance(completion, ChatCompletion)
    assert fake_grok.last_request.json is not None
    assert "deferred" not in fake_grok.last_request.json


async def test_a_failed_poll_is_retried(server: LocalServer, no_backoff: list[float]) -> None:
    """A 503 on a poll is retried like any GET; the completion then arrives."""
    polls = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal polls
        if request.method == "POST":
            return web.json_response({"request_id": "req-1"})
        polls += 1
        if polls == 1:
            return web.Response(status=202)
        if polls == 2:
            return web.json_response({"code": "unavailable", "error": "busy"}, status=503)
        return web.json_response(completion_body("finally"))

    server.handler = handler
    async with client_for(server) as client:
        handle = await client.chat.completions.create(
            model="grok-3", messages=MESSAGES, deferred=True
        )
        completion = await handle.wait(timeout=10, interval=0.01)
    assert handle.request_id == "req-1"
    assert completion.choices[0].message.content == "finally"
    assert [r["path"] for r in server.requests[1:]] == ["/v1/chat/deferred-completion/req-1"] * 3


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"id": "x"}, id="no-request-id"),
        pytest.param({"request_id": ""}, id="empty-request-id"),
        pytest.param(["req"], id="not-an-object"),
    ],
)
async def test_a_start_answer_without_request_id_is_a_validation_error(
    server: LocalServer, body: object
) -> None:
    """The start of a deferred call must answer with a request_id."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(body)

    server.handler = handler
    async with client_for(server) as client:
        with pytest.raises(APIResponseValidationError, match="request_id"):
            await client.chat.completions.create(model="grok-3", messages=MESSAGES, deferred=True)
