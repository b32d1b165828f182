"""Every grok-async command, given bad input: one line naming what to fix, never a traceback.

Exit code 2 for a bad argument or environment value, 1 for a failure at run time. Most
cases call ``main(argv)`` in this process (the output captured); the ones that need the
real interpreter (its handling of a traceback, a signal, a process that keeps a port) run
``python -m grok_async`` as a user does.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import grok_async._cli_commands
from grok_async._cli_commands import DEFAULT_PORT, Thinking
from grok_async._cli_endpoint import read_settings, serve
from grok_async.cli import main
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY

ENV = ("XAI_API_KEY", "XAI_BASE_URL")


@pytest.fixture(autouse=True)
def _no_endpoint_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def run_main(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str, **env: str
) -> tuple[int, str, str]:
    """``main(argv)`` with *env* set: (exit code, stdout, stderr)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(list(argv))  # returns the code, also for argparse's errors and --help
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str, *names: str) -> None:
    """stderr is one line (no traceback) that starts like every error of the command and
    names each of *names*."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("grok-async"), err
    assert "error: " in lines[0], err
    for name in names:
        assert name in lines[0], err


USAGE_ERRORS = [
    pytest.param(["demo", "--concurrency", "0"], "--concurrency", id="demo-concurrency-0"),
    pytest.param(["demo", "--concurrency", "many"], "--concurrency", id="demo-concurrency-word"),
    pytest.param(["demo", "--n", "-5"], "--n", id="demo-n-negative"),
    pytest.param(["demo", "--n", "1.5"], "--n", id="demo-n-fraction"),
    pytest.param(["demo", "--model", ""], "--model", id="demo-model-empty"),
    pytest.param(["chat"], "prompt", id="chat-no-prompt"),
    pytest.param(["chat", "  "], "prompt", id="chat-blank-prompt"),
    pytest.param(["chat", "Hi", "--temperature", "3"], "--temperature", id="chat-temperature-3"),
    pytest.param(
        ["chat", "Hi", "--temperature", "nan"], "--temperature", id="chat-temperature-nan"
    ),
    pytest.param(["chat", "Hi", "--model", ""], "--model", id="chat-model-empty"),
    pytest.param(["models", "extra"], "extra", id="models-extra-argument"),
    pytest.param(["serve-fake", "--fault", "bogus=0.1"], "bogus", id="fault-unknown-kind"),
    pytest.param(["serve-fake", "--fault", "429"], "KIND=RATE", id="fault-no-rate"),
    pytest.param(["serve-fake", "--fault", "429=lots"], "--fault", id="fault-rate-word"),
    pytest.param(["serve-fake", "--fault", "429=1.5"], "--fault", id="fault-rate-above-1"),
    pytest.param(
        ["serve-fake", "--fault", "429=0.6", "--fault", "503=0.6"], "--fault", id="fault-sum"
    ),
    pytest.param(["serve-fake", "--port", "70000"], "--port", id="port-out-of-range"),
    pytest.param(["serve-fake", "--port", "http"], "--port", id="port-word"),
    pytest.param(["serve-fake", "--latency", "-1"], "--latency", id="latency-negative"),
    pytest.param(["frobnicate"], "frobnicate", id="unknown-command"),
    pytest.param([], "COMMAND", id="no-command"),
]


@pytest.mark.parametrize(("argv", "named"), USAGE_ERRORS)
def test_a_bad_argument_is_one_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    named: str,
) -> None:
    """A bad argument: exit 2 and one line on stderr naming the argument, nothing run."""
    code, out, err = run_main(capsys, monkeypatch, *argv)
    assert code == 2
    assert out == ""
    assert_one_line(err, named)


BAD_ENVIRONMENT = [
    pytest.param({"XAI_API_KEY": FAKE_KEY + "\n"}, id="key-trailing-newline"),
    pytest.param({"XAI_API_KEY": FAKE_KEY + "\r\n"}, id="key-crlf"),
    pytest.param({"XAI_API_KEY": "xai- " + FAKE_KEY}, id="key-space"),
    pytest.param({"XAI_API_KEY": "\u201c" + FAKE_KEY + "\u201d"}, id="key-quotes"),
    pytest.param({"XAI_BASE_URL": "api.x.ai/v1"}, id="url-no-scheme"),
    pytest.param({"XAI_BASE_URL": "ftp://api.x.ai/v1"}, id="url-ftp"),
    pytest.param({"XAI_BASE_URL": "http://127.0.0.1:99999/v1"}, id="url-port"),
    pytest.param({"XAI_BASE_URL": "https://api.x.ai/v1\n"}, id="url-newline"),
]


@pytest.mark.parametrize("command", [["demo", "--n", "1"], ["chat", "Hi"], ["models"]])
@pytest.mark.parametrize("env", BAD_ENVIRONMENT)
def test_a_bad_environment_value_is_one_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    env: dict[str, str],
) -> None:
    """A malformed XAI_API_KEY or XAI_BASE_URL: exit 2, one line naming the variable, the
    key never shown, nothing started."""
    (variable,) = env
    code, out, err = run_main(capsys, monkeypatch, *command, **env)
    assert code == 2
    assert out == ""
    assert_one_line(err, variable)
    assert FAKE_KEY not in err
    assert "emulator" not in err  # checked before anything started


def test_a_base_url_without_v1_gets_the_hint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """XAI_BASE_URL without /v1 answers 404: the line says to add /v1, with the URL to use."""
    with FakeGrok() as fake:
        code, _, err = run_main(
            capsys, monkeypatch, "models", XAI_API_KEY=FAKE_KEY, XAI_BASE_URL=fake.url
        )
    assert code == 1
    assert_one_line(err, "XAI_BASE_URL", f"{fake.url}/v1")


def test_an_unknown_model_points_at_the_models_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 404 for the model (the base URL is right): the line says to check --model."""
    with FakeGrok() as fake:
        code, _, err = run_main(
            capsys,
            monkeypatch,
            "chat",
            "Hi",
            "--model",
            "grok-99",
            XAI_API_KEY=FAKE_KEY,
            XAI_BASE_URL=fake.base_url,
        )
    assert code == 1
    assert_one_line(err, "grok-99", "--model", "grok-async models")


def test_a_wrong_key_names_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key the server refuses: exit 1, the line says to check XAI_API_KEY, without the key."""
    with FakeGrok(api_key="the-right-key") as fake:
        code, _, err = run_main(
            capsys, monkeypatch, "models", XAI_API_KEY=FAKE_KEY, XAI_BASE_URL=fake.base_url
        )
    assert code == 1
    assert_one_line(err, "check XAI_API_KEY")
    assert FAKE_KEY not in err


def test_base_url_alone_is_used_and_a_server_wanting_a_key_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """XAI_BASE_URL without XAI_API_KEY: the commands go to that server (not the embedded
    emulator); when it wants a key, the line says to set XAI_API_KEY."""
    with FakeGrok(api_key="the-right-key") as fake:
        code, _, err = run_main(capsys, monkeypatch, "models", XAI_BASE_URL=fake.base_url)
        served = fake.stats.requests
    assert served == 1
    assert code == 1
    assert_one_line(err, "set XAI_API_KEY")


def test_base_url_alone_reaches_a_server_that_wants_no_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """XAI_BASE_URL without XAI_API_KEY, a server that accepts any key: the command works
    there and the embedded emulator is not started."""
    with FakeGrok() as fake:
        code, out, err = run_main(capsys, monkeypatch, "models", XAI_BASE_URL=fake.base_url)
        served = fake.stats.requests
    assert code == 0, err
    assert served == 1
    assert "grok-4-0709" in out.split()
    assert "embedded" not in err


def test_an_unreachable_server_names_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listens at XAI_BASE_URL: exit 1, the line asks whether that server runs."""
    code, _, err = run_main(
        capsys, monkeypatch, "chat", "Hi", XAI_API_KEY=FAKE_KEY, XAI_BASE_URL=_closed_url()
    )
    assert code == 1
    assert_one_line(err, "XAI_BASE_URL", "running")


def test_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--debug (before or after the command) adds the traceback; the last line is the same."""
    for argv in (["--debug", "models"], ["models", "--debug"]):
        code, _, err = run_main(
            capsys, monkeypatch, *argv, XAI_API_KEY=FAKE_KEY, XAI_BASE_URL=_closed_url()
        )
        assert code == 1
        assert "Traceback" in err
        assert err.strip().splitlines()[-1].startswith("grok-async: error: Connection error")


@pytest.mark.parametrize(
    ("raised", "code", "line"),
    [
        pytest.param(RuntimeError("boom"), 1, "unexpected RuntimeError: boom", id="a-bug"),
        pytest.param(KeyboardInterrupt(), 130, "grok-async: interrupted", id="ctrl-c"),
    ],
)
def test_anything_else_is_still_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    raised: BaseException,
    code: int,
    line: str,
) -> None:
    """A bug of ours or Ctrl-C inside a command: one line (a bug's says to use --debug and
    report it), exit 1 or 130, no traceback."""

    async def failing(*_args: object) -> None:
        raise raised

    monkeypatch.setattr(grok_async._cli_commands, "run_models", failing)
    # XAI_BASE_URL: no emulator, whose note would be a line of its own.
    result, _, err = run_main(capsys, monkeypatch, "models", XAI_BASE_URL=_closed_url())
    assert result == code
    assert "Traceback" not in err
    assert err.strip().splitlines() == [err.strip()]
    assert line in err
    if code == 1:
        assert "--debug" in err


def test_the_key_is_not_in_the_reprs_of_the_settings() -> None:
    """The checked environment and the endpoint never show the key, even in a repr."""
    settings = read_settings({"XAI_API_KEY": FAKE_KEY})
    with serve(settings) as endpoint:
        assert FAKE_KEY not in repr(settings)
        assert FAKE_KEY not in repr(endpoint)
        assert endpoint.api_key == FAKE_KEY


def _closed_url() -> str:
    """The base URL of a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# -- serve-fake and its port ------------------------------------------------------------------


@contextlib.contextmanager
def _listening(port: int = 0) -> Iterator[int | None]:
    """A socket listening on *port* (None when it cannot be had: it is taken already)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            yield None
            return
        sock.listen()
        yield sock.getsockname()[1]


def test_serve_fake_on_a_port_in_use_is_one_line_and_exit_code_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An explicit --port that is taken: exit 1, one line naming the port and --port."""
    with _listening() as port:
        code, _, err = run_main(capsys, monkeypatch, "serve-fake", "--port", str(port))
    assert code == 1
    assert_one_line(err, f"port {port}", "in use", "--port")


def test_serve_fake_on_a_host_that_does_not_exist_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A --host that resolves to nothing: exit 1, one line naming --host."""
    code, _, err = run_main(capsys, monkeypatch, "serve-fake", "--host", "no-such-host.invalid")
    assert code == 1
    assert_one_line(err, "--host", "no-such-host.invalid")


def test_serve_fake_falls_back_when_its_default_port_is_taken() -> None:
    """With no --port and the default taken, serve-fake says so and serves on a free port;
    SIGINT stops it with exit code 0 and no traceback."""
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    with _listening(DEFAULT_PORT):  # taken by us, or by someone else already
        process = subprocess.Popen(
            [sys.executable, "-m", "grok_async", "serve-fake", "--quiet"],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert process.stderr is not None
            first = process.stderr.readline()
            second = process.stderr.readline()
        finally:
            time.sleep(0.2)  # let it install its signal handlers
            process.send_signal(signal.SIGINT)
            rest = process.communicate(timeout=30)[1]
    assert f"Port {DEFAULT_PORT}, the default, is in use" in first
    assert "--port" in first
    assert "FakeGrok serving the xAI API at http://127.0.0.1:" in second
    assert f":{DEFAULT_PORT}/" not in second
    assert process.returncode == 0
    assert "Traceback" not in rest


def test_a_bad_argument_in_a_real_process_has_no_traceback() -> None:
    """The interpreter's own view: `python -m grok_async demo --concurrency 0` prints one line
    and exits 2."""
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    result = subprocess.run(
        [sys.executable, "-m", "grok_async", "demo", "--concurrency", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert_one_line(result.stderr, "--concurrency")


# -- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["chat"], ["demo"], ["models"], ["serve-fake"]])
def test_every_help_has_examples(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """Each --help ends with examples of its command (exit 0)."""
    code, out, _ = run_main(capsys, monkeypatch, *command, "--help")
    assert code == 0
    examples = out.split("examples:", 1)[1]
    expected = f"grok-async {command[0]}" if command else "grok-async demo"
    assert expected in examples


def test_the_main_help_says_what_the_environment_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`grok-async --help` says what XAI_API_KEY and XAI_BASE_URL do, alone and together."""
    _, out, _ = run_main(capsys, monkeypatch, "--help")
    assert "XAI_API_KEY" in out and "embedded" in out and "nothing is billed" in out
    assert "XAI_BASE_URL" in out and "with or without XAI_API_KEY" in out
    assert "exit codes" in out


# -- chat --reasoning -------------------------------------------------------------------------


def test_chat_reasoning_is_kept_apart_from_the_answer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chat --reasoning` on a reasoning model: the answer alone on stdout, the reasoning on
    stderr, every line of it starting with "thinking: "."""
    code, out, err = run_main(
        capsys, monkeypatch, "chat", "Is 97 prime?", "--model", "grok-3-mini", "--reasoning"
    )
    assert code == 0, err
    thoughts = [line for line in err.splitlines() if line.startswith("thinking: ")]
    assert thoughts
    thought = thoughts[0].removeprefix("thinking: ")
    assert thought not in out
    assert out.strip()
    assert "thinking" not in out


def test_chat_reasoning_on_a_model_that_shows_none_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chat --reasoning` on a model that keeps its reasoning hidden: a note says so."""
    code, out, err = run_main(capsys, monkeypatch, "chat", "Hi", "--reasoning")
    assert code == 0, err
    assert out.strip()
    assert "grok-4 sent no reasoning text" in err


class _Terminal:
    """A text stream that says it is a terminal and keeps what was written."""

    def __init__(self, tty: bool) -> None:
        self.text = ""
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_thinking_prefixes_every_line_however_the_pieces_split() -> None:
    """Reasoning streamed in pieces that split lines anywhere gets one prefix per line."""
    stream = _Terminal(tty=False)
    thinking = Thinking(stream)  # type: ignore[arg-type]
    for piece in ["Let me ", "think.\nNine", "ty-seven", "\n", "\nis odd."]:
        thinking.write(piece)
    thinking.end()
    assert stream.text == ("thinking: Let me think.\nthinking: Ninety-seven\n\nthinking: is odd.\n")


def test_thinking_is_dimmed_on_a_terminal_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the reasoning is faint (SGR 2), reset after each piece; NO_COLOR turns
    that off, and a pipe never gets escape codes."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = _Terminal(tty=True)
    Thinking(terminal).write("hmm")  # type: ignore[arg-type]
    assert terminal.text == "\x1b[2mthinking: hmm\x1b[0m"
    pipe = _Terminal(tty=False)
    Thinking(pipe).write("hmm")  # type: ignore[arg-type]
    assert pipe.text == "thinking: hmm"
    monkeypatch.setenv("NO_COLOR", "1")
    plain = _Terminal(tty=True)
    Thinking(plain).write("hmm")  # type: ignore[arg-type]
    assert plain.text == "thinking: hmm"
