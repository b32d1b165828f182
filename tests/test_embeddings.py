"""Embeddings and the embedding models: the client against FakeGrok's endpoints."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import pytest

from grok_async import (
    AsyncGrok,
    BadRequestError,
    CreateEmbeddingResponse,
    Embedding,
    EmbeddingModel,
    GrokError,
    NotFoundError,
    UnprocessableEntityError,
)
from grok_async._serialization import decode_model
from grok_async.testing import FakeGrok
from grok_async.testing._embeddings import DEFAULT_DIMENSIONS

from .conftest import FAKE_KEY


def client_for(fake: FakeGrok, **options: Any) -> AsyncGrok:
    return AsyncGrok(FAKE_KEY, base_url=fake.base_url, **options)


def similarity(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


async def test_create_embeds_each_text_in_order(fake_grok: FakeGrok) -> None:
    """One vector per input text, indexed in input order, with usage and the model's id;
    the request sends ``input`` as plain JSON and nothing left unset."""
    async with client_for(fake_grok) as client:
        result = await client.embeddings.create(
            model="embedding-v1", input=["a cat sat on the mat", "a dog sat on the mat", "tax"]
        )
    assert isinstance(result, CreateEmbeddingResponse)
    assert [item.index for item in result] == [0, 1, 2]
    assert all(isinstance(item, Embedding) for item in result.data)
    assert all(len(item.embedding) == DEFAULT_DIMENSIONS for item in result.data)
    assert result.model == "v1"  # the alias resolved
    assert result.usage is not None
    assert result.usage.prompt_tokens == result.usage.total_tokens > 0
    assert result.request_id is not None
    assert fake_grok.last_request.json == {
        "model": "embedding-v1",
        "input": ["a cat sat on the mat", "a dog sat on the mat", "tax"],
    }
    cat, dog, tax = result.vectors
    # The emulator's vectors follow the words: texts that share them are closer.
    assert similarity(cat, dog) > similarity(cat, tax)


async def test_one_text_and_token_ids_are_inputs_too(fake_grok: FakeGrok) -> None:
    """A single string, one list of token ids, and a list of token-id lists are each sent
    as given."""
    async with client_for(fake_grok) as client:
        one = await client.embeddings.create(model="v1", input="hello")
        ids = await client.embeddings.create(model="v1", input=[1, 2, 3])
        many = await client.embeddings.create(model="v1", input=[[1, 2], (3, 4)])
    assert (len(one), len(ids), len(many)) == (1, 1, 2)
    sent = [request.json["input"] for request in fake_grok.requests]
    assert sent == ["hello", [1, 2, 3], [[1, 2], [3, 4]]]


async def test_base64_vectors_decode_to_the_floats(fake_grok: FakeGrok) -> None:
    """``encoding_format="base64"`` returns a string per input; ``.vector`` decodes it to the
    same floats (as float32) the float format returns; ``dimensions`` shortens them."""
    async with client_for(fake_grok) as client:
        floats = await client.embeddings.create(model="v1", input="a cat", dimensions=8)
        packed = await client.embeddings.create(
            model="v1", input="a cat", dimensions=8, encoding_format="base64"
        )
    assert isinstance(packed.data[0].embedding, str)
    assert len(packed.data[0].vector) == 8
    assert packed.data[0].vector == pytest.approx(floats.data[0].vector, abs=1e-6)
    assert fake_grok.last_request.json["encoding_format"] == "base64"
    assert fake_grok.last_request.json["dimensions"] == 8


def test_a_vector_of_bad_base64_raises_a_clear_error() -> None:
    """Base64 that is not base64, or not whole float32 values, is a GrokError saying so."""
    with pytest.raises(GrokError, match="not valid base64"):
        _ = Embedding(embedding="not base64!").vector
    three_bytes = base64.b64encode(b"abc").decode()
    with pytest.raises(GrokError, match="whole number of float32"):
        _ = Embedding(embedding=three_bytes).vector
    good = base64.b64encode(struct.pack("<2f", 0.5, -1.0)).decode()
    assert Embedding(embedding=good).vector == [0.5, -1.0]


def test_an_embedding_of_another_shape_fails_validation() -> None:
    """The wire value is floats or base64; anything else does not decode (nor a bool)."""
    body = {"data": [{"index": 0, "embedding": [0.5, 1], "object": "embedding"}]}
    assert decode_model(body, CreateEmbeddingResponse).data[0].embedding == [0.5, 1.0]
    for bad in ({"a": 1}, [True, 0.5], ["x"]):
        body = {"data": [{"index": 0, "embedding": bad}]}
        with pytest.raises(GrokError, match=r"list\[float\] \| str @ \$\.data\[0\]\.embedding"):
            decode_model(body, CreateEmbeddingResponse)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        pytest.param("", ValueError, "empty string", id="empty-string"),
        pytest.param([], ValueError, "must not be empty", id="empty-list"),
        pytest.param(["a", ""], ValueError, "empty strings", id="an-empty-text"),
        pytest.param(["a"] * 129, ValueError, "at most 128", id="too-many"),
        pytest.param({"a": 1}, TypeError, "not dict", id="mapping"),
        pytest.param(b"bytes", TypeError, "not bytes", id="bytes"),
        pytest.param(["a", 1], TypeError, "mixes kinds", id="mixed"),
        pytest.param([True, 2], TypeError, "mixes kinds", id="bools-are-not-ids"),
        pytest.param(7, TypeError, "not int", id="scalar"),
    ],
)
async def test_bad_input_is_refused_before_sending(
    fake_grok: FakeGrok, value: Any, error: type[Exception], match: str
) -> None:
    """Every malformed ``input`` raises a clear error and sends nothing."""
    async with client_for(fake_grok) as client:
        with pytest.raises(error, match=match):
            await client.embeddings.create(model="v1", input=value)
    assert fake_grok.requests == []


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        pytest.param({"model": "v9"}, NotFoundError, "v9", id="unknown-model"),
        pytest.param({"model": "grok-4"}, BadRequestError, "cannot embed", id="chat-model"),
        pytest.param({"dimensions": 10_000}, BadRequestError, "dimensions", id="dimensions"),
        pytest.param(
            {"extra_body": {"input": {"String": "a"}}},
            UnprocessableEntityError,
            "input",
            id="tagged-input",
        ),
    ],
)
async def test_the_server_refusals_raise_their_errors(
    fake_grok: FakeGrok, params: dict[str, Any], error: type[Exception], match: str
) -> None:
    """An unknown model is 404, a chat model or out-of-range dimensions 400, and the
    OpenAPI document's tagged ``input`` form 422: the API takes plain JSON."""
    params = {"model": "v1", "input": "a", **params}
    async with client_for(fake_grok, max_retries=0) as client:
        with pytest.raises(error, match=match):
            await client.embeddings.create(**params)


async def test_embeddings_are_paced_from_the_models_budgets(fake_grok: FakeGrok) -> None:
    """An embedding call names its model, so the server's budget headers for that model
    are read (and its later calls paced by them)."""
    async with client_for(fake_grok) as client:
        assert client.rate_limits("v1") is None
        await client.embeddings.create(model="v1", input="a")
        limits = client.rate_limits("v1")
    assert limits is not None
    assert limits.requests_remaining is not None


async def test_embedding_models_are_listed_and_looked_up(fake_grok: FakeGrok) -> None:
    """``embedding_models.list()`` gives typed models with prices; ``retrieve()`` takes an id
    or an alias; a chat model is not an embedding model (404)."""
    async with client_for(fake_grok) as client:
        models = await client.embedding_models.list()
        by_alias = await client.embedding_models.retrieve("embedding-v1")
        with pytest.raises(NotFoundError):
            await client.embedding_models.retrieve("grok-4")
    assert [model.id for model in models] == ["v1"]
    assert isinstance(by_alias, EmbeddingModel)
    assert by_alias.id == "v1"
    assert by_alias.names == ["v1", "embedding-v1"]
    assert by_alias.prompt_text_token_price == 100
    assert by_alias.price_per_million_tokens == pytest.approx(0.01)
    assert [request.path for request in fake_grok.requests] == [
        "/v1/embedding-models",
        "/v1/embedding-models/embedding-v1",
        "/v1/embedding-models/grok-4",
    ]
