"""Response model of ``POST /v1/tokenize-text``: how a model's tokenizer splits a text."""

from __future__ import annotations

from collections.abc import Iterator

from attrs import define, field

from ._base import WireModel

__all__ = ["Token", "TokenizeResult"]


@define
class Token(WireModel):
    """One token: its id in the model's vocabulary, its text and its UTF-8 bytes.

    ``string_token`` may be a fragment of a multi-byte character (then it is not the exact
    text of ``token_bytes``); ``token_bytes`` is always exact.
    """

    token_id: int
    string_token: str = ""
    token_bytes: list[int] = field(factory=list)


@define
class TokenizeResult(WireModel):
    """The tokens of a text, in order: ``len(result)`` is the token count, and iterating
    gives the :class:`Token` objects.

    xAI calls the list ``token_ids`` although it holds :class:`Token` objects;
    :attr:`tokens` is the same list under a clearer name, :attr:`ids` and :attr:`strings`
    its two most used columns.
    """

    token_ids: list[Token] = field(factory=list)
    #: The ``x-request-id`` of the response; set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)

    @property
    def tokens(self) -> list[Token]:
        """The tokens, in order (the ``token_ids`` field)."""
        return self.token_ids

    @property
    def ids(self) -> list[int]:
        """The token ids, in order."""
        return [token.token_id for token in self.token_ids]

    @property
    def strings(self) -> list[str]:
        """The text of each token, in order."""
        return [token.string_token for token in self.token_ids]

    def __len__(self) -> int:
        return len(self.token_ids)

    def __iter__(self) -> Iterator[Token]:
        return iter(self.token_ids)
