"""Image generation and edits: the client against FakeGrok's image endpoints."""

from __future__ import annotations

import base64
import struct
import zlib

import aiohttp
import pytest
from aiohttp import web

from grok_async import (
    AsyncGrok,
    AuthenticationError,
    BadRequestError,
    GeneratedImage,
    GrokError,
    ImagesResponse,
    NotFoundError,
    RateLimitError,
    UnprocessableEntityError,
)
from grok_async.testing import FakeGrok

from .conftest import FAKE_KEY, LocalServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def client_for(fake: FakeGrok | LocalServer, **options: object) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)  # type: ignore[arg-type]


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the first pixel (RGB) of an 8-bit truecolour PNG, checking every
    chunk's CRC and the size of the pixel data on the way."""
    assert data[:8] == PNG_SIGNATURE
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        payload = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + payload) & 0xFFFFFFFF
        chunks[kind] = payload
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    pixels = zlib.decompress(chunks[b"IDAT"])
    assert len(pixels) == height * (1 + 3 * width)
    assert b"IEND" in chunks
    return width, height, pixels[1:4]


async def test_generate_returns_urls_the_server_serves(fake_grok: FakeGrok) -> None:
    """The default response_format gives URLs; each serves a PNG without the API key."""
    async with client_for(fake_grok) as client:
        result = await client.images.generate(prompt="a cat in a tree", n=2)
    assert isinstance(result, ImagesResponse)
    assert len(result) == len(result.data) == 2
    assert all(isinstance(image, GeneratedImage) for image in result)
    assert list(result) == result.data
    urls = [image.url for image in result.data]
    assert all(url is not None and url.startswith(fake_grok.url) for url in urls)
    assert urls[0] != urls[1]
    assert [image.b64_json for image in result.data] == [None, None]
    assert {image.mime_type for image in result.data} == {"image/png"}
    assert result.data[0].revised_prompt == "a cat in a tree"
    assert result.usage is not None
    assert result.usage.cost_usd == pytest.approx(0.14)  # 2 x $0.07
    assert result.request_id
    async with aiohttp.ClientSession() as session:
        for url in urls:
            assert url is not None
            async with session.get(url) as response:
                assert response.status == 200
                assert response.content_type == "image/png"
                assert decode_png(await response.read())[:2] == (16, 16)


async def test_generate_b64_json_gives_the_bytes_inline(fake_grok: FakeGrok) -> None:
    """response_format="b64_json": content() decodes to a valid PNG."""
    async with client_for(fake_grok) as client:
        result = await client.images.generate(prompt="a cat", response_format="b64_json")
    (image,) = result.data
    assert image.url is None
    png = image.content()
    assert decode_png(png)[:2] == (16, 16)
    assert image.b64_json == base64.b64encode(png).decode()


async def test_unset_parameters_are_not_sent(fake_grok: FakeGrok) -> None:
    """Only the prompt and the parameters given go on the wire (no nulls)."""
    async with client_for(fake_grok) as client:
        await client.images.generate(prompt="a cat")
        assert fake_grok.last_request.json == {"prompt": "a cat"}
        await client.images.generate(
            prompt="a cat",
            model="grok-2-image",
            n=1,
            response_format="url",
            aspect_ratio="1:1",
            resolution="1k",
            user="u-1",
            extra_body={"seed": 7},
        )
    assert fake_grok.last_request.path == "/v1/images/generations"
    assert fake_grok.last_request.json == {
        "prompt": "a cat",
        "model": "grok-2-image",
        "n": 1,
        "response_format": "url",
        "aspect_ratio": "1:1",
        "resolution": "1k",
        "user": "u-1",
        "seed": 7,
    }


@pytest.mark.parametrize(
    ("aspect_ratio", "resolution", "size"),
    [
        pytest.param("16:9", None, (16, 9), id="16:9"),
        pytest.param("9:16", None, (9, 16), id="9:16"),
        pytest.param("19.5:9", "2k", (32, 15), id="19.5:9-2k"),
        pytest.param("auto", "2k", (32, 32), id="auto-2k"),
    ],
)
async def test_aspect_ratio_and_resolution_shape_the_image(
    fake_grok: FakeGrok, aspect_ratio: str, resolution: str | None, size: tuple[int, int]
) -> None:
    """The emulator's images have the requested proportions (and 2k is larger than 1k)."""
    async with client_for(fake_grok) as client:
        result = await client.images.generate(
            prompt="a wide cat",
            response_format="b64_json",
            aspect_ratio=aspect_ratio,
            resolution=resolution,
        )
    assert decode_png(result.data[0].content())[:2] == size


async def test_images_are_deterministic(fake_grok: FakeGrok) -> None:
    """The same request draws the same image; another prompt draws another one."""
    async with client_for(fake_grok) as client:
        first = await client.images.generate(prompt="a cat", response_format="b64_json", n=2)
        again = await client.images.generate(prompt="a cat", response_format="b64_json", n=2)
        other = await client.images.generate(prompt="a dog", response_format="b64_json")
    assert [i.b64_json for i in first.data] == [i.b64_json for i in again.data]
    assert first.data[0].b64_json != first.data[1].b64_json
    assert decode_png(other.data[0].content())[2] != decode_png(first.data[0].content())[2]


def test_content_of_a_url_image_is_a_clear_error() -> None:
    """content() on an image returned as a URL says what to do instead."""
    image = GeneratedImage(url="https://example.com/a.png")
    with pytest.raises(GrokError, match='response_format="b64_json"'):
        image.content()
    with pytest.raises(GrokError, match="not valid base64"):
        GeneratedImage(b64_json="not base64!").content()


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        pytest.param({"n": 0}, BadRequestError, "n must be between 1 and 10", id="n-0"),
        pytest.param({"n": 11}, BadRequestError, "n must be between 1 and 10", id="n-11"),
        pytest.param(
            {"response_format": "png"}, UnprocessableEntityError, "unknown variant", id="format"
        ),
        pytest.param(
            {"aspect_ratio": "5:4"}, UnprocessableEntityError, "unknown variant", id="aspect"
        ),
        pytest.param(
            {"resolution": "8k"}, UnprocessableEntityError, "unknown variant", id="resolution"
        ),
        pytest.param({"model": "grok-img-9"}, NotFoundError, "grok-img-9", id="unknown-model"),
        pytest.param({"model": "grok-3"}, BadRequestError, "language model", id="chat-model"),
        pytest.param({"prompt": "  "}, BadRequestError, "must not be empty", id="empty-prompt"),
        pytest.param({"prompt": "x" * 1025}, BadRequestError, "at most 1024", id="long-prompt"),
    ],
)
async def test_the_server_refuses_invalid_requests(
    fake_grok: FakeGrok, kwargs: dict[str, object], error: type[Exception], text: str
) -> None:
    """Invalid values reach the server (no client-side guessing) and come back as the
    matching error with the server's message; none is retried."""
    arguments: dict[str, object] = {"prompt": "a cat", **kwargs}
    async with client_for(fake_grok) as client:
        with pytest.raises(error, match=text):
            await client.images.generate(**arguments)  # type: ignore[arg-type]
    assert fake_grok.stats.requests == 1


async def test_a_prompt_that_is_not_a_string_is_refused_before_sending(
    fake_grok: FakeGrok,
) -> None:
    """prompt must be a str: TypeError, nothing sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(TypeError, match="prompt must be a str"):
            await client.images.generate(prompt=None)  # type: ignore[arg-type]
    assert fake_grok.stats.requests == 0


async def test_wrong_key_is_an_authentication_error_but_image_urls_are_public() -> None:
    """The image endpoints check the key like every other; the image URLs need none."""
    async with FakeGrok(api_key=FAKE_KEY) as fake:
        async with client_for(fake) as client:
            result = await client.images.generate(prompt="a cat")
        async with AsyncGrok("xai-wrong-key", base_url=fake.base_url) as wrong:
            with pytest.raises(AuthenticationError):
                await wrong.images.generate(prompt="a cat")
        async with aiohttp.ClientSession() as session:
            url = result.data[0].url
            assert url is not None
            async with session.get(url) as response:
                assert response.status == 200
            async with session.get(f"{fake.url}/v1/fake-images/unknown.png") as response:
                assert response.status == 404


async def test_a_failed_generation_is_retried(server: LocalServer, no_backoff: list[float]) -> None:
    """A 503 then a success: the client's retries apply to image requests."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if len(server.requests) == 1:
            return web.json_response({"code": "unavailable", "error": "busy"}, status=503)
        return web.json_response(
            {"data": [{"url": "https://img.example/1.jpg", "seen": True}], "extra": 1}
        )

    server.handler = handler
    async with client_for(server) as client:
        result = await client.images.generate(prompt="a cat")
    assert result.data[0].url == "https://img.example/1.jpg"
    assert result.data[0].raw["seen"] is True
    assert result.raw["extra"] == 1
    assert result.usage is None
    assert len(server.requests) == 2


# -- edits ----------------------------------------------------------------------------------------


async def test_edit_one_image(fake_grok: FakeGrok) -> None:
    """edit(image=url) posts {"image": {"url": ...}} and returns images like generate()."""
    async with client_for(fake_grok) as client:
        edited = await client.images.edit(
            prompt="make it blue", image="https://example.com/cat.png", response_format="b64_json"
        )
        generated = await client.images.generate(prompt="make it blue", response_format="b64_json")
    assert fake_grok.requests[0].path == "/v1/images/edits"
    assert fake_grok.requests[0].json == {
        "prompt": "make it blue",
        "image": {"url": "https://example.com/cat.png"},
        "response_format": "b64_json",
    }
    assert decode_png(edited.data[0].content())
    assert edited.data[0].b64_json != generated.data[0].b64_json  # the input image counts


async def test_edit_several_images(fake_grok: FakeGrok) -> None:
    """images= takes URLs and API objects (a file id) together."""
    async with client_for(fake_grok) as client:
        result = await client.images.edit(
            prompt="combine", images=["data:image/png;base64,AAAA", {"file_id": "file-1"}]
        )
    assert len(result.data) == 1
    assert fake_grok.last_request.json is not None
    assert fake_grok.last_request.json["images"] == [
        {"url": "data:image/png;base64,AAAA"},
        {"file_id": "file-1"},
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({}, id="neither"),
        pytest.param({"image": "https://a/1.png", "images": ["https://a/2.png"]}, id="both"),
        pytest.param({"image": 42}, id="not-a-url-or-object"),
    ],
)
async def test_edit_needs_exactly_one_kind_of_input(
    fake_grok: FakeGrok, kwargs: dict[str, object]
) -> None:
    """edit() takes image= or images=, as URLs or objects: a TypeError otherwise, and
    nothing is sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(TypeError):
            await client.images.edit(prompt="x", **kwargs)  # type: ignore[arg-type]
    assert fake_grok.stats.requests == 0


@pytest.mark.parametrize(
    "images",
    [
        pytest.param("https://example.com/cat.png", id="url-string"),
        pytest.param(b"https://example.com/cat.png", id="bytes"),
        pytest.param({"url": "https://example.com/cat.png"}, id="one-image-object"),
        pytest.param(42, id="not-iterable"),
    ],
)
async def test_images_takes_a_list_not_a_single_image(fake_grok: FakeGrok, images: object) -> None:
    """images= given one URL (or one image object) is a TypeError pointing to image=, not
    one "image" per character or key; nothing is sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(TypeError, match=r"images= takes a list .*image="):
            await client.images.edit(prompt="x", images=images)  # type: ignore[arg-type]
    assert fake_grok.stats.requests == 0


async def test_images_takes_any_iterable_of_images(fake_grok: FakeGrok) -> None:
    """A tuple or generator of images is sent as the JSON list of those images."""
    urls = ("https://example.com/a.png", "https://example.com/b.png")
    async with client_for(fake_grok) as client:
        await client.images.edit(prompt="combine", images=urls)
        await client.images.edit(prompt="combine", images=(url for url in urls))
    for request in fake_grok.requests:
        assert request.json is not None
        assert request.json["images"] == [{"url": url} for url in urls]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"prompt": "x", "images": [{"url": "h"}, {"url": "t"}]}, id="characters"),
        pytest.param({"prompt": "x", "image": {"url": "example.com/cat.png"}}, id="no-scheme"),
        pytest.param({"prompt": "x", "image": {"url": "ftp://example.com/a.png"}}, id="ftp"),
        pytest.param({"prompt": "x", "image": {"url": "https://"}}, id="no-host"),
        pytest.param({"prompt": "x", "image": {"url": "data:image/png"}}, id="data-no-comma"),
    ],
)
async def test_the_emulator_refuses_image_urls_it_could_not_fetch(
    fake_grok: FakeGrok, body: dict[str, object]
) -> None:
    """FakeGrok, like the real server, takes only http(s) and data: URLs as input images:
    anything else (such as the characters of a URL sent as a list) is a 400."""
    url = f"{fake_grok.base_url}/images/edits"
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        assert response.status == 400
        assert "Invalid image URL" in (await response.json())["error"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"prompt": "x"}, id="no-image"),
        pytest.param({"prompt": "x", "image": {"width": 3}}, id="image-without-url"),
        pytest.param({"prompt": "x", "images": []}, id="no-images"),
    ],
)
async def test_the_emulator_refuses_an_edit_without_a_usable_image(
    fake_grok: FakeGrok, body: dict[str, object]
) -> None:
    """FakeGrok answers 422 when an edit has no image it could read."""
    url = f"{fake_grok.base_url}/images/edits"
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        assert response.status == 422
        assert "Failed to deserialize" in (await response.json())["error"]


async def test_image_requests_pass_the_emulators_rate_limit() -> None:
    """The emulator's admission (here a request rate limit) applies to image requests."""
    fake = FakeGrok(requests_per_second=0.5, burst=1)
    async with fake, client_for(fake, max_retries=0) as client:
        await client.images.generate(prompt="a cat")
        with pytest.raises(RateLimitError):
            await client.images.generate(prompt="a cat")
    assert fake.stats.faults["rate_limited"] == 1
