"""``grok-async batch submit / status / results``: xAI's server-side Batch API.

``results`` writes the same output format as ``batch run`` (``_batch_output``), with the
same resume rule: ids OUTPUT has already are not written again.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cli_batch import checked_input, make_client
from ._cli_endpoint import CommandError, Endpoint, UsageError, note

if TYPE_CHECKING:
    from ._client import AsyncGrok
    from .types.batches import Batch

__all__ = ["run_batch_api", "status_line"]


async def run_batch_api(args: argparse.Namespace, endpoint: Endpoint) -> None:
    """Run ``submit``, ``status`` or ``results``."""
    async with make_client(endpoint) as client:
        if args.batch_command == "submit":
            batch = await _submit(client, args)
            note(f"check on it with: grok-async batch status {batch.id}")
        elif args.batch_command == "status":
            batch = await client.batches.retrieve(args.batch_id)
        else:
            await _results(client, args)
            return
    if args.json:
        print(json.dumps(batch.to_dict()))
    else:
        print(status_line(batch))


def status_line(batch: Batch) -> str:
    """A batch's progress and cost in one line."""
    s = batch.state
    finished = s.num_success + s.num_error + s.num_cancelled
    cost = "" if batch.cost_usd is None else f", ${batch.cost_usd:.4f} so far"
    state = "done" if batch.done else "running"
    cancelled = f", {s.num_cancelled:,} cancelled" if s.num_cancelled else ""
    reason = f" ({batch.cancel_by_xai_message})" if batch.cancel_by_xai_message else ""
    return (
        f"{batch.id} {batch.name!r}: {state}{reason}, {finished:,}/{s.num_requests:,} finished "
        f"({s.num_success:,} ok, {s.num_error:,} failed{cancelled}, {s.num_pending:,} "
        f"pending){cost}"
    )


def _chat_requests(path: str) -> Iterator[dict[str, Any]]:
    from ._batch_input import iter_requests

    for request in iter_requests(path):
        if request.url != "/v1/chat/completions":
            raise UsageError(
                f"{path} line {request.line}: xAI's Batch API takes /v1/chat/completions "
                f"requests only, not {request.url} (use `grok-async batch run` for those)"
            )
        yield {"custom_id": request.custom_id, "body": request.body}


async def _submit(client: AsyncGrok, args: argparse.Namespace) -> Batch:
    report = checked_input(args.input)
    if report.by_url.keys() - {"/v1/chat/completions"}:
        list(_chat_requests(args.input))  # raises, naming the first such line
    name = args.name or Path(args.input).name
    if args.via_file:
        uploaded = await client.files.create(file=args.input)
        note(f"uploaded {args.input} as {uploaded.id}")
        batch = await client.batches.create(name=name, input_file_id=uploaded.id)
    else:
        batch = await client.batches.create(name=name)
        calls = await client.batches.add(batch.id, _chat_requests(args.input))
        note(f"added {report.requests:,} requests to {batch.id} in {calls} call(s)")
        batch = await client.batches.retrieve(batch.id)
    return batch


async def _results(client: AsyncGrok, args: argparse.Namespace) -> None:
    from ._batch_input import id_digest
    from ._batch_output import OutputLog, batch_result_line
    from ._errors import BatchOutputError

    try:
        log = OutputLog.open(args.output)
    except (BatchOutputError, OSError) as exc:
        raise UsageError(str(exc)) from None
    written = failed = skipped = 0
    try:
        async for result in client.batches.results(args.batch_id):
            if id_digest(result.custom_id) in log.done:
                skipped += 1
                continue
            log.append(batch_result_line(result))
            written += 1
            failed += result.error is not None
    finally:
        log.close()
    batch = await client.batches.retrieve(args.batch_id)
    summary = {
        "batch_id": args.batch_id,
        "output": args.output,
        "written": written,
        "failed": failed,
        "already_in_output": skipped,
        "pending": batch.state.num_pending,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{written:,} results written to {args.output} ({failed:,} failed, {skipped:,} "
            f"already there); {batch.state.num_pending:,} still pending"
        )
    if batch.state.num_pending:
        note("run the same command again later for the rest")
    if failed:
        raise CommandError(
            f"{failed} request(s) of {args.batch_id} failed; OUTPUT has their errors"
        )
