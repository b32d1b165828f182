"""`grok-async batch run` as a user runs it: a real process, killed and rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY

N = 40


def write_input(path: Path, n: int = N) -> Path:
    with path.open("w") as f:
        for i in range(n):
            body = {"model": "grok-4", "messages": [{"role": "user", "content": f"q {i}"}]}
            f.write(
                json.dumps({"custom_id": f"q-{i}", "url": "/v1/chat/completions", "body": body})
            )
            f.write("\n")
    return path


def env_for(fake: FakeGrok) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XAI_API_KEY", "XAI_BASE_URL")}
    return {**env, "XAI_API_KEY": FAKE_KEY, "XAI_BASE_URL": fake.base_url}


def command(source: Path, output: Path, *more: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "grok_async",
        "batch",
        "run",
        str(source),
        "-o",
        str(output),
        *more,
    ]


def complete_lines(output: Path) -> int:
    if not output.exists():
        return 0
    return output.read_bytes().count(b"\n")


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def chat_requests(fake: FakeGrok) -> int:
    return sum(1 for r in fake.requests if r.path == "/v1/chat/completions")


def settled_chat_requests(fake: FakeGrok) -> int:
    """The chat requests the server has seen once no more trickle in: a killed process's
    last requests may still be in the server's socket buffers when it dies."""
    seen = chat_requests(fake)
    while True:
        time.sleep(0.3)
        now = chat_requests(fake)
        if now == seen:
            return now
        seen = now


def assert_each_id_once(output: Path, n: int = N) -> list[dict[str, Any]]:
    rows = [orjson.loads(row) for row in output.read_bytes().splitlines()]
    assert sorted(row["custom_id"] for row in rows) == sorted(f"q-{i}" for i in range(n))
    assert all(row["error"] is None for row in rows)
    return rows


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param("before-first-answer", id="before-first-answer"),
        pytest.param("mid-run", id="mid-run"),
        pytest.param("while-writing", id="while-writing"),
    ],
)
def test_kill_9_then_rerun_finishes_with_each_id_exactly_once(tmp_path: Path, moment: str) -> None:
    """A `batch run` killed with SIGKILL (before any answer, mid-run, or at the moment
    lines are being written) and run again finishes with every custom_id in OUTPUT exactly
    once; the rerun sends only what OUTPUT lacked (those in flight at the kill again)."""
    # Slow answers make the moments wide enough to hit; "while-writing" has none and many
    # lines, so lines are being written back to back when the kill lands (a line cut by it
    # is the torn line; test_batch_runner checks that case exactly).
    n = 1500 if moment == "while-writing" else N
    source = write_input(tmp_path / "in.jsonl", n)
    output = tmp_path / "out.jsonl"
    latency = {"before-first-answer": 1.0, "mid-run": 0.05, "while-writing": 0.0}[moment]
    with FakeGrok(latency=latency) as fake:
        env = env_for(fake)
        many = ["--concurrency", "4"] if moment == "mid-run" else []
        process = subprocess.Popen(
            command(source, output, *many),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            if moment == "before-first-answer":
                wait_for(lambda: chat_requests(fake) > 0)
                assert complete_lines(output) == 0
            elif moment == "mid-run":
                wait_for(lambda: complete_lines(output) >= 10)
            else:
                wait_for(lambda: output.exists() and output.stat().st_size > 0)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
            assert process.stderr is not None
            process.stderr.close()
        assert process.returncode == -signal.SIGKILL
        kept = complete_lines(output)
        assert kept < n
        sent_before = settled_chat_requests(fake)
        rerun = subprocess.run(
            command(source, output, "--json"), env=env, capture_output=True, text=True, timeout=60
        )
        assert rerun.returncode == 0, rerun.stderr
        summary = json.loads(rerun.stdout)
        assert summary["complete"] and summary["skipped"] == kept
        assert chat_requests(fake) - sent_before == n - kept
    assert_each_id_once(output, n)


def test_ctrl_c_exits_130_with_whole_lines_and_a_rerun_finishes(tmp_path: Path) -> None:
    """SIGINT mid-run: exit 130, one line on stderr saying how to continue, no traceback;
    OUTPUT holds whole lines only; the same command finishes the job."""
    source = write_input(tmp_path / "in.jsonl")
    output = tmp_path / "out.jsonl"
    with FakeGrok(latency=0.05) as fake:
        env = env_for(fake)
        process = subprocess.Popen(
            command(source, output, "--concurrency", "2"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(lambda: complete_lines(output) >= 5)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 130, err
        assert "Traceback" not in err
        assert "run the same command again" in err
        raw = output.read_bytes()
        assert raw.endswith(b"\n")
        partial = [orjson.loads(row) for row in raw.splitlines()]
        assert 5 <= len(partial) < N
        rerun = subprocess.run(command(source, output), env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
    assert_each_id_once(output)


def test_progress_off_a_terminal_is_plain_lines_and_the_summary_is_json(tmp_path: Path) -> None:
    """Not on a terminal, progress is plain lines (no carriage returns, no escapes) with
    done/total, tokens per minute and cost; `--json` prints the summary as one JSON object."""
    source = write_input(tmp_path / "in.jsonl")
    output = tmp_path / "out.jsonl"
    with FakeGrok() as fake:
        result = subprocess.run(
            command(source, output, "--json"), env=env_for(fake), capture_output=True, text=True
        )
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "\x1b[" not in result.stderr
    assert f"{N}/{N}" in result.stderr
    assert "tokens/min" in result.stderr and "$" in result.stderr
    summary = json.loads(result.stdout)
    assert (summary["succeeded"], summary["failed"], summary["complete"]) == (N, 0, True)
    assert summary["cost_usd"] > 0 and summary["total_tokens"] > 0


def test_dry_run_counts_and_costs_and_sends_nothing(tmp_path: Path) -> None:
    """`--dry-run` prints the request count, a token estimate and a cost from the
    catalogue's prices, and sends no request (only reads the catalogue)."""
    source = write_input(tmp_path / "in.jsonl")
    output = tmp_path / "out.jsonl"
    with FakeGrok() as fake:
        result = subprocess.run(
            command(source, output, "--dry-run", "--json"),
            env=env_for(fake),
            capture_output=True,
            text=True,
        )
        assert chat_requests(fake) == 0
    assert result.returncode == 0, result.stderr
    estimate = json.loads(result.stdout)
    assert estimate["requests"] == N
    assert estimate["models"]["grok-4"]["prompt_tokens"] > 0
    assert estimate["models"]["grok-4"]["cost_usd"] > 0
    assert not output.exists()


def test_bad_lines_exit_2_naming_each_line(tmp_path: Path) -> None:
    """A bad input exits 2 before sending: each bad line on stderr with its number and
    reason, then one error line; the key is never printed."""
    source = write_input(tmp_path / "in.jsonl", 3)
    with source.open("a") as f:
        f.write("{oops\n")
        f.write(json.dumps({"custom_id": "q-1", "url": "/v1/chat/completions", "body": {}}) + "\n")
    with FakeGrok() as fake:
        result = subprocess.run(
            command(source, tmp_path / "out.jsonl"),
            env=env_for(fake),
            capture_output=True,
            text=True,
        )
        assert fake.requests == []
    assert result.returncode == 2
    assert "line 4: not JSON" in result.stderr
    assert "line 5: body.model" in result.stderr
    assert "Traceback" not in result.stderr
    assert FAKE_KEY not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("grok-async: error:")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        pytest.param(["run", "in.jsonl"], "-o/--output", id="no-output"),
        pytest.param(
            ["run", "in.jsonl", "-o", "o", "--requests-per-minute", "0"],
            "--requests-per-minute",
            id="zero-budget",
        ),
        pytest.param(["run", "in.jsonl", "-o", "o", "--concurrency", "0"], "--concurrency", id="c"),
        pytest.param(["status"], "ID", id="status-without-id"),
    ],
)
def test_bad_batch_arguments_exit_2_in_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    """A bad `batch` argument exits 2 with one line naming it, before anything runs."""
    from grok_async.cli import main

    assert main(["batch", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]
