"""Counting live clients, to warn about the common mistake of one client per request."""

from __future__ import annotations

import logging
import weakref

__all__ = ["MANY_CLIENTS", "count_client"]

logger = logging.getLogger("grok_async")

# Past this many live clients in one process, creating another one logs a warning: each
# has its own pools, so a client per request (a common mistake in web apps) throws away
# keep-alive connections and can exhaust sockets.
MANY_CLIENTS = 32

_live_clients = 0


def count_client(client: object) -> None:
    """Count live clients; warn (once per crossing) when there are many."""
    global _live_clients
    _live_clients += 1
    weakref.finalize(client, _forget_client)
    if _live_clients == MANY_CLIENTS:
        logger.warning(
            "%d AsyncGrok clients are alive in this process. Each has its own connection "
            "pool: create one client per process and share it (with_options() makes "
            "variants that share the pool).",
            _live_clients,
        )


def _forget_client() -> None:
    global _live_clients
    _live_clients -= 1
