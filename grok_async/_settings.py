"""Checks of the client's settings: the key, headers and base URL it is given.

Each refuses a value that would break or leak a request with a :class:`GrokError` that
names what to fix, never the value itself (it may be the API key).
"""

from __future__ import annotations

import ipaddress
import urllib.parse
import warnings
from collections.abc import Mapping

from multidict import CIMultiDict

from ._constants import API_KEY_ENV
from ._errors import GrokError

__all__ = ["RedactedHeaders", "check_header", "check_headers", "check_key", "checked_base_url"]


def check_header(name: str, value: str) -> None:
    """Refuse a header value that would split the request (CR/LF) or cannot be encoded.

    The message names the header, never its value: it may be the API key.
    """
    if not isinstance(value, str):
        raise GrokError(f"Header {name!r} must be a str, not {type(value).__name__}.")
    if "\r" in value or "\n" in value or "\0" in value:
        raise GrokError(
            f"Header {name!r} contains a CR, LF or NUL character; refusing to send the request."
        )
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise GrokError(
            f"Header {name!r} contains characters outside latin-1; HTTP headers cannot carry them."
        ) from None


def check_key(api_key: str, from_environment: bool) -> None:
    """Refuse a key no header can carry, naming where it came from (never the key)."""
    try:
        check_header("Authorization", api_key)
    except GrokError:
        source = f"The {API_KEY_ENV} environment variable" if from_environment else "api_key"
        raise GrokError(
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
        raise GrokError(f"base_url must be an http(s) URL with a host, not {url!r}")
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
