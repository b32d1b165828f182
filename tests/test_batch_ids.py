"""The custom_id checks past the in-memory threshold: duplicates and resume on disk."""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from grok_async import AsyncGrok, BatchInputError, _batch_ids
from grok_async._batch_ids import IdIndex
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY


def line(custom_id: str) -> str:
    body = {"model": "grok-4", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    return json.dumps({"custom_id": custom_id, "url": "/v1/chat/completions", "body": body})


def write_input(path: Path, ids: list[str]) -> Path:
    path.write_text("".join(line(custom_id) + "\n" for custom_id in ids))
    return path


def output_ids(path: Path) -> list[str]:
    return [orjson.loads(row)["custom_id"] for row in path.read_bytes().splitlines()]


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def chat_requests(fake: FakeGrok) -> int:
    return sum(1 for r in fake.requests if r.path == "/v1/chat/completions")


@pytest.fixture
def spilled_dirs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """A threshold of 5 ids (every test input here spills), and the bucket directories
    made, to check they were made where expected and are gone afterwards."""
    monkeypatch.setattr(_batch_ids, "SPILL_AT", 5)
    made: list[Path] = []
    original = tempfile.TemporaryDirectory

    def recording(*args: Any, **kwargs: Any) -> tempfile.TemporaryDirectory[str]:
        directory = original(*args, **kwargs)
        made.append(Path(directory.name))
        return directory

    monkeypatch.setattr(tempfile, "TemporaryDirectory", recording)
    return made


async def test_duplicates_on_disk_are_named_with_their_lines(
    fake_grok: FakeGrok, tmp_path: Path, spilled_dirs: list[Path]
) -> None:
    """Past the threshold, a repeated custom_id is still reported on its line with the
    line of its first use (before and after the spill alike), nothing is sent, and the
    bucket files (made next to OUTPUT) are removed."""
    ids = [f"q-{i}" for i in range(40)]
    ids[2] = "q-0"  # repeated before the spill: found in memory
    ids[30] = "q-1"  # its first use went to the buckets with the spill
    ids[35] = "q-20"  # both after the spill
    source = write_input(tmp_path / "in.jsonl", ids)
    async with AsyncGrok(FAKE_KEY, base_url=fake_grok.base_url) as client:
        with pytest.raises(BatchInputError) as caught:
            await client.batches.run_file(source, tmp_path / "out.jsonl")
    assert [(p.line, p.reason) for p in caught.value.problems] == [
        (3, "duplicate custom_id 'q-0' (first on line 1)"),
        (31, "duplicate custom_id 'q-1' (first on line 2)"),
        (36, "duplicate custom_id 'q-20' (first on line 21)"),
    ]
    assert fake_grok.requests == []
    assert [d.parent for d in spilled_dirs] == [tmp_path]
    assert spilled_dirs[0].name.startswith(".out.jsonl.ids.")
    assert not spilled_dirs[0].exists()


async def test_a_rerun_on_disk_sends_only_what_output_lacks(
    fake_grok: FakeGrok, tmp_path: Path, spilled_dirs: list[Path]
) -> None:
    """Past the threshold, a rerun skips every answered custom_id and sends exactly the
    ones OUTPUT lacks; every run's bucket files are gone afterwards."""
    ids = [f"q-{i}" for i in range(60)]
    source = write_input(tmp_path / "in.jsonl", ids)
    output = tmp_path / "out.jsonl"
    async with AsyncGrok(FAKE_KEY, base_url=fake_grok.base_url) as client:
        await client.batches.run_file(source, output)
        rows = output.read_bytes().splitlines(keepends=True)
        kept = rows[::3]  # 20 of 60
        output.write_bytes(b"".join(kept))
        sent_before = chat_requests(fake_grok)
        again = await client.batches.run_file(source, output)
    assert (again.skipped, again.succeeded) == (20, 40)
    assert chat_requests(fake_grok) - sent_before == 40
    assert sorted(output_ids(output)) == sorted(ids)
    assert len(spilled_dirs) == 2 and not any(d.exists() for d in spilled_dirs)


async def test_ids_sharing_a_digest_are_not_duplicates(
    fake_grok: FakeGrok,
    tmp_path: Path,
    spilled_dirs: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With every id given the same digest (all in one bucket), distinct ids are not
    reported as duplicates, a real repeat still is, and resume skips exactly the
    answered ids: the checks compare the ids themselves."""
    monkeypatch.setattr(_batch_ids, "id_digest", lambda custom_id: 0)
    ids = [f"q-{i}" for i in range(20)]
    source = write_input(tmp_path / "in.jsonl", ids)
    output = tmp_path / "out.jsonl"
    async with AsyncGrok(FAKE_KEY, base_url=fake_grok.base_url) as client:
        first = await client.batches.run_file(source, output)
        assert (first.succeeded, first.failed) == (20, 0)
        rows = output.read_bytes().splitlines(keepends=True)
        output.write_bytes(b"".join(rows[:7]))
        again = await client.batches.run_file(source, output)
        assert (again.skipped, again.succeeded) == (7, 13)
        repeated = write_input(tmp_path / "dup.jsonl", [*ids, "q-4"])
        with pytest.raises(BatchInputError) as caught:
            await client.batches.run_file(repeated, tmp_path / "other.jsonl")
    assert sorted(output_ids(output)) == sorted(ids)
    assert [str(p) for p in caught.value.problems] == [
        "line 21: duplicate custom_id 'q-4' (first on line 5)"
    ]
    assert len(spilled_dirs) == 3 and not any(d.exists() for d in spilled_dirs)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param("bad-output", id="output-not-a-batch-output"),
        pytest.param("unreadable-output", id="output-unreadable"),
    ],
)
async def test_bucket_files_are_removed_when_the_run_fails_before_sending(
    fake_grok: FakeGrok,
    tmp_path: Path,
    spilled_dirs: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    """An error while reading OUTPUT (the wrong file, an I/O error) after the ids went
    to disk leaves no bucket files behind."""
    source = write_input(tmp_path / "in.jsonl", [f"q-{i}" for i in range(30)])
    output = tmp_path / "out.jsonl"
    expected: type[Exception] = ValueError
    if fault == "bad-output":
        output.write_text("hello\n")
    else:
        from grok_async import _batch_output

        def unreadable(*args: Any, **kwargs: Any) -> None:
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(_batch_output.OutputLog, "open", unreadable)
        output.write_text("")
        expected = OSError
    async with AsyncGrok(FAKE_KEY, base_url=fake_grok.base_url) as client:
        with pytest.raises(expected):
            await client.batches.run_file(source, output)
    assert fake_grok.requests == []
    assert len(spilled_dirs) == 1 and not spilled_dirs[0].exists()
    assert names(tmp_path) == ["in.jsonl", "out.jsonl"]


def spill_then_interrupt(directory: Path) -> None:
    with IdIndex(directory) as index:
        for n in range(1, _batch_ids.SPILL_AT + 10):
            index.add(f"q-{n}", n)
        assert index.spilled and len(names(directory)) == 1
        raise KeyboardInterrupt


def test_bucket_files_are_removed_on_keyboard_interrupt(tmp_path: Path) -> None:
    """A Ctrl-C (KeyboardInterrupt) inside the index's block removes its files too."""
    with pytest.raises(KeyboardInterrupt):
        spill_then_interrupt(tmp_path)
    assert names(tmp_path) == []


async def test_cancelling_during_the_check_stops_it_and_removes_the_files(
    fake_grok: FakeGrok,
    tmp_path: Path,
    spilled_dirs: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cancelled (Ctrl-C) while the input is being checked in its thread, the run stops
    at once; the thread gives up at its next id and removes the bucket files, and
    nothing is sent or written."""
    reached, go = threading.Event(), threading.Event()
    add = IdIndex.add

    def add_pausing(index: IdIndex, custom_id: str, number: int) -> int | None:
        if number == 20:
            reached.set()
            go.wait(10)
        return add(index, custom_id, number)

    monkeypatch.setattr(IdIndex, "add", add_pausing)
    source = write_input(tmp_path / "in.jsonl", [f"q-{i}" for i in range(40)])
    output = tmp_path / "out.jsonl"
    async with AsyncGrok(FAKE_KEY, base_url=fake_grok.base_url) as client:
        task = asyncio.create_task(client.batches.run_file(source, output))
        assert await asyncio.to_thread(reached.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        go.set()
        for _ in range(1000):  # the thread ends on its own, soon after
            if not spilled_dirs[0].exists():
                break
            await asyncio.sleep(0.01)
    assert not spilled_dirs[0].exists()
    assert fake_grok.requests == [] and not output.exists()


def reference(ids: list[str], answered: list[str]) -> tuple[list[tuple[int, str, int]], set[int]]:
    """Duplicates and answered lines found the obvious way, with everything in memory."""
    first: dict[str, int] = {}
    duplicates = []
    for number, custom_id in enumerate(ids, 1):
        if custom_id in first:
            duplicates.append((number, custom_id, first[custom_id]))
        else:
            first[custom_id] = number
    return duplicates, {first[i] for i in answered if i in first}


@pytest.mark.parametrize("spill_at", [0, 1, 7, 1000])
def test_the_index_agrees_with_a_plain_dict_in_memory_or_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spill_at: int
) -> None:
    """Random ids (repeats, non-ASCII, ids OUTPUT has that the input lacks, a digest
    squeezed to 3 bits so ids share buckets and digests): the index finds the same
    duplicates and answered lines as a dict of everything, with records split across
    read chunks and write flushes."""
    monkeypatch.setattr(_batch_ids, "SPILL_AT", spill_at)
    monkeypatch.setattr(_batch_ids, "_CHUNK", 7)
    monkeypatch.setattr(_batch_ids, "_BUFFER", 50)
    digest = _batch_ids.id_digest
    monkeypatch.setattr(_batch_ids, "id_digest", lambda custom_id: digest(custom_id) & (7 << 61))
    rng = random.Random(spill_at)
    pool = [f"id-{n}-{'é' * (n % 3)}" for n in range(300)]
    ids = [rng.choice(pool) for _ in range(400)]
    answered = [rng.choice(pool) for _ in range(200)] + ["not-in-the-input"]
    duplicates, lines = reference(ids, answered)
    with IdIndex(tmp_path) as index:
        found = [(n, i, f) for n, i in enumerate(ids, 1) if (f := index.add(i, n)) is not None]
        found += list(index.duplicates())
        for custom_id in answered:
            index.add_answered(custom_id)
        result = index.answered_lines()
        assert index.spilled == (spill_at < len(set(ids)))
    assert sorted(found) == sorted(duplicates)
    assert {n for n in range(len(ids) + 2) if n in result} == lines
    assert result.count == len(lines)
    assert names(tmp_path) == []
