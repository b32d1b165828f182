"""The local batch runner from Python: input checks, the output format, resume rules."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from grok_async import AsyncGrok, BatchInputError, QuotaExceededError
from grok_async.testing import FakeGrok, Fault

from .conftest import FAKE_KEY


def line(custom_id: str, text: str = "hi", **extra: Any) -> dict[str, Any]:
    body = {"model": "grok-4", "messages": [{"role": "user", "content": text}], "max_tokens": 16}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def write_input(path: Path, lines: list[Any]) -> Path:
    with path.open("w") as f:
        for item in lines:
            f.write((item if isinstance(item, str) else json.dumps(item)) + "\n")
    return path


def read_output(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    assert raw == b"" or raw.endswith(b"\n")
    return [orjson.loads(row) for row in raw.splitlines()]


def chat_requests(fake: FakeGrok) -> int:
    return sum(1 for r in fake.requests if r.path == "/v1/chat/completions")


def client_for(fake: FakeGrok) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, max_retries=0)


_CHAT = "/v1/chat/completions"
_BODY = {"model": "grok-4", "messages": [{"role": "user", "content": "x"}]}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        pytest.param("{not json", "not JSON", id="not-json"),
        pytest.param("[1, 2]", "not a JSON object", id="not-an-object"),
        pytest.param({"url": _CHAT, "body": _BODY}, "missing custom_id", id="no-custom-id"),
        pytest.param(
            {"custom_id": "", "url": _CHAT, "body": _BODY}, "custom_id must be", id="empty-id"
        ),
        pytest.param({"custom_id": "x", "body": _BODY}, "missing url", id="no-url"),
        pytest.param(
            {"custom_id": "x", "url": "/v1/embeddings", "body": _BODY},
            "unsupported url '/v1/embeddings'",
            id="unsupported-url",
        ),
        pytest.param(
            {"custom_id": "x", "method": "GET", "url": _CHAT, "body": _BODY},
            "method must be POST",
            id="method",
        ),
        pytest.param({"custom_id": "x", "url": _CHAT}, "missing body", id="no-body"),
        pytest.param(
            {"custom_id": "x", "url": _CHAT, "body": {"messages": _BODY["messages"]}},
            "body.model",
            id="no-model",
        ),
        pytest.param(
            {"custom_id": "x", "url": _CHAT, "body": {"model": "m", "messages": []}},
            "body.messages must be",
            id="no-messages",
        ),
        pytest.param(
            {"custom_id": "x", "url": _CHAT, "body": {"model": "m", "messages": [{"a": 1}]}},
            "body.messages[0]",
            id="message-without-role",
        ),
        pytest.param(
            {"custom_id": "x", "url": "/v1/responses", "body": {"model": "m"}},
            "body.input",
            id="responses-without-input",
        ),
        pytest.param(
            {"custom_id": "x", "url": _CHAT, "body": {**_BODY, "stream": True}},
            "stream",
            id="stream",
        ),
        pytest.param(
            {"custom_id": "x", "url": _CHAT, "body": {**_BODY, "temprature": 1}},
            "unknown parameter(s): temprature",
            id="unknown-parameter",
        ),
        pytest.param(line("q-0"), "duplicate custom_id 'q-0' (first on line 1)", id="duplicate"),
    ],
)
async def test_a_bad_line_is_reported_with_its_number_and_nothing_is_sent(
    fake_grok: FakeGrok, tmp_path: Path, bad: Any, reason: str
) -> None:
    """Each kind of bad line is named with its line number (blank lines count) and the
    reason, before any request is sent."""
    source = write_input(tmp_path / "in.jsonl", [line("q-0"), "", bad, line("q-9")])
    async with client_for(fake_grok) as client:
        with pytest.raises(BatchInputError) as caught:
            await client.batches.run_file(source, tmp_path / "out.jsonl")
    assert [(p.line, reason in p.reason) for p in caught.value.problems] == [(3, True)]
    assert str(caught.value).startswith(f"{source} has 1 bad line(s)")
    assert fake_grok.requests == []


async def test_every_request_gets_one_output_line_in_openai_batch_shape(
    fake_grok: FakeGrok, tmp_path: Path
) -> None:
    """Each custom_id gets one line ``{id, custom_id, response: {status_code, request_id,
    body}, error: null}`` whose body is the server's completion; a Responses line works too;
    the summary counts tokens and the cost from ``cost_in_usd_ticks``."""
    rows = [line(f"q-{i}", f"question {i}") for i in range(20)]
    rows.append(
        {"custom_id": "r-0", "url": "/v1/responses", "body": {"model": "grok-4", "input": "hi"}}
    )
    source = write_input(tmp_path / "in.jsonl", rows)
    async with client_for(fake_grok) as client:
        summary = await client.batches.run_file(source, tmp_path / "out.jsonl", concurrency=4)
    out = read_output(tmp_path / "out.jsonl")
    assert sorted(row["custom_id"] for row in out) == sorted(r["custom_id"] for r in rows)
    for row in out:
        assert set(row) == {"id", "custom_id", "response", "error"}
        assert row["error"] is None and row["id"].startswith("batch_req_")
        assert row["response"]["status_code"] == 200 and row["response"]["request_id"]
    by_id = {row["custom_id"]: row["response"]["body"] for row in out}
    assert by_id["q-3"]["object"] == "chat.completion"
    assert by_id["r-0"]["object"] == "response"
    assert (summary.succeeded, summary.failed, summary.skipped) == (21, 0, 0)
    assert summary.complete
    ticks = sum(body["usage"]["cost_in_usd_ticks"] for body in by_id.values())
    assert summary.cost_usd == pytest.approx(ticks / 1e10)
    assert summary.total_tokens == sum(body["usage"]["total_tokens"] for body in by_id.values())


async def test_a_rerun_sends_only_what_output_lacks(fake_grok: FakeGrok, tmp_path: Path) -> None:
    """Answered custom_ids are not sent again: a rerun of a finished file sends nothing,
    and after removing 3 lines it sends exactly those 3."""
    source = write_input(tmp_path / "in.jsonl", [line(f"q-{i}") for i in range(10)])
    output = tmp_path / "out.jsonl"
    async with client_for(fake_grok) as client:
        await client.batches.run_file(source, output)
        again = await client.batches.run_file(source, output)
        assert (again.skipped, again.succeeded) == (10, 0)
        assert chat_requests(fake_grok) == 10
        kept = output.read_bytes().splitlines(keepends=True)
        output.write_bytes(b"".join(kept[3:]))
        third = await client.batches.run_file(source, output)
    assert (third.skipped, third.succeeded) == (7, 3)
    assert chat_requests(fake_grok) == 13
    ids = [row["custom_id"] for row in read_output(output)]
    assert sorted(ids) == sorted(f"q-{i}" for i in range(10))


async def test_a_torn_last_line_is_dropped_and_its_request_sent_again(
    fake_grok: FakeGrok, tmp_path: Path
) -> None:
    """A last line cut mid-write (no newline: a crash while writing) is dropped, and that
    request runs again: its custom_id ends up in OUTPUT once, whole."""
    source = write_input(tmp_path / "in.jsonl", [line(f"q-{i}") for i in range(5)])
    output = tmp_path / "out.jsonl"
    async with client_for(fake_grok) as client:
        await client.batches.run_file(source, output)
        rows = output.read_bytes().splitlines(keepends=True)
        torn_id = orjson.loads(rows[-1])["custom_id"]
        output.write_bytes(b"".join(rows[:-1]) + rows[-1][: len(rows[-1]) // 2])
        summary = await client.batches.run_file(source, output)
    assert summary.dropped_torn_line
    assert (summary.skipped, summary.succeeded) == (4, 1)
    ids = [row["custom_id"] for row in read_output(output)]
    assert sorted(ids) == sorted(f"q-{i}" for i in range(5))
    assert ids[-1] == torn_id


def _fail_some(request: dict[str, Any]) -> Fault | None:
    return Fault.status(400) if "FAIL" in request["messages"][-1]["content"] else None


@pytest.mark.fake_grok(replies=_fail_some)
async def test_a_failed_request_is_one_line_with_its_error_until_retry_failed(
    fake_grok: FakeGrok, tmp_path: Path
) -> None:
    """A refused request gets one line with the server's status and an ``error``; a rerun
    leaves it alone; ``retry_failed`` sends just the failed ones again and replaces their
    lines, so each custom_id is still in OUTPUT once."""
    rows = [line("ok-1"), line("bad-1", "FAIL"), line("ok-2"), line("bad-2", "FAIL")]
    source = write_input(tmp_path / "in.jsonl", rows)
    output = tmp_path / "out.jsonl"
    async with client_for(fake_grok) as client:
        first = await client.batches.run_file(source, output)
        assert (first.succeeded, first.failed) == (2, 2)
        failed = {r["custom_id"]: r for r in read_output(output) if r["error"] is not None}
        assert set(failed) == {"bad-1", "bad-2"}
        assert failed["bad-1"]["response"]["status_code"] == 400
        assert failed["bad-1"]["error"]["message"]
        again = await client.batches.run_file(source, output)
        assert (again.skipped, again.succeeded + again.failed) == (4, 0)
        sent_before = chat_requests(fake_grok)
        retried = await client.batches.run_file(source, output, retry_failed=True)
    assert retried.retried_failed == 2
    assert chat_requests(fake_grok) - sent_before == 2
    ids = [row["custom_id"] for row in read_output(output)]
    assert sorted(ids) == ["bad-1", "bad-2", "ok-1", "ok-2"]


@pytest.mark.fake_grok(latency=0.05)
async def test_cancelling_a_run_leaves_whole_lines_and_a_rerun_finishes(
    fake_grok: FakeGrok, tmp_path: Path
) -> None:
    """Cancelled mid-run (what Ctrl-C does), OUTPUT holds only whole lines; a rerun
    completes it with every custom_id exactly once."""
    source = write_input(tmp_path / "in.jsonl", [line(f"q-{i}") for i in range(60)])
    output = tmp_path / "out.jsonl"
    async with client_for(fake_grok) as client:
        task = asyncio.create_task(client.batches.run_file(source, output, concurrency=4))
        for _ in range(1000):
            if output.exists() and len(output.read_bytes().splitlines()) >= 8:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        partial = read_output(output)
        assert 8 <= len(partial) < 60
        summary = await client.batches.run_file(source, output, concurrency=8)
    assert summary.skipped == len(partial) and summary.complete
    ids = [row["custom_id"] for row in read_output(output)]
    assert sorted(ids) == sorted(f"q-{i}" for i in range(60))


async def test_output_that_is_not_a_batch_output_is_refused(
    fake_grok: FakeGrok, tmp_path: Path
) -> None:
    """A complete OUTPUT line that is not an output line (the wrong file) stops the run
    with the line's number, and nothing is sent or overwritten."""
    source = write_input(tmp_path / "in.jsonl", [line("q-0")])
    output = tmp_path / "out.jsonl"
    output.write_text("hello\n")
    async with client_for(fake_grok) as client:
        with pytest.raises(ValueError, match="line 1 is not a batch output line"):
            await client.batches.run_file(source, output)
    assert output.read_text() == "hello\n"
    assert fake_grok.requests == []


@pytest.mark.fake_grok(quota_exhausted=True)
async def test_a_failure_every_request_would_share_stops_the_run(
    fake_grok: FakeGrok, tmp_path: Path
) -> None:
    """Out of credits (or a wrong key), the run stops at the first answer instead of
    writing every line as failed: OUTPUT stays empty, so a rerun sends them all."""
    source = write_input(tmp_path / "in.jsonl", [line(f"q-{i}") for i in range(50)])
    output = tmp_path / "out.jsonl"
    async with client_for(fake_grok) as client:
        with pytest.raises(QuotaExceededError):
            await client.batches.run_file(source, output, concurrency=2)
    assert output.read_bytes() == b""
    assert chat_requests(fake_grok) < 50


async def test_a_request_without_an_answer_gets_no_line_and_a_rerun_sends_it(
    tmp_path: Path,
) -> None:
    """A request the network failed (a reset, after its retries) is left out of OUTPUT,
    counted as unanswered; once the network is back, the same run sends just those."""
    outage = {"on": True}

    def drop_some(request: dict[str, Any]) -> Fault | None:
        dropped = "DROP" in request["messages"][-1]["content"]
        return Fault.reset() if outage["on"] and dropped else None

    rows = [line("a"), line("b", "DROP"), line("c"), line("d", "DROP")]
    source = write_input(tmp_path / "in.jsonl", rows)
    output = tmp_path / "out.jsonl"
    async with FakeGrok(replies=drop_some) as fake, client_for(fake) as client:
        first = await client.batches.run_file(source, output)
        assert (first.succeeded, first.failed, first.unanswered) == (2, 0, 2)
        assert not first.complete
        assert sorted(r["custom_id"] for r in read_output(output)) == ["a", "c"]
        outage["on"] = False
        second = await client.batches.run_file(source, output)
    assert (second.skipped, second.succeeded, second.unanswered) == (2, 2, 0)
    assert second.complete
    assert sorted(r["custom_id"] for r in read_output(output)) == ["a", "b", "c", "d"]


def test_digests_sorted_in_runs_find_members(monkeypatch: pytest.MonkeyPatch) -> None:
    """Digests sorted in small runs and merged (how OUTPUT's digests for ``batch results``
    keep their memory down) are in order and find every member and no stranger."""
    from array import array

    from grok_async import _batch_ids

    monkeypatch.setattr(_batch_ids, "_RUN", 4)
    ids = [f"id-{i}" for i in range(50)] + ["id-7", "id-33"]
    digests = _batch_ids.SortedDigests(array("Q", map(_batch_ids.id_digest, ids)))
    assert len(digests) == 52
    assert all(_batch_ids.id_digest(i) in digests for i in ids)
    assert _batch_ids.id_digest("stranger") not in digests


async def test_a_body_goes_in_the_shape_create_would_send(
    fake_grok: FakeGrok, tmp_path: Path
) -> None:
    """A chat body's ``stop`` string is sent as a list, as ``create()`` sends it (xAI takes
    an array); the rest of the body is sent as the file has it."""
    row = line("q-0")
    row["body"] = {**row["body"], "stop": "END", "seed": 7}
    source = write_input(tmp_path / "in.jsonl", [row])
    async with client_for(fake_grok) as client:
        summary = await client.batches.run_file(source, tmp_path / "out.jsonl")
    assert summary.succeeded == 1
    sent = fake_grok.last_request.json
    assert sent["stop"] == ["END"] and sent["seed"] == 7


async def test_a_responses_body_goes_in_the_shape_responses_create_would_send(
    fake_grok: FakeGrok, tmp_path: Path
) -> None:
    """A /v1/responses line with a chat-shaped function tool (as a user copies it from a
    chat request) is sent flat, as ``responses.create()`` sends it; a flat tool as it is."""
    chat_tool = {
        "type": "function",
        "function": {"name": "lookup", "description": "Look up", "parameters": None},
    }
    flat_tool = {"type": "function", "name": "other", "parameters": {"type": "object"}}
    row = {
        "custom_id": "r-0",
        "method": "POST",
        "url": "/v1/responses",
        "body": {"model": "grok-4", "input": "hi", "tools": [chat_tool, flat_tool]},
    }
    source = write_input(tmp_path / "in.jsonl", [row])
    async with client_for(fake_grok) as client:
        summary = await client.batches.run_file(source, tmp_path / "out.jsonl")
    assert summary.succeeded == 1
    sent = fake_grok.last_request.json
    assert sent["tools"][0] == {
        "type": "function",
        "name": "lookup",
        "description": "Look up",
        "parameters": {"type": "object", "properties": {}},
    }
    assert sent["tools"][1] == flat_tool
