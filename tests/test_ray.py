"""grok_async.contrib.ray: completions over a Ray Data dataset, on a local Ray instance.

Marked ``ray`` (``nox -s scale``; deselected by ``nox -s tests``): Ray starts worker
processes. They reach a FakeGrok served from a thread of this process over 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grok_async import RedisRateLimiter
from grok_async.testing import FakeGrok, Fault

from .conftest import FAKE_KEY
from .redis_server import RedisServer, running_redis

ray = pytest.importorskip("ray", reason="needs Ray Data: pip install 'grok-async[ray]'")
pytest.importorskip("ray.data")
pa = pytest.importorskip("pyarrow")

from grok_async.contrib.ray import _CompletionWorker, map_completions, pending  # noqa: E402

pytestmark = [
    pytest.mark.ray,
    pytest.mark.timeout(300),
    # Ray warns about its own deprecated settings whenever its context is read.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

MODEL = "grok-4"


def chat(text: Any, **params: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **params}


def replies(body: dict[str, Any]) -> Fault | None:
    """Answers by default; a message saying "boom" gets a 500."""
    if body["messages"][0]["content"] == "boom":
        return Fault.status(500)
    return None


@pytest.fixture(scope="module")
def local_ray(request: pytest.FixtureRequest) -> Iterator[Any]:
    if "ray" not in request.config.getoption("markexpr", ""):
        # Starting Ray takes seconds and processes: only runs that ask for it (-m ray).
        pytest.skip("Ray tests run only when selected: pytest -m ray (nox -s scale)")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGrok]:
    with FakeGrok(replies=replies) as server:
        yield server


@pytest.fixture
def options(fake: FakeGrok, local_ray: Any) -> dict[str, Any]:
    """map_completions arguments pointing at the fake, without retries of 5xx."""
    fake.reset()
    return {
        "api_key": FAKE_KEY,
        "base_url": fake.base_url,
        "max_retries": 0,
        "workers": 2,
        # Waiting on the network takes no CPU; the other stages of a job need some.
        "ray_remote_args": {"num_cpus": 0.5},
    }


def by_id(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in rows}


def test_rows_keep_their_columns_and_gain_a_response_or_an_error(
    options: dict[str, Any], fake: FakeGrok
) -> None:
    """Each output row: the input columns, a response dict, or a one-line error naming
    the class — a bad request is a row, never a failed job."""
    items: list[dict[str, Any]] = [
        {"id": 0, "tag": "a", "request": json.dumps(chat("hello"))},
        {"id": 1, "tag": "b", "request": json.dumps({**chat("x"), "model": "grok-nope"})},
        {"id": 2, "tag": "c", "request": json.dumps(chat("boom"))},
        {"id": 3, "tag": "d", "request": "{not json"},
        {"id": 4, "tag": "e", "request": json.dumps({**chat("x"), "colour": "blue"})},
        {"id": 5, "tag": "f", "request": json.dumps(["a", "list"])},
    ]
    rows = by_id(map_completions(ray.data.from_items(items), **options).take_all())
    assert sorted(rows) == [0, 1, 2, 3, 4, 5]
    for item in items:
        assert rows[item["id"]]["tag"] == item["tag"]
        assert rows[item["id"]]["request"] == item["request"]
    ok = rows[0]
    assert ok["error"] is None
    assert ok["response"]["object"] == "chat.completion"
    assert ok["response"]["choices"][0]["message"]["content"]
    assert json.loads(json.dumps(ok["response"])) == ok["response"]  # plain JSON data
    expected = {
        1: "NotFoundError: ",
        2: "InternalServerError: ",
        3: "ValueError: the request is not valid JSON",
        4: "TypeError: create() got unexpected keyword arguments: colour",
        5: "TypeError: the request must be a JSON object, not list",
    }
    for row_id, start in expected.items():
        assert rows[row_id]["response"] is None
        assert rows[row_id]["error"].startswith(start), rows[row_id]["error"]
        assert "\n" not in rows[row_id]["error"]
    # Only the valid requests reached the server (the 500 once: max_retries=0).
    assert len(fake.requests) == 3


def test_mixed_request_shapes_do_not_fail_the_job(options: dict[str, Any]) -> None:
    """Content as text in one row and as a list of parts in another: as JSON strings in one
    column they all run; and dict requests with fields some rows lack send no nulls."""
    parts = [{"type": "text", "text": "part one"}, {"type": "text", "text": "part two"}]
    strings = [{"id": i, "request": json.dumps(chat("text" if i % 2 else parts))} for i in range(6)]
    rows = map_completions(ray.data.from_items(strings), **options).take_all()
    assert [r["error"] for r in rows] == [None] * 6

    dicts = [
        {"id": 0, "request": chat("plain")},
        {"id": 1, "request": chat("warm", temperature=0.5)},
        {"id": 2, "request": chat("capped", max_tokens=5)},
    ]
    rows = map_completions(ray.data.from_items(dicts), batch_size=3, **options).take_all()
    assert [r["error"] for r in by_id(rows).values()] == [None] * 3


def test_no_nulls_reach_the_server(options: dict[str, Any], fake: FakeGrok) -> None:
    """Arrow fills a dict request's missing fields with nulls; they are not sent."""
    dicts = [
        {"id": 0, "request": chat("plain")},
        {"id": 1, "request": chat("warm", temperature=0.5)},
    ]
    map_completions(ray.data.from_items(dicts), batch_size=2, **options).materialize()
    sent = {r.json["messages"][0]["content"]: r.json for r in fake.requests}
    assert "temperature" not in sent["plain"]
    assert sent["warm"]["temperature"] == 0.5
    assert "null" not in json.dumps(list(sent.values()))


def test_every_input_row_yields_exactly_one_output_row(options: dict[str, Any]) -> None:
    """100 rows over two workers in small batches, some failing: 100 rows out, each id once."""
    texts = ["boom" if i % 7 == 0 else f"#{i}" for i in range(100)]
    items = [{"id": i, "request": json.dumps(chat(text))} for i, text in enumerate(texts)]
    rows = map_completions(ray.data.from_items(items), batch_size=8, **options).take_all()
    assert sorted(r["id"] for r in rows) == list(range(100))
    failed = sorted(r["id"] for r in rows if r["error"] is not None)
    assert failed == [i for i in range(100) if i % 7 == 0]
    assert all(r["response"] is not None for r in rows if r["error"] is None)


def test_a_rerun_skips_the_rows_already_written(
    options: dict[str, Any], fake: FakeGrok, tmp_path: Path
) -> None:
    """The resume recipe: a run that wrote only part of the output, then a run from
    pending(): the second sends only the missing rows, and the output holds each id once."""
    out = str(tmp_path / "answers")
    items = [{"id": i, "request": json.dumps(chat(f"#{i}"))} for i in range(40)]
    ds = ray.data.from_items(items)
    assert pending(ds, out).count() == 40  # nothing written yet

    first = ds.filter(expr="id < 15")  # as if the job stopped part-way
    map_completions(pending(first, out), as_json=True, **options).write_parquet(out)
    assert len(fake.requests) == 15

    todo = pending(ds, out)
    assert todo.count() == 25
    map_completions(todo, as_json=True, **options).write_parquet(out)
    assert len(fake.requests) == 40  # 25 more: nothing done twice

    written = ray.data.read_parquet(out).take_all()
    assert sorted(r["id"] for r in written) == list(range(40))
    assert all(json.loads(r["response"])["object"] == "chat.completion" for r in written)
    assert pending(ds, out).count() == 0


def test_pending_reads_an_empty_output_and_refuses_one_without_ids(
    local_ray: Any, tmp_path: Path
) -> None:
    """An empty output directory means nothing is done; an output without the id column
    cannot be resumed by it, and says so."""
    ds = ray.data.from_items([{"id": i, "request": "{}"} for i in range(5)])
    (tmp_path / "empty").mkdir()
    assert pending(ds, str(tmp_path / "empty")).count() == 5
    ray.data.from_items([{"key": 1}]).write_parquet(str(tmp_path / "other"))
    with pytest.raises(ValueError, match="no 'id' column"):
        pending(ds, str(tmp_path / "other"))


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def test_workers_share_a_redis_rate_limit(
    options: dict[str, Any], fake: FakeGrok, redis_server: RedisServer
) -> None:
    """Two workers with one RedisRateLimiter: the server sees no more than the budget in
    any window, and every row still gets its answer."""
    pytest.importorskip("redis")
    key = f"test:{uuid.uuid4().hex}"
    limiter = RedisRateLimiter(redis_server.url, requests_per_minute=1200, key=key)  # 20/s
    items = [{"id": i, "request": json.dumps(chat(f"#{i}"))} for i in range(60)]
    rows = map_completions(
        ray.data.from_items(items), batch_size=10, rate_limit=limiter, **options
    ).take_all()
    assert sorted(r["id"] for r in rows) == list(range(60))
    assert [r["error"] for r in rows] == [None] * 60
    times = sorted(r.time for r in fake.requests)
    for i, start in enumerate(times):
        inside = sum(1 for t in times[i:] if t - start <= 1.0)
        assert inside <= 20 + 20 * 1.0 + 1  # the burst plus a second's refill
    assert times[-1] - times[0] >= (60 - 20) / 20 * 0.8  # paced, not all at once


async def test_a_worker_bounds_its_requests_in_flight_across_batches() -> None:
    """Ray runs several batches of one worker at once: together they keep at most
    ``concurrency`` requests in flight (the worker is driven directly here, without Ray)."""
    async with FakeGrok(latency=0.05) as fake:
        worker = _CompletionWorker(
            concurrency=3,
            api_key=FAKE_KEY,
            base_url=fake.base_url,
            rate_limit=None,
            as_json=False,
            client_options={},
        )
        batches = [
            pa.table({"request": [json.dumps(chat(f"{b}/{i}")) for i in range(6)]})
            for b in range(3)
        ]
        outputs = await asyncio.gather(*(one_batch(worker, batch) for batch in batches))
        await worker._client.close()
        assert fake.stats.max_in_flight_seen == 3
    for batch, output in zip(batches, outputs, strict=True):
        assert output.column("request").to_pylist() == batch.column("request").to_pylist()
        assert output.column("error").to_pylist() == [None] * 6


async def one_batch(worker: Any, batch: Any) -> Any:
    (output,) = [table async for table in worker(batch)]
    return output


def test_responses_arrow_cannot_type_become_an_object_column() -> None:
    """Responses whose fields differ in type within a batch are kept as Python objects
    rather than failing the batch; with as_json they are strings of one type."""
    worker = _CompletionWorker(
        concurrency=1,
        api_key=FAKE_KEY,
        base_url=None,
        rate_limit=None,
        as_json=False,
        client_options={},
    )
    clashing = [{"extra": 1}, {"extra": "text"}, None]
    column = worker._response_column(clashing)
    assert column.to_pylist() == clashing
    assert not pa.types.is_struct(column.type)
    worker._as_json = True
    as_json = worker._response_column(clashing)
    assert as_json.type == pa.string()
    assert as_json.to_pylist() == ['{"extra":1}', '{"extra":"text"}', None]


def test_bad_arguments_are_refused_before_any_work(local_ray: Any) -> None:
    """concurrency, batch_size and rate_limit are checked when the job is built."""
    ds = ray.data.from_items([{"request": "{}"}])
    with pytest.raises(ValueError, match="concurrency"):
        map_completions(ds, concurrency=0, api_key=FAKE_KEY)
    with pytest.raises(ValueError, match="batch_size"):
        map_completions(ds, batch_size=0, api_key=FAKE_KEY)
    with pytest.raises(TypeError, match="RateLimiter"):
        map_completions(ds, rate_limit="600/min", api_key=FAKE_KEY)  # type: ignore[arg-type]
