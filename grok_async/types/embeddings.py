"""Response models of ``POST /v1/embeddings``."""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterator
from typing import Any

from attrs import define, field

from .._errors import GrokError
from .._serialization import converter
from ._base import WireModel

__all__ = ["CreateEmbeddingResponse", "Embedding", "EmbeddingUsage", "decode_base64_vector"]

# base64 embeddings are little-endian IEEE 754 float32 values, as OpenAI's are.
_FLOAT32 = struct.Struct("<f")

#: What an embedding is on the wire: floats, or their base64 form.
EmbeddingValue = list[float] | str


def decode_base64_vector(data: str) -> list[float]:
    """The floats of a base64 embedding (little-endian float32 values).

    Raises:
        GrokError: ``data`` is not base64, or not a whole number of float32 values.
    """
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise GrokError(f"The embedding is not valid base64: {exc}") from None
    if len(raw) % _FLOAT32.size:
        raise GrokError(
            f"The base64 embedding has {len(raw)} bytes, not a whole number of float32 values."
        )
    return [value for (value,) in _FLOAT32.iter_unpack(raw)]


@define
class Embedding(WireModel):
    """One input's vector: ``embedding`` is a list of floats, or a base64 string when
    ``encoding_format="base64"`` asked for it (:attr:`vector` decodes either)."""

    index: int = 0
    #: The floats, or their base64 form (little-endian float32), as the request asked.
    embedding: EmbeddingValue = field(factory=list)
    object: str = "embedding"

    @property
    def vector(self) -> list[float]:
        """The embedding as floats, decoded from base64 when it came that way.

        Raises:
            GrokError: the base64 is not valid, or not a whole number of float32 values.
        """
        value = self.embedding
        if isinstance(value, str):
            return decode_base64_vector(value)
        return value


def _structure_value(value: Any, _: Any) -> EmbeddingValue:
    """A wire embedding: a base64 string as it is, or a list of numbers as floats."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(x.__class__ is float or x.__class__ is int for x in value):
        return [float(x) for x in value]
    raise TypeError(
        f"expected a list of numbers or a base64 string, got {type(value).__name__}: {value!r:.40}"
    )


# cattrs has no hook for a union of a list and a string: this is it.
converter.register_structure_hook_func(lambda t: t == EmbeddingValue, _structure_value)


@define
class EmbeddingUsage(WireModel):
    """The tokens the inputs took."""

    prompt_tokens: int = 0
    total_tokens: int = 0


@define
class CreateEmbeddingResponse(WireModel):
    """The embeddings of one request, in input order: ``response.data[i].embedding``
    (iterating gives ``data``)."""

    data: list[Embedding] = field(factory=list)
    model: str = ""
    object: str = "list"
    usage: EmbeddingUsage | None = None
    #: The ``x-request-id`` of the response; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Embedding]:
        return iter(self.data)

    @property
    def vectors(self) -> list[list[float]]:
        """Every embedding as floats, in input order (see :attr:`Embedding.vector`)."""
        return [item.vector for item in sorted(self.data, key=lambda item: item.index)]
