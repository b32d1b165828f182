"""The ``grok-async`` command: chat, demo (the main job), models, serve-fake.

Without ``XAI_API_KEY`` every command that talks to the API starts the embedded emulator
(:class:`grok_async.testing.FakeGrok`) and says so, so everything works offline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from ._constants import API_KEY_ENV
from ._errors import GrokError
from ._fanout import FanOutStats
from ._version import __version__

__all__ = ["main"]

DEFAULT_MODEL = "grok-4"


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _endpoint(
    fake_options: dict[str, Any] | None = None,
) -> Iterator[tuple[str | None, str | None]]:
    """(api_key, base_url) of the real API when XAI_API_KEY is set, else of a local emulator."""
    if os.environ.get(API_KEY_ENV):
        yield None, None  # AsyncGrok reads XAI_API_KEY / XAI_BASE_URL itself
        return
    from .testing import FakeGrok

    with FakeGrok(record_requests=False, **(fake_options or {})) as fake:
        _note(f"{API_KEY_ENV} is not set: using the embedded Grok emulator at {fake.base_url}")
        yield "emulator-key", fake.base_url


def _client(api_key: str | None, base_url: str | None, **options: Any) -> Any:
    from ._client import AsyncGrok

    return AsyncGrok(api_key, base_url=base_url, **options)


# -- chat -------------------------------------------------------------------------------------


async def _chat(args: argparse.Namespace, api_key: str | None, base_url: str | None) -> None:
    messages: list[dict[str, str]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": args.prompt})
    out: TextIO = sys.stdout
    async with (
        _client(api_key, base_url) as client,
        client.chat.completions.stream(
            model=args.model, messages=messages, temperature=args.temperature
        ) as stream,
    ):
        async for chunk in stream:
            if args.json:
                print(json.dumps(chunk.to_dict(), ensure_ascii=False), file=out, flush=True)
                continue
            for choice in chunk.choices[:1]:
                if args.reasoning and choice.delta.reasoning_content:
                    out.write(choice.delta.reasoning_content)
                if choice.delta.content:
                    out.write(choice.delta.content)
                out.flush()
    if not args.json:
        out.write("\n")


# -- demo -------------------------------------------------------------------------------------


async def _demo(args: argparse.Namespace, api_key: str | None, base_url: str | None) -> None:
    if args.n is None:
        # Against the real API every request is billed: a small default there.
        args.n = 1000 if base_url is not None else 20
        if base_url is None:
            _note(f"{API_KEY_ENV} is set: the demo uses the real API ({args.n} requests).")
    stats = FanOutStats(total=args.n)
    requests = (
        {
            "model": args.model,
            "messages": [{"role": "user", "content": f"Give me fact number {i} about space."}],
            "max_tokens": 32,
        }
        for i in range(args.n)
    )
    async with _client(api_key, base_url, max_retries=6) as client:
        _note(f"Fanning out {args.n} completions, at most {args.concurrency} in flight:")
        await client.chat.completions.create_many(
            requests,
            concurrency=args.concurrency,
            return_exceptions=True,
            progress=True,
            stats=stats,
        )
        _note("\nStreaming one answer token by token:")
        first_token: float | None = None
        start = time.monotonic()
        async with client.chat.completions.stream(
            model=args.model,
            messages=[{"role": "user", "content": "Tell me a short story about a fast client."}],
            stream_options={"include_usage": True},
        ) as stream:
            async for text in stream.text():
                if first_token is None:
                    first_token = time.monotonic() - start
                sys.stdout.write(text)
                sys.stdout.flush()
            final = await stream.get_final_completion()
        sys.stdout.write("\n")
    tokens = final.usage.completion_tokens if final.usage else 0
    ttft = f"{first_token * 1000:.0f} ms" if first_token is not None else "n/a"
    _note(f"(streamed {tokens} tokens, first token after {ttft})")
    print(f"\nSummary: {stats.summary()}")


# -- models -----------------------------------------------------------------------------------


async def _models(args: argparse.Namespace, api_key: str | None, base_url: str | None) -> None:
    async with _client(api_key, base_url) as client:
        models = await client.models.list()
    for model in models:
        print(model.id)


# -- entry point ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grok-async",
        description="The asyncio client for the xAI Grok API. Without XAI_API_KEY, commands "
        "run against the embedded local emulator.",
    )
    parser.add_argument("--version", action="version", version=f"grok-async {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="stream an answer to a prompt, token by token")
    chat.add_argument("prompt")
    chat.add_argument("--model", default=DEFAULT_MODEL)
    chat.add_argument("--system", help="a system message")
    chat.add_argument("--temperature", type=float)
    chat.add_argument("--json", action="store_true", help="print the raw chunks as JSON lines")
    chat.add_argument("--reasoning", action="store_true", help="also print reasoning text")

    demo = sub.add_parser("demo", help="the main job: fan-out, a streamed answer, a summary")
    demo.add_argument(
        "--n",
        type=int,
        default=None,
        help="completions to fan out (1000 on the emulator; 20 against the real API, "
        "which bills them)",
    )
    demo.add_argument("--concurrency", type=int, default=64)
    demo.add_argument("--model", default=DEFAULT_MODEL)

    sub.add_parser("models", help="list the available models")

    serve = sub.add_parser("serve-fake", help="run the local Grok emulator for other tools")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND=RATE",
        help="inject random faults, e.g. --fault 429=0.05 --fault reset=0.01",
    )
    serve.add_argument("--quiet", action="store_true", help="do not record requests")
    return parser


def _fault_rates(specs: Sequence[str]) -> dict[str, float]:
    rates = {}
    for spec in specs:
        kind, _, rate = spec.partition("=")
        try:
            rates[kind] = float(rate)
        except ValueError:
            raise SystemExit(f"grok-async: --fault wants KIND=RATE, got {spec!r}") from None
    return rates


_COMMANDS = {"chat": _chat, "demo": _demo, "models": _models}

# The demo shows retries and backoff at work: a few injected rate limits and server errors.
_DEMO_FAULTS = {"fault_rates": {"429": 0.03, "503": 0.01}, "retry_after": 0.05}
# A streamed answer the eye can follow.
_DEMO_PACE = {"tokens_per_second": 60.0}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (1 on any API or network error)."""
    args = _parser().parse_args(argv)
    if args.command == "serve-fake":
        from .testing import FakeGrok

        FakeGrok.run_forever(
            args.host,
            args.port,
            latency=args.latency,
            fault_rates=_fault_rates(args.fault) or None,
            record_requests=not args.quiet,
        )
        return 0
    fake_options: dict[str, Any] = {}
    if args.command == "demo":
        fake_options = {**_DEMO_FAULTS, **_DEMO_PACE}
    try:
        with _endpoint(fake_options) as (api_key, base_url):
            asyncio.run(_COMMANDS[args.command](args, api_key, base_url))
    except GrokError as exc:
        # One line a person can act on, never a traceback.
        _note(f"grok-async: error: {exc}")
        return 1
    except KeyboardInterrupt:
        _note("grok-async: interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`grok-async models | head -1`): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
