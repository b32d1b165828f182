"""``grok-async batch submit / status / results``: xAI's server-side Batch API."""

from __future__ import annotations

import argparse

from ._cli_endpoint import CommandError, Endpoint

__all__ = ["run_batch_api"]


async def run_batch_api(args: argparse.Namespace, endpoint: Endpoint) -> None:
    """Run ``submit``, ``status`` or ``results``."""
    raise CommandError(f"batch {args.batch_command} is not available yet")
