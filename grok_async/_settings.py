"""Checks of the client's settings: the key, headers, base URL, numbers and timeout.

Each refuses a value that would break or leak a request with a
:class:`~grok_async.ConfigurationError` that names what to fix, never the value itself
when it may be the API key. They run when the client is made, so a mistake shows at
start-up rather than at the first request.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
import warnings
from collections.abc import Mapping

from multidict import CIMultiDict

from ._constants import API_KEY_ENV
from ._errors import ConfigurationError
from ._timeout import Timeout, TimeoutTypes, positive_seconds

__all__ = [
    "RedactedHeaders",
    "check_count",
    "check_header",
    "check_headers",
    "check_key",
    "check_seconds",
    "check_session",
    "checked_base_url",
    "checked_rate",
    "checked_timeout",
    "checked_wait",
]


def check_header(name: str, value: str) -> None:
    """Refuse a header value that would split the request (CR/LF) or cannot be encoded.

    The message names the header, never its value: it may be the API key.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"Header {name!r} must be a str, not {type(value).__name__}.")
    if "\r" in value or "\n" in value or "\0" in value:
        raise ConfigurationError(
            f"Header {name!r} contains a CR, LF or NUL character; refusing to send the request."
        )
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ConfigurationError(
            f"Header {name!r} contains characters outside latin-1; HTTP headers cannot carry them."
        ) from None


def check_key(api_key: str, from_environment: bool) -> None:
    """Refuse a key no header can carry, naming where it came from (never the key)."""
    try:
        check_header("Authorization", api_key)
    except ConfigurationError:
        source = f"The {API_KEY_ENV} environment variable" if from_environment else "api_key"
        raise ConfigurationError(
            f"{source} cannot go in the Authorization header: it contains a line break or a "
            "character HTTP headers cannot carry (a key read from a file often keeps its "
            "trailing newline). Set it to the key alone."
        ) from None


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    for name, value in headers.items():
        check_header(str(name), name)
        check_header(name, value)
    return dict(headers)


class RedactedHeaders(CIMultiDict[str]):
    """Request headers whose repr hides the Authorization value.

    The headers travel through every frame of a request; a traceback printed with its
    locals (pytest ``--showlocals``, rich, Sentry) would otherwise show the key. A
    ``CIMultiDict`` because that is what aiohttp takes without converting it per request
    (and names are case-insensitive, as in HTTP: a later ``authorization`` replaces
    ``Authorization``).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        shown = {
            name: "<redacted>" if name.lower() == "authorization" else value
            for name, value in self.items()
        }
        return repr(shown)

    __str__ = __repr__


def checked_base_url(url: str) -> str:
    """The base URL without a trailing slash; warns where it would expose the key."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base_url must be an http(s) URL with a host, not {url!r}")
    if parts.username or parts.password:
        warnings.warn(
            "base_url contains credentials (user:password@); they are sent to every proxy "
            "and log that sees the URL. Use api_key= or default_headers instead.",
            UserWarning,
            stacklevel=3,
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        warnings.warn(
            f"base_url {parts.scheme}://{parts.hostname} is not HTTPS: the API key would "
            "cross the network in clear text.",
            UserWarning,
            stacklevel=3,
        )
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_count(name: str, value: object, minimum: int) -> int:
    """``value`` if it is an int of at least ``minimum`` (a bool is not a count)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_session(session: object) -> None:
    """Refuse a ``session=`` that is not an ``aiohttp.ClientSession``."""
    import aiohttp  # already imported by the transport: no cost here

    if session is not None and not isinstance(session, aiohttp.ClientSession):
        raise ConfigurationError(
            f"session must be an aiohttp.ClientSession or None, not {type(session).__name__}"
        )


def _seconds_or_zero(value: object) -> bool:
    return (not isinstance(value, bool) and value == 0) or positive_seconds(value)


def check_seconds(name: str, value: object) -> float:
    """``value`` as a float if it is a finite number > 0."""
    if not positive_seconds(value):
        raise ConfigurationError(f"{name} must be a finite number > 0 seconds, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def checked_rate(name: str, value: object) -> float | None:
    """A per-minute budget: ``None`` (none) or a finite number > 0."""
    if value is None:
        return None
    if not positive_seconds(value):
        raise ConfigurationError(f"{name} must be a number > 0 per minute or None, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def checked_timeout(value: object) -> TimeoutTypes:
    """A timeout setting: ``None``, seconds, or a :class:`Timeout`. As in aiohttp, ``None``
    or 0 means no limit; a negative or non-finite limit is refused."""
    if value is None or _seconds_or_zero(value):
        return value  # type: ignore[return-value]
    if isinstance(value, Timeout):
        for part in ("connect", "read", "total"):
            limit = getattr(value, part)
            if limit is not None and not _seconds_or_zero(limit):
                raise ConfigurationError(
                    f"timeout.{part} must be None or a finite number >= 0 seconds, got {limit!r}"
                )
        return value
    raise ConfigurationError(
        f"timeout must be a number of seconds, a grok_async.Timeout or None, not {value!r}"
    )


def checked_wait(value: object) -> float | None:
    """``max_budget_wait``: ``None`` (wait as long as needed), or seconds >= 0."""
    if value is None or _seconds_or_zero(value):
        return None if value is None else float(value)  # type: ignore[arg-type]
    raise ConfigurationError(
        f"max_budget_wait must be None or a finite number >= 0 seconds, got {value!r}"
    )
