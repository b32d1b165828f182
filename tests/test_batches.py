"""xAI's Batch API: typed resources against FakeGrok's batches, and the CLI around them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from grok_async import AsyncGrok, Batch, BatchInputError, BatchResult, ChatCompletion
from grok_async._batch_output import batch_result_line
from grok_async.resources._batch_api import AddWindow, add_chunks
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY


def request(i: int, text: str | None = None) -> dict[str, Any]:
    content = text if text is not None else f"question {i}"
    return {
        "custom_id": f"q-{i}",
        "body": {"model": "grok-4", "messages": [{"role": "user", "content": content}]},
    }


def client_for(fake: FakeGrok) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url)


@pytest.mark.fake_grok(batch_delay=0.2)
async def test_a_batch_runs_to_its_results_across_pages(fake_grok: FakeGrok) -> None:
    """Create, add 250 requests (one failing), see them pending, wait, then read every
    result across 3 pages of 100: completions typed, the failure with its error."""
    async with client_for(fake_grok) as client:
        batch = await client.batches.create(name="nightly")
        assert isinstance(batch, Batch) and batch.id and batch.name == "nightly"
        requests = [request(i, "BATCH_FAIL" if i == 7 else None) for i in range(250)]
        assert await client.batches.add(batch.id, requests) == 1
        pending = await client.batches.retrieve(batch.id)
        assert (pending.state.num_requests, pending.state.num_pending) == (250, 250)
        assert not pending.done
        done = await client.batches.wait(batch.id, poll_interval=0.05)
        assert done.done
        assert (done.state.num_success, done.state.num_error) == (249, 1)
        assert done.cost_usd is not None and done.cost_usd > 0
        before = len(fake_grok.requests)
        results = [r async for r in client.batches.results(batch.id)]
    pages = [r for r in fake_grok.requests[before:] if r.path.endswith("/results")]
    assert len(pages) == 3
    assert sorted(r.custom_id for r in results) == sorted(f"q-{i}" for i in range(250))
    failed = [r for r in results if r.error is not None]
    assert [r.custom_id for r in failed] == ["q-7"]
    assert failed[0].response is None and failed[0].error is not None
    assert failed[0].error.message
    ok = next(r for r in results if r.custom_id == "q-0")
    assert isinstance(ok.response, ChatCompletion) and ok.response.choices[0].message.content


def test_add_chunks_stay_under_the_size_limit_and_keep_every_request() -> None:
    """Requests are cut into add bodies each at most the byte limit, every request in
    exactly one, in order; a request over the limit on its own is refused."""
    requests = [request(i, "x" * 300) for i in range(100)]
    chunks = list(add_chunks(requests, max_bytes=5_000))
    assert len(chunks) > 5
    assert all(len(chunk) <= 5_000 for chunk in chunks)
    ids = [
        item["batch_request_id"]
        for chunk in chunks
        for item in orjson.loads(chunk)["batch_requests"]
    ]
    assert ids == [f"q-{i}" for i in range(100)]
    first = orjson.loads(chunks[0])["batch_requests"][0]
    assert first["batch_request"]["chat_get_completion"] == requests[0]["body"]
    with pytest.raises(ValueError, match="request 1 alone is over"):
        list(add_chunks([request(0, "x" * 10_000)], max_bytes=5_000))


@pytest.mark.parametrize(
    ("item", "error", "words"),
    [
        pytest.param({"body": request(0)["body"]}, ValueError, "request 1: custom_id", id="no-id"),
        pytest.param(
            {**request(0), "url": "/v1/responses"}, ValueError, "chat completions", id="responses"
        ),
        pytest.param(
            {"custom_id": "a", "body": {"model": "grok-4"}},
            BatchInputError,
            "body.messages",
            id="bad-body",
        ),
    ],
)
def test_add_refuses_a_bad_request_naming_it(
    item: dict[str, Any], error: type[Exception], words: str
) -> None:
    """A request add cannot send is refused with its position and the reason."""
    with pytest.raises(error, match=words):
        list(add_chunks([item]))


async def test_add_calls_are_held_to_the_call_rate_limit() -> None:
    """The add window lets N calls through per window, then waits for the oldest to age
    out (xAI allows 100 per 30 s; here 3 per 0.3 s)."""
    window = AddWindow(calls=3, window=0.3)
    started = time.monotonic()
    for _ in range(3):
        await window.wait()
    assert time.monotonic() - started < 0.1
    await window.wait()
    assert time.monotonic() - started >= 0.29


@pytest.mark.fake_grok(batch_delay=30)
async def test_cancel_ends_what_is_pending(fake_grok: FakeGrok) -> None:
    """Cancelling a batch marks its pending requests cancelled; then it is done."""
    async with client_for(fake_grok) as client:
        batch = await client.batches.create(name="c")
        await client.batches.add(batch.id, [request(i) for i in range(5)])
        with pytest.raises(TimeoutError, match="5 pending"):
            await client.batches.wait(batch.id, poll_interval=0.05, timeout=0.2)
        cancelled = await client.batches.cancel(batch.id)
        assert cancelled.state.num_cancelled == 5 and cancelled.done
        assert cancelled.cancel_time is not None
        assert [r async for r in client.batches.results(batch.id)] == []


async def test_list_pages_and_a_batch_from_an_uploaded_file(
    fake_grok: FakeGrok, tmp_path: Path
) -> None:
    """A batch made from an uploaded JSONL file holds its lines; listing walks pages."""
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps({**request(i), "method": "POST", "url": "/v1/chat/completions"}) + "\n"
            for i in range(3)
        )
    )
    async with client_for(fake_grok) as client:
        uploaded = await client.files.create(file=source)
        batch = await client.batches.create(name="from-file", input_file_id=uploaded.id)
        assert batch.state.num_requests == 3
        for name in ("b", "c"):
            await client.batches.create(name=name)
        names = [b.name async for b in client.batches.list(limit=2)]
        await client.batches.wait(batch.id, poll_interval=0.05)
        results = [r.custom_id async for r in client.batches.results(batch.id)]
    assert names == ["from-file", "b", "c"]
    creations = [
        r.time for r in fake_grok.requests if r.method == "POST" and r.path == "/v1/batches"
    ]
    # One creation per second (xAI's limit): three take at least two seconds.
    assert creations[-1] - creations[0] >= 1.9
    assert sorted(results) == ["q-0", "q-1", "q-2"]


def test_batch_api_results_map_to_the_runners_output_lines() -> None:
    """A Batch API result becomes a line of the local runner's format: a completion as
    ``response`` with status 200 and its body; an error as ``error`` with no response."""
    completion = ChatCompletion(id="c-1", model="grok-4", choices=[])
    ok = orjson.loads(batch_result_line(BatchResult("q-1", response=completion)))
    assert set(ok) == {"id", "custom_id", "response", "error"}
    assert ok["custom_id"] == "q-1" and ok["error"] is None
    assert ok["response"]["status_code"] == 200 and ok["response"]["body"]["id"] == "c-1"
    from grok_async import BatchRequestError

    failed = orjson.loads(
        batch_result_line(BatchResult("q-2", error=BatchRequestError("500", "boom")))
    )
    assert failed["response"] is None
    assert failed["error"] == {"code": "500", "message": "boom"}


def _cli(*args: str, fake: FakeGrok) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XAI_API_KEY", "XAI_BASE_URL")}
    env.update(XAI_API_KEY=FAKE_KEY, XAI_BASE_URL=fake.base_url)
    return subprocess.run(
        [sys.executable, "-m", "grok_async", "batch", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("via_file", [False, True], ids=["add-requests", "via-file"])
def test_cli_submit_status_results_write_the_runners_format(tmp_path: Path, via_file: bool) -> None:
    """`batch submit` creates the batch (adding the lines, or uploading the file),
    `status` shows progress and cost, `results -o` writes one line per custom_id in the
    runner's output shape, and running `results` again adds no duplicates."""
    source = tmp_path / "in.jsonl"
    lines = [{**request(i), "method": "POST", "url": "/v1/chat/completions"} for i in range(12)]
    lines[4] = {**request(4, "BATCH_FAIL"), "url": "/v1/chat/completions"}
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    output = tmp_path / "out.jsonl"
    with FakeGrok(batch_delay=0.1) as fake:
        submit = _cli(
            "submit", str(source), *(["--via-file"] if via_file else []), "--json", fake=fake
        )
        assert submit.returncode == 0, submit.stderr
        batch_id = json.loads(submit.stdout)["batch_id"]
        assert f"grok-async batch status {batch_id}" in submit.stderr
        time.sleep(0.2)
        status = _cli("status", batch_id, fake=fake)
        assert status.returncode == 0, status.stderr
        assert "done, 12/12 finished (11 ok, 1 failed, 0 pending), $" in status.stdout
        results = _cli("results", batch_id, "-o", str(output), fake=fake)
        assert results.returncode == 1  # one request failed: said on stderr, in one line
        assert "1 request(s) of" in results.stderr and "Traceback" not in results.stderr
        again = _cli("results", batch_id, "-o", str(output), "--json", fake=fake)
    rows = [orjson.loads(row) for row in output.read_bytes().splitlines()]
    assert sorted(r["custom_id"] for r in rows) == sorted(f"q-{i}" for i in range(12))
    assert all(set(r) == {"id", "custom_id", "response", "error"} for r in rows)
    failed = [r for r in rows if r["error"] is not None]
    assert [r["custom_id"] for r in failed] == ["q-4"]
    assert json.loads(again.stdout)["already_in_output"] == 12
    assert FAKE_KEY not in submit.stderr + status.stdout + results.stderr


def test_cli_submit_refuses_a_responses_line(tmp_path: Path) -> None:
    """The Batch API takes chat completions only: a /v1/responses line is named, exit 2."""
    source = tmp_path / "in.jsonl"
    row = {"custom_id": "r", "url": "/v1/responses", "body": {"model": "grok-4", "input": "x"}}
    source.write_text(json.dumps(row) + "\n")
    with FakeGrok() as fake:
        result = _cli("submit", str(source), fake=fake)
        assert not any(r.path == "/v1/batches" for r in fake.requests)
    assert result.returncode == 2
    assert "line 1" in result.stderr and "/v1/responses" in result.stderr


async def test_wait_checks_its_poll_interval(fake_grok: FakeGrok) -> None:
    """A poll interval that is not a positive number is refused before polling."""
    async with client_for(fake_grok) as client:
        with pytest.raises(ValueError, match="poll_interval"):
            await client.batches.wait("b", poll_interval=0)
    assert fake_grok.requests == []
