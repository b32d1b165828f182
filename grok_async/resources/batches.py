"""``client.batches``"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._requester import Requester

__all__ = ["Batches"]


class Batches:
    """``client.batches``"""

    def __init__(self, client: Requester) -> None:
        self._client = client
