"""The emulator's image endpoints: ``/v1/images/generations``, ``/v1/images/edits``, and
``/v1/fake-images/{name}``, which serves the images it handed out as URLs.

Images are tiny solid-colour PNGs whose colour and size follow from the request (the same
request always gets the same bytes), so tests can decode them and compare. Requests are
checked like xAI checks them: a shape error is 422 (the gateway's deserializer), a value
out of range 400, an unknown model 404.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs
import orjson
from aiohttp import web

from ._catalog import Catalog, ModelInfo
from ._errors import error_response, model_not_found_message
from ._tickets import note_answer
from ._validation import InvalidRequest, kind_phrase, parse_json_body, type_error

__all__ = ["DEFAULT_IMAGE_MODEL", "IMAGE_ENDPOINTS", "IMAGE_PATH", "ImageStudio", "png_bytes"]

#: Where generated images are served (no authentication: real image URLs are public).
IMAGE_PATH = "/v1/fake-images/"
#: The model an image request without ``model`` uses.
DEFAULT_IMAGE_MODEL = "grok-2-image"
#: Where images are generated and edited (the paths start with this).
IMAGE_ENDPOINTS = "/v1/images/"
_MAX_IMAGES = 10
_RESPONSE_FORMATS = ("url", "b64_json")
_ASPECT_RATIOS = (
    "1:1",
    "3:4",
    "4:3",
    "9:16",
    "16:9",
    "2:3",
    "3:2",
    "9:19.5",
    "19.5:9",
    "9:20",
    "20:9",
    "1:2",
    "2:1",
    "auto",
)
# The longer side in pixels: tiny, but "2k" visibly larger than "1k".
_SIDES = {"1k": 16, "2k": 32}
_RESOLUTIONS = tuple(_SIDES)
# Images kept for their URLs; each is ~100 bytes, the oldest go first.
_STORE_SIZE = 4096
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bytes(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG file: ``width`` x ``height`` pixels of one colour (8-bit RGB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit, truecolour
    row = b"\x00" + bytes(rgb) * width  # filter type 0 (none) before each row
    pixels = zlib.compress(row * height, 9)
    return _PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _size(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    side = _SIDES[resolution]
    if aspect_ratio == "auto":
        return side, side
    across, down = (float(part) for part in aspect_ratio.split(":"))
    scale = side / max(across, down)
    return max(1, round(across * scale)), max(1, round(down * scale))


@attrs.frozen
class _ImageRequest:
    prompt: str
    model: ModelInfo
    n: int
    response_format: str
    aspect_ratio: str
    resolution: str
    sources: tuple[str, ...]  # the input images of an edit, as JSON


def _variant(body: Mapping[str, Any], field: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(field)
    if value is None:
        return default
    if value not in allowed:
        raise InvalidRequest(
            422,
            "Failed to deserialize the JSON body into the target type: "
            f"{field}: unknown variant {orjson.dumps(value).decode()}, expected one of "
            + ", ".join(f"`{a}`" for a in allowed),
        )
    return str(value)


def _check_sources(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The input images of an edit: ``image`` or ``images``, each ``{url}`` or ``{file_id}``."""
    if body.get("image") is not None:
        items, field = [body["image"]], "image"
    elif body.get("images") is not None:
        if not isinstance(body["images"], list) or not body["images"]:
            raise type_error("images", "a non-empty sequence of image objects")
        items, field = body["images"], "images"
    else:
        raise InvalidRequest(
            422, "Failed to deserialize the JSON body into the target type: missing field `image`"
        )
    for item in items:
        ref = (item.get("url") or item.get("file_id")) if isinstance(item, Mapping) else None
        if not isinstance(ref, str):
            raise type_error(field, "an object with a `url` or `file_id` string")
        url = item.get("url")
        if url is not None and not _is_image_url(url):
            # As the real server, which has to fetch it: "h" (one character of a URL
            # string sent as a list of images) is no image it can read.
            raise InvalidRequest(
                400,
                f"Invalid image URL {orjson.dumps(url).decode()[:80]}: "
                "expected an http(s) URL or a data: URL.",
            )
    return tuple(orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode() for item in items)


def _is_image_url(url: object) -> bool:
    """An ``http(s)://host/...`` URL or a ``data:<type>[;base64],<data>`` URL."""
    if not isinstance(url, str):
        return False
    if url.startswith("data:"):
        return "," in url
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class ImageStudio:
    """Validates image requests, draws the images and serves those given out as URLs."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._store: OrderedDict[str, bytes] = OrderedDict()

    # -- handlers --------------------------------------------------------------------------

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Serve generations, edits and the images they link to on ``router``."""
        router.add_post("/v1/images/generations", self.generations)
        router.add_post("/v1/images/edits", self.edits)
        router.add_get(IMAGE_PATH + "{name}", self.serve)

    async def generations(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/images/generations``"""
        return await self._answer(request, edit=False)

    async def edits(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/images/edits``"""
        return await self._answer(request, edit=True)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/fake-images/{name}``: an image handed out earlier as a URL."""
        name = request.match_info["name"]
        data = self._store.get(name.removesuffix(".png"))
        if data is None or not name.endswith(".png"):
            return error_response(404, f"No image {name} was generated by this server.")
        return web.Response(body=data, content_type="image/png")

    # -- the work --------------------------------------------------------------------------

    async def _answer(self, request: web.Request, *, edit: bool) -> web.StreamResponse:
        try:
            body = parse_json_body(request.content_type, await request.read())
            params = self._validate(body, edit=edit)
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        data = []
        for index in range(params.n):
            png = self._draw(params, index)
            item: dict[str, Any] = {"mime_type": "image/png", "revised_prompt": params.prompt}
            if params.response_format == "b64_json":
                item["b64_json"] = base64.b64encode(png).decode("ascii")
            else:
                item["url"] = f"{request.url.origin()}{IMAGE_PATH}{self._keep(png)}.png"
            data.append(item)
        payload = {
            "created": int(time.time()),
            "data": data,
            "usage": {"cost_in_usd_ticks": params.model.image_price * params.n},
        }
        note_answer(request, None, charged=True)  # images cost no completion tokens
        return web.Response(body=orjson.dumps(payload), content_type="application/json")

    def _validate(self, body: Mapping[str, Any], *, edit: bool) -> _ImageRequest:
        prompt = body.get("prompt")
        if prompt is None:
            raise InvalidRequest(
                422,
                "Failed to deserialize the JSON body into the target type: missing field `prompt`",
            )
        if not isinstance(prompt, str):
            raise type_error("prompt", "a string")
        if not prompt.strip():
            raise InvalidRequest(400, "The prompt must not be empty.")
        name = body.get("model", DEFAULT_IMAGE_MODEL)
        if not isinstance(name, str):
            raise type_error("model", "a string")
        model = self._catalog.resolve(name)
        if model is None:
            raise InvalidRequest(404, model_not_found_message(name))
        if model.kind != "image":
            raise InvalidRequest(
                400, f"The model {model.id} is {kind_phrase(model)}; it cannot generate images."
            )
        # The limit the catalogue advertises for the model.
        limit = model.image_model_object()["max_prompt_length"]
        if isinstance(limit, int) and len(prompt) > limit:
            raise InvalidRequest(
                400,
                f"The prompt is {len(prompt)} characters long; {model.id} takes at most {limit}.",
            )
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool):
            raise type_error("n", "an integer")
        if not 1 <= n <= _MAX_IMAGES:
            raise InvalidRequest(400, f"n must be between 1 and {_MAX_IMAGES}, got {n}.")
        user = body.get("user")
        if user is not None and not isinstance(user, str):
            raise type_error("user", "a string")
        return _ImageRequest(
            prompt=prompt,
            model=model,
            n=n,
            response_format=_variant(body, "response_format", _RESPONSE_FORMATS, "url"),
            aspect_ratio=_variant(body, "aspect_ratio", _ASPECT_RATIOS, "1:1"),
            resolution=_variant(body, "resolution", _RESOLUTIONS, "1k"),
            sources=_check_sources(body) if edit else (),
        )

    @staticmethod
    def _draw(params: _ImageRequest, index: int) -> bytes:
        seed = "\0".join((params.model.id, params.prompt, str(index), *params.sources))
        digest = hashlib.sha256(seed.encode()).digest()
        width, height = _size(params.aspect_ratio, params.resolution)
        return png_bytes(width, height, (digest[0], digest[1], digest[2]))

    def _keep(self, png: bytes) -> str:
        """Store an image for its URL; the name is its hash (same image, same URL)."""
        name = hashlib.sha256(png).hexdigest()[:32]
        self._store[name] = png
        self._store.move_to_end(name)
        while len(self._store) > _STORE_SIZE:
            self._store.popitem(last=False)
        return name
