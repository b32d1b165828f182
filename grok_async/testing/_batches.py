"""The emulator's Batch API (``/v1/batches``, SPEC.md §11): batches kept in memory, each
request answered ``batch_delay`` seconds after it was added (``FakeGrok(batch_delay=...)``).

A request the chat endpoint would refuse (an unknown model, bad messages) becomes a failed
row with that error, as on xAI; so does one whose last message contains ``BATCH_FAIL``, to
script a failure. Cancelling marks every request not answered yet as cancelled.
"""

from __future__ import annotations

import datetime
import itertools
import time
import uuid
from typing import Any

import attrs
import orjson
from aiohttp import web

from ._catalog import Catalog, is_reasoning_model
from ._errors import error_response
from ._files import FileStore
from ._replies import build_answer, completion_bytes, default_reply, message_text
from ._validation import InvalidRequest, validate_chat

__all__ = ["BatchService", "FAIL_MARKER"]

#: A request whose last message contains this fails (a scripted failed row).
FAIL_MARKER = "BATCH_FAIL"
# How long a batch is kept, for its expire_time.
_EXPIRY = datetime.timedelta(days=1)


def _stamp(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat()


@attrs.define
class _Request:
    custom_id: str
    body: Any
    added: float
    cancelled: bool = False
    #: The result, made once when first asked for after the request is ready.
    outcome: dict[str, Any] | None = None


@attrs.define
class _Batch:
    id: str
    name: str
    created: float
    requests: dict[str, _Request] = attrs.field(factory=dict)
    cancelled_at: float | None = None
    sealed: bool = False


def _json(payload: Any) -> web.Response:
    return web.Response(body=orjson.dumps(payload), content_type="application/json")


class BatchService:
    """Batches of one emulator."""

    def __init__(self, catalog: Catalog, files: FileStore, delay: float) -> None:
        self._catalog = catalog
        self._files = files
        self.delay = delay
        self.batches: dict[str, _Batch] = {}
        self._ids = itertools.count(1)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/batches", self.create)
        router.add_get("/v1/batches", self.list)
        router.add_get("/v1/batches/{batch_id:[^/:]+}", self.retrieve)
        router.add_post("/v1/batches/{batch_id:[^/:]+}:cancel", self.cancel)
        router.add_post("/v1/batches/{batch_id:[^/:]+}/requests", self.add)
        router.add_get("/v1/batches/{batch_id:[^/:]+}/results", self.results)

    # -- what a request becomes ----------------------------------------------------------------

    def _ready(self, request: _Request, now: float) -> bool:
        return not request.cancelled and now >= request.added + self.delay

    def _outcome(self, request: _Request) -> dict[str, Any]:
        """The result of an answered request: a completion, or an error (the same each
        time it is read)."""
        if request.outcome is None:
            request.outcome = self._answer(request)
        return request.outcome

    def _answer(self, request: _Request) -> dict[str, Any]:
        body = request.body
        try:
            if not isinstance(body, dict):
                raise InvalidRequest(400, "batch_request must hold a chat_get_completion object")
            params = validate_chat(body, self._catalog)
            text = message_text(body["messages"][-1])
            if FAIL_MARKER in text:
                raise InvalidRequest(500, "The model failed to answer this request.")
        except InvalidRequest as exc:
            return {"error": {"code": str(exc.status), "message": exc.message}}
        reasoning = is_reasoning_model(params.model.id)
        answer = build_answer(body, default_reply(body, reasoning=reasoning), params.model, 1)
        completion = completion_bytes(answer, str(uuid.uuid4()), int(request.added))
        return {"response": {"chat_get_completion": orjson.loads(completion)}}

    def _view(self, batch: _Batch) -> dict[str, Any]:
        now = time.monotonic()
        counts = {"num_success": 0, "num_error": 0, "num_cancelled": 0, "num_pending": 0}
        ticks = 0
        for request in batch.requests.values():
            if request.cancelled:
                counts["num_cancelled"] += 1
            elif not self._ready(request, now):
                counts["num_pending"] += 1
            else:
                outcome = self._outcome(request)
                if "error" in outcome:
                    counts["num_error"] += 1
                else:
                    counts["num_success"] += 1
                    usage = outcome["response"]["chat_get_completion"].get("usage") or {}
                    ticks += usage.get("cost_in_usd_ticks") or 0
        wall = time.time() - (now - batch.created)
        return {
            "batch_id": batch.id,
            "name": batch.name,
            "create_time": _stamp(wall),
            "expire_time": _stamp(wall + _EXPIRY.total_seconds()),
            "create_api_key_id": "emulator-key",
            "cancel_time": None if batch.cancelled_at is None else _stamp(wall),
            "cancel_by_xai_message": None,
            "state": {"num_requests": len(batch.requests), **counts},
            "cost_breakdown": {"total_cost_usd_ticks": ticks},
        }

    # -- handlers --------------------------------------------------------------------------

    def _find(self, request: web.Request) -> _Batch | None:
        return self.batches.get(request.match_info["batch_id"])

    @staticmethod
    def _not_found(request: web.Request) -> web.Response:
        return error_response(404, f"Batch {request.match_info['batch_id']} not found.")

    async def create(self, request: web.Request) -> web.StreamResponse:
        try:
            payload = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return error_response(400, "The body is not JSON.")
        name = payload.get("name") if isinstance(payload, dict) else None
        if not isinstance(name, str) or not name:
            return error_response(400, "A batch needs a name.")
        batch = _Batch(f"batch_{next(self._ids):06d}", name, time.monotonic())
        file_id = payload.get("input_file_id")
        if file_id is not None:
            stored = self._files.files.get(str(file_id))
            if stored is None:
                return error_response(404, f"File {file_id} not found.")
            refusal = self._load_file(batch, stored.data)
            if refusal is not None:
                return refusal
            batch.sealed = True
        self.batches[batch.id] = batch
        return _json(self._view(batch))

    def _load_file(self, batch: _Batch, data: bytes) -> web.Response | None:
        now = time.monotonic()
        for number, raw in enumerate(data.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = orjson.loads(raw)
                custom_id, body = line["custom_id"], line["body"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                return error_response(400, f"Line {number} of the input file is not a request.")
            if custom_id in batch.requests:
                return error_response(400, f"Duplicate custom_id {custom_id} on line {number}.")
            batch.requests[custom_id] = _Request(custom_id, body, now)
        return None

    async def list(self, request: web.Request) -> web.StreamResponse:
        limit = int(request.query.get("limit", "100"))
        start = int(request.query.get("pagination_token") or 0)
        batches = list(self.batches.values())[start : start + limit]
        token = str(start + limit) if start + limit < len(self.batches) else None
        return _json({"batches": [self._view(b) for b in batches], "pagination_token": token})

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        batch = self._find(request)
        return self._not_found(request) if batch is None else _json(self._view(batch))

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        batch = self._find(request)
        if batch is None:
            return self._not_found(request)
        now = time.monotonic()
        batch.cancelled_at = now
        for item in batch.requests.values():
            if not self._ready(item, now):
                item.cancelled = True
        return _json(self._view(batch))

    async def add(self, request: web.Request) -> web.StreamResponse:
        batch = self._find(request)
        if batch is None:
            return self._not_found(request)
        if batch.sealed or batch.cancelled_at is not None:
            return error_response(400, f"Batch {batch.id} takes no more requests.")
        try:
            items = orjson.loads(await request.read())["batch_requests"]
            pairs = [
                (item["batch_request_id"], item["batch_request"]["chat_get_completion"])
                for item in items
            ]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return error_response(400, "Expected {batch_requests: [{batch_request_id, ...}]}.")
        ids = [custom_id for custom_id, _ in pairs]
        if len(set(ids)) < len(ids) or any(i in batch.requests for i in ids):
            return error_response(400, "batch_request_id must be unique in the batch.")
        now = time.monotonic()
        for custom_id, body in pairs:
            batch.requests[custom_id] = _Request(custom_id, body, now)
        return web.Response(body=b"null", content_type="application/json")

    async def results(self, request: web.Request) -> web.StreamResponse:
        batch = self._find(request)
        if batch is None:
            return self._not_found(request)
        limit = int(request.query.get("limit", "100"))
        start = int(request.query.get("pagination_token") or 0)
        now = time.monotonic()
        done = [r for r in batch.requests.values() if self._ready(r, now)]
        page = done[start : start + limit]
        rows = [{"batch_request_id": r.custom_id, "batch_result": self._outcome(r)} for r in page]
        token = str(start + limit) if start + limit < len(done) else None
        return _json({"results": rows, "pagination_token": token})
