"""Copy a response body somewhere as it arrives (speech audio to a file), and tell hooks
and tracing how it ended, as a stream of events does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ._errors import GrokError

if TYPE_CHECKING:
    from ._observe import StreamOutcome
    from ._response import HTTPResponse

__all__ = ["copy_body"]


async def copy_body(response: HTTPResponse, write: Callable[[bytes], Awaitable[object]]) -> int:
    """Hand each piece of ``response``'s body to ``write``; return the bytes copied.

    The connection goes back to the pool at the end of the body, and is closed at once
    (not drained) when reading or ``write`` fails or the task is cancelled.
    """
    copied = 0
    outcome: StreamOutcome = "exhausted"
    error: BaseException | None = None
    try:
        while piece := await response.read_chunk():
            await write(piece)
            copied += len(piece)
        await response.finish()
    except BaseException as exc:
        response.close()
        outcome = "failed" if isinstance(exc, (GrokError, OSError)) else "cancelled"
        error = exc
        raise
    finally:
        call = response.call
        if call is not None:
            await call.observer.stream_ended(
                call, outcome, error, response.request_id, lambda: None
            )
    return copied
