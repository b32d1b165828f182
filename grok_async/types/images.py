"""Response models of ``POST /v1/images/generations`` (and ``/v1/images/edits``)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from attrs import define, field

from .._errors import GrokError
from ._base import WireModel
from ._cost import CostInTicks

__all__ = ["GeneratedImage", "ImageUsage", "ImagesResponse"]


@define
class GeneratedImage(WireModel):
    """One generated image: a ``url`` or the ``b64_json`` data, as ``response_format`` chose.

    ``revised_prompt`` is the prompt the model actually drew from, when it rewrote yours.
    """

    url: str | None = None
    b64_json: str | None = None
    #: e.g. ``image/jpeg`` or ``image/png``.
    mime_type: str | None = None
    revised_prompt: str | None = None

    def content(self) -> bytes:
        """The image file's bytes, decoded from ``b64_json``.

        Raises:
            GrokError: the image came as a ``url`` (download it instead), or its data is
                not valid base64.
        """
        if self.b64_json is None:
            raise GrokError(
                "This image has no b64_json data (it was returned as a url): request "
                'response_format="b64_json" to get the bytes inline, or download the url.'
            )
        try:
            return base64.b64decode(self.b64_json, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise GrokError(f"The image's b64_json is not valid base64: {exc}") from None


@define
class ImageUsage(WireModel, CostInTicks):
    """What the request cost: ``cost_usd`` in US dollars (None if the server did not say)."""

    #: Cost in USD ticks (1 USD = 10,000,000,000 ticks).
    cost_in_usd_ticks: int | None = None


@define
class ImagesResponse(WireModel):
    """The images of one request: ``response.data[0].url`` (iterating gives ``data``)."""

    data: list[GeneratedImage] = field(factory=list)
    created: int | None = None
    usage: ImageUsage | None = None
    #: The ``x-request-id`` of the response; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[GeneratedImage]:
        return iter(self.data)
