"""``grok-async batch``: its options, and ``batch run``: a JSONL file of requests sent from
here, resumably. xAI's Batch API (``submit``, ``status``, ``results``) is ``_cli_batch_api``.

The summary goes to stdout (``--json``: as JSON); progress, notes and errors go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._cli_endpoint import CommandError, Endpoint, UsageError, note

if TYPE_CHECKING:
    from ._batch_input import BatchInputError, InputReport
    from ._batch_runner import BatchRunSummary
    from ._client import AsyncGrok

__all__ = ["add_batch_commands", "run_batch"]

BATCH_EXAMPLES = """\
examples:
  grok-async batch run prompts.jsonl -o answers.jsonl
  grok-async batch run prompts.jsonl -o answers.jsonl --dry-run
  grok-async batch run prompts.jsonl -o answers.jsonl --retry-failed --json
  grok-async batch submit prompts.jsonl            xAI's Batch API: cheaper, within 24 h
  grok-async batch status batch_123
  grok-async batch results batch_123 -o answers.jsonl

Each INPUT line: {"custom_id": "q-1", "method": "POST", "url": "/v1/chat/completions",
"body": {"model": "grok-4", "messages": [...]}} (or "url": "/v1/responses").
`batch run` is resumable: run the same command again after a crash or Ctrl-C and it
continues; every custom_id ends up in OUTPUT exactly once.
"""


def add_batch_commands(
    batch: argparse.ArgumentParser,
    debug: argparse.ArgumentParser,
    whole_number: Callable[[str], int],
    number: Callable[[str], float],
) -> None:
    """The ``batch`` subcommands and their options."""

    def per_minute(text: str) -> float:
        value = number(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
        return value

    sub = batch.add_subparsers(dest="batch_command", required=True, metavar="SUBCOMMAND")
    run = sub.add_parser(
        "run", parents=[debug], help="send every line here, appending answers to OUTPUT"
    )
    run.add_argument("input", metavar="INPUT", help="JSONL file of requests")
    run.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="JSONL answers")
    run.add_argument("--dry-run", action="store_true", help="check and estimate; send nothing")
    run.add_argument(
        "--concurrency", type=whole_number, default=64, metavar="N", help="default: 64"
    )
    run.add_argument(
        "--requests-per-minute", type=per_minute, metavar="N", help="a budget on this side"
    )
    run.add_argument(
        "--tokens-per-minute", type=per_minute, metavar="N", help="a budget on this side"
    )
    run.add_argument("--retry-failed", action="store_true", help="rerun requests that failed")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")

    submit = sub.add_parser("submit", parents=[debug], help="create an xAI batch from INPUT")
    submit.add_argument("input", metavar="INPUT", help="JSONL file of requests")
    submit.add_argument("--name", help="the batch's name (default: INPUT's file name)")
    submit.add_argument(
        "--via-file", action="store_true", help="upload INPUT with the Files API, then create"
    )
    submit.add_argument("--json", action="store_true", help="print the batch as JSON")

    status = sub.add_parser("status", parents=[debug], help="a batch's progress and cost")
    status.add_argument("batch_id", metavar="ID")
    status.add_argument("--json", action="store_true", help="print the batch as JSON")

    results = sub.add_parser("results", parents=[debug], help="write a batch's results")
    results.add_argument("batch_id", metavar="ID")
    results.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="JSONL answers")
    results.add_argument("--json", action="store_true", help="print the summary as JSON")


async def run_batch(args: argparse.Namespace, endpoint: Endpoint) -> None:
    """Run ``batch run`` (the others are in ``_cli_batch_api``, which uses this module)."""
    await _run_local(args, endpoint)


def make_client(endpoint: Endpoint, **options: Any) -> AsyncGrok:
    from ._client import AsyncGrok

    if endpoint.rate_limit_period is not None:  # the embedded emulator's short minute
        options["rate_limit_period"] = endpoint.rate_limit_period
    return AsyncGrok(endpoint.api_key, base_url=endpoint.base_url, **options)


def checked_input(path: str) -> InputReport:
    """The input's report; a bad line or an unreadable file is a :class:`UsageError`."""
    from ._batch_input import BatchInputError, check_input

    try:
        report = check_input(path)
        report.raise_if_bad()
    except OSError as exc:
        raise UsageError(f"cannot read INPUT {path}: {exc.strerror or exc}") from None
    except BatchInputError as exc:
        raise bad_input(exc) from None
    return report


def _check_exists(path: str) -> None:
    """Nothing, or a :class:`UsageError` when INPUT is not a file."""
    if not os.path.isfile(path):
        raise UsageError(f"cannot read INPUT {path}: no such file")


def bad_input(exc: BatchInputError) -> UsageError:
    """Each bad line on stderr (the first 20), then the error of them all."""
    for problem in exc.problems:
        note(f"{exc.path} {problem}")
    return UsageError(str(exc))


async def _run_local(args: argparse.Namespace, endpoint: Endpoint) -> None:
    # A dry run needs the check's report; a run checks the file itself (reading it once,
    # not twice, which counts for millions of lines).
    report = checked_input(args.input) if args.dry_run else None
    _check_exists(args.input)
    options = {
        "requests_per_minute": args.requests_per_minute,
        "tokens_per_minute": args.tokens_per_minute,
    }
    async with make_client(endpoint, **options) as client:
        if report is not None:
            await _dry_run(client, report, args.json)
            return
        summary = await _run_file(client, args)
    if args.json:
        print(json.dumps(summary.to_dict()))
    else:
        print(summary.line())
    if summary.unanswered:
        raise CommandError(
            f"{summary.unanswered} request(s) got no answer (network errors or timeouts, "
            "after their retries); run the same command again to send them"
        )
    if summary.failed:
        raise CommandError(
            f"{summary.failed} request(s) failed; OUTPUT has their errors, and "
            "--retry-failed runs them again"
        )


async def _run_file(client: AsyncGrok, args: argparse.Namespace) -> BatchRunSummary:
    from ._batch_input import BatchInputError
    from ._errors import BatchOutputError
    from ._fanout import FanOutStats
    from ._progress import Progress

    stats = FanOutStats()
    try:
        return await client.batches.run_file(
            args.input,
            args.output,
            concurrency=args.concurrency,
            retry_failed=args.retry_failed,
            progress=Progress(stats),
        )
    except asyncio.CancelledError:
        # Ctrl-C: what is in flight was cancelled, OUTPUT holds whole lines only.
        note(
            f"stopped: {stats.done:,} answered in this run are in {args.output}; "
            "run the same command again to continue"
        )
        raise
    except BatchInputError as exc:
        raise bad_input(exc) from None
    except BatchOutputError as exc:
        raise UsageError(str(exc)) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"{exc.filename or args.output}: {exc.strerror or exc}") from None


async def _dry_run(client: AsyncGrok, report: InputReport, as_json: bool) -> None:
    """Print the counts, the token estimate and the cost estimate; send nothing."""
    prices, why = await _prices(client)
    models: dict[str, dict[str, Any]] = {}
    total_cost: float | None = 0.0
    for model, count in sorted(report.by_model.items()):
        prompt, cap = report.prompt_tokens[model], report.output_cap_tokens[model]
        price = prices.get(model)
        cost = None
        if price is not None and price[0] is not None and price[1] is not None:
            cost = (prompt * price[0] + cap * price[1]) / 1_000_000
        total_cost = None if cost is None or total_cost is None else total_cost + cost
        models[model] = {
            "requests": count,
            "prompt_tokens": prompt,
            "output_cap_tokens": cap,
            "cost_usd": cost,
        }
    estimate = {
        "input": report.path,
        "lines": report.lines,
        "requests": report.requests,
        "by_url": dict(report.by_url),
        "models": models,
        "requests_without_output_cap": report.uncapped,
        "cost_usd": total_cost,
        "cost_note": why,
    }
    if as_json:
        print(json.dumps(estimate))
        return
    out = sys.stdout
    out.write(f"{report.path}: {report.requests:,} requests, nothing sent (dry run)\n")
    for url, count in sorted(report.by_url.items()):
        out.write(f"  {url}: {count:,}\n")
    for model, row in models.items():
        shown = "unknown" if row["cost_usd"] is None else f"${row['cost_usd']:.4f}"
        out.write(
            f"  {model}: {row['requests']:,} requests, ~{row['prompt_tokens']:,} prompt tokens, "
            f"up to {row['output_cap_tokens']:,} output tokens, {shown}\n"
        )
    if report.uncapped:
        out.write(
            f"  {report.uncapped:,} requests set no max_tokens: their output is not in the "
            "estimate\n"
        )
    total = "unknown" if total_cost is None else f"${total_cost:.4f}"
    out.write(f"estimated cost: {total} ({why})\n")


async def _prices(client: AsyncGrok) -> tuple[dict[str, tuple[float | None, float | None]], str]:
    """USD per million prompt and completion tokens of each model name (and alias)."""
    from ._errors import GrokError

    try:
        models = await client.language_models.list()
    except GrokError as exc:
        return {}, f"the model catalogue could not be read: {exc}"
    prices: dict[str, tuple[float | None, float | None]] = {}
    for model in models:
        pricing = model.pricing
        for name in model.names:
            prices[name] = (pricing.prompt_text, pricing.completion_text)
    return prices, "prompt tokens estimated from the request size, output at its cap"
