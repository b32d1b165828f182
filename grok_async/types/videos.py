"""Response models of the video endpoints: the state of a video job
(``GET /v1/videos/{request_id}``), the video it made and what it cost."""

from __future__ import annotations

from attrs import define, field

from ._base import WireModel
from ._cost import CostInTicks

__all__ = ["TERMINAL_VIDEO_STATUSES", "GeneratedVideo", "VideoError", "VideoResult", "VideoUsage"]

#: The statuses after which a job changes no more: ``done``, or ``failed``/``expired``.
TERMINAL_VIDEO_STATUSES = frozenset({"done", "failed", "expired"})


@define
class GeneratedVideo(WireModel):
    """The video a job made. ``url`` expires after about an hour: download it soon.

    ``respect_moderation`` is False (and ``url`` empty) when the result was withheld by
    moderation.
    """

    url: str | None = None
    #: Length in seconds.
    duration: int | None = None
    respect_moderation: bool | None = None


@define
class VideoError(WireModel):
    """Why a job failed: ``code`` (``invalid_argument``, ``permission_denied``,
    ``failed_precondition``, ``internal_error``) and a ``message`` for people."""

    code: str = ""
    message: str = ""


@define
class VideoUsage(WireModel, CostInTicks):
    """What the video cost: ``cost_usd`` in US dollars (None if the server did not say)."""

    #: Cost in USD ticks (1 USD = 10,000,000,000 ticks).
    cost_in_usd_ticks: int | None = None


@define
class VideoResult(WireModel):
    """The state of a video job: ``pending`` with its ``progress`` (0-99), then ``done``
    with the ``video`` and its ``usage``, or ``failed``/``expired`` with an ``error``.

    :attr:`finished` says whether it can change any more.
    """

    status: str = "pending"
    #: Approximate percentage done: 0-99 while pending, 100 once done.
    progress: int = 0
    model: str | None = None
    video: GeneratedVideo | None = None
    usage: VideoUsage | None = None
    error: VideoError | None = None
    #: The ``x-request-id`` of the response (not the job's id); set by the client.
    request_id: str | None = field(default=None, eq=False, repr=False)

    @property
    def finished(self) -> bool:
        """Whether the job is over (done, failed or expired): polling again changes nothing."""
        return self.status in TERMINAL_VIDEO_STATUSES
