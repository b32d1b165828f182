"""The model catalogues, the tokenizer and the api-key endpoint, against FakeGrok."""

from __future__ import annotations

import pytest
from aiohttp import web

from grok_async import (
    APIKeyInfo,
    APIResponseValidationError,
    AsyncGrok,
    AuthenticationError,
    ImageGenerationModel,
    LanguageModel,
    Model,
    NotFoundError,
    TokenizeResult,
)
from grok_async.testing import FakeGrok
from grok_async.testing._catalog import BUILTIN_MODELS
from grok_async.testing._errors import TEAM_ID
from grok_async.types.models import price_to_usd

from .conftest import FAKE_KEY, LocalServer


def client_for(fake: FakeGrok | LocalServer, **options: object) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)  # type: ignore[arg-type]


# -- /v1/models ---------------------------------------------------------------------------------


async def test_models_list_returns_every_model(fake_grok: FakeGrok) -> None:
    """models.list() is a plain list of Model, one per model the server knows."""
    async with client_for(fake_grok) as client:
        models = await client.models.list()
    assert isinstance(models, list)
    assert all(isinstance(m, Model) for m in models)
    assert [m.id for m in models] == [m.id for m in BUILTIN_MODELS]
    assert {m.owned_by for m in models} == {"xai"}
    assert fake_grok.last_request.method == "GET"
    assert fake_grok.last_request.path == "/v1/models"


async def test_models_carry_the_request_id_of_their_response(fake_grok: FakeGrok) -> None:
    """Each listed model has the x-request-id of the one response it came in."""
    async with client_for(fake_grok) as client:
        first = await client.models.list()
        second = await client.models.list()
    assert first[0].request_id
    assert {m.request_id for m in first} == {first[0].request_id}
    assert second[0].request_id != first[0].request_id


async def test_models_retrieve_by_alias_gives_the_canonical_model(fake_grok: FakeGrok) -> None:
    """retrieve() takes an alias and answers with the model's canonical id."""
    async with client_for(fake_grok) as client:
        model = await client.models.retrieve("grok-4")
    assert model == Model(id="grok-4-0709", created=1_752_019_200, owned_by="xai")
    assert model.request_id


async def test_retrieve_unknown_model_raises_not_found_with_the_server_text(
    fake_grok: FakeGrok,
) -> None:
    """A 404 becomes NotFoundError carrying the server's own message."""
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError) as info:
            await client.models.retrieve("grok-99")
    assert info.value.status_code == 404
    assert "The model grok-99 does not exist" in str(info.value)
    assert fake_grok.stats.requests == 1  # a 404 is final: never retried


@pytest.mark.parametrize(
    "model_id",
    [
        pytest.param("../api-key", id="dot-dot"),
        pytest.param("a/b", id="slash"),
        pytest.param("grok-4?x=1#frag", id="query-and-fragment"),
    ],
)
async def test_model_ids_stay_one_path_segment(fake_grok: FakeGrok, model_id: str) -> None:
    """An id with URL syntax in it is looked up as a model, never reaches another path."""
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError, match="does not exist"):
            await client.models.retrieve(model_id)
    assert fake_grok.last_request.path == "/v1/models/" + model_id
    assert fake_grok.last_request.query == {}


@pytest.mark.parametrize("model_id", [".", ".."])
@pytest.mark.parametrize("catalogue", ["models", "language_models", "image_generation_models"])
async def test_dot_segments_are_refused_before_sending(
    fake_grok: FakeGrok, catalogue: str, model_id: str
) -> None:
    """ "." and ".." cannot be escaped and URL normalisation would turn /v1/models/.. into
    /v1/ (another endpoint): ValueError naming the argument, nothing sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(ValueError, match=r"^model cannot be '\.{1,2}'"):
            await getattr(client, catalogue).retrieve(model_id)
    assert fake_grok.stats.requests == 0


async def test_dots_inside_a_model_id_are_sent_as_they_are(fake_grok: FakeGrok) -> None:
    """Only the whole segments "." and ".." are refused: "..." or "grok-4.1" are ids."""
    async with client_for(fake_grok) as client:
        for model_id in ("...", "grok.4", ".hidden"):
            with pytest.raises(NotFoundError):
                await client.models.retrieve(model_id)
            assert fake_grok.last_request.path == "/v1/models/" + model_id


async def test_empty_model_id_is_refused_before_sending(fake_grok: FakeGrok) -> None:
    """retrieve("") would list instead of look up: ValueError, nothing sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(ValueError, match="model must be a non-empty string"):
            await client.language_models.retrieve("")
    assert fake_grok.stats.requests == 0


# -- /v1/language-models and /v1/image-generation-models ------------------------------------


async def test_language_models_have_prices_modalities_and_aliases(fake_grok: FakeGrok) -> None:
    """language_models.list() holds the chat models only, with xAI's extra fields."""
    async with client_for(fake_grok) as client:
        models = await client.language_models.list()
    by_id = {m.id: m for m in models}
    assert all(isinstance(m, LanguageModel) for m in models)
    assert "grok-2-image-1212" not in by_id
    grok3 = by_id["grok-3"]
    assert grok3.aliases == ["grok-3-latest", "grok-3-beta"]
    assert grok3.names == ["grok-3", "grok-3-latest", "grok-3-beta"]
    assert grok3.input_modalities == ["text"]
    assert by_id["grok-4-0709"].input_modalities == ["text", "image"]
    assert grok3.prompt_text_token_price == 30_000
    assert grok3.fingerprint is not None and grok3.fingerprint.startswith("fp_")


async def test_language_model_pricing_is_usd_per_million_tokens(fake_grok: FakeGrok) -> None:
    """pricing converts cents per 100M tokens: 30000 -> $3.00 per million."""
    async with client_for(fake_grok) as client:
        grok3 = await client.language_models.retrieve("grok-3-latest")
    pricing = grok3.pricing
    assert pricing.prompt_text == pytest.approx(3.0)
    assert pricing.cached_prompt_text == pytest.approx(0.75)
    assert pricing.completion_text == pytest.approx(15.0)
    assert pricing.prompt_image == pytest.approx(0.0)
    assert pricing.search == pytest.approx(25.0)  # per thousand sources


def test_price_conversion_keeps_missing_prices_missing() -> None:
    """A price the server left out is None in USD too, not 0."""
    assert price_to_usd(None, 1_000_000) is None
    assert LanguageModel(id="x").pricing.prompt_text is None
    assert price_to_usd(20_000, 1_000_000) == pytest.approx(2.0)


async def test_language_models_do_not_include_image_models(fake_grok: FakeGrok) -> None:
    """Retrieving an image model from the language catalogue is a 404."""
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError):
            await client.language_models.retrieve("grok-2-image")


async def test_image_generation_models(fake_grok: FakeGrok) -> None:
    """image_generation_models lists image models with a price per image in USD."""
    async with client_for(fake_grok) as client:
        models = await client.image_generation_models.list()
        one = await client.image_generation_models.retrieve("grok-2-image")
    assert [m.id for m in models] == ["grok-2-image-1212"]
    assert isinstance(one, ImageGenerationModel)
    assert one == models[0]
    assert one.max_prompt_length == 1024
    assert one.price_per_image == pytest.approx(0.07)
    assert one.output_modalities == ["image"]
    assert one.names == [one.id, *one.aliases]
    assert "grok-2-image" in one.names  # the alias it was retrieved by


def test_catalogue_models_share_their_names() -> None:
    """names is the id then the aliases, for language and image models alike."""
    language = LanguageModel(id="grok-4-0709", aliases=["grok-4", "grok-4-latest"])
    image = ImageGenerationModel(id="grok-2-image-1212", aliases=["grok-2-image"])
    assert language.names == ["grok-4-0709", "grok-4", "grok-4-latest"]
    assert image.names == ["grok-2-image-1212", "grok-2-image"]
    assert LanguageModel(id="solo").names == ["solo"]


async def test_unknown_fields_stay_reachable(server: LocalServer) -> None:
    """A field the library does not know never raises and is kept in .raw."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"models": [{"id": "grok-9", "context_window": 4_000_000, "aliases": ["g9"]}]}
        )

    server.handler = handler
    async with client_for(server) as client:
        (model,) = await client.language_models.list()
    assert model.id == "grok-9"
    assert model.aliases == ["g9"]
    assert model.raw["context_window"] == 4_000_000
    assert model.to_dict()["context_window"] == 4_000_000


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"data": 3}, id="not-a-list"),
        pytest.param({"models": []}, id="wrong-key"),
        pytest.param({"data": [{"created": 1}]}, id="model-without-id"),
        pytest.param([], id="not-an-object"),
    ],
)
async def test_a_body_that_is_not_a_model_list_is_a_validation_error(
    server: LocalServer, body: object
) -> None:
    """models.list() on a body without a proper "data" list: APIResponseValidationError."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(body)

    server.handler = handler
    async with client_for(server) as client:
        with pytest.raises(APIResponseValidationError):
            await client.models.list()


async def test_a_failed_listing_is_retried(server: LocalServer, no_backoff: list[float]) -> None:
    """GET catalogues use the client's retries: a 500 then a success is a success."""
    calls = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.json_response({"code": "Internal error", "error": "boom"}, status=500)
        return web.json_response({"object": "list", "data": [{"id": "grok-4-0709"}]})

    server.handler = handler
    async with client_for(server) as client:
        models = await client.models.list()
    assert [m.id for m in models] == ["grok-4-0709"]
    assert [r["path"] for r in server.requests] == ["/v1/models", "/v1/models"]


async def test_wrong_key_is_an_authentication_error() -> None:
    """The catalogues go through the same error mapping: a wrong key raises
    AuthenticationError."""
    async with FakeGrok(api_key="xai-right-key") as fake, client_for(fake) as client:
        with pytest.raises(AuthenticationError, match="Incorrect API key"):
            await client.models.list()


# -- /v1/tokenize-text ----------------------------------------------------------------------------


async def test_tokenize_returns_ids_and_strings(fake_grok: FakeGrok) -> None:
    """tokenize() gives tokens whose strings rebuild the text, with ids and bytes."""
    text = "Hello, wörld! How are you?"
    async with client_for(fake_grok) as client:
        result = await client.tokenize(text=text, model="grok-3")
    assert isinstance(result, TokenizeResult)
    assert "".join(result.strings) == text
    assert len(result) == len(result.tokens) == len(result.ids) == 8
    assert result.ids == [t.token_id for t in result.tokens]
    assert list(result) == result.tokens
    assert all(bytes(t.token_bytes) == t.string_token.encode() for t in result.tokens)
    assert result.request_id
    assert fake_grok.last_request.json == {"text": text, "model": "grok-3"}


async def test_tokenize_sends_user_only_when_given(fake_grok: FakeGrok) -> None:
    """user= is sent when set, and extra_body is merged into the request."""
    async with client_for(fake_grok) as client:
        await client.tokenize(text="hi", model="grok-3", user="u-1", extra_body={"x": 1})
    assert fake_grok.last_request.json == {"text": "hi", "model": "grok-3", "user": "u-1", "x": 1}


async def test_tokenize_unknown_model_raises_not_found(fake_grok: FakeGrok) -> None:
    """An unknown model is the server's 404, as NotFoundError."""
    async with client_for(fake_grok) as client:
        with pytest.raises(NotFoundError, match="grok-nope"):
            await client.tokenize(text="hi", model="grok-nope")


async def test_tokenize_refuses_a_non_string_text(fake_grok: FakeGrok) -> None:
    """text must be a str: a TypeError before anything is sent."""
    async with client_for(fake_grok) as client:
        with pytest.raises(TypeError, match="text must be a str"):
            await client.tokenize(text=["hi"], model="grok-3")  # type: ignore[arg-type]
    assert fake_grok.stats.requests == 0


# -- /v1/api-key --------------------------------------------------------------------------------


async def test_api_key_info_describes_the_key_without_its_secret() -> None:
    """api_key_info() has the name, team and ACLs, and the key only in redacted form."""
    async with FakeGrok(api_key=FAKE_KEY) as fake, client_for(fake) as client:
        info = await client.api_key_info()
    assert isinstance(info, APIKeyInfo)
    assert info.team_id == TEAM_ID
    assert info.name == "FakeGrok key"
    assert info.acls == ["api-key:model:*", "api-key:endpoint:*"]
    assert info.redacted_api_key == f"{FAKE_KEY[:2]}***{FAKE_KEY[-2:]}"
    assert info.usable
    assert info.request_id
    assert FAKE_KEY not in repr(info)
    assert FAKE_KEY not in str(info.to_dict())


@pytest.mark.parametrize("flag", ["team_blocked", "api_key_blocked", "api_key_disabled"])
async def test_a_blocked_key_is_not_usable(server: LocalServer, flag: str) -> None:
    """Each blocked/disabled flag makes the key unusable."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"redacted_api_key": "xa***89", "name": "k", flag: True})

    server.handler = handler
    async with client_for(server) as client:
        info = await client.api_key_info()
    assert getattr(info, flag) is True
    assert not info.usable
    assert server.requests[0]["method"] == "GET"
    assert server.requests[0]["path"] == "/v1/api-key"


async def test_copies_of_the_client_bring_their_own_settings(fake_grok: FakeGrok) -> None:
    """with_options() copies get resources bound to the copy: its headers are sent."""
    async with client_for(fake_grok) as client:
        copy = client.with_options(default_headers={"X-Team-Tag": "blue"})
        await copy.language_models.list()
        assert fake_grok.last_request.headers["x-team-tag"] == "blue"
        await client.language_models.list()
        assert "x-team-tag" not in fake_grok.last_request.headers
