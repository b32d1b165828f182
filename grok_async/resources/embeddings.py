"""``client.embeddings``: vectors for texts (or token ids), ``POST /v1/embeddings``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .._budget import estimate_tokens
from .._sentinels import NOT_GIVEN, NotGiven
from .._serialization import encode_json
from .._timeout import TimeoutTypes
from ..types.embeddings import CreateEmbeddingResponse
from ._decode import decode_object

if TYPE_CHECKING:
    from .._requester import Requester

__all__ = ["MAX_INPUTS", "Embeddings", "EmbeddingInput"]

#: What ``input`` takes: a text, texts, the token ids of one text, or of several.
EmbeddingInput = str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]]

#: The API embeds at most this many inputs per request (SPEC.md §12).
MAX_INPUTS = 128


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _input(value: object) -> str | list[Any]:
    """``input`` as it goes on the wire, plain JSON (not the document's tagged form).

    Raises:
        TypeError: not a string, a list of strings, a list of ints or a list of int lists.
        ValueError: empty, an empty string, or more than :data:`MAX_INPUTS` items.
    """
    if isinstance(value, str):
        if not value:
            raise ValueError("input must not be an empty string")
        return value
    # A mapping iterates over its keys and bytes over ints: neither is meant as input.
    if isinstance(value, (bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(
            "input must be a string, a list of strings, a list of token ids or a list of "
            f"token-id lists, not {type(value).__name__}"
        )
    items = list(value)
    if not items:
        raise ValueError("input must not be empty")
    if all(isinstance(item, str) for item in items):
        if any(not item for item in items):
            raise ValueError("input must not contain empty strings")
        if len(items) > MAX_INPUTS:
            raise ValueError(f"input has {len(items)} texts; the API takes at most {MAX_INPUTS}")
        return items
    if all(_is_int(item) for item in items):
        return items
    if all(
        isinstance(item, Sequence)
        and not isinstance(item, (str, bytes))
        and all(_is_int(token) for token in item)
        for item in items
    ):
        if len(items) > MAX_INPUTS:
            raise ValueError(f"input has {len(items)} inputs; the API takes at most {MAX_INPUTS}")
        return [list(item) for item in items]
    raise TypeError(
        "input must be a string, a list of strings, a list of token ids or a list of "
        "token-id lists; it mixes kinds or holds something else"
    )


class Embeddings:
    """``client.embeddings``"""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def create(
        self,
        *,
        model: str,
        input: EmbeddingInput,
        encoding_format: Literal["float", "base64"] | None = None,
        dimensions: int | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> CreateEmbeddingResponse:
        """Embed ``input``: one text, up to 128 texts, or token ids (one list, or a list
        of lists).

        ``response.data[i].embedding`` is the vector of input ``i`` (``.vector`` gives it as
        floats whatever ``encoding_format`` was: ``"base64"`` sends them compactly).
        ``dimensions`` asks for shorter vectors. ``None`` means "not sent". The call is
        paced by ``model``'s budgets like a chat completion; per-call options work as for
        chat completions.

        Example::

            result = await client.embeddings.create(model="v1", input=["a cat", "a dog"])
            cat, dog = result.vectors

        Raises:
            TypeError, ValueError: ``input`` is not one of the shapes above, is empty, or
                has more than 128 items; nothing is sent.
            NotFoundError: unknown model.
            BadRequestError, UnprocessableEntityError: the server refused a parameter.
            APIStatusError, APIConnectionError, APITimeoutError: as for any call.
        """
        if not isinstance(model, str) or not model:
            raise ValueError(f"model must be a non-empty string, got {model!r}")
        optional = {"encoding_format": encoding_format, "dimensions": dimensions, "user": user}
        body: dict[str, Any] = {
            "model": model,
            "input": _input(input),
            **{key: value for key, value in optional.items() if value is not None},
        }
        if extra_body:
            body.update(extra_body)
        encoded = encode_json(body)
        return await self._client.request(
            "POST",
            "/embeddings",
            body=encoded,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            model=model,
            tokens=estimate_tokens(encoded, None),
            decode=lambda reply: decode_object(reply, CreateEmbeddingResponse),
        )
