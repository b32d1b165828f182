"""``client.batches``: xAI's server-side Batch API (``/v1/batches``), and the local,
resumable runner of a JSONL file of requests (:meth:`Batches.run_file`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .._constants import DEFAULT_CONCURRENCY

if TYPE_CHECKING:
    from .._batch_runner import BatchRunSummary
    from .._fanout import FanOutStats
    from .._progress import Progress
    from .._requester import Requester

__all__ = ["Batches"]


class Batches:
    """``client.batches``"""

    def __init__(self, client: Requester) -> None:
        self._client = client

    async def run_file(
        self,
        input: str | Path,
        output: str | Path,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        retry_failed: bool = False,
        progress: bool | Progress = False,
        stats: FanOutStats | None = None,
    ) -> BatchRunSummary:
        """Send every request of the JSONL file ``input`` and append the answers to
        ``output``, resumably: run it again after a crash or Ctrl-C and it continues.

        ``input`` is in the OpenAI/xAI batch format, one request a line
        (``{"custom_id", "method": "POST", "url": "/v1/chat/completions" or
        "/v1/responses", "body": {...}}``); every line is checked first, and a bad one
        raises :class:`BatchInputError` naming its line and why, before anything is sent.
        Requests go out through the client's fan-out (``concurrency`` at most, paced by
        the rate-limit headers and the client's budgets); each answer is appended to
        ``output`` as it arrives, in OpenAI's batch output shape. A ``custom_id`` that
        ``output`` answers already is not sent again; a torn last line is dropped first;
        ``retry_failed=True`` runs the failed ones again (their lines are replaced). A
        request in flight at a crash has no line yet and is sent again: it may reach the
        server twice.

        Example::

            summary = await client.batches.run_file("in.jsonl", "out.jsonl", progress=True)
            print(summary.line())

        Raises:
            BatchInputError: bad lines in ``input`` (nothing sent).
            ValueError: ``output`` is ``input``, or a bad ``concurrency``.
            OSError: a file cannot be read or written.
        """
        from .._batch_runner import run_file

        return await run_file(
            self._client,
            input,
            output,
            concurrency=concurrency,
            retry_failed=retry_failed,
            progress=progress,
            stats=stats,
        )
