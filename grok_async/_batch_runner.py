"""The local batch runner: a JSONL file of requests in, a JSONL file of answers out,
through the client's fan-out, resumable.

Every line is checked before anything is sent (``_batch_input``). The requests whose
``custom_id`` OUTPUT does not answer yet go through the same fan-out as
``create_many`` (bounded concurrency, one shared adaptive limiter that backs off on rate
limits, pacing from the ``X-Ratelimit-*`` headers and the client's budgets), and each
answer is appended to OUTPUT as it arrives (``_batch_output``: why this is exactly-once).
The bodies go to the server as the file has them, in the shapes ``create()`` would send
(``_request_shapes``): the runner does not rebuild them through ``create()``, and an
answer is written as the server sent it, fields this library does not know included.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncGenerator, Awaitable, Iterator, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from ._batch_ids import AnsweredLines, IdIndex
from ._batch_input import BatchRequest, InputReport, iter_requests, scan_input
from ._batch_output import OutputLog, error_line, success_line
from ._budget import estimate_tokens
from ._constants import DEFAULT_CONCURRENCY, USD_TICKS
from ._errors import (
    APIConnectionError,
    AuthenticationError,
    PermissionDeniedError,
    QuotaExceededError,
)
from ._fanout import FanOutStats, iter_many
from ._progress import Progress
from ._ratecontrol import AdaptiveLimiter
from ._request_shapes import reshape_chat_body, reshape_responses_body

if TYPE_CHECKING:
    from ._requester import Requester
    from ._response import HTTPResponse

__all__ = ["BatchRunSummary", "run_file"]

# Failures without an answer: nothing is known about the request (the network was down, it
# timed out), so it gets no line and a rerun sends it again, as after a crash.
_UNANSWERED = (APIConnectionError,)
# Failures that say nothing about the request and would befall every other one too (a
# wrong key, a key without access, no credits left): the run stops at once instead of
# writing every line as failed, and the request is not written, so a rerun sends it.
_FATAL = (AuthenticationError, PermissionDeniedError, QuotaExceededError)


@attrs.define
class BatchRunSummary:
    """What a run of :meth:`Batches.run_file` did.

    ``skipped`` requests were answered in OUTPUT before this run; ``retried_failed`` were
    failed lines removed to run again (``retry_failed``); ``retries`` counts the HTTP
    retries of this run's requests. ``unanswered`` requests got no answer at all (the
    network, a timeout, after their retries): they have no line, and a rerun sends them.
    """

    input: str
    output: str
    requests: int
    skipped: int = 0
    succeeded: int = 0
    failed: int = 0
    unanswered: int = 0
    retried_failed: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    elapsed: float = 0.0
    #: Whether a torn last line (a write cut by a crash) was dropped from OUTPUT.
    dropped_torn_line: bool = False
    #: Whether the run was cut short (Ctrl-C, cancellation): rerun to finish.
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        """Whether OUTPUT now has a line for every request of the input."""
        return not self.interrupted and self.skipped + self.succeeded + self.failed == (
            self.requests
        )

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON values (``--json``)."""
        data = attrs.asdict(self)
        data["complete"] = self.complete
        return data

    def line(self) -> str:
        """One line for people."""
        cost = f", ${self.cost_usd:.4f}" if self.cost_usd else ""
        state = "interrupted" if self.interrupted else "done" if self.complete else "incomplete"
        unanswered = f", {self.unanswered:,} unanswered" if self.unanswered else ""
        return (
            f"{state}: {self.succeeded:,} ok, {self.failed:,} failed{unanswered}, "
            f"{self.skipped:,} already "
            f"done, {self.retried_failed:,} failed rerun, {self.retries:,} retries; "
            f"{self.total_tokens:,} tokens{cost}; {self.elapsed:.1f} s -> {self.output}"
        )


@attrs.frozen
class _Usage:
    """The counts the fan-out's stats add up, from either endpoint's ``usage``."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: float | None


@attrs.frozen
class _Answer:
    status: int
    request_id: str | None
    body: Any
    usage: _Usage | None


def _usage(body: Any) -> _Usage | None:
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return None

    def count(*keys: str) -> int:
        for key in keys:
            value = usage.get(key)
            if isinstance(value, int):
                return value
        return 0

    prompt = count("prompt_tokens", "input_tokens")
    completion = count("completion_tokens", "output_tokens")
    ticks = usage.get("cost_in_usd_ticks")
    return _Usage(
        prompt,
        completion,
        count("total_tokens") or prompt + completion,
        ticks / USD_TICKS if isinstance(ticks, int) else None,
    )


def _shaped(request: BatchRequest) -> Mapping[str, Any]:
    """The body as ``create()`` would send it, so a line that works with ``create()`` works
    here too: a chat body's ``stop`` string becomes a list and a tool without
    ``parameters`` gets the empty schema (SPEC §9); a Responses body's chat-shaped
    function tools are flattened, as ``responses.create()`` sends them."""
    chat = request.url == "/v1/chat/completions"
    if not ("tools" in request.body or (chat and "stop" in request.body)):
        return request.body
    body = dict(request.body)
    if chat:
        reshape_chat_body(body)
    else:
        reshape_responses_body(body)
    return body


def _answer(reply: HTTPResponse) -> _Answer:
    from .resources._decode import json_of

    body = json_of(reply)
    return _Answer(reply.status, reply.request_id, body, _usage(body))


def _prepare(
    input: str | Path, output: str | Path, retry_failed: bool, ids: IdIndex
) -> tuple[InputReport, OutputLog, AnsweredLines]:
    """Check the input, get OUTPUT ready, find the input lines it answers already."""
    if os.path.realpath(input) == os.path.realpath(output):
        raise ValueError("OUTPUT must be another file than INPUT")
    with ids:  # its files go, whatever happens
        report = scan_input(input, ids)
        report.raise_if_bad()
        log = OutputLog.open(output, retry_failed=retry_failed, answered=ids.add_answered)
        return report, log, ids.answered_lines()


async def run_file(
    client: Requester,
    input: str | Path,
    output: str | Path,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    retry_failed: bool = False,
    progress: bool | Progress = False,
    stats: FanOutStats | None = None,
) -> BatchRunSummary:
    """See :meth:`grok_async.resources.batches.Batches.run_file`.

    Raises :class:`AuthenticationError`, :class:`PermissionDeniedError` or
    :class:`QuotaExceededError` at the first one: they would fail every request alike.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
    started = time.monotonic()
    # A large input's ids spill to files next to OUTPUT: on the disk meant for the
    # answers, not in a /tmp that may be memory.
    target = Path(output)
    ids = IdIndex(target.parent, prefix=f".{target.name}.ids.")
    try:
        # Reading both files whole takes a while for millions of lines: not in the loop.
        report, log, answered = await asyncio.to_thread(_prepare, input, output, retry_failed, ids)
    except asyncio.CancelledError:
        ids.stop()  # the thread gives up at its next id, removing the files
        raise
    summary = BatchRunSummary(
        str(input),
        str(output),
        report.requests,
        skipped=answered.count,
        retried_failed=log.removed_failed,
        dropped_torn_line=log.dropped_torn,
    )
    if stats is None:
        stats = progress.stats if isinstance(progress, Progress) else FanOutStats()
    stats.total = report.requests - answered.count
    try:
        await _send_all(client, input, log, answered, concurrency, progress, stats, summary)
    except BaseException:
        summary.interrupted = True
        raise
    finally:
        log.close()
        summary.succeeded = stats.succeeded
        summary.failed = stats.failed - summary.unanswered
        summary.retries = stats.retries
        summary.prompt_tokens, summary.completion_tokens = (
            stats.prompt_tokens,
            stats.completion_tokens,
        )
        summary.total_tokens, summary.cost_usd = stats.total_tokens, stats.cost_usd
        summary.elapsed = time.monotonic() - started
    return summary


async def _send_all(
    client: Requester,
    input: str | Path,
    log: OutputLog,
    answered: AnsweredLines,
    concurrency: int,
    progress: bool | Progress,
    stats: FanOutStats,
    summary: BatchRunSummary,
) -> None:
    """Fan the pending requests out; append each answer to OUTPUT as it arrives."""
    # The fan-out numbers requests in the order it takes them; in flight, this maps that
    # number back to the custom_id (entries leave as results arrive: memory stays bounded).
    in_flight: dict[int, str] = {}

    def pending() -> Iterator[Mapping[str, Any]]:
        index = 0
        for request in iter_requests(input):
            if request.line in answered:
                continue
            in_flight[index] = request.custom_id
            index += 1
            body = orjson.dumps(_shaped(request))
            yield {
                "path": request.path,
                "body": body,
                "model": request.model,
                "tokens": estimate_tokens(body, request.output_cap),
            }

    def send(item: Mapping[str, Any]) -> Awaitable[_Answer]:
        return client.request(
            "POST",
            item["path"],
            body=item["body"],
            model=item["model"],
            tokens=item["tokens"],
            decode=_answer,
        )

    limiter = AdaptiveLimiter(concurrency)
    bar = progress if isinstance(progress, Progress) else Progress(stats) if progress else None
    if bar is not None:
        bar.follow(limiter, client.rate_limits)
        bar.start()
    results: AsyncGenerator[tuple[int, Any], None] = iter_many(
        send,
        pending(),
        concurrency=concurrency,
        limiter=limiter,
        stats=stats,
        return_exceptions=True,
    )
    try:
        async with aclosing(results):
            async for index, result in results:
                custom_id = in_flight.pop(index)
                if isinstance(result, _FATAL):
                    raise result
                if isinstance(result, _UNANSWERED):
                    summary.unanswered += 1
                elif isinstance(result, BaseException):
                    log.append(error_line(custom_id, result))
                else:
                    log.append(
                        success_line(custom_id, result.status, result.request_id, result.body)
                    )
    finally:
        if bar is not None:
            await bar.stop()
