"""The ``grok-async`` command: chat, demo (the main job), batch, models, serve-fake.

Without ``XAI_API_KEY`` (and ``XAI_BASE_URL``) every command that talks to the API starts
the embedded emulator (:class:`grok_async.testing.FakeGrok`) and says so, so everything
works offline. Whatever goes wrong ends in one line on stderr naming what to fix, never a
traceback (``--debug`` shows it): exit code 2 for a bad argument or environment value, 1
for a failure at run time, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from ._cli_endpoint import CommandError, Endpoint, UsageError, hint, note, read_settings, serve
from ._errors import GrokError
from ._version import __version__

__all__ = ["main"]

DEFAULT_MODEL = "grok-4"
PROG = "grok-async"

_DESCRIPTION = """\
The asyncio client for the xAI Grok API, on the command line.

environment:
  XAI_API_KEY   your xAI API key. Not set: chat, demo and models run on the embedded
                Grok emulator, offline, and nothing is billed.
  XAI_BASE_URL  the API's address (default https://api.x.ai/v1). When set, commands go
                there, with or without XAI_API_KEY (without it they send a placeholder
                key: enough for `grok-async serve-fake` or a proxy that holds the key).

exit codes: 0 done, 1 an API, network or server error, 2 a bad argument or environment
value, 130 interrupted. Errors are one line on stderr; --debug shows the traceback.
"""

_MAIN_EXAMPLES = """\
examples:
  grok-async demo                       fan out 1,000 completions on the emulator
  grok-async chat "Is 97 prime?"        stream one answer
  grok-async batch run in.jsonl -o out.jsonl   a file of requests, resumable
  grok-async serve-fake                 run the emulator for other programs
  grok-async demo --help                each command's own options and examples
"""

_CHAT_EXAMPLES = """\
examples:
  grok-async chat "Explain backpressure in one paragraph."
  grok-async chat "Summarise TCP" --system "You are terse." --temperature 0.2
  grok-async chat "Is 97 prime?" --model grok-3-mini --reasoning
  grok-async chat "Hi" --json | jq -r '.choices[0].delta.content // empty'

The answer goes to stdout; with --reasoning the model's reasoning goes to stderr, each
line starting with "thinking:" (dimmed on a terminal).
"""

_DEMO_EXAMPLES = """\
examples:
  grok-async demo                       1,000 requests on the emulator (a few seconds)
  grok-async demo --n 200 --concurrency 16
  XAI_API_KEY=... grok-async demo       20 requests to the real API (billed)

On the emulator the demo runs against a per-minute budget sized to --n (a "minute" of
3 s), and shows the client pacing itself from the X-Ratelimit-* headers: how many
requests waited for the budget, how many were refused (about none) and the last reading.
"""

_MODELS_EXAMPLES = """\
examples:
  grok-async models
  grok-async models | grep mini
"""

_SERVE_EXAMPLES = """\
examples:
  grok-async serve-fake
  grok-async serve-fake --port 0 --latency 0.02 --fault 429=0.05 --fault reset=0.01

then, in another terminal:
  export XAI_BASE_URL=http://127.0.0.1:4765/v1
  grok-async chat "Hello"

Fault kinds: reset, reset_mid_stream, 429, 500, 502, 503, 504, html, stall, malformed,
error_event, no_done; their rates add up to at most 1.
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line naming what to fix (exit code 2)."""

    #: The subcommands' parsers, by name (on the top-level parser).
    commands: dict[str, _Parser]

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


# -- argument types: each error names the value, argparse adds the option -----------------


def _whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _seconds(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text!r}")
    return value


def _temperature(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value <= 2.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535 (0: any free port), got {value}")
    return value


def _text(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _fault(text: str) -> tuple[str, float]:
    from .testing._faults import RANDOM_FAULT_KINDS

    kind, equals, rate_text = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"expected KIND=RATE such as 429=0.05, got {text!r}")
    if kind not in RANDOM_FAULT_KINDS:
        raise argparse.ArgumentTypeError(
            f"unknown fault kind {kind!r}; the kinds are {', '.join(RANDOM_FAULT_KINDS)}"
        )
    try:
        rate = float(rate_text)
    except ValueError:
        rate = math.nan
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(
            f"the rate of {kind!r} must be a number from 0 to 1, got {rate_text!r}"
        )
    return kind, rate


# -- the parser -------------------------------------------------------------------------------


def _parser() -> _Parser:
    debug = _Parser(add_help=False)
    # SUPPRESS: a subcommand without the flag must not reset one given before it.
    debug.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="on an error, show the full traceback",
    )
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog=PROG, description=_DESCRIPTION, epilog=_MAIN_EXAMPLES, formatter_class=formatter
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", help="on an error, show the traceback")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.commands = {}

    def command(name: str, summary: str, examples: str) -> _Parser:
        made: _Parser = sub.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=examples,
            formatter_class=formatter,
            parents=[debug],
        )
        parser.commands[name] = made
        return made

    chat = command("chat", "stream an answer to a prompt, token by token", _CHAT_EXAMPLES)
    chat.add_argument("prompt", type=_text, help="what to ask")
    chat.add_argument("--model", type=_text, default=DEFAULT_MODEL, help="default: %(default)s")
    chat.add_argument("--system", help="a system message before the prompt")
    chat.add_argument("--temperature", type=_temperature, help="sampling temperature, 0 to 2")
    chat.add_argument("--json", action="store_true", help="print the raw chunks as JSON lines")
    chat.add_argument(
        "--reasoning",
        action="store_true",
        help='also show the reasoning, on stderr, each line starting with "thinking:"',
    )

    demo = command(
        "demo", "the main job: a paced fan-out, a streamed answer, a summary", _DEMO_EXAMPLES
    )
    demo.add_argument(
        "--n",
        type=_whole_number,
        default=None,
        metavar="N",
        help="completions to fan out (default 1,000 on the emulator; 20 against a real API, "
        "which bills them)",
    )
    demo.add_argument(
        "--concurrency",
        type=_whole_number,
        default=64,
        metavar="N",
        help="at most this many in flight (default: %(default)s)",
    )
    demo.add_argument("--model", type=_text, default=DEFAULT_MODEL, help="default: %(default)s")

    command("models", "list the models your key can use", _MODELS_EXAMPLES)

    from ._cli_batch import BATCH_EXAMPLES, add_batch_commands

    batch = command(
        "batch", "run a JSONL file of requests, here or with xAI's Batch API", BATCH_EXAMPLES
    )
    add_batch_commands(batch, debug, _whole_number, _number)

    serve = command("serve-fake", "run the local Grok emulator for other tools", _SERVE_EXAMPLES)
    serve.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    serve.add_argument(
        "--port",
        type=_port,
        default=None,
        help="default 4765, or a free port when 4765 is taken; 0: any free port",
    )
    serve.add_argument(
        "--latency", type=_seconds, default=0.0, help="seconds to wait before each answer"
    )
    serve.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="KIND=RATE",
        help="inject random faults, e.g. --fault 429=0.05 --fault reset=0.01",
    )
    serve.add_argument("--quiet", action="store_true", help="do not record requests")
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve-fake":
        rates: dict[str, float] = {}
        for kind, rate in args.fault:
            rates[kind] = rate  # the last --fault of a kind wins
        if sum(rates.values()) > 1.0 + 1e-9:
            parser.commands["serve-fake"].error("the --fault rates add up to more than 1")
        args.fault = rates
    return args


# -- running a command ------------------------------------------------------------------------


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Warnings (e.g. a base URL that is not HTTPS) as one line each, not a source excerpt."""

    def show(message: Warning | str, *_args: Any, **_kwargs: Any) -> None:
        note(f"{PROG}: warning: {message}")

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


_Command = Callable[[argparse.Namespace, Endpoint], Coroutine[Any, Any, None]]


def _command(name: str, args: argparse.Namespace) -> _Command:
    if name == "demo":
        from ._cli_demo import run_demo

        return run_demo
    if name == "batch" and args.batch_command == "run":
        from ._cli_batch import run_batch

        return run_batch
    if name == "batch":
        from ._cli_batch_api import run_batch_api

        return run_batch_api
    from ._cli_commands import run_chat, run_models

    return run_chat if name == "chat" else run_models


def _run(args: argparse.Namespace, reached: list[Endpoint]) -> None:
    """Run the command; the endpoint it talks to goes into *reached* (for error hints)."""
    if args.command == "serve-fake":
        from ._cli_commands import serve_fake

        serve_fake(args)
        return
    settings = read_settings(os.environ)
    fake_options: dict[str, Any] = {}
    if args.command == "demo":
        from ._cli_demo import prepare_demo

        fake_options = prepare_demo(args, settings)
    run = _command(args.command, args)
    with serve(settings, fake_options) as endpoint:
        reached.append(endpoint)
        asyncio.run(run(args, endpoint))


def _fail(code: int, message: str, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    # One line, whatever the message (a server's text may span several).
    note(f"{PROG}: error: {' '.join(message.split())}")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module's docstring)."""
    try:
        args = _parse(argv)
    except SystemExit as exit_:  # a usage error (already printed), --help or --version
        return exit_.code if isinstance(exit_.code, int) else 0
    debug = bool(getattr(args, "debug", False))
    reached: list[Endpoint] = []
    try:
        with _warnings_as_lines():
            _run(args, reached)
    except UsageError as exc:
        return _fail(2, str(exc), debug)
    except CommandError as exc:
        return _fail(1, str(exc), debug)
    except GrokError as exc:
        # One line a person can act on, with what to check where we can tell.
        extra = hint(exc, reached[0] if reached else None)
        return _fail(1, f"{exc}" + (f" ({extra})" if extra else ""), debug)
    except KeyboardInterrupt:
        note(f"{PROG}: interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`grok-async models | head -1`): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug of ours: still one line, and how to see more
        detail = f"{type(exc).__name__}: {exc}"
        more = "" if debug else "; run with --debug for the traceback"
        return _fail(1, f"unexpected {detail}{more}, and please report it", debug)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
