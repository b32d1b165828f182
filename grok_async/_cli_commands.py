"""The ``grok-async`` commands other than the demo: ``chat``, ``models``, ``serve-fake``."""

from __future__ import annotations

import argparse
import errno
import json
import os
import socket
import sys
from typing import Any, TextIO

from ._cli_endpoint import CommandError, Endpoint, UsageError, note

__all__ = ["DEFAULT_PORT", "Thinking", "run_chat", "run_models", "serve_fake"]

# serve-fake's port: "GROK" on a phone keypad. 8000, the usual pick, is uvicorn's and
# Django's and often taken; when this one is too, a free port is used (and said).
DEFAULT_PORT = 4765

# Select Graphic Rendition: faint, and back to normal.
_DIM, _NORMAL = "\x1b[2m", "\x1b[0m"


def _client(endpoint: Endpoint) -> Any:
    from ._client import AsyncGrok

    return AsyncGrok(endpoint.api_key, base_url=endpoint.base_url)


# -- chat -------------------------------------------------------------------------------------


class Thinking:
    """Reasoning text, kept apart from the answer: on its own stream (stderr), each line
    starting with ``thinking:``, and dimmed on a terminal (unless ``NO_COLOR`` is set)."""

    PREFIX = "thinking: "

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.dim = stream.isatty() and not os.environ.get("NO_COLOR")
        self.shown = False
        self._line_open = False

    def write(self, text: str) -> None:
        """Show a piece of the reasoning (pieces may split lines anywhere)."""
        pieces: list[str] = []
        for number, line in enumerate(text.split("\n")):
            if number:
                pieces.append("\n")
                self._line_open = False
            if line:
                if not self._line_open:
                    pieces.append(self.PREFIX)
                    self._line_open = True
                pieces.append(line)
        shown = "".join(pieces)
        if not shown:
            return
        self.shown = True
        self.stream.write(f"{_DIM}{shown}{_NORMAL}" if self.dim else shown)
        self.stream.flush()

    def end(self) -> None:
        """End the reasoning's last line, so the answer starts on a line of its own."""
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False


async def run_chat(args: argparse.Namespace, endpoint: Endpoint) -> None:
    """Stream the answer to the prompt on stdout (the reasoning, if asked for, on stderr)."""
    messages: list[dict[str, str]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": args.prompt})
    out = sys.stdout
    thinking = Thinking(sys.stderr) if args.reasoning and not args.json else None
    async with (
        _client(endpoint) as client,
        client.chat.completions.stream(
            model=args.model, messages=messages, temperature=args.temperature
        ) as stream,
    ):
        async for chunk in stream:
            if args.json:
                print(json.dumps(chunk.to_dict(), ensure_ascii=False), file=out, flush=True)
                continue
            for choice in chunk.choices[:1]:
                delta = choice.delta
                if thinking is not None and delta.reasoning_content:
                    thinking.write(delta.reasoning_content)
                if delta.content:
                    if thinking is not None:
                        thinking.end()
                    out.write(delta.content)
                    out.flush()
    if args.json:
        return
    out.write("\n")
    if thinking is not None:
        thinking.end()
        if not thinking.shown:
            note(
                f"({args.model} sent no reasoning text: not every model shows its reasoning; "
                "grok-3-mini does)"
            )


# -- models -----------------------------------------------------------------------------------


async def run_models(args: argparse.Namespace, endpoint: Endpoint) -> None:
    """Print the model ids, one per line."""
    async with _client(endpoint) as client:
        models = await client.models.list()
    for model in models:
        print(model.id)


# -- serve-fake -------------------------------------------------------------------------------


def _cannot_listen(exc: OSError, host: str, port: int) -> CommandError:
    where = f"port {port} of {host}"
    if isinstance(exc, socket.gaierror):
        return CommandError(f"cannot listen on --host {host!r}: no such host or address")
    if exc.errno == errno.EADDRINUSE:
        return CommandError(
            f"{where} is already in use: choose another with --port (--port 0 picks a free one)"
        )
    if exc.errno == errno.EACCES:
        return CommandError(
            f"no permission to listen on {where} (ports below 1024 need root): "
            "choose another with --port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return CommandError(f"--host {host} is not an address of this machine")
    return CommandError(f"cannot listen on {where}: {exc.strerror or exc}")


def serve_fake(args: argparse.Namespace) -> None:
    """Run the emulator until Ctrl-C or SIGTERM."""
    from .testing import FakeGrok

    options: dict[str, Any] = {
        "latency": args.latency,
        "fault_rates": args.fault or None,
        "record_requests": not args.quiet,
    }
    try:
        FakeGrok(**options)  # checks the options before anything listens
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    port = DEFAULT_PORT if args.port is None else args.port
    try:
        FakeGrok.run_forever(args.host, port, **options)
    except OSError as exc:
        if args.port is not None or exc.errno != errno.EADDRINUSE:
            raise _cannot_listen(exc, args.host, port) from None
        note(
            f"Port {DEFAULT_PORT}, the default, is in use: serving on a free port instead "
            "(choose one with --port)."
        )
        try:
            FakeGrok.run_forever(args.host, 0, **options)
        except OSError as retry_exc:
            raise _cannot_listen(retry_exc, args.host, 0) from None
