"""`grok-async batch run` as a user runs it: a real process, killed and rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from grok_async.testing import FakeGrok, Fault

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


# Runs the real command with OutputLog.append patched to stop the process at an exact
# moment: after writing line KILL_AT whole ("after"), or halfway through it ("torn": the
# first half is written to the file, in the OS's hands, then the process dies), with
# SIGKILL, or SIGINT ("interrupt": a Ctrl-C right after line KILL_AT).
WRAPPER = """
import os, signal, sys
from grok_async import _batch_output
from grok_async.cli import main

kill_at, how = int(os.environ["KILL_AT"]), os.environ["KILL_HOW"]
append = _batch_output.OutputLog.append
written = 0


def append_then_stop(self, line):
    global written
    written += 1
    if written != kill_at:
        return append(self, line)
    if how == "torn":
        append(self, line[: len(line) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    append(self, line)
    os.kill(os.getpid(), signal.SIGINT if how == "interrupt" else signal.SIGKILL)


_batch_output.OutputLog.append = append_then_stop
sys.exit(main(sys.argv[1:]))
"""


def stopping_command(
    tmp_path: Path, source: Path, output: Path, kill_at: int, how: str
) -> tuple[list[str], dict[str, str]]:
    """The command and environment extras that run `batch run` through WRAPPER."""
    wrapper = tmp_path / "stop_at_line.py"
    wrapper.write_text(WRAPPER)
    argv = [sys.executable, str(wrapper), *command(source, output)[3:]]
    return argv, {"KILL_AT": str(kill_at), "KILL_HOW": how}


def complete_lines(output: Path) -> int:
    if not output.exists():
        return 0
    return output.read_bytes().count(b"\n")


def chat_requests(fake: FakeGrok) -> int:
    return sum(1 for r in fake.requests if r.path == "/v1/chat/completions")


def assert_each_id_once(output: Path, n: int = N) -> list[dict[str, Any]]:
    rows = [orjson.loads(row) for row in output.read_bytes().splitlines()]
    assert sorted(row["custom_id"] for row in rows) == sorted(f"q-{i}" for i in range(n))
    assert all(row["error"] is None for row in rows)
    return rows


def run_killed_at_first_request(source: Path, output: Path) -> None:
    """`batch run` killed with SIGKILL by the server when the first request arrives:
    before any answer can have been sent, whatever the timing."""
    started = threading.Event()
    process: subprocess.Popen[bytes] | None = None

    def kill_at_first(request: dict[str, Any]) -> None:
        started.wait(30)
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGKILL)

    with FakeGrok(replies=kill_at_first) as fake:
        process = subprocess.Popen(
            command(source, output), env=env_for(fake), stdout=subprocess.DEVNULL
        )
        started.set()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    ("moment", "kept"),
    [
        pytest.param("before-first-answer", 0, id="before-first-answer"),
        pytest.param("after", 10, id="mid-run"),
        pytest.param("torn", 9, id="while-writing"),
    ],
)
def test_kill_9_then_rerun_finishes_with_each_id_exactly_once(
    tmp_path: Path, moment: str, kept: int
) -> None:
    """A `batch run` killed with SIGKILL (when its first request reaches the server,
    right after writing line 10, or halfway through writing line 10) and run again
    finishes with every custom_id in OUTPUT exactly once: the rerun drops a torn line
    and sends exactly the requests OUTPUT lacked (those in flight at the kill again)."""
    source = write_input(tmp_path / "in.jsonl")
    output = tmp_path / "out.jsonl"
    if moment == "before-first-answer":
        run_killed_at_first_request(source, output)
    else:
        argv, extra = stopping_command(tmp_path, source, output, 10, moment)
        with FakeGrok() as fake:
            killed = subprocess.run(
                argv, env={**env_for(fake), **extra}, capture_output=True, timeout=60
            )
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    raw = output.read_bytes()
    assert raw.count(b"\n") == kept
    torn = raw[raw.rfind(b"\n") + 1 :]
    if moment == "torn":
        assert torn.startswith(b'{"id":"batch_req_')
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(torn)
    else:
        assert torn == b""
    # A fresh server for the rerun: what it receives is exactly what the rerun sent.
    with FakeGrok() as fake:
        rerun = subprocess.run(
            command(source, output, "--json"),
            env=env_for(fake),
            capture_output=True,
            text=True,
            timeout=60,
        )
        sent = chat_requests(fake)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["complete"] and summary["skipped"] == kept
    assert summary["dropped_torn_line"] == (moment == "torn")
    assert sent == N - kept
    assert_each_id_once(output)


def test_ctrl_c_exits_130_with_whole_lines_and_a_rerun_finishes(tmp_path: Path) -> None:
    """SIGINT right after line 5 is written: exit 130, one line on stderr saying how to
    continue, no traceback; OUTPUT holds whole lines only; the same command finishes."""
    source = write_input(tmp_path / "in.jsonl")
    output = tmp_path / "out.jsonl"
    argv, extra = stopping_command(tmp_path, source, output, 5, "interrupt")
    argv += ["--concurrency", "2"]  # few answers can be waiting when the signal lands
    with FakeGrok(latency=0.01) as fake:
        env = env_for(fake)
        interrupted = subprocess.run(
            argv, env={**env, **extra}, capture_output=True, text=True, timeout=60
        )
        assert interrupted.returncode == 130, interrupted.stderr
        assert "Traceback" not in interrupted.stderr
        assert "run the same command again" in interrupted.stderr
        raw = output.read_bytes()
        assert raw.endswith(b"\n")
        partial = [orjson.loads(row) for row in raw.splitlines()]
        assert 5 <= len(partial) < N
        rerun = subprocess.run(command(source, output), env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
    assert_each_id_once(output)


def test_requests_without_an_answer_exit_1_and_a_rerun_sends_them(tmp_path: Path) -> None:
    """Requests the network fails (connection resets, after the retries) get no line:
    the summary says how many, stderr says to run the command again, the exit code is 1;
    once the network is back, the same command sends just those and exits 0."""
    outage = {"on": True}

    def reset_some(request: dict[str, Any]) -> Fault | None:
        dropped = request["messages"][-1]["content"] in ("q 3", "q 17")
        return Fault.reset() if outage["on"] and dropped else None

    source = write_input(tmp_path / "in.jsonl")
    output = tmp_path / "out.jsonl"
    with FakeGrok(replies=reset_some) as fake:
        env = env_for(fake)
        first = subprocess.run(command(source, output), env=env, capture_output=True, text=True)
        assert first.returncode == 1, first.stderr
        assert first.stdout.startswith(f"incomplete: {N - 2} ok, 0 failed, 2 unanswered, ")
        last = first.stderr.strip().splitlines()[-1]
        assert last.startswith("grok-async: error: 2 request(s) got no answer")
        assert "run the same command again" in last
        assert "Traceback" not in first.stderr
        assert complete_lines(output) == N - 2
        outage["on"] = False
        sent_before = chat_requests(fake)
        second = subprocess.run(
            command(source, output, "--json"), env=env, capture_output=True, text=True
        )
        assert chat_requests(fake) - sent_before == 2
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert (summary["skipped"], summary["succeeded"], summary["unanswered"]) == (N - 2, 2, 0)
    assert_each_id_once(output)


def test_a_wrong_key_stops_the_run_at_once_and_writes_nothing(tmp_path: Path) -> None:
    """A key the server refuses stops the run at the first answer: exit 1 with one error
    line naming the variable to check, no output line (not N failed ones), and with the
    right key the same command does the whole job."""
    source = write_input(tmp_path / "in.jsonl")
    output = tmp_path / "out.jsonl"
    with FakeGrok(api_key="xai-the-right-key") as fake:
        wrong = subprocess.run(
            command(source, output), env=env_for(fake), capture_output=True, text=True
        )
        assert wrong.returncode == 1, wrong.stderr
        last = wrong.stderr.strip().splitlines()[-1]
        assert last.startswith("grok-async: error:") and "XAI_API_KEY" in last
        assert output.read_bytes() == b""
        right = subprocess.run(
            command(source, output),
            env={**env_for(fake), "XAI_API_KEY": "xai-the-right-key"},
            capture_output=True,
            text=True,
        )
    assert right.returncode == 0, right.stderr
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
