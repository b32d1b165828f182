"""``client.images``: generate images from a prompt, or edit given images.

``POST /v1/images/generations`` and ``POST /v1/images/edits``. Image models do not stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .._sentinels import NOT_GIVEN, NotGiven
from .._serialization import encode_json
from .._timeout import TimeoutTypes
from ..types.images import ImagesResponse
from ._decode import decode_object

if TYPE_CHECKING:
    from .._requester import Requester

__all__ = ["Images"]

#: An input image of :meth:`Images.edit`: a URL (``https://...`` or a ``data:`` URL), or
#: an object as the API takes it, ``{"url": ...}`` or ``{"file_id": ...}``.
ImageInput = str | Mapping[str, Any]


def _image_object(image: ImageInput) -> Mapping[str, Any]:
    if isinstance(image, str):
        return {"url": image}
    if isinstance(image, Mapping):
        return image
    raise TypeError(
        "an input image must be a URL string or a mapping such as {'url': ...} or "
        f"{{'file_id': ...}}, not {type(image).__name__}"
    )


def _image_list(images: object) -> list[Mapping[str, Any]]:
    # A string is an iterable of characters and a mapping one of keys: taken as a list of
    # images, either would send nonsense (one "image" per character), so they are refused.
    if isinstance(images, (str, bytes, bytearray, Mapping)) or not isinstance(images, Iterable):
        raise TypeError(
            "images= takes a list of input images, not "
            f"{type(images).__name__} (give a single image as image=)"
        )
    return [_image_object(item) for item in images]


class Images:
    """``client.images``"""

    def __init__(self, client: Requester) -> None:
        self._client = client

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
            "/images/generations", body, extra_headers, extra_body, timeout, max_retries
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
            body["image"] = _image_object(image)
        else:
            body["images"] = _image_list(images)
        return await self._post(
            "/images/edits", body, extra_headers, extra_body, timeout, max_retries
        )

    async def _post(
        self,
        path: str,
        body: dict[str, Any],
        extra_headers: Mapping[str, str] | None,
        extra_body: Mapping[str, Any] | None,
        timeout: TimeoutTypes | NotGiven,
        max_retries: int | None,
    ) -> ImagesResponse:
        if extra_body:
            body.update(extra_body)
        return await self._client.request(
            "POST",
            path,
            body=encode_json(body),
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            decode=lambda reply: decode_object(reply, ImagesResponse),
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
