"""Response models of xAI's Batch API (``/v1/batches``, SPEC.md §11)."""

from __future__ import annotations

from typing import Any

from attrs import define, field

from .._constants import USD_TICKS
from ._base import WireModel
from .chat import ChatCompletion

__all__ = ["Batch", "BatchRequestError", "BatchResult", "BatchState"]


@define
class BatchState(WireModel):
    """How many of a batch's requests are in each state."""

    num_requests: int = 0
    num_pending: int = 0
    num_success: int = 0
    num_error: int = 0
    num_cancelled: int = 0


@define
class Batch(WireModel):
    """A batch on xAI's servers: its id, name, counts and cost so far.

    Times are as the server sends them (they may be date-only strings).
    """

    batch_id: str
    name: str = ""
    create_time: str | None = None
    expire_time: str | None = None
    create_api_key_id: str | None = None
    cancel_time: str | None = None
    cancel_by_xai_message: str | None = None
    state: BatchState = field(factory=BatchState)
    cost_breakdown: dict[str, Any] | None = None
    #: The ``x-request-id`` of the response (set by the client, never read from the body).
    request_id: str | None = None

    @property
    def id(self) -> str:
        """The batch's id (``batch_id`` on the wire)."""
        return self.batch_id

    @property
    def done(self) -> bool:
        """Whether nothing is pending any more (finished, failed or cancelled)."""
        return self.state.num_pending == 0

    @property
    def cost_usd(self) -> float | None:
        """What the batch cost so far in US dollars, or None when the server sent no cost."""
        ticks = (self.cost_breakdown or {}).get("total_cost_usd_ticks")
        return ticks / USD_TICKS if isinstance(ticks, (int, float)) else None


@define
class BatchRequestError(WireModel):
    """Why one request of a batch failed."""

    code: str | None = None
    message: str = ""


@define
class BatchResult:
    """One request's outcome: its ``custom_id`` (``batch_request_id`` on the wire) and its
    completion, or its error."""

    custom_id: str
    response: ChatCompletion | None = None
    error: BatchRequestError | None = None
