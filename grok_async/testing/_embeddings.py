"""The emulator's ``POST /v1/embeddings``, and the vectors it hands out.

A vector is the text's words hashed into ``dimensions`` signed buckets, then scaled to
length 1 (feature hashing): the same text always gets the same vector, and texts that share
words point the same way, so cosine similarity means something in tests (the documents
search ranks by it too). Checks follow xAI's: a shape error is 422, a bad value 400, an
unknown model 404.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from aiohttp import web

from ._catalog import Catalog, ModelInfo, hash_text
from ._errors import error_response, model_not_found_message
from ._tickets import note_answer
from ._tokens import count_tokens
from ._validation import InvalidRequest, kind_phrase, parse_json_body, type_error

__all__ = ["DEFAULT_DIMENSIONS", "EmbeddingsEndpoint", "cosine", "text_vector"]

#: The length of a vector when the request does not ask for ``dimensions``: small, so
#: answers stay small; long enough that unrelated words rarely share a bucket.
DEFAULT_DIMENSIONS = 64
_MAX_INPUTS = 128
_ENCODINGS = ("float", "base64")


def _words(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() else " " for c in text).split()


def _hashed(features: Sequence[str], dimensions: int) -> list[float]:
    vector = [0.0] * dimensions
    for feature in features:
        hashed = hash_text(feature)
        vector[hashed % dimensions] += 1.0 if (hashed >> 32) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0:
        # No words at all (punctuation only): still a unit vector, the same each time.
        vector[hash_text("\0empty") % dimensions] = 1.0
        return vector
    return [round(x / norm, 6) for x in vector]


def text_vector(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The unit vector of ``text``: its lower-cased words hashed into signed buckets."""
    return _hashed(_words(text), dimensions)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine similarity of two vectors (0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _inputs(value: Any) -> list[tuple[list[str], int]]:
    """Each input as (features to hash, tokens it counts for); ``InvalidRequest`` otherwise."""
    if value is None:
        raise InvalidRequest(
            422, "Failed to deserialize the JSON body into the target type: missing field `input`"
        )
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list) and value:
        # A list of ints is one input given as token ids, not many inputs.
        items = [value] if all(_is_int(token) for token in value) else value
    elif isinstance(value, list):
        raise InvalidRequest(400, "The input must not be empty.")
    else:
        raise type_error("input", "a string, an array of strings or an array of token arrays")
    if len(items) > _MAX_INPUTS:
        raise InvalidRequest(
            400, f"At most {_MAX_INPUTS} inputs can be embedded at once, got {len(items)}."
        )
    found = []
    for position, item in enumerate(items):
        if isinstance(item, str):
            if not item:
                raise InvalidRequest(400, f"input[{position}] is an empty string.")
            found.append((_words(item), max(1, count_tokens(item))))
        elif isinstance(item, list) and item and all(_is_int(token) for token in item):
            found.append(([f"#{token}" for token in item], len(item)))
        else:
            raise type_error(f"input[{position}]", "a string or an array of token ids")
    return found


class EmbeddingsEndpoint:
    """Validates embedding requests and answers them with hashed vectors."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def create(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/embeddings``"""
        try:
            body = parse_json_body(request.content_type, await request.read())
            model = self._model(body)
            inputs = _inputs(body.get("input"))
            encoding = body.get("encoding_format") or "float"
            if encoding not in _ENCODINGS:
                raise InvalidRequest(
                    400, f"encoding_format must be 'float' or 'base64', got {encoding!r}."
                )
            dimensions = self._dimensions(body.get("dimensions"))
        except InvalidRequest as exc:
            return error_response(exc.status, exc.message)
        data = []
        for index, (features, _) in enumerate(inputs):
            vector = _hashed(features, dimensions)
            embedding: Any = vector
            if encoding == "base64":
                packed = struct.pack(f"<{len(vector)}f", *vector)
                embedding = base64.b64encode(packed).decode("ascii")
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(count for _, count in inputs)
        payload = {
            "object": "list",
            "model": model.id,
            "data": data,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        note_answer(request, None, charged=True)  # embeddings generate no tokens
        return web.Response(body=orjson.dumps(payload), content_type="application/json")

    def _model(self, body: Mapping[str, Any]) -> ModelInfo:
        name = body.get("model")
        if name is None or name == "":
            raise InvalidRequest(400, "The request must specify a model.")
        if not isinstance(name, str):
            raise type_error("model", "a string")
        model = self._catalog.resolve(name)
        if model is None:
            raise InvalidRequest(404, model_not_found_message(name))
        if model.kind != "embedding":
            raise InvalidRequest(
                400, f"The model {model.id} is {kind_phrase(model)}; it cannot embed."
            )
        return model

    @staticmethod
    def _dimensions(value: Any) -> int:
        if value is None:
            return DEFAULT_DIMENSIONS
        if not _is_int(value):
            raise type_error("dimensions", "an integer")
        if not 1 <= value <= DEFAULT_DIMENSIONS:
            raise InvalidRequest(
                400, f"dimensions must be between 1 and {DEFAULT_DIMENSIONS}, got {value}."
            )
        return int(value)
