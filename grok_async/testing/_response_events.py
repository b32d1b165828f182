"""The named SSE events of a streamed Responses API answer (``event: response.*`` with a
``{"type": ..., "sequence_number": ...}`` payload each), and the ``error`` event a fault
sends instead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ._faults import Fault
from ._tokens import split_tokens

__all__ = ["error_event", "stream_events"]


def _sse(payload: Mapping[str, Any]) -> bytes:
    return (
        b"event: " + str(payload["type"]).encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"
    )


def stream_events(payload: dict[str, Any]) -> list[bytes]:
    """The named SSE events of a streamed response, in the order the API sends them; the
    terminal event (``response.completed`` or ``response.incomplete``) last."""
    events: list[dict[str, Any]] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append({"type": kind, "sequence_number": len(events), **fields})

    pending = {**payload, "status": "in_progress", "output": [], "usage": None}
    pending["completed_at"] = None
    emit("response.created", response=pending)
    emit("response.in_progress", response=pending)
    for index, item in enumerate(payload["output"]):
        item_id = item["id"]
        kind = item["type"]
        if kind == "reasoning":
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "summary": [], "status": "in_progress"},
            )
            for summary_index, summary in enumerate(item["summary"]):
                part = {"type": "summary_text", "text": ""}
                where = {"item_id": item_id, "output_index": index, "summary_index": summary_index}
                emit("response.reasoning_summary_part.added", **where, part=part)
                for piece in split_tokens(summary["text"]):
                    emit("response.reasoning_summary_text.delta", **where, delta=piece)
                emit("response.reasoning_summary_text.done", **where, text=summary["text"])
                emit("response.reasoning_summary_part.done", **where, part=summary)
        elif kind == "function_call":
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "arguments": "", "status": "in_progress"},
            )
            where = {"item_id": item_id, "output_index": index}
            # xAI sends a call's arguments whole, in one delta (SPEC.md §3).
            emit("response.function_call_arguments.delta", **where, delta=item["arguments"])
            emit("response.function_call_arguments.done", **where, arguments=item["arguments"])
        elif kind == "message":
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "content": [], "status": "in_progress"},
            )
            for content_index, part in enumerate(item["content"]):
                where = {"item_id": item_id, "output_index": index, "content_index": content_index}
                emit("response.content_part.added", **where, part={**part, "text": ""})
                for piece in split_tokens(part["text"]):
                    emit("response.output_text.delta", **where, delta=piece, logprobs=[])
                emit("response.output_text.done", **where, text=part["text"], logprobs=[])
                emit("response.content_part.done", **where, part=part)
        else:
            # A server-side tool call: announced, then done (its own progress events, such
            # as response.web_search_call.searching, are not emulated).
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress"},
            )
        emit("response.output_item.done", output_index=index, item=item)
    final = "response.incomplete" if payload["status"] == "incomplete" else "response.completed"
    emit(final, response=payload)
    return [_sse(event) for event in events]


def error_event(fault: Fault, sequence_number: int) -> bytes:
    return _sse(
        {
            "type": "error",
            "sequence_number": sequence_number,
            "status": 500,
            "error": {"code": fault.code, "message": fault.message, "param": None},
        }
    )
