"""A toy tokenizer: one token per word or punctuation mark.

Real Grok tokenizers are BPE vocabularies we do not have; the emulator only needs counts
that grow with the text (for ``usage`` and ``max_tokens``) and pieces that concatenate back
to the original text (for streamed deltas and ``/v1/tokenize-text``).
"""

from __future__ import annotations

import re
import zlib

__all__ = ["VOCAB_SIZE", "count_tokens", "split_tokens", "token_id"]

# A piece is a word or one punctuation mark, carrying the whitespace before it, so that
# "".join(split_tokens(text)) == text (apart from trailing whitespace, re-attached below).
_PIECE = re.compile(r"\s*(?:\w+|[^\w\s])")
_TOKEN = re.compile(r"\w+|[^\w\s]")

# The size of Grok's published vocabulary is unknown; any fixed size keeps ids stable.
VOCAB_SIZE = 131_072


def split_tokens(text: str) -> list[str]:
    """Split *text* into token pieces that concatenate back to *text* exactly."""
    pieces: list[str] = _PIECE.findall(text)
    covered = sum(map(len, pieces))
    if covered < len(text):
        if pieces:
            pieces[-1] += text[covered:]
        else:
            pieces.append(text)
    return pieces


def count_tokens(text: str) -> int:
    """Count the tokens of *text*: words and punctuation marks."""
    return len(_TOKEN.findall(text))


def token_id(piece: str) -> int:
    """A stable id for a token piece (a CRC of its bytes folded into the vocabulary)."""
    return zlib.crc32(piece.encode()) % VOCAB_SIZE
