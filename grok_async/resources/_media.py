"""What the media generators (``client.images``, ``client.videos``) share: input images
and videos in the shape the API takes them, and the JSON POST that each of their calls
sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._serialization import encode_json

if TYPE_CHECKING:
    from .._requester import Requester
    from .._response import HTTPResponse
    from .._sentinels import NotGiven
    from .._timeout import TimeoutTypes

__all__ = ["MediaInput", "MediaResource", "media_list", "media_object"]

T = TypeVar("T")

#: An input image or video: a URL (``https://...`` or a ``data:`` URL), or an object as the
#: API takes it, ``{"url": ...}`` or ``{"file_id": ...}``.
MediaInput = str | Mapping[str, Any]


def media_object(value: object, what: str) -> Mapping[str, Any]:
    """``value`` as the API takes an input image or video: a URL string becomes
    ``{"url": ...}``, a mapping goes as it is.

    Raises:
        TypeError: anything else; the message names the argument (``what``).
    """
    if isinstance(value, str):
        return {"url": value}
    if isinstance(value, Mapping):
        return value
    raise TypeError(
        f"{what} must be a URL string or a mapping such as {{'url': ...}} or "
        f"{{'file_id': ...}}, not {type(value).__name__}"
    )


def media_list(values: object, what: str, item: str, hint: str = "") -> list[Mapping[str, Any]]:
    """Each of ``values`` (any iterable) as :func:`media_object` makes it.

    Raises:
        TypeError: ``values`` is a single string or mapping (it would be taken for one
            image per character or key) or not iterable, named ``what`` (with ``hint``
            after it); or one of them is not an input, named ``item``.
    """
    if isinstance(values, (str, bytes, bytearray, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(f"{what} takes a list of images, not {type(values).__name__}{hint}")
    return [media_object(value, item) for value in values]


class MediaResource:
    """The base of a media generator: its client and :meth:`_post`."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def _post(
        self,
        path: str,
        body: dict[str, Any],
        decode: Callable[[HTTPResponse], T],
        extra_headers: Mapping[str, str] | None,
        extra_body: Mapping[str, Any] | None,
        timeout: TimeoutTypes | NotGiven,
        max_retries: int | None,
    ) -> T:
        """POST ``body`` as JSON, ``extra_body`` merged into it last (so it overrides);
        return what ``decode`` makes of the answer."""
        if extra_body:
            body.update(extra_body)
        return await self._client.request(
            "POST",
            path,
            body=encode_json(body),
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=decode,
        )
