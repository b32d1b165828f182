"""What the soak and cancellation suites measure: file descriptors, memory, pool, tasks."""

from __future__ import annotations

import asyncio
import gc
import os
from typing import Any

from grok_async import AsyncGrok

__all__ = ["live_objects", "open_fds", "pool_in_use", "rss_bytes"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def open_fds() -> int:
    """File descriptors this process has open (sockets, pipes, files)."""
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    """Resident memory of this process, after a full garbage collection."""
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def pool_in_use(client: AsyncGrok) -> int:
    """Connections of the running loop's pool checked out right now (0 if it has none).

    Both counts must agree on zero: the client's own gate (``pool_stats``) and aiohttp's
    connector bookkeeping, so a leak on either side of the gate is caught.
    """
    counted = client.pool_stats().in_use
    pool: Any = client._transport._pools.get(asyncio.get_running_loop())
    if pool is None or pool.session.connector is None:
        return counted
    return max(counted, len(pool.session.connector._acquired))


def live_objects(*types: type[Any]) -> dict[str, int]:
    """How many instances of each of ``types`` are alive, after a full garbage collection
    (asyncio tasks and futures: of the running loop only)."""
    gc.collect()
    wanted = dict.fromkeys(types, 0)
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    for obj in gc.get_objects():
        kind = type(obj)
        if kind in wanted:
            # Tasks and futures of another loop (a thread-mode emulator's, serving the
            # client's kept-alive connections) are not the client's.
            if loop is not None and isinstance(obj, asyncio.Future) and obj.get_loop() is not loop:
                continue
            wanted[kind] += 1
    return {t.__name__: n for t, n in wanted.items()}
