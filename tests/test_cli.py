"""The grok-async command, run as a subprocess like a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("XAI_API_KEY", "XAI_BASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "grok_async", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **(env or {})},
        check=False,
    )


def test_demo_runs_on_the_embedded_emulator_paced_to_its_budget() -> None:
    """`demo` without a key says it runs on the emulator and bills nothing, fans out against
    a per-minute budget smaller than the run, and shows the pacing: requests that waited for
    the budget, about no refusals, and the last X-Ratelimit-* reading."""
    result = run("demo", "--n", "50")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "embedded Grok emulator" in result.stderr
    assert "nothing is billed" in result.stderr
    # 50 requests, a budget of 30 a "minute" of 3 s: 20 must wait for 10 a second to refill.
    assert "budget of 30 requests and 3,000 tokens per minute" in result.stderr
    assert "50/50" in result.stderr  # the progress bar reached the end
    summary = re.search(r"Summary: 50 ok, 0 failed in ([\d.]+) s \([\d,]+ req/s\)", result.stdout)
    assert summary is not None, result.stdout
    assert float(summary[1]) >= 1.5  # the refill of 20 requests takes 2 s
    pacing = re.search(
        r"Pacing: (\d+) of 50 requests waited for the budget \(([\d.]+) s in all\); "
        r"(\d+) answered 429",
        result.stdout,
    )
    assert pacing is not None, result.stdout
    waits, waited, refused = int(pacing[1]), float(pacing[2]), int(pacing[3])
    assert waits >= 15
    assert waited > 0
    assert refused <= 3
    assert re.search(
        r"Rate limits for grok-4 \(the last X-Ratelimit-\* headers\): \d+ of 30 requests and "
        r"[\d,]+ of 3,000 tokens left per minute\.",
        result.stdout,
    ), result.stdout


def test_chat_streams_the_answer() -> None:
    """`chat` prints the emulator's streamed answer for the prompt."""
    result = run("chat", "Hello there")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip()) > 0
    assert result.stdout.endswith("\n")


def test_chat_json_prints_raw_chunks() -> None:
    """`chat --json` prints one JSON chunk per line."""
    import json

    result = run("chat", "Hi", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) >= 2
    assert all(json.loads(line)["object"] == "chat.completion.chunk" for line in lines)


def test_bad_key_is_one_line_and_exit_code_1() -> None:
    """A wrong key against a server that checks it: exit 1, one line, no traceback, no key."""
    with FakeGrok(api_key="the-right-key") as fake:
        result = run("chat", "Hi", env={"XAI_API_KEY": FAKE_KEY, "XAI_BASE_URL": fake.base_url})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "Incorrect API key" in lines[0]
    assert "Traceback" not in result.stderr
    assert FAKE_KEY not in result.stderr


def test_no_network_is_one_line_and_exit_code_1() -> None:
    """An unreachable endpoint: exit 1 with a connection error line, not a traceback."""
    result = run("models", env={"XAI_API_KEY": FAKE_KEY, "XAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.returncode == 1
    assert "Connection error" in result.stderr
    assert "Traceback" not in result.stderr


def test_models_lists_the_emulators_models() -> None:
    """`models` lists model ids, one per line."""
    result = run("models")
    assert result.returncode == 0, result.stderr
    assert "grok-4-0709" in result.stdout.split()


def test_a_closed_pipe_is_not_an_error() -> None:
    """`grok-async models | head -1`: the reader leaving early ends quietly, exit 0."""
    base = {k: v for k, v in os.environ.items() if k not in ("XAI_API_KEY", "XAI_BASE_URL")}
    cmd = f"{sys.executable} -m grok_async models | head -1"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd],
        capture_output=True,
        text=True,
        timeout=60,
        env=base,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_demo_against_a_configured_api_defaults_to_a_small_run() -> None:
    """With XAI_API_KEY set the demo talks to that API and, since each request is billed,
    fans out 20 requests unless told otherwise."""
    with FakeGrok() as fake:
        result = run("demo", env={"XAI_API_KEY": FAKE_KEY, "XAI_BASE_URL": fake.base_url})
        served = fake.stats.requests
    assert result.returncode == 0, result.stderr
    assert "XAI_API_KEY is set: the demo sends 21 requests (20 fanned out, 1 streamed)" in (
        result.stderr
    )
    assert "bills them" in result.stderr
    assert "emulator" not in result.stderr
    assert "Summary: 20 ok, 0 failed" in result.stdout
    assert "Rate limits for grok-4 (the last X-Ratelimit-* headers)" in result.stdout
    assert served == 21  # 20 fanned out + 1 streamed
