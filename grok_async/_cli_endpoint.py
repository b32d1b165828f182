"""Where the ``grok-async`` commands send their requests, and what they tell the user about it.

The environment decides, and is checked before anything starts:

- ``XAI_API_KEY`` set: the xAI API, or ``XAI_BASE_URL`` when that is set too.
- only ``XAI_BASE_URL`` set: that server, with a placeholder key. A user who points the
  commands at a server (``grok-async serve-fake`` in another terminal, a proxy that holds
  the key itself) expects them to go there, not to a hidden emulator; a server that wants
  a key answers 401, and the error line says to set ``XAI_API_KEY``.
- neither: the embedded emulator (:class:`grok_async.testing.FakeGrok`) in a thread.

A bad value is a :class:`UsageError` that names the variable and never shows the key.
Errors at run time get a hint naming what to check (:func:`hint`).
"""

from __future__ import annotations

import contextlib
import sys
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ._constants import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from ._errors import (
    APIConnectionError,
    AuthenticationError,
    GrokError,
    NotFoundError,
    PermissionDeniedError,
)

__all__ = [
    "CommandError",
    "Endpoint",
    "Settings",
    "UsageError",
    "hint",
    "note",
    "read_settings",
    "serve",
]

# Sent when XAI_BASE_URL is set without XAI_API_KEY: the client needs some key, and a server
# that checks it refuses this one (the error line then says to set XAI_API_KEY).
PLACEHOLDER_KEY = "no-key-set"


class UsageError(Exception):
    """Something to fix in the command line or the environment (exit code 2)."""


class CommandError(Exception):
    """A failure at run time, worded for the user (exit code 1)."""


def note(text: str) -> None:
    """A line for the user on stderr (stdout carries the command's output)."""
    print(text, file=sys.stderr, flush=True)


@attrs.frozen
class Settings:
    """The checked environment: the key and base URL the user set (None: not set)."""

    api_key: str | None = attrs.field(repr=False)  # never shown, even in a repr
    base_url: str | None

    @property
    def embedded(self) -> bool:
        """Whether the commands run on the embedded emulator (neither variable set)."""
        return self.api_key is None and self.base_url is None


@attrs.frozen
class Endpoint:
    """Where requests go: the client's key and base URL, and how the user chose them."""

    api_key: str = attrs.field(repr=False)  # never shown, even in a repr
    base_url: str
    settings: Settings
    #: Seconds a budget's "minute" lasts (the embedded emulator's may be short); None: 60.
    rate_limit_period: float | None = None

    @property
    def embedded(self) -> bool:
        return self.settings.embedded


def shown_url(url: str) -> str:
    """A URL fit to print: any ``user:password@`` is left out."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<a malformed URL>"
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _check_key(key: str) -> str:
    # The message never shows the key, not even in part: it ends up in logs and bug reports.
    if any(char in key for char in "\r\n"):
        raise UsageError(
            f"{API_KEY_ENV} contains a line break (a key read from a file keeps its trailing "
            f"newline): set {API_KEY_ENV} to the key alone"
        )
    if any(char.isspace() for char in key):
        raise UsageError(f"{API_KEY_ENV} contains spaces or tabs: set it to the key alone")
    if not key.isascii() or not key.isprintable():
        raise UsageError(
            f"{API_KEY_ENV} contains characters an HTTP header cannot carry (pasted quotes or "
            f"control characters?): set it to the key alone"
        )
    return key


def _check_base_url(url: str) -> str:
    stripped = url.strip()
    try:
        parts = urllib.parse.urlsplit(stripped)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises ValueError for a port that is not a number or out of range
    except ValueError:
        valid = False
    if not valid or stripped != url:
        raise UsageError(
            f"{BASE_URL_ENV} must be an http(s) URL such as {DEFAULT_BASE_URL}, "
            f"not {shown_url(url)!r}"
        )
    return url


def read_settings(environ: Mapping[str, str]) -> Settings:
    """The key and base URL from the environment, checked (UsageError naming the variable).

    An empty variable counts as not set.
    """
    key = environ.get(API_KEY_ENV) or None
    url = environ.get(BASE_URL_ENV) or None
    return Settings(
        api_key=_check_key(key) if key is not None else None,
        base_url=_check_base_url(url) if url is not None else None,
    )


@contextlib.contextmanager
def serve(settings: Settings, fake_options: Mapping[str, Any] | None = None) -> Iterator[Endpoint]:
    """The endpoint the settings choose; the embedded emulator (with *fake_options*) runs
    for as long as the block does."""
    if not settings.embedded:
        yield Endpoint(
            api_key=settings.api_key or PLACEHOLDER_KEY,
            base_url=settings.base_url or DEFAULT_BASE_URL,
            settings=settings,
        )
        return
    from .testing import FakeGrok

    with FakeGrok(record_requests=False, **(fake_options or {})) as fake:
        note(
            f"{API_KEY_ENV} is not set: running on the embedded Grok emulator at "
            f"{fake.base_url}. Nothing leaves this machine and nothing is billed."
        )
        yield Endpoint(
            api_key="emulator",
            base_url=fake.base_url,
            settings=settings,
            rate_limit_period=fake.minute,
        )


def hint(exc: GrokError, endpoint: Endpoint | None) -> str | None:
    """What to check after *exc*, as a clause for the error line (None: nothing to add)."""
    if endpoint is None or endpoint.embedded:
        return None
    settings = endpoint.settings
    url = shown_url(endpoint.base_url)
    if isinstance(exc, NotFoundError):
        path = urllib.parse.urlsplit(endpoint.base_url).path.rstrip("/")
        if not path.endswith("/v1"):
            return (
                f"{BASE_URL_ENV} is {url}, without /v1 at the end: the xAI API lives under /v1, "
                f"so try {url.rstrip('/')}/v1"
            )
        return "check --model: `grok-async models` lists the models your key can use"
    if isinstance(exc, (AuthenticationError, PermissionDeniedError)):
        if settings.api_key is None:
            return f"the server at {BASE_URL_ENV} wants an API key: set {API_KEY_ENV}"
        return f"check {API_KEY_ENV}"
    if isinstance(exc, APIConnectionError):
        if settings.base_url is not None:
            return f"is the server at {BASE_URL_ENV} ({url}) running and reachable?"
        return "check your network connection"
    return None
