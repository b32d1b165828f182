"""``client.images``: generate images from a prompt, or edit given images.

``POST /v1/images/generations`` and ``POST /v1/images/edits``. Image models do not stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .._sentinels import NOT_GIVEN, NotGiven
from .._timeout import TimeoutTypes
from ..types.images import ImagesResponse
from ._decode import decode_object
from ._media import MediaInput, MediaResource, media_list, media_object

if TYPE_CHECKING:
    from .._response import HTTPResponse

__all__ = ["Images"]

#: An input image of :meth:`Images.edit`: a URL (``https://...`` or a ``data:`` URL), or
#: an object as the API takes it, ``{"url": ...}`` or ``{"file_id": ...}``.
ImageInput = MediaInput


def _decode_images(reply: HTTPResponse) -> ImagesResponse:
    return decode_object(reply, ImagesResponse)


class Images(MediaResource):
    """``client.images``"""

    async def generate(
        self,
        *,
        prompt: str,
        model: str | None = None,
        n: int | None = None,
        response_format: Literal["url", "b64_json"] | None = None,
        aspect_ratio: str | None = None,
        resolution: str | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> ImagesResponse:
        """Generate ``n`` images (1 to 10) from ``prompt``.

        ``response_format="url"`` (the server's default) returns links to the images;
        ``"b64_json"`` returns their bytes inline (read them with
        :meth:`GeneratedImage.content`). ``aspect_ratio`` is e.g. ``"16:9"`` or ``"auto"``,
        ``resolution`` ``"1k"`` or ``"2k"``. ``None`` means "not sent": the server's
        default applies. Per-call options work as for chat completions.

        Raises:
            TypeError: ``prompt`` is not a string.
            BadRequestError, UnprocessableEntityError: the server refused a parameter (an
                ``n`` out of range, an unknown ``response_format``, a prompt it rejects).
            NotFoundError: unknown model.
            APIStatusError, APIConnectionError, APITimeoutError: as for any call.
        """
        body = _body(prompt, model, n, response_format, aspect_ratio, resolution, user)
        return await self._post(
            "/images/generations",
            body,
            _decode_images,
            extra_headers,
            extra_body,
            timeout,
            max_retries,
        )

    async def edit(
        self,
        *,
        prompt: str,
        image: ImageInput | None = None,
        images: Iterable[ImageInput] | None = None,
        model: str | None = None,
        n: int | None = None,
        response_format: Literal["url", "b64_json"] | None = None,
        aspect_ratio: str | None = None,
        resolution: str | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> ImagesResponse:
        """Edit ``image`` (or combine several ``images``) as ``prompt`` says.

        An input image is a URL (``https://...`` or ``data:image/png;base64,...``) or an
        object as the API takes it (``{"url": ...}``, ``{"file_id": ...}``). The other
        arguments and the result are those of :meth:`generate`.

        Raises:
            TypeError: ``prompt`` is not a string, neither or both of ``image`` and
                ``images`` were given, or ``images`` is not a list of images (a single
                URL string or mapping goes in ``image``).
            APIStatusError, APIConnectionError, APITimeoutError: as for :meth:`generate`.
        """
        if (image is None) == (images is None):
            raise TypeError("edit() takes exactly one of image= or images=")
        body = _body(prompt, model, n, response_format, aspect_ratio, resolution, user)
        if image is not None:
            body["image"] = media_object(image, "an input image")
        else:
            body["images"] = media_list(
                images, "images=", "an input image", " (give a single image as image=)"
            )
        return await self._post(
            "/images/edits", body, _decode_images, extra_headers, extra_body, timeout, max_retries
        )


def _body(
    prompt: str,
    model: str | None,
    n: int | None,
    response_format: str | None,
    aspect_ratio: str | None,
    resolution: str | None,
    user: str | None,
) -> dict[str, Any]:
    """The JSON body: parameters left at None are not sent."""
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
    optional = {
        "model": model,
        "n": n,
        "response_format": response_format,
        "aspect_ratio": aspect_ratio,
        "resolution": resolution,
        "user": user,
    }
    return {"prompt": prompt, **{k: v for k, v in optional.items() if v is not None}}
