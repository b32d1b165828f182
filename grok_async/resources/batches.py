"""``client.batches``: xAI's server-side Batch API (``/v1/batches``), and the local,
resumable runner of a JSONL file of requests (:meth:`Batches.run_file`).

Server-side batches cost less and do not count against the rate limits, but finish
within 24 h; the local runner answers as fast as the rate limits allow (docs/batch.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._constants import DEFAULT_CONCURRENCY
from .._sentinels import NOT_GIVEN, NotGiven
from .._serialization import encode_json
from .._timeout import TimeoutTypes, positive_seconds
from ..types.batches import Batch, BatchResult
from ._batch_api import AddWindow, add_chunks, decode_result
from ._decode import decode_object, path_segment
from ._pages import check_limit, iterate_pages

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
        self._add_window = AddWindow()
        # xAI allows one batch creation per second per team (SPEC §11).
        self._create_window = AddWindow(calls=1, window=1.0)

    def _path(self, batch_id: str, tail: str = "") -> str:
        return f"/batches/{path_segment(batch_id, 'batch_id')}{tail}"

    async def create(
        self,
        *,
        name: str,
        input_file_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> Batch:
        """Create a batch. With ``input_file_id`` (a JSONL file uploaded with
        ``client.files.create``, lines as for :meth:`run_file`) it holds that file's
        requests and is sealed; without, add requests with :meth:`add`. Creations of this
        client are spaced a second apart (xAI's limit).

        Example::

            batch = await client.batches.create(name="nightly")
            await client.batches.add(batch.id, [{"custom_id": "q-1", "body": {...}}])
            batch = await client.batches.wait(batch.id)
            async for result in client.batches.results(batch.id):
                print(result.custom_id, result.response or result.error)
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        body: dict[str, Any] = {"name": name}
        if input_file_id is not None:
            body["input_file_id"] = path_segment(input_file_id, "input_file_id")
        await self._create_window.wait()
        return await self._client.request(
            "POST",
            "/batches",
            body=encode_json(body),
            timeout=timeout,
            decode=lambda reply: decode_object(reply, Batch),
        )

    async def add(
        self,
        batch_id: str,
        requests: Iterable[Mapping[str, Any]],
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> int:
        """Add chat requests ``[{"custom_id": ..., "body": {...create() kwargs...}}]`` to
        the batch (a ``url`` key, if given, must be ``/v1/chat/completions``); return how
        many calls it took.

        ``requests`` is read lazily and sent in calls of at most 25 MB each, at most 100
        calls per 30 s (xAI's limits; this waits rather than be refused). Every request
        of a call is checked before the call: a bad one raises ``ValueError`` (or
        :class:`BatchInputError`) naming its position; the calls before it were sent.
        """
        path = self._path(batch_id, "/requests")
        calls = 0
        for chunk in add_chunks(requests):
            await self._add_window.wait()
            await self._client.request("POST", path, body=chunk, timeout=timeout)
            calls += 1
        return calls

    async def retrieve(
        self, batch_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> Batch:
        """The batch with its counts (``state``) and cost so far."""
        return await self._client.request(
            "GET", self._path(batch_id), timeout=timeout, decode=lambda r: decode_object(r, Batch)
        )

    async def cancel(self, batch_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> Batch:
        """Cancel what is still pending; finished results stay readable."""
        return await self._client.request(
            "POST",
            self._path(batch_id, ":cancel"),
            timeout=timeout,
            decode=lambda r: decode_object(r, Batch),
        )

    def list(
        self, *, limit: int = 100, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> AsyncIterator[Batch]:
        """Every batch of the team, page after page."""
        from .._serialization import decode_model

        # GET /v1/batches is documented but not in our recordings (SPEC §11): its list is
        # taken from "batches" (xAI's pages name theirs after the items) or OpenAI's "data".
        return iterate_pages(
            self._client,
            "/batches",
            {},
            key=("batches", "data"),
            convert=lambda item: decode_model(item, Batch),
            limit=check_limit(limit),
            timeout=timeout,
        )

    def results(
        self, batch_id: str, *, limit: int = 100, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> AsyncIterator[BatchResult]:
        """The finished requests' results, page after page: each a :class:`BatchResult`
        with its ``custom_id`` and a ``response`` (a :class:`ChatCompletion`) or an
        ``error``."""
        return iterate_pages(
            self._client,
            self._path(batch_id, "/results"),
            {},
            key="results",
            convert=decode_result,
            limit=check_limit(limit),
            timeout=timeout,
        )

    async def wait(
        self,
        batch_id: str,
        *,
        poll_interval: float = 5.0,
        timeout: float | None = None,
    ) -> Batch:
        """Poll the batch every ``poll_interval`` seconds until nothing is pending; return
        it. Raises ``TimeoutError`` after ``timeout`` seconds (None: no limit)."""
        if not positive_seconds(poll_interval):
            raise ValueError(
                f"poll_interval must be a finite number > 0 seconds, got {poll_interval!r}"
            )
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            batch = await self.retrieve(batch_id)
            if batch.done:
                return batch
            if deadline is not None and time.monotonic() + poll_interval > deadline:
                raise TimeoutError(
                    f"batch {batch_id} still has {batch.state.num_pending} pending requests "
                    f"after {timeout} s"
                )
            await asyncio.sleep(poll_interval)

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
            AuthenticationError, PermissionDeniedError, QuotaExceededError: at the first
                one, as every other request would fail alike; the run stops (the lines
                written so far stay, and a rerun continues).
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
